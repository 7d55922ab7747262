//! Documents attached to cases, kept in the database: written once (alone, or in the same
//! transaction as the action that carries them), listed per case, read back whole, and
//! re-encrypted by key rotation. Nothing here decides who may do what; the service does.

use std::future::Future;

use duban_core::Role;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::{Rewrite, Stmt, Val, WriteTx, from_ms, lift_append_only, ms, restore_append_only};
use crate::{Error, Keyring, Result, SqlStore};

/// A file to keep: its bytes and what is known of them. The id is the caller's, so that an
/// action's payload can name a file written in the same transaction.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: String,
    pub case_id: String,
    pub name: String,
    pub content_type: String,
    /// Lowercase hex of the SHA-256 of `bytes`.
    pub sha256: String,
    pub note: Option<String>,
    pub uploaded_by: String,
    pub uploaded_role: Role,
    pub uploaded_at: Timestamp,
    /// The case's kind carries personal data: the file must be encrypted, and is refused if
    /// no key is configured. Other files are encrypted whenever a key is.
    pub personal: bool,
    pub bytes: Vec<u8>,
}

/// What is known of a kept file, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub id: String,
    pub case_id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub note: Option<String>,
    pub uploaded_by: String,
    pub uploaded_role: String,
    pub uploaded_at: Timestamp,
    /// Stored encrypted with the data key.
    pub encrypted: bool,
}

