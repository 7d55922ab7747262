//! The organisations and users a payload names must exist and be of the kind their field takes;
//! every problem names its field, never the code that was submitted.

use super::*;

impl<S: Store + Audit> Service<S> {
    /// Organisations and users named in a payload must exist: a typo must not assign a case to
    /// no one. Every unknown reference is reported.
    pub(crate) async fn check_references(
        &self,
        fields: &[duban_core::workflow::Field],
        payload: &Value,
        lookup: &mut impl Lookup,
    ) -> Result<()> {
        let Some(payload) = payload.as_object() else {
            return Ok(()); // not an object: it names no one
        };
        let problems = self
            .unknown_references(fields, payload, &mut BTreeMap::new(), lookup)
            .await?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid { problems })
        }
    }

    /// Every organisation or user code in `payload` that names no one, or an organisation of
    /// another kind than its field takes (a station field takes only stations), one problem
    /// each, read through `lookup`. The problem names the field, never the code: what was
    /// submitted is not echoed. `seen` remembers what was looked up (keyed by is-organisation
    /// and code), so an import asks the store once per distinct code however many rows name it.
    pub(crate) async fn unknown_references(
        &self,
        fields: &[duban_core::workflow::Field],
        payload: &serde_json::Map<String, Value>,
        seen: &mut BTreeMap<(bool, String), Option<String>>,
        lookup: &mut impl Lookup,
    ) -> std::result::Result<Vec<FieldProblem>, duban_storage::Error> {
        let mut problems = Vec::new();
        for f in fields {
            let is_org = matches!(f.ty, FieldType::Org | FieldType::Orgs);
            if !is_org && !matches!(f.ty, FieldType::User | FieldType::Users) {
                continue;
            }
            let codes: Vec<&str> = match payload.get(&f.name) {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
                _ => continue,
            };
            for (i, code) in codes.iter().enumerate() {
                let key = (is_org, code.to_string());
                let kind = match seen.get(&key) {
                    Some(k) => k.clone(),
                    None => {
                        let k = lookup.code_kind(is_org, code).await?;
                        seen.insert(key, k.clone());
                        k
                    }
                };
                // Which of a list is at fault, by its place, since the code is not repeated.
                let which = if codes.len() > 1 {
                    format!("item {} ", i + 1)
                } else {
                    String::new()
                };
                let problem = match (kind, &f.org_kind) {
                    (None, _) if is_org => format!("{which}names no organisation"),
                    (None, _) => format!("{which}names no user"),
                    (Some(role), _)
                        if !is_org
                            && !f.user_role.is_empty()
                            && !f.user_role.iter().any(|r| r.as_str() == role) =>
                    {
                        let wanted: Vec<&str> = f.user_role.iter().map(|r| r.as_str()).collect();
                        format!(
                            "{which}names a user who is not a {} (they are a {role})",
                            wanted.join(" or ")
                        )
                    }
                    (Some(k), Some(wanted)) if is_org && k != *wanted => {
                        format!("{which}names an organisation that is not a {wanted} (it is a {k})")
                    }
                    _ => continue,
                };
                problems.push(FieldProblem {
                    field: f.name.clone(),
                    problem,
                });
            }
        }
        Ok(problems)
    }
}

/// Codes looked up as any read, outside an action's unit of work (filing, import).
pub(crate) struct Reads<'a, S>(pub(crate) &'a S);

impl<S: Store> Lookup for Reads<'_, S> {
    async fn code_kind(
        &mut self,
        org: bool,
        code: &str,
    ) -> std::result::Result<Option<String>, duban_storage::Error> {
        self.0.code_kind(org, code).await
    }

    async fn attachment_case(
        &mut self,
        id: &str,
    ) -> std::result::Result<Option<String>, duban_storage::Error> {
        self.0.attachment_case(id).await
    }
}
