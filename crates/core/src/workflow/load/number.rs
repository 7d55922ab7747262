//! The number pass: the case-number format parses, and the filing fields it names are filed as
//! text or a choice, so every case of the kind can be numbered.

use super::Check;
use crate::number::NumberFormat;
use crate::workflow::model::FieldType;

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    let Some(number) = &raw.number else {
        return;
    };
    let format = match NumberFormat::parse(&number.value) {
        Ok(f) => f,
        Err(e) => {
            c.d.at_line(number.line, format!("`number`: {e}"));
            return;
        }
    };
    let filing = raw
        .filing
        .as_ref()
        .map(|f| f.payload.as_slice())
        .unwrap_or_default();
    for name in format.fields() {
        let field = filing.iter().find(|f| f.field.name == name);
        if !field.is_some_and(|f| matches!(f.field.ty, FieldType::Text | FieldType::Enum(_))) {
            c.d.at_line(
                number.line,
                format!(
                    "`number` names `{{{name}}}`, which is not a text or enum field of the filing"
                ),
            );
        }
    }
}
