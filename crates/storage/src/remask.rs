//! Migration 13: events written before every person field was masked whatever its length kept
//! short names and addresses whole (a one-character name, `龙门镇7号`). The history is
//! append-only, so this is the one rewrite of it: each person in each event's payload is masked
//! again, inside the migration's transaction, and the audit log records that it ran.

use duban_core::person::{mask_address, mask_id_number, mask_name, mask_phone};
use serde_json::{Map, Value};
use sqlx::Row;

use crate::Result;
use crate::audit::{append, migration_record, needed};
use crate::sql::{Rewrite, WriteTx, lift_append_only, restore_append_only, zero_freed_space};

/// A payload with every person in it masked again; `None` if nothing changes. Persons are the
/// payload's object values: no other field type is an object. Masking what is masked reveals
/// nothing more, so a long address already cut to six characters loses more, never less.
pub fn remasked(payload: &Map<String, Value>) -> Option<Map<String, Value>> {
    let mut out = payload.clone();
    let mut changed = false;
    for person in out.values_mut().filter_map(Value::as_object_mut) {
        for (field, mask) in [
            ("name", mask_name as fn(&str) -> String),
            ("id_number", mask_id_number),
            ("phone", mask_phone),
            ("address", mask_address),
        ] {
            if let Some(Value::String(s)) = person.get_mut(field) {
                let masked = mask(s);
                if masked != *s {
                    *s = masked;
                    changed = true;
                }
            }
        }
    }
    changed.then_some(out)
}

/// Masks again every event's persons in `tx`, with the append-only trigger lifted for these
/// updates only, and records in the audit log how many events it changed. On SQLite the space
/// the old text held is zeroed as it is freed (`secure_delete`). Returns how many changed.
pub(crate) async fn remask_events(tx: &mut WriteTx, key: Option<[u8; 32]>) -> Result<u64> {
    let rows = sqlx::query("SELECT case_id, seq, payload FROM case_events")
        .fetch_all(&mut **tx)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut changed = Vec::new();
    for r in &rows {
        let text: String = r.try_get("payload")?;
        let payload: Map<String, Value> = serde_json::from_str(&text)
            .map_err(|e| crate::Error::Corrupt(format!("an event's payload: {e}")))?;
        if let Some(p) = remasked(&payload) {
            let case_id: String = r.try_get("case_id")?;
            let seq: i64 = r.try_get("seq")?;
            changed.push((case_id, seq, Value::Object(p).to_string()));
        }
    }
    if !changed.is_empty() {
        let restore = lift_append_only(tx, "case_events", Rewrite::Update).await?;
        zero_freed_space(tx, true).await?;
        for (case_id, seq, payload) in &changed {
            sqlx::query("UPDATE case_events SET payload = $1 WHERE case_id = $2 AND seq = $3")
                .bind(payload.clone())
                .bind(case_id.clone())
                .bind(*seq)
                .execute(&mut **tx)
                .await?;
        }
        restore_append_only(tx, restore).await?;
        zero_freed_space(tx, false).await?;
    }
    let key = needed(key, "recording the re-masking in the audit log")?;
    let detail = format!(
        "{} of {} event(s) had personal data masked again (every field, whatever its length)",
        changed.len(),
        rows.len()
    );
    append(
        tx,
        &key,
        &migration_record("personal_data_remasked", "case_events", &detail),
    )
    .await?;
    Ok(changed.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_persons_are_masked_and_the_rest_left_alone() {
        let old = json!({
            "title": "路灯",
            "constituent": {"name": "张", "address": "龙门镇7号", "phone": "138****5678"},
            "lead_department": "jtj",
        });
        let Value::Object(old) = old else {
            unreachable!()
        };
        let new = remasked(&old).expect("changed");
        assert_eq!(new["constituent"]["name"], "*");
        assert_eq!(new["constituent"]["address"], "龙****");
        assert_eq!(new["constituent"]["phone"], "138****5678");
        assert_eq!(new["title"], "路灯");
        assert_eq!(remasked(&new), None, "masking twice changes nothing more");
    }
}
