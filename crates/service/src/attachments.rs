//! Documents on a case: uploaded by those who may act on it, listed and downloaded by those who
//! may see it (404 for anyone else, as for the case), every download recorded in the audit
//! log. A file is judged by its bytes against the installation's allow-list, and kept in the
//! database, encrypted with the data key where the kind carries personal data.

use super::*;
use crate::filetype::{FileType, sniff};
use duban_storage::{AttachmentInfo, NewAttachment};

/// What an installation accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentPolicy {
    /// The largest file, in bytes.
    pub max_bytes: usize,
    /// The kinds of document accepted.
    pub types: Vec<FileType>,
}

impl Default for AttachmentPolicy {
    /// 20 MB, and every kind an office exchanges.
    fn default() -> Self {
        AttachmentPolicy {
            max_bytes: 20 * 1024 * 1024,
            types: FileType::ALL.to_vec(),
        }
    }
}

impl AttachmentPolicy {
    /// The allow-list a configuration names, comma-separated (`pdf,ofd,jpeg`); the error names
    /// the unknown kind and the known ones.
    pub fn parse_types(list: &str) -> std::result::Result<Vec<FileType>, String> {
        let mut types = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match FileType::from_name(name) {
                Some(t) if !types.contains(&t) => types.push(t),
                Some(_) => {}
                None => {
                    return Err(format!(
                        "`{name}` is not a kind of document Duban knows (one of: {})",
                        FileType::ALL.map(FileType::name).join(", ")
                    ));
                }
            }
        }
        if types.is_empty() {
            return Err("name at least one kind of document".into());
        }
        Ok(types)
    }
}

/// A file as it arrived: its name as the sender's computer called it, its bytes, and an
/// optional note (`答复函（盖章）`).
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
    pub note: Option<String>,
}

/// The longest file name and note kept, in characters.
const NAME_CHARS: usize = 200;
const NOTE_CHARS: usize = 500;

/// The name to keep: the last part of any path a browser sent, without control characters,
/// at most [`NAME_CHARS`]; `附件` if nothing is left.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME_CHARS)
        .collect();
    match clean.trim() {
        "" | "." | ".." => "附件".into(),
        t => t.to_string(),
    }
}

impl<S: Store + Audit> Service<S> {
    /// What this service accepts as attachments.
    pub fn attachment_policy(&self) -> &AttachmentPolicy {
        &self.attachments
    }

    /// Accepts `policy` for attachments instead of the default.
    pub fn with_attachment_policy(mut self, policy: AttachmentPolicy) -> Self {
        self.attachments = policy;
        self
    }

    /// Whether the kind keeps personal data: its files are then always encrypted.
    fn carries_personal_data(wf: &Workflow) -> bool {
        wf.filing
            .payload
            .iter()
            .chain(wf.actions.iter().flat_map(|a| a.payload.iter()))
            .any(|f| f.ty == FieldType::Person)
    }

    /// `upload` checked against the policy and made ready to keep on `case` of `wf`.
    fn to_keep(
        &self,
        p: &Principal,
        now: Timestamp,
        case_id: &str,
        wf: &Workflow,
        upload: Upload,
    ) -> Result<NewAttachment> {
        let policy = &self.attachments;
        if upload.bytes.len() > policy.max_bytes {
            return Err(Error::TooLarge {
                limit_mb: policy.max_bytes.div_ceil(1024 * 1024),
            });
        }
        let allowed = || policy.types.iter().map(|t| t.name().to_string()).collect();
        let Some(ty) = sniff(&upload.bytes).filter(|t| policy.types.contains(t)) else {
            return Err(Error::UnsupportedType { allowed: allowed() });
        };
        let note = upload
            .note
            .map(|n| n.trim().chars().take(NOTE_CHARS).collect::<String>())
            .filter(|n| !n.is_empty());
        Ok(NewAttachment {
            id: format!(
                "{}{}",
                duban_core::attachment::PREFIX,
                uuid::Uuid::now_v7().simple()
            ),
            case_id: case_id.to_string(),
            name: clean_name(&upload.name),
            content_type: ty.content_type().to_string(),
            sha256: hex::encode(Sha256::digest(&upload.bytes)),
            note,
            uploaded_by: p.user.login.clone(),
            uploaded_role: p.role(),
            uploaded_at: now,
            personal: Self::carries_personal_data(wf),
            bytes: upload.bytes,
        })
    }

    /// Whether `p` may add files to `case`: whoever may act on it, so anyone who sees it but
    /// an auditor (who changes nothing).
    fn may_attach(p: &Principal) -> Result<()> {
        match p.role() {
            Role::Auditor | Role::Admin => Err(Error::Forbidden {
                detail: format!("role `{}` may not add files to a case", p.role()),
            }),
            _ => Ok(()),
        }
    }

