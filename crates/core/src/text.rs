//! Submitted text that must decode: an `application/x-www-form-urlencoded` string (a form's
//! body, a query string) whose names and values are percent-decoded and must then be UTF-8.
//! Decoding them lossily would store `��` in place of what was sent; both HTTP edges refuse
//! instead, naming the field.

use percent_encoding::percent_decode;

/// The first `name=value` pair that does not decode: `Some(Some(name))` when its value is not
/// UTF-8, `Some(None)` when its name is not; `None` when everything decodes.
pub fn undecodable_pair(encoded: &[u8]) -> Option<Option<String>> {
    let decode = |raw: &[u8]| -> Option<String> {
        let plus: Vec<u8> = raw
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        String::from_utf8(percent_decode(&plus).collect()).ok()
    };
    for pair in encoded.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        let Some(name) = decode(name) else {
            return Some(None);
        };
        if decode(value).is_none() {
            return Some(Some(name));
        }
    }
    None
}

/// A cell's text as a spreadsheet shows it and never runs it: a value that would start a
/// formula (`=`, `+`, `-`, `@`) gets a leading apostrophe. Exports hold what people typed, and
/// a typed `=HYPERLINK(…)` must not become a link in the office's copy of Excel.
pub fn spreadsheet_text(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_that_is_not_utf8_is_named() {
        assert_eq!(
            undecodable_pair(b"title=%E8%B7%AF%E7%81%AF&body=ok+ok"),
            None
        );
        assert_eq!(
            undecodable_pair(b"title=ok&body=%C0%80%FF"),
            Some(Some("body".into()))
        );
        assert_eq!(undecodable_pair(b"%FF=1"), Some(None));
        // GBK bytes for 路灯, as a page in the wrong encoding would send them.
        assert_eq!(
            undecodable_pair(b"reason=%C2%B7%B5%C6"),
            Some(Some("reason".into()))
        );
        assert_eq!(undecodable_pair(b""), None);
    }
}
