//! Forms whose text must decode: `application/x-www-form-urlencoded` bodies are read byte by
//! byte, and a field whose percent-decoded value is not UTF-8 refuses the whole form, naming the
//! field. axum's own `Form` decodes lossily and would store `��` in place of what was sent.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::labels;
use crate::layout::error_page;

/// A form, once every name and value in it is valid UTF-8.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        // Read within the router's body limit, as axum's `Form` would.
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(field) = undecodable(&bytes) {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                "请求有误",
                &format!(
                    "{field}中有无法识别的字符（不是有效的 UTF-8 编码），未保存任何内容。请检查输入法或浏览器的编码设置后重新提交。"
                ),
            ));
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        axum::Form::<T>::from_request(request, state)
            .await
            .map(|axum::Form(t)| Form(t))
            .map_err(IntoResponse::into_response)
    }
}

/// The first field (as a person would read it) whose name or value does not decode, if any.
fn undecodable(body: &[u8]) -> Option<String> {
    match duban_core::text::undecodable_pair(body)? {
        None => Some("一个字段的名称".into()),
        // The field as the form labels it (a person's field by its sub-field's name too).
        Some(name) => {
            let label = match name.split_once('.') {
                Some((field, sub)) => format!("{}·{}", labels::field(field), labels::field(sub)),
                None => labels::field(&name).to_string(),
            };
            Some(format!("字段「{label}」"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_is_not_utf8_names_its_field() {
        assert_eq!(undecodable(b"title=%E8%B7%AF%E7%81%AF&body=ok+ok"), None);
        assert_eq!(
            undecodable(b"title=ok&body=%C0%80%FF"),
            Some("字段「内容」".into())
        );
        assert_eq!(undecodable(b"%FF=1"), Some("一个字段的名称".into()));
        // GBK bytes for 路灯, as a page in the wrong encoding would send them.
        assert_eq!(
            undecodable(b"title=%C2%B7%B5%C6"),
            Some("字段「标题」".into())
        );
        assert_eq!(undecodable(b""), None);
    }
}