    /// Keeps a file on a case the caller may act on.
    #[tracing::instrument(skip_all, fields(case_id = case_id))]
    pub async fn attach(
        &self,
        p: &Principal,
        case_id: &str,
        upload: Upload,
    ) -> Result<AttachmentInfo> {
        let now = self.now();
        let record = self.visible(now, p, case_id).await?;
        Self::may_attach(p)?;
        let wf = self.workflow(&record.case.kind)?;
        let file = self.to_keep(p, now, case_id, wf, upload)?;
        let encrypted = self.store.add_attachment(&file).await?;
        let detail = format!(
            "{} {} bytes {}",
            file.id,
            file.bytes.len(),
            file.content_type
        );
        self.audit_at(now, Some(p), "attach", (case_id, "ok", &detail))
            .await?;
        Ok(AttachmentInfo {
            id: file.id,
            case_id: file.case_id,
            name: file.name,
            content_type: file.content_type,
            size: file.bytes.len() as u64,
            sha256: file.sha256,
            note: file.note,
            uploaded_by: file.uploaded_by,
            uploaded_role: file.uploaded_role.as_str().to_string(),
            uploaded_at: now,
            encrypted,
        })
    }

    /// The files of a case the caller may see, oldest first.
    #[tracing::instrument(skip_all, fields(case_id = case_id))]
    pub async fn attachments(&self, p: &Principal, case_id: &str) -> Result<Vec<AttachmentInfo>> {
        self.visible(self.now(), p, case_id).await?;
        Ok(self.store.attachments(case_id).await?)
    }

    /// One file and its bytes, if its case is within the caller's reach (else 404, as for the
    /// case); the download is recorded in the audit log.
    #[tracing::instrument(skip_all)]
    pub async fn download(&self, p: &Principal, id: &str) -> Result<(AttachmentInfo, Vec<u8>)> {
        if !duban_core::attachment::is_id(id) {
            return Err(Error::NotFound);
        }
        let now = self.now();
        let Some((info, bytes)) = self.store.attachment(id).await? else {
            return Err(Error::NotFound);
        };
        self.visible(now, p, &info.case_id).await?;
        let detail = format!("case {}", info.case_id);
        self.audit_at(now, Some(p), "download", (id, "ok", &detail))
            .await?;
        Ok((info, bytes))
    }

    /// Takes an action with files uploaded for it (a web form): each becomes an attachment of
    /// the case, named in the payload by its field, in the same transaction as the action, so
    /// that a refused action keeps none of them.
    #[tracing::instrument(skip_all, fields(case_id = id, action = action))]
    pub async fn act_with_files(
        &self,
        p: &Principal,
        id: &str,
        action: &str,
        payload: &Value,
        expected_version: u64,
        uploads: Vec<(String, Upload)>,
    ) -> Result<CaseDetail> {
        let now = self.now();
        let mut payload = payload.clone();
        let mut files = Vec::new();
        if !uploads.is_empty() {
            let record = self.visible(now, p, id).await?;
            let wf = self.workflow(&record.case.kind)?;
            for (field, upload) in uploads {
                let file = self.to_keep(p, now, id, wf, upload)?;
                if let Some(map) = payload.as_object_mut() {
                    map.insert(field, Value::String(file.id.clone()));
                }
                files.push(file);
            }
        }
        let step = cases::Step {
            action,
            payload: &payload,
            expected_version,
            request_id: None,
            now,
        };
        self.act_step(Caller::Known(p), id, &step, files).await
    }

    /// Every `file` field of `fields` in `payload` must name a file of case `case_id`: one kept
    /// before, or one of `new` (uploaded with the action). The problem names the field only.
    pub(crate) async fn unknown_files(
        fields: &[duban_core::workflow::Field],
        payload: &Value,
        case_id: &str,
        new: &[NewAttachment],
        lookup: &mut impl Lookup,
    ) -> Result<()> {
        let mut problems = Vec::new();
        for f in fields.iter().filter(|f| f.ty == FieldType::File) {
            let Some(id) = payload.get(&f.name).and_then(Value::as_str) else {
                continue;
            };
            let ours = if new.iter().any(|n| n.id == id) {
                true
            } else {
                lookup.attachment_case(id).await?.as_deref() == Some(case_id)
            };
            if !ours {
                problems.push(FieldProblem {
                    field: f.name.clone(),
                    problem: "names no attachment of this case".into(),
                });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\王\\答复函.pdf"), "答复函.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b\r\n.pdf"), "ab.pdf");
        assert_eq!(clean_name("  "), "附件");
        assert_eq!(clean_name(".."), "附件");
        assert_eq!(clean_name(&"长".repeat(300)).chars().count(), NAME_CHARS);
    }

    #[test]
    fn the_allow_list_is_read_from_configuration() {
        assert_eq!(
            AttachmentPolicy::parse_types("pdf, JPG,pdf"),
            Ok(vec![FileType::Pdf, FileType::Jpeg])
        );
        assert!(
            AttachmentPolicy::parse_types("pdf,exe")
                .unwrap_err()
                .contains("`exe`")
        );
        assert!(AttachmentPolicy::parse_types(" , ").is_err());
    }
}
