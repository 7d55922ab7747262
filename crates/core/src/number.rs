//! Case numbers people quote on the phone (`建议〔2024〕007号`): a workflow's format, a number
//! written from it, and a number read back into its year and sequence.
//!
//! The format is data in each workflow file (`number = "建议〔{year}〕{seq:03}号"`). It holds
//! `{year}` and `{seq}` (optionally zero-padded, `{seq:03}`), and may add filing fields such as
//! the congress session (`{session}`). Reading a number back lets an import keep the numbers an
//! office already gave, and lets filings after it continue the sequence.

use serde::Serialize;

/// One piece of a number format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "part", content = "value")]
pub enum Part {
    Literal(String),
    /// The year of filing, China time.
    Year,
    /// The sequence within the kind and year, at least this many digits wide.
    Seq(usize),
    /// A filing field's value (text or enum); empty when the filing leaves it out.
    Field(String),
}

/// A parsed number format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberFormat {
    pub text: String,
    pub parts: Vec<Part>,
}

/// The format a workflow gets when its file names none: unique within the kind, as every
/// format is, and plain enough to read out.
pub const DEFAULT_FORMAT: &str = "{year}-{seq:04}";

impl NumberFormat {
    /// Parses `text`; the error says what is wrong with it, for the loader's diagnostic.
    pub fn parse(text: &str) -> Result<NumberFormat, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let stray = || format!("`}}` without an opening `{{` in `{text}`");
        while let Some(open) = rest.find('{') {
            if rest[..open].contains('}') {
                return Err(stray());
            }
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("`{{` without a closing `}}` in `{text}`"))?;
            let name = &after[..close];
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(match name.split_once(':') {
                None if name == "year" => Part::Year,
                None if name == "seq" => Part::Seq(1),
                Some(("seq", width)) => {
                    let w: usize = width
                        .trim_start_matches('0')
                        .parse()
                        .ok()
                        .filter(|w| (1..=9).contains(w))
                        .ok_or_else(|| {
                            format!("`{{seq:{width}}}`: the width is a number from 01 to 09")
                        })?;
                    Part::Seq(w)
                }
                None if is_field_name(name) => Part::Field(name.to_string()),
                _ => {
                    return Err(format!(
                        "`{{{name}}}` is not `{{year}}`, `{{seq}}`, `{{seq:0N}}` or a filing field"
                    ));
                }
            });
            rest = &after[close + 1..];
        }
        literal.push_str(rest);
        if literal.contains('}') {
            return Err(stray());
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let count = |p: fn(&Part) -> bool| parts.iter().filter(|x| p(x)).count();
        if count(|p| matches!(p, Part::Year)) != 1 || count(|p| matches!(p, Part::Seq(_))) != 1 {
            return Err(format!(
                "`{text}` must hold `{{year}}` and `{{seq}}` once each: numbers are unique within a kind and year"
            ));
        }
        // Two placeholders side by side could not be told apart when a number is read back.
        if parts
            .windows(2)
            .any(|w| !matches!(w[0], Part::Literal(_)) && !matches!(w[1], Part::Literal(_)))
        {
            return Err(format!(
                "`{text}`: put a character between placeholders, or a number cannot be read back"
            ));
        }
        Ok(NumberFormat {
            text: text.to_string(),
            parts,
        })
    }

    /// The filing fields the format names.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field(f) => Some(f.as_str()),
            _ => None,
        })
    }

    /// The number of the `seq`-th case of `year`, with the filing's `fields`.
    pub fn render(
        &self,
        year: i16,
        seq: u64,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Year => out.push_str(&year.to_string()),
                Part::Seq(w) => out.push_str(&format!("{seq:0w$}")),
                Part::Field(f) => match fields.get(f) {
                    Some(serde_json::Value::String(s)) => out.push_str(s),
                    Some(serde_json::Value::Number(n)) => out.push_str(&n.to_string()),
                    _ => {}
                },
            }
        }
        out
    }

    /// The year and sequence a number written in this format holds; `None` if it is not one.
    pub fn read(&self, number: &str) -> Option<(i16, u64)> {
        let mut found = (None, None);
        read_from(&self.parts, number, &mut found).then_some(())?;
        Some((found.0?, found.1?))
    }
}

/// Matches `parts` against the whole of `s`, filling in the year and sequence; a field takes
/// the shortest text that lets the rest match.
fn read_from(parts: &[Part], s: &str, found: &mut (Option<i16>, Option<u64>)) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return s.is_empty();
    };
    match first {
        Part::Literal(l) => s
            .strip_prefix(l.as_str())
            .is_some_and(|tail| read_from(rest, tail, found)),
        Part::Year | Part::Seq(_) => {
            let digits = s.bytes().take_while(u8::is_ascii_digit).count();
            // Digits run up to the next literal, which is never a digit-led placeholder.
            (1..=digits).rev().any(|n| {
                let (head, tail) = s.split_at(n);
                let mut trial = *found;
                let ok = match first {
                    Part::Year => head.parse().ok().map(|y| trial.0 = Some(y)).is_some(),
                    _ => head.parse().ok().map(|q| trial.1 = Some(q)).is_some(),
                };
                if ok && read_from(rest, tail, &mut trial) {
                    *found = trial;
                    true
                } else {
                    false
                }
            })
        }
        Part::Field(_) => s
            .char_indices()
            .map(|(i, _)| i)
            .chain([s.len()])
            .any(|i| read_from(rest, &s[i..], found)),
    }
}

fn is_field_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_number_is_written_and_read_back() {
        let f = NumberFormat::parse("建议〔{year}〕{seq:03}号").expect("format");
        let n = f.render(2024, 7, &fields(json!({})));
        assert_eq!(n, "建议〔2024〕007号");
        assert_eq!(f.read(&n), Some((2024, 7)));
        assert_eq!(f.read("建议〔2024〕1234号"), Some((2024, 1234)));
        assert_eq!(f.read("信访〔2024〕007号"), None);
        assert_eq!(f.read("建议〔2024〕号"), None);
    }

    #[test]
    fn a_filing_field_may_be_part_of_the_number() {
        let f = NumberFormat::parse("第{session}次会议第{seq}号（{year}）").expect("format");
        let n = f.render(2024, 12, &fields(json!({"session": "十七届三"})));
        assert_eq!(n, "第十七届三次会议第12号（2024）");
        assert_eq!(f.read(&n), Some((2024, 12)));
        assert_eq!(f.fields().collect::<Vec<_>>(), ["session"]);
    }

    #[test]
    fn formats_that_cannot_number_uniquely_are_refused() {
        for bad in [
            "建议{seq}号",
            "{year}{seq}",
            "{year}-{seq}-{seq}",
            "{year}-{seq:x}",
            "{year}-{seq",
            "{year}-{Seq}",
            "{year}}-{seq}",
        ] {
            assert!(NumberFormat::parse(bad).is_err(), "{bad}");
        }
        assert!(NumberFormat::parse(DEFAULT_FORMAT).is_ok());
    }
}
