//! Files on a case: `POST /cases/{id}/attachments` (multipart, a part `file` and an optional
//! text part `note`), `GET /cases/{id}/attachments`, and `GET /attachments/{id}` for the bytes.
//! Reach is the case's: whoever may not see it gets 404 for all three.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use duban_service::{AttachmentInfo, Upload};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType};

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Caller;

/// A file kept on a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentDto {
    #[schema(pattern = "^att_[0-9a-f]{32}$")]
    pub id: String,
    /// The file's name as it was uploaded.
    pub name: String,
    /// In bytes.
    pub size: u64,
    /// Lowercase hex of the SHA-256 of the bytes.
    pub sha256: String,
    /// The media type, judged by the content.
    pub content_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The login of whoever uploaded it.
    pub uploaded_by: String,
    #[schema(format = DateTime)]
    pub uploaded_at: String,
}

impl From<AttachmentInfo> for AttachmentDto {
    fn from(a: AttachmentInfo) -> Self {
        Self {
            id: a.id,
            name: a.name,
            size: a.size,
            sha256: a.sha256,
            content_type: a.content_type,
            note: a.note,
            uploaded_by: a.uploaded_by,
            uploaded_at: a.uploaded_at.to_string(),
        }
    }
}

/// A case's files, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    pub items: Vec<AttachmentDto>,
}

/// The upload form: a part `file` (the document) and an optional text part `note`; no other
/// part.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the document's description of the form; the handler reads the parts
struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[schema(schema_with = any_text)]
    note: Option<String>,
}

/// The note's schema: any text, with no JSON type. A part of a multipart form is text whatever
/// it reads as, so a type would call the note `{}` an object, or `1` a number, and a checker
/// reading the document would expect the server to refuse notes it has every reason to keep.
fn any_text() -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some(
                "A note on the document, kept as the text sent: a form part is text, whatever it reads as",
            ))
            .build(),
    ))
}

/// A multipart error as a problem: over the limit is 413, anything else a malformed request.
fn unreadable(status: StatusCode, detail: &str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "File too large",
            "the upload is larger than this server accepts",
        )
        .field("file")
    } else {
        ApiError::malformed(format!("the multipart body cannot be read: {detail}"))
    }
}

/// Attach a file to a case. The kind of document is judged by its content against the
/// server's allow-list (by default PDF, OFD, JPEG, PNG, DOCX, XLSX, DOC, XLS).
#[utoipa::path(post, path = "/cases/{id}/attachments", tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    request_body(content = inline(UploadForm), content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn upload(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<AttachmentDto>), ApiError> {
    let mut parts = Multipart::from_request(request, &st).await.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the file as multipart/form-data, in a part named `file`",
        )
    })?;
    let (mut file, mut note) = (None, None);
    while let Some(field) = parts
        .next_field()
        .await
        .map_err(|e| unreadable(e.status(), &e.body_text()))?
    {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| unreadable(e.status(), &e.body_text()))?;
                file = Some((name, bytes.to_vec()));
            }
            Some("note") => {
                note = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| unreadable(e.status(), &e.body_text()))?,
                );
            }
            // What the document does not describe is refused rather than ignored, as a JSON
            // body's unknown field is.
            _ => {
                return Err(ApiError::malformed(
                    "the form takes only the parts `file` and `note`",
                ));
            }
        }
    }
    let Some((name, bytes)) = file else {
        return Err(ApiError::validation(
            "file",
            "send the document in a part named `file`",
        ));
    };
    let kept = st
        .service
        .attach(&p, &id, Upload { name, bytes, note })
        .await?;
    Ok((StatusCode::CREATED, Json(kept.into())))
}

/// A case's files, oldest first.
#[utoipa::path(get, path = "/cases/{id}/attachments", tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    responses((status = 200, body = AttachmentList), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<AttachmentList>, ApiError> {
    let items = st.service.attachments(&p, &id).await?;
    Ok(Json(AttachmentList {
        items: items.into_iter().map(AttachmentDto::from).collect(),
    }))
}

/// A file's bytes, with its type and its UTF-8 name (the download is recorded in the audit
/// log).
#[utoipa::path(get, path = "/attachments/{id}", tag = "cases",
    params(("id" = String, Path, description = "The attachment id")),
    responses((status = 200, description = "The file's bytes, as the kind its content showed when it was kept",
            content(
                (Vec<u8> = "application/pdf"),
                (Vec<u8> = "application/ofd"),
                (Vec<u8> = "image/jpeg"),
                (Vec<u8> = "image/png"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (Vec<u8> = "application/msword"),
                (Vec<u8> = "application/vnd.ms-excel"),
            ),
            headers(("Content-Disposition" = String, description = "attachment, with the UTF-8 name in filename*"))),
        (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn download(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (info, bytes) = st.service.download(&p, &id).await?;
    Ok(file_response(&info, bytes))
}

/// A kept file as an answer, with the headers every download carries.
fn file_response(info: &AttachmentInfo, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    for (name, value) in duban_core::attachment::download_headers(&info.name, &info.content_type) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}
