//! What an attachment's id looks like: `att_` and 32 lowercase hex digits (a UUID without its
//! dashes). A `file` field of a workflow holds one, and it is checked here before anything is
//! looked up, so that no free text reaches the query or the answer.

/// The prefix every attachment id starts with.
pub const PREFIX: &str = "att_";

/// Whether `s` is shaped like an attachment id.
pub fn is_id(s: &str) -> bool {
    s.strip_prefix(PREFIX).is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The headers a kept file is sent with, by both edges: its type (judged by its content when
/// it was kept), its name, never kept by a shared cache, never sniffed into something else.
pub fn download_headers(name: &str, content_type: &str) -> [(&'static str, String); 4] {
    [
        ("content-type", content_type.to_string()),
        ("content-disposition", content_disposition(name)),
        ("cache-control", "private, no-store".to_string()),
        ("x-content-type-options", "nosniff".to_string()),
    ]
}

/// The `Content-Disposition` a download of `name` is sent with (RFC 6266): the UTF-8 name in
/// `filename*` (RFC 5987), and for old clients an ASCII `filename` with every other character
/// made `_`, so that a Chinese name survives and nothing in it can break the header.
pub fn content_disposition(name: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // RFC 5987's attr-char: letters, digits and `!#$&+-.^_`|~` stay as they are.
    const ATTR: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._ ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_keeps_its_utf8_name() {
        assert_eq!(
            content_disposition("答复函 v2.pdf"),
            "attachment; filename=\"___ v2.pdf\"; filename*=UTF-8''%E7%AD%94%E5%A4%8D%E5%87%BD%20v2.pdf"
        );
        let tricky = content_disposition("a\";b\r\n.pdf");
        assert!(!tricky.contains('\r') && !tricky.contains('\n'));
        assert!(tricky.starts_with("attachment; filename=\"a__b__.pdf\";"));
    }

    #[test]
    fn ids_are_the_prefix_and_32_lowercase_hex_digits() {
        assert!(is_id("att_0193a5b2c3d47e8f9a0b1c2d3e4f5a6b"));
        assert!(!is_id("att_0193A5B2C3D47E8F9A0B1C2D3E4F5A6B"));
        assert!(!is_id("att_0193a5b2"));
        assert!(!is_id("0193a5b2c3d47e8f9a0b1c2d3e4f5a6b0000"));
        assert!(!is_id("att_0193a5b2c3d47e8f9a0b1c2d3e4f5a6g"));
    }
}
