//! An action's unit of work ([`crate::unit`]): the case read (with the token's user over the
//! API), the caller's decision, then the transition recorded under its version, or nothing
//! written and the refusal handed back once nothing is held.

use sqlx::Row;

use super::*;
use crate::unit::{Acted, Acting, Decide, Lookup};
use crate::{CaseAndFiling, Result};

/// The user a live token belongs to and a case, in one read (`Acting::Token`). The token is
/// live as `user_for_token` says: not revoked, not expired, its person and organisation
/// enabled.
const TOKEN_AND_CASE: &str = concat!(
    "SELECT u.login, u.role, u.org_code, u.name, c.id, c.number, c.title, c.projection, e.payload \
     FROM tokens t JOIN users u ON u.login = t.login \
     LEFT JOIN cases c ON c.id = $2 \
     LEFT JOIN case_events e ON e.case_id = c.id AND e.seq = 1 \
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
     AND (t.expires_at IS NULL OR t.expires_at > $3) AND ",
    crate::admin::active_user!()
);

/// What a decision reads codes through: the unit's transaction where the dialect reads the
/// case in one ([`Held`]), else the store's pool.
struct HeldLookup<'a> {
    store: &'a SqlStore,
    held: Held,
}

impl Lookup for HeldLookup<'_> {
    async fn code_kind(&mut self, org: bool, code: &str) -> Result<Option<String>> {
        let query = sqlx::query(code_kind_sql(org)).bind(code.to_string());
        let row = match &mut self.held.0 {
            Some(tx) => query.fetch_optional(&mut **tx).await?,
            None => query.fetch_optional(&self.store.pool).await?,
        };
        row.map(|r| Ok(r.try_get::<String, _>("kind")?)).transpose()
    }

    async fn attachment_case(&mut self, id: &str) -> Result<Option<String>> {
        let query =
            sqlx::query("SELECT case_id FROM attachments WHERE id = $1").bind(id.to_string());
        let row = match &mut self.held.0 {
            Some(tx) => query.fetch_optional(&mut **tx).await?,
            None => query.fetch_optional(&self.store.pool).await?,
        };
        row.map(|r| Ok(r.try_get::<String, _>("case_id")?))
            .transpose()
    }
}

impl SqlStore {
    /// The unit of work behind [`crate::Cases::act`].
    pub(crate) async fn act_unit<D: Decide>(
        &self,
        acting: Acting<'_>,
        case_id: &str,
        decision: D,
    ) -> Result<Acted<D::Kept, D::Refusal>> {
        let (actor, found, held) = match acting {
            Acting::User(user) => {
                let binds = vec![Val::Text(case_id.to_string())];
                let (row, tx) = self.read_to_act_on(CASE_AND_FILING, binds).await?;
                let found = row.as_ref().map(case_and_filing_from_row).transpose()?;
                let held = hold(tx, found.is_some()).await?;
                (user.clone(), found, held)
            }
            Acting::Token(hash, now) => {
                let binds = vec![
                    Val::Text(hash.to_string()),
                    Val::Text(case_id.to_string()),
                    Val::Int(ms(now)),
                ];
                let (row, tx) = self.read_to_act_on(TOKEN_AND_CASE, binds).await?;
                let Some(row) = row else {
                    hold(tx, false).await?;
                    return Ok(Acted::UnknownToken);
                };
                let found: Option<CaseAndFiling> = match row.try_get::<Option<String>, _>("id")? {
                    Some(_) => Some(case_and_filing_from_row(&row)?),
                    None => None,
                };
                let held = hold(tx, found.is_some()).await?;
                (user_from_row(&row)?, found, held)
            }
        };
        let mut lookup = HeldLookup { store: self, held };
        match decision.decide(&actor, found, &mut lookup).await {
            Ok((record, kept)) => {
                self.record_in(lookup.held, &record).await?;
                Ok(Acted::Recorded {
                    actor,
                    record: Box::new(record),
                    kept,
                })
            }
            Err(refusal) => {
                // Let go before answering: whatever the caller writes next (an audit record
                // of the refusal) would otherwise wait for the turn this unit holds.
                lookup.held.release().await?;
                Ok(Acted::Refused { actor, refusal })
            }
        }
    }
}
