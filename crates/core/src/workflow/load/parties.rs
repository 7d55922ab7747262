//! The parties pass: declared parties are identifiers, `filer` is among them, and the filing's
//! payload sets only declared parties.

use super::Check;
use super::raw::is_identifier;
use crate::vocabulary::party;

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    for p in &raw.parties {
        if !is_identifier(&p.value) {
            c.d.at_line(
                p.line,
                format!("party `{}` is not a lower-case identifier", p.value),
            );
        }
    }
    for p in raw.parties.iter().filter(|p| p.value == party::AWAITING) {
        c.d.at_line(
            p.line,
            format!(
                "party `{}` is reserved: the engine keeps there whose move it is",
                p.value
            ),
        );
    }
    if !raw.parties.iter().any(|p| p.value == party::FILER) {
        c.d.at_line(
            0,
            "`parties` must include `filer`, the person or organisation that files the case",
        );
    }
    let filing_payload = raw
        .filing
        .as_ref()
        .map(|f| f.payload.as_slice())
        .unwrap_or_default();
    c.fields(filing_payload, "filing");
}
