//! Personal data: encrypted as it is written, decrypted for a reveal, found by its blind
//! index, re-encrypted under a new key, and the record of each full view.

use duban_core::machine::Transition;
use duban_core::{Person, Role};
use sqlx::Row;

use super::batch::Stmt;
use super::*;
use crate::{Access, Error, PersonalData, PersonalRecord, Result};

impl SqlStore {
    /// The statements storing a transition's personal data, encrypted, with the blind index of
    /// any ID number.
    pub(crate) fn personal_statements(
        &self,
        out: &mut Vec<Stmt>,
        case_id: &str,
        t: &Transition,
    ) -> Result<()> {
        if t.personal.is_empty() {
            return Ok(());
        }
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        for p in &t.personal {
            let aad = format!("{case_id}/{}/{}", t.event.seq, p.field);
            let plain = serde_json::to_vec(&p.person).map_err(|e| Error::Corrupt(e.to_string()))?;
            let (key_id, nonce, ct) = keys.encrypt(aad.as_bytes(), &plain)?;
            out.push(Stmt::new(
                "INSERT INTO personal_data (case_id, seq, field, key_id, nonce, ciphertext, id_number_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    Val::Text(case_id.to_string()),
                    Val::Int(t.event.seq as i64),
                    Val::Text(p.field.clone()),
                    Val::Text(key_id),
                    Val::Blob(nonce),
                    Val::Blob(ct),
                    Val::OptText(p.person.id_number.as_deref().map(|id| keys.blind_index(id))),
                ],
            ));
        }
        Ok(())
    }

    /// Re-encrypts every personal-data record, attachment and sealed contact (signing secrets,
    /// people's phone numbers: `sealed::COLUMNS`) not under the current key, in one transaction
    /// (key rotation). Returns how many records and files, and how many contacts, were rewritten.
    #[tracing::instrument(skip_all)]
    pub async fn reencrypt(&self) -> Result<(u64, u64)> {
        let keys = self
            .keys
            .clone()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        let mut tx = self.begin().await?;
        let rows =
            sqlx::query("SELECT case_id, seq, field, key_id, nonce, ciphertext FROM personal_data")
                .fetch_all(&mut *tx)
                .await?;
        let mut records = 0;
        for r in &rows {
            let key_id: String = r.try_get("key_id")?;
            if !keys.is_old(&key_id) {
                continue;
            }
            let (case_id, seq, field): (String, i64, String) = (
                r.try_get("case_id")?,
                r.try_get("seq")?,
                r.try_get("field")?,
            );
            let aad = format!("{case_id}/{seq}/{field}");
            let plain = keys.decrypt(
                &key_id,
                &r.try_get::<Vec<u8>, _>("nonce")?,
                &r.try_get::<Vec<u8>, _>("ciphertext")?,
                aad.as_bytes(),
            )?;
            let (new_id, nonce, ct) = keys.encrypt(aad.as_bytes(), &plain)?;
            sqlx::query("UPDATE personal_data SET key_id = $4, nonce = $5, ciphertext = $6 WHERE case_id = $1 AND seq = $2 AND field = $3")
                .bind(case_id)
                .bind(seq)
                .bind(field)
                .bind(new_id)
                .bind(nonce)
                .bind(ct)
                .execute(&mut *tx)
                .await?;
            records += 1;
        }
        let mut secrets = 0;
        for column in crate::sealed::COLUMNS {
            secrets += column.rotate(&mut tx, &keys).await?;
        }
        // Files count with the records: each is personal data, or may be.
        records += Self::reencrypt_attachments(&mut tx, &keys).await?;
        tx.commit().await?;
        Ok((records, secrets))
    }
}

impl PersonalData for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn personal_data(&self, case_id: &str) -> Result<Vec<PersonalRecord>> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        let rows = sqlx::query(
            "SELECT seq, field, key_id, nonce, ciphertext FROM personal_data WHERE case_id = $1 ORDER BY seq, field",
        )
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq")?;
                let field: String = r.try_get("field")?;
                let key_id: String = r.try_get("key_id")?;
                let nonce: Vec<u8> = r.try_get("nonce")?;
                let ct: Vec<u8> = r.try_get("ciphertext")?;
                let aad = format!("{case_id}/{seq}/{field}");
                let plain = keys.decrypt(&key_id, &nonce, &ct, aad.as_bytes())?;
                let person: Person =
                    serde_json::from_slice(&plain).map_err(|e| Error::Corrupt(e.to_string()))?;
                Ok(PersonalRecord {
                    seq: seq as u64,
                    field,
                    person,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn cases_by_id_number(&self, id_number: &str) -> Result<Vec<String>> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Crypto("no personal-data key is configured".into()))?;
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT case_id FROM personal_data WHERE id_number_hash = $1 ORDER BY case_id",
        )
        .bind(keys.blind_index(id_number))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn earlier_filings(&self, case_id: &str) -> Result<Vec<crate::CaseSummary>> {
        self.earlier_of_same_person(case_id).await
    }

    async fn repeat_filings(&self, kind: &str, year: i16, until: jiff::Timestamp) -> Result<u64> {
        self.count_repeats(kind, year, until).await
    }

    async fn record_access(&self, a: &Access) -> Result<()> {
        sqlx::query(
            "INSERT INTO personal_data_access (case_id, at, actor, actor_role, fields, reason, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.case_id.clone())
        .bind(ms(a.at))
        .bind(a.actor.clone())
        .bind(a.role.as_str())
        .bind(json(&a.fields)?)
        .bind(a.reason.clone())
        .bind(a.request_id.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn accesses(&self, case_id: &str) -> Result<Vec<Access>> {
        let rows = sqlx::query(
            "SELECT case_id, at, actor, actor_role, fields, reason, request_id FROM personal_data_access \
             WHERE case_id = $1 ORDER BY at",
        )
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("actor_role")?;
                Ok(Access {
                    case_id: r.try_get("case_id")?,
                    at: from_ms(r.try_get("at")?)?,
                    actor: r.try_get("actor")?,
                    role: Role::parse(&role)
                        .ok_or_else(|| Error::Corrupt(format!("role {role}")))?,
                    fields: parse(&r.try_get::<String, _>("fields")?, "access fields")?,
                    reason: r.try_get("reason")?,
                    request_id: r.try_get("request_id")?,
                })
            })
            .collect()
    }
}
