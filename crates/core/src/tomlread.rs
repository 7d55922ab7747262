//! Typed reading of a spanned TOML tree that reports every problem instead of stopping at the first.
//!
//! serde's derive stops at the first unknown key or wrong type; definition files are edited by
//! hand, so we walk the tree ourselves and collect everything wrong with its line.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{FileDiagnostics, Source};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;
pub(crate) type Table<'i> = DeTable<'i>;

/// Parses a file, reporting syntax errors (all that the parser could recover from).
pub(crate) fn parse<'i>(
    source: &Source<'i>,
    diags: &mut FileDiagnostics<'_>,
) -> Option<Spanned<Table<'i>>> {
    let (table, errors) = DeTable::parse_recoverable(source.text);
    if errors.is_empty() {
        return Some(table);
    }
    for e in errors {
        let line = e.span().map(|s| diags.line_of(s.start)).unwrap_or(0);
        diags.at_line(line, format!("TOML syntax: {}", e.message().trim()));
    }
    None
}

/// Reports each key of `table` that is not in `known`, naming where it is.
pub(crate) fn check_keys(
    table: &Table<'_>,
    path: &str,
    known: &[&str],
    diags: &mut FileDiagnostics<'_>,
) {
    for (key, _) in table.iter() {
        if !known.contains(&key.get_ref().as_ref()) {
            let place = if path.is_empty() {
                String::from("at the top level")
            } else {
                format!("in `{path}`")
            };
            diags.at(
                &key.span(),
                format!(
                    "unknown key `{}` {place} (expected one of: {})",
                    key.get_ref(),
                    known.join(", ")
                ),
            );
        }
    }
}

pub(crate) fn get<'t, 'i>(table: &'t Table<'i>, key: &str) -> Option<&'t Value<'i>> {
    table.get(key)
}

/// A string value with the line it stands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located<T> {
    pub value: T,
    pub line: usize,
}

fn type_error(diags: &mut FileDiagnostics<'_>, v: &Value<'_>, path: &str, expected: &str) {
    diags.at(
        &v.span(),
        format!(
            "`{path}` must be {expected}, found {}",
            v.get_ref().type_str()
        ),
    );
}

pub(crate) fn string(
    table: &Table<'_>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<Located<String>> {
    let v = get(table, key)?;
    match v.get_ref().as_str() {
        Some(s) => Some(Located {
            value: s.to_string(),
            line: diags.line_of_span(&v.span()),
        }),
        None => {
            type_error(diags, v, &join(path, key), "a string");
            None
        }
    }
}

pub(crate) fn required_string(
    table: &Table<'_>,
    table_span: &Range<usize>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<Located<String>> {
    if get(table, key).is_none() {
        diags.at(table_span, format!("missing `{}`", join(path, key)));
        return None;
    }
    string(table, key, path, diags)
}

pub(crate) fn boolean(
    table: &Table<'_>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<bool> {
    let v = get(table, key)?;
    match v.get_ref().as_bool() {
        Some(b) => Some(b),
        None => {
            type_error(diags, v, &join(path, key), "true or false");
            None
        }
    }
}

/// A non-negative whole number that fits in `u32`.
pub(crate) fn count(
    table: &Table<'_>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<Located<u32>> {
    let v = get(table, key)?;
    let parsed = v
        .get_ref()
        .as_integer()
        .and_then(|i| u32::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok());
    match parsed {
        Some(n) => Some(Located {
            value: n,
            line: diags.line_of_span(&v.span()),
        }),
        None => {
            type_error(
                diags,
                v,
                &join(path, key),
                "a whole number from 0 to 4294967295",
            );
            None
        }
    }
}

/// A list of strings; a single string is accepted as a list of one.
pub(crate) fn strings(
    table: &Table<'_>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<Vec<Located<String>>> {
    let v = get(table, key)?;
    if let Some(s) = v.get_ref().as_str() {
        return Some(vec![Located {
            value: s.to_string(),
            line: diags.line_of_span(&v.span()),
        }]);
    }
    let Some(items) = v.get_ref().as_array() else {
        type_error(diags, v, &join(path, key), "a string or a list of strings");
        return None;
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref().as_str() {
            Some(s) => out.push(Located {
                value: s.to_string(),
                line: diags.line_of_span(&item.span()),
            }),
            None => type_error(diags, item, &join(path, key), "a list of strings"),
        }
    }
    Some(out)
}

/// A sub-table with its span.
pub(crate) fn table<'t, 'i>(
    table: &'t Table<'i>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<(&'t Table<'i>, Range<usize>)> {
    let v = get(table, key)?;
    match v.get_ref().as_table() {
        Some(t) => Some((t, v.span())),
        None => {
            type_error(diags, v, &join(path, key), "a table");
            None
        }
    }
}

/// A list of tables (`[[key]]` or an inline array of inline tables).
pub(crate) fn tables<'t, 'i>(
    table: &'t Table<'i>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Vec<(&'t Table<'i>, Range<usize>)> {
    let Some(v) = get(table, key) else {
        return Vec::new();
    };
    let Some(items) = v.get_ref().as_array() else {
        type_error(diags, v, &join(path, key), "a list of tables");
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref().as_table() {
            Some(t) => out.push((t, item.span())),
            None => type_error(diags, item, &join(path, key), "a list of tables"),
        }
    }
    out
}

/// A TOML local date (`2024-10-01`, unquoted).
pub(crate) fn date_value(
    v: &Value<'_>,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<Located<jiff::civil::Date>> {
    let line = diags.line_of_span(&v.span());
    let parsed = v
        .get_ref()
        .as_datetime()
        .and_then(|dt| match (dt.date, dt.time) {
            (Some(d), None) => {
                jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8).ok()
            }
            _ => None,
        });
    match parsed {
        Some(value) => Some(Located { value, line }),
        None => {
            type_error(diags, v, path, "a date such as 2024-10-01 (unquoted)");
            None
        }
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
