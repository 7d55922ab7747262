//! Small secrets kept in a column, sealed with the data key as `KEYID:NONCE:CIPHERTEXT` (hex):
//! organisations' signing secrets and people's mobile numbers. Each is bound to its row and its
//! purpose (`org/jtj/webhook`, `user/zhang/phone`), so a value copied to another row or column
//! does not open.

use sqlx::{AssertSqlSafe, Row};

use crate::{Error, Keyring, Result};

/// A column of sealed values: the table, the column naming the row (`code`, `login`), the
/// column itself, and the prefix and purpose its additional data is made of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub table: &'static str,
    pub key: &'static str,
    pub column: &'static str,
    pub prefix: &'static str,
    pub purpose: &'static str,
    /// What it is, for errors: `webhook secret`, `phone number`.
    pub what: &'static str,
}

pub(crate) const WEBHOOK_SECRET: Column = Column {
    table: "orgs",
    key: "code",
    column: "webhook_secret",
    prefix: "org",
    purpose: "webhook",
    what: "webhook secret",
};

pub(crate) const DINGTALK_SECRET: Column = Column {
    table: "orgs",
    key: "code",
    column: "dingtalk_secret",
    prefix: "org",
    purpose: "dingtalk",
    what: "DingTalk robot secret",
};

pub(crate) const PHONE: Column = Column {
    table: "users",
    key: "login",
    column: "phone",
    prefix: "user",
    purpose: "phone",
    what: "phone number",
};

/// Every sealed column: key rotation re-encrypts them all.
pub(crate) const COLUMNS: [Column; 3] = [WEBHOOK_SECRET, DINGTALK_SECRET, PHONE];

impl Column {
    fn aad(&self, row: &str) -> String {
        format!("{}/{row}/{}", self.prefix, self.purpose)
    }

    /// `plain` sealed for row `row` of this column.
    pub fn seal(&self, keys: Option<&Keyring>, row: &str, plain: &str) -> Result<String> {
        let keys = keys.ok_or_else(|| {
            Error::Crypto(format!("no key is configured to protect the {}", self.what))
        })?;
        let (id, nonce, ct) = keys.encrypt(self.aad(row).as_bytes(), plain.as_bytes())?;
        Ok(format!("{id}:{}:{}", hex::encode(nonce), hex::encode(ct)))
    }

    /// The value `stored` in row `row` of this column, opened.
    pub fn open(&self, keys: Option<&Keyring>, row: &str, stored: &str) -> Result<String> {
        let keys = keys.ok_or_else(|| {
            Error::Crypto(format!("no key is configured to read the {}", self.what))
        })?;
        let (id, nonce, ct) = self.parts(row, stored)?;
        let plain = keys.decrypt(id, &nonce, &ct, self.aad(row).as_bytes())?;
        String::from_utf8(plain).map_err(|_| self.corrupt(row))
    }

    /// The value of row `row`, if it has one.
    pub async fn read(
        &self,
        pool: &sqlx::AnyPool,
        keys: Option<&Keyring>,
        row: &str,
    ) -> Result<Option<String>> {
        let stored: Option<Option<String>> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT {} FROM {} WHERE {} = $1",
            self.column, self.table, self.key
        )))
        .bind(row.to_string())
        .fetch_optional(pool)
        .await?;
        match stored.flatten() {
            Some(s) => self.open(keys, row, &s).map(Some),
            None => Ok(None),
        }
    }

    /// Re-seals under the current key every value sealed under an older one; how many.
    pub async fn rotate(&self, conn: &mut sqlx::AnyConnection, keys: &Keyring) -> Result<u64> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {key} AS row_key, {col} AS sealed FROM {table} WHERE {col} IS NOT NULL",
            key = self.key,
            col = self.column,
            table = self.table
        )))
        .fetch_all(&mut *conn)
        .await?;
        let mut n = 0;
        for r in &rows {
            let row: String = r.try_get("row_key")?;
            let stored: String = r.try_get("sealed")?;
            if !keys.is_old(self.parts(&row, &stored)?.0) {
                continue;
            }
            let plain = self.open(Some(keys), &row, &stored)?;
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE {} SET {} = $2 WHERE {} = $1",
                self.table, self.column, self.key
            )))
            .bind(row.clone())
            .bind(self.seal(Some(keys), &row, &plain)?)
            .execute(&mut *conn)
            .await?;
            n += 1;
        }
        Ok(n)
    }

    fn parts<'s>(&self, row: &str, stored: &'s str) -> Result<(&'s str, Vec<u8>, Vec<u8>)> {
        let mut parts = stored.splitn(3, ':');
        let (Some(id), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(self.corrupt(row));
        };
        let nonce = hex::decode(nonce).map_err(|_| self.corrupt(row))?;
        let ct = hex::decode(ct).map_err(|_| self.corrupt(row))?;
        Ok((id, nonce, ct))
    }

    fn corrupt(&self, row: &str) -> Error {
        Error::Corrupt(format!("{} of {row}", self.what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_in_its_own_row_and_column() {
        let keys = Keyring::new([1; 32], [2; 32]);
        let sealed = PHONE.seal(Some(&keys), "zhang", "13800135678").unwrap();
        assert!(!sealed.contains("13800135678"));
        assert_eq!(
            PHONE.open(Some(&keys), "zhang", &sealed).unwrap(),
            "13800135678"
        );
        assert!(PHONE.open(Some(&keys), "li", &sealed).is_err());
        assert!(DINGTALK_SECRET.open(Some(&keys), "zhang", &sealed).is_err());
        assert!(PHONE.open(None, "zhang", &sealed).is_err());
    }
}
