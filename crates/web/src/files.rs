//! Files on the case page: the list (name, size, kind, who uploaded it and when, a download
//! link), the upload form, the download itself (recorded in the audit log), and an action's
//! form with its documents, sent as `multipart/form-data` and kept all or nothing with it.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::Role;
use duban_service::filetype::FileType;
use duban_service::{AttachmentInfo, Upload};
use maud::{Markup, html};

use crate::forms::Choices;
use crate::layout::{csrf, error_page, when};
use crate::session::Viewer;
use crate::{WebState, labels, refused};

/// A size as people read it: 字节, KB or MB.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} 字节"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn kind(content_type: &str) -> &'static str {
    FileType::from_content_type(content_type).map_or("文件", FileType::label)
}

/// What the page says the server accepts.
fn accepted(st: &WebState) -> String {
    let policy = st.service.attachment_policy();
    let kinds: Vec<&str> = policy.types.iter().map(|t| t.label()).collect();
    format!(
        "可上传 {}，单个文件不超过 {} MB；文件类型按内容判断。",
        kinds.join("、"),
        policy.max_bytes.div_ceil(1024 * 1024)
    )
}

/// The `accept` hint of a file input: the extensions of the accepted kinds.
pub fn accept(st: &WebState) -> String {
    st.service
        .attachment_policy()
        .types
        .iter()
        .map(|t| format!(".{}", t.name()))
        .chain(
            st.service
                .attachment_policy()
                .types
                .contains(&FileType::Jpeg)
                .then(|| ".jpg".to_string()),
        )
        .collect::<Vec<_>>()
        .join(",")
}

/// The case page's 附件 section: every file, and the upload form for those who may add one.
pub fn section(
    st: &WebState,
    v: &Viewer,
    case_id: &str,
    files: &[AttachmentInfo],
    names: &Choices,
) -> Markup {
    let may_upload = !matches!(v.p.user.role, Role::Auditor | Role::Admin);
    html! {
        section.files #files {
            h2 { "附件" }
            @if files.is_empty() {
                p.muted { "暂无附件。" }
            } @else {
                table.files {
                    thead { tr { th { "文件" } th { "大小" } th { "类型" } th { "上传人" } th { "上传时间" } th { "说明" } } }
                    tbody {
                        @for f in files {
                            tr {
                                td { a href=(format!("/attachments/{}", f.id)) { (f.name) } }
                                td { (size(f.size)) }
                                td { (kind(&f.content_type)) }
                                td { (names.name(&f.uploaded_by)) }
                                td { (when(f.uploaded_at)) }
                                td { (f.note.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            @if may_upload {
                details {
                    summary { "上传附件" }
                    form method="post" action=(format!("/cases/{case_id}/attachments")) enctype="multipart/form-data" {
                        (csrf(v))
                        div.field {
                            label for="upload-file" { "文件" span.req { "*" } }
                            input #upload-file type="file" name="file" required accept=(accept(st));
                            p.hint { (accepted(st)) }
                        }
                        div.field {
                            label for="upload-note" { "说明" }
                            input #upload-note type="text" name="note" maxlength="500" placeholder="如：答复函（盖章）";
                        }
                        button.primary type="submit" { "上传" }
                    }
                }
            }
        }
    }
}

/// A form sent as `multipart/form-data`: its text fields as pairs, its files by field name.
pub struct Sent {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<(String, Upload)>,
}

impl Sent {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a multipart form could not be read, as a page; `limit` is the form's own, in bytes.
fn unreadable(limit: usize, status: StatusCode) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let mb = limit.div_ceil(1024 * 1024);
        error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "文件过大",
            &format!("单个文件不能超过 {mb} MB，未保存任何内容。"),
        )
    } else {
        error_page(
            status,
            "上传未完成",
            "文件没有完整收到，未保存任何内容。请重新上传。",
        )
    }
}

/// The largest attachment, in bytes: what a case's forms take.
pub fn attachment_limit(st: &WebState) -> usize {
    st.service.attachment_policy().max_bytes
}

/// Reads a multipart form: text as UTF-8 (a field that is not refuses the form), files with
/// their names; an empty file input is no file. A file over `limit` bytes is refused saying so.
pub async fn read(st: &WebState, request: Request, limit: usize) -> Result<Sent, Response> {
    let mut parts = Multipart::from_request(request, st).await.map_err(|_| {
        error_page(
            StatusCode::BAD_REQUEST,
            "请求有误",
            "表单没有正确提交，请重新提交。",
        )
    })?;
    let mut sent = Sent {
        pairs: Vec::new(),
        files: Vec::new(),
    };
    loop {
        let field = match parts.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(unreadable(limit, e.status())),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| unreadable(limit, e.status()))?;
        match file_name {
            Some(file_name) => {
                if !bytes.is_empty() {
                    sent.files.push((
                        name,
                        Upload {
                            name: file_name,
                            bytes: bytes.to_vec(),
                            note: None,
                        },
                    ));
                }
            }
            None => {
                let Ok(text) = String::from_utf8(bytes.to_vec()) else {
                    return Err(error_page(
                        StatusCode::BAD_REQUEST,
                        "请求有误",
                        &format!(
                            "字段「{}」中有无法识别的字符（不是有效的 UTF-8 编码），未保存任何内容。",
                            labels::field(&name)
                        ),
                    ));
                };
                sent.pairs.push((name, text));
            }
        }
    }
    Ok(sent)
}

/// Keeps a file uploaded from the case page, then shows the case again.
pub async fn upload(
    State(st): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let mut sent = match read(&st, request, attachment_limit(&st)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = v.check_csrf(sent.get("_csrf")) {
        return r;
    }
    let note = sent.get("note").map(str::to_string);
    let Some((_, mut upload)) = sent.files.pop() else {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "没有收到文件",
            "请选择要上传的文件。",
        );
    };
    upload.note = note;
    match st.service.attach(&v.p, &id, upload).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}#files")).into_response(),
        Err(e) => refused(e),
    }
}

/// A file's bytes, for whoever may see its case (the download is recorded).
pub async fn download(State(st): State<WebState>, v: Viewer, Path(id): Path<String>) -> Response {
    match st.service.download(&v.p, &id).await {
        Ok((info, bytes)) => {
            let mut response = bytes.into_response();
            let headers = duban_core::attachment::download_headers(&info.name, &info.content_type);
            for (name, value) in headers {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static(name), value);
                }
            }
            response
        }
        Err(e) => refused(e),
    }
}