/// The files of cases.
pub trait Attachments: Send + Sync {
    /// Keeps a file, in a transaction of its own; whether it was encrypted.
    fn add_attachment(&self, file: &NewAttachment) -> impl Future<Output = Result<bool>> + Send;
    /// A case's files, oldest first.
    fn attachments(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Vec<AttachmentInfo>>> + Send;
    /// The case a file belongs to, without reading the file.
    fn attachment_case(&self, id: &str) -> impl Future<Output = Result<Option<String>>> + Send;
    /// One file and its bytes, decrypted.
    fn attachment(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<(AttachmentInfo, Vec<u8>)>>> + Send;
}

const COLUMNS: &str = "id, case_id, name, content_type, size, sha256, note, uploaded_by, \
                       uploaded_role, uploaded_at, key_id, nonce";

/// What a sealed name or note, or the content, is bound to: its file and its purpose.
fn aad(id: &str, purpose: &str) -> String {
    format!("attachment/{id}/{purpose}")
}

/// `plain` sealed as `KEYID:NONCE:CIPHERTEXT` (hex) for `purpose` of file `id`.
fn seal(keys: &Keyring, id: &str, purpose: &str, plain: &str) -> Result<String> {
    let (key_id, nonce, ct) = keys.encrypt(aad(id, purpose).as_bytes(), plain.as_bytes())?;
    Ok(format!(
        "{key_id}:{}:{}",
        hex::encode(nonce),
        hex::encode(ct)
    ))
}

/// A value [`seal`] made, opened.
fn open(keys: &Keyring, id: &str, purpose: &str, sealed: &str) -> Result<String> {
    let corrupt = || Error::Corrupt(format!("the {purpose} of attachment {id}"));
    let mut parts = sealed.splitn(3, ':');
    let (Some(key_id), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(corrupt());
    };
    let nonce = hex::decode(nonce).map_err(|_| corrupt())?;
    let ct = hex::decode(ct).map_err(|_| corrupt())?;
    let plain = keys.decrypt(key_id, &nonce, &ct, aad(id, purpose).as_bytes())?;
    String::from_utf8(plain).map_err(|_| corrupt())
}

impl SqlStore {
    /// The statement keeping `file`, encrypted as [`NewAttachment::personal`] says: alone or
    /// among an action's statements.
    pub(crate) fn attachment_statement(&self, file: &NewAttachment) -> Result<Stmt> {
        let keys = match (self.keys(), file.personal) {
            (Some(keys), _) => Some(keys),
            (None, false) => None,
            (None, true) => {
                return Err(Error::Crypto(
                    "no personal-data key is configured to protect this file".into(),
                ));
            }
        };
        let (name, note, key_id, nonce, content) = match keys {
            Some(keys) => {
                let (key_id, nonce, ct) =
                    keys.encrypt(aad(&file.id, "content").as_bytes(), &file.bytes)?;
                (
                    seal(keys, &file.id, "name", &file.name)?,
                    file.note
                        .as_deref()
                        .map(|n| seal(keys, &file.id, "note", n))
                        .transpose()?,
                    Some(key_id),
                    Some(nonce),
                    ct,
                )
            }
            None => (
                file.name.clone(),
                file.note.clone(),
                None,
                None,
                file.bytes.clone(),
            ),
        };
        Ok(Stmt::new(
            format!(
                "INSERT INTO attachments ({COLUMNS}, content) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            vec![
                Val::Text(file.id.clone()),
                Val::Text(file.case_id.clone()),
                Val::Text(name),
                Val::Text(file.content_type.clone()),
                Val::Int(file.bytes.len() as i64),
                Val::Text(file.sha256.clone()),
                Val::OptText(note),
                Val::Text(file.uploaded_by.clone()),
                Val::Text(file.uploaded_role.as_str().to_string()),
                Val::Int(ms(file.uploaded_at)),
                Val::OptText(key_id),
                Val::OptBlob(nonce),
                Val::Blob(content),
            ],
        ))
    }

    /// A row of `attachments` (without its content), its name and note opened.
    fn attachment_info(&self, r: &AnyRow) -> Result<AttachmentInfo> {
        let id: String = r.try_get("id")?;
        let key_id: Option<String> = r.try_get("key_id")?;
        let mut name: String = r.try_get("name")?;
        let mut note: Option<String> = r.try_get("note")?;
        if key_id.is_some() {
            let keys = self.keys().ok_or_else(|| {
                Error::Crypto("no personal-data key is configured to read this file".into())
            })?;
            name = open(keys, &id, "name", &name)?;
            note = note.map(|n| open(keys, &id, "note", &n)).transpose()?;
        }
        Ok(AttachmentInfo {
            case_id: r.try_get("case_id")?,
            name,
            content_type: r.try_get("content_type")?,
            size: r.try_get::<i64, _>("size")? as u64,
            sha256: r.try_get("sha256")?,
            note,
            uploaded_by: r.try_get("uploaded_by")?,
            uploaded_role: r.try_get("uploaded_role")?,
            uploaded_at: from_ms(r.try_get("uploaded_at")?)?,
            encrypted: key_id.is_some(),
            id,
        })
    }

    /// Re-encrypts, in `tx`, every file (content, name and note) under a key older than the
    /// current one; how many. The append-only trigger is lifted for `tx` only.
    pub(crate) async fn reencrypt_attachments(tx: &mut WriteTx, keys: &Keyring) -> Result<u64> {
        let rows = sqlx::query(
            "SELECT id, name, note, key_id, nonce, content FROM attachments WHERE key_id IS NOT NULL",
        )
        .fetch_all(&mut **tx)
        .await?;
        let mut old = Vec::new();
        for r in &rows {
            let key_id: String = r.try_get("key_id")?;
            if keys.is_old(&key_id) {
                old.push(r);
            }
        }
        if old.is_empty() {
            return Ok(0);
        }
        let restore = lift_append_only(tx, "attachments", Rewrite::Update).await?;
        for r in &old {
            let id: String = r.try_get("id")?;
            let key_id: String = r.try_get("key_id")?;
            let nonce: Vec<u8> = r.try_get("nonce")?;
            let content: Vec<u8> = r.try_get("content")?;
            let plain = keys.decrypt(&key_id, &nonce, &content, aad(&id, "content").as_bytes())?;
            let (new_id, nonce, ct) = keys.encrypt(aad(&id, "content").as_bytes(), &plain)?;
            let name = open(keys, &id, "name", &r.try_get::<String, _>("name")?)?;
            let note = r
                .try_get::<Option<String>, _>("note")?
                .map(|n| open(keys, &id, "note", &n))
                .transpose()?;
            sqlx::query(
                "UPDATE attachments SET name = $2, note = $3, key_id = $4, nonce = $5, content = $6 \
                 WHERE id = $1",
            )
            .bind(id.clone())
            .bind(seal(keys, &id, "name", &name)?)
            .bind(note.map(|n| seal(keys, &id, "note", &n)).transpose()?)
            .bind(new_id)
            .bind(nonce)
            .bind(ct)
            .execute(&mut **tx)
            .await?;
        }
        restore_append_only(tx, restore).await?;
        Ok(old.len() as u64)
    }
}

impl Attachments for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn add_attachment(&self, file: &NewAttachment) -> Result<bool> {
        let stmt = self.attachment_statement(file)?;
        let mut tx = self.begin().await?;
        crate::sql::run_batch(&mut tx, vec![stmt]).await?;
        tx.commit().await?;
        Ok(self.keys().is_some())
    }

    #[tracing::instrument(skip_all)]
    async fn attachments(&self, case_id: &str) -> Result<Vec<AttachmentInfo>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM attachments WHERE case_id = $1 ORDER BY uploaded_at, id"
        )))
        .bind(case_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| self.attachment_info(r)).collect()
    }

    async fn attachment_case(&self, id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT case_id FROM attachments WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.pool())
                .await?,
        )
    }

    #[tracing::instrument(skip_all)]
    async fn attachment(&self, id: &str) -> Result<Option<(AttachmentInfo, Vec<u8>)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, content FROM attachments WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let info = self.attachment_info(&r)?;
        let content: Vec<u8> = r.try_get("content")?;
        let bytes = match r.try_get::<Option<String>, _>("key_id")? {
            Some(key_id) => {
                let keys = self.keys().ok_or_else(|| {
                    Error::Crypto("no personal-data key is configured to read this file".into())
                })?;
                let nonce: Vec<u8> = r.try_get("nonce")?;
                keys.decrypt(&key_id, &nonce, &content, aad(id, "content").as_bytes())?
            }
            None => content,
        };
        Ok(Some((info, bytes)))
    }
}
