//! An action's unit of work ([`crate::unit`]): the case read (with the token's user over the
//! API), the caller's decision, then the transition recorded under its version, or nothing
//! written and the refusal handed back.
//!
//! The read and the decision hold nothing: the write is checked against the version read, so
//! a writer that decides slowly keeps no other writer waiting (on SQLite the decided write is
//! sent whole to the one writer, `Group::write`).

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

/// What a decision reads codes through: the store's pool.
struct PoolLookup<'a>(&'a SqlStore);

impl Lookup for PoolLookup<'_> {
    async fn code_kind(&mut self, org: bool, code: &str) -> Result<Option<String>> {
        let row = sqlx::query(code_kind_sql(org))
            .bind(code.to_string())
            .fetch_optional(&self.0.pool)
            .await?;
        row.map(|r| Ok(r.try_get::<String, _>("kind")?)).transpose()
    }

    async fn attachment_case(&mut self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT case_id FROM attachments WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.0.pool)
            .await?;
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
        let (actor, found) = match acting {
            Acting::User(user) => {
                let row = sqlx::query(CASE_AND_FILING)
                    .bind(case_id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                let found = row.as_ref().map(case_and_filing_from_row).transpose()?;
                (user.clone(), found)
            }
            Acting::Token(hash, now) => {
                let row = sqlx::query(TOKEN_AND_CASE)
                    .bind(hash.to_string())
                    .bind(case_id.to_string())
                    .bind(ms(now))
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else {
                    return Ok(Acted::UnknownToken);
                };
                let found: Option<CaseAndFiling> = match row.try_get::<Option<String>, _>("id")? {
                    Some(_) => Some(case_and_filing_from_row(&row)?),
                    None => None,
                };
                (user_from_row(&row)?, found)
            }
        };
        match decision.decide(&actor, found, &mut PoolLookup(self)).await {
            Ok((record, kept)) => {
                self.record_in(&record).await?;
                Ok(Acted::Recorded {
                    actor,
                    record: Box::new(record),
                    kept,
                })
            }
            Err(refusal) => Ok(Acted::Refused { actor, refusal }),
        }
    }
}
