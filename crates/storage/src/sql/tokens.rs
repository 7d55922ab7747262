//! Bearer tokens, kept as SHA-256 hashes. (Acting over the API reads a token's user with the
//! case it acts on: `act.rs`.)

use jiff::Timestamp;
use sqlx::Row;

use super::*;
use crate::{Directory, Error, Result, TokenInfo, Tokens, User};

/// A live token's user: not revoked, not expired, the person and organisation enabled.
const USER_FOR_TOKEN: &str = concat!(
    "SELECT u.login, u.role, u.org_code, u.name, t.id FROM tokens t JOIN users u ON u.login = t.login \
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
     AND (t.expires_at IS NULL OR t.expires_at > $2) AND ",
    crate::admin::active_user!()
);

impl Tokens for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn add_token(
        &self,
        id: &str,
        login: &str,
        token_hash: &str,
        at: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> Result<()> {
        if self.user(login).await?.is_none() {
            return Err(Error::NotFound {
                what: "user",
                id: login.into(),
            });
        }
        sqlx::query(
            "INSERT INTO tokens (id, login, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(login.to_string())
        .bind(token_hash.to_string())
        .bind(ms(at))
        .bind(expires_at.map(ms))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn user_for_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(User, String)>> {
        let row = sqlx::query(USER_FOR_TOKEN)
            .bind(token_hash.to_string())
            .bind(ms(now))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("id")?)))
            .transpose()
    }

    async fn tokens(&self, login: &str) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, login, created_at, revoked_at, expires_at FROM tokens WHERE login = $1 ORDER BY created_at, id",
        )
        .bind(login.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let revoked: Option<i64> = r.try_get("revoked_at")?;
                let expires: Option<i64> = r.try_get("expires_at")?;
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    login: r.try_get("login")?,
                    created_at: from_ms(r.try_get("created_at")?)?,
                    revoked_at: revoked.map(from_ms).transpose()?,
                    expires_at: expires.map(from_ms).transpose()?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_token(&self, id: &str, at: Timestamp) -> Result<bool> {
        let r =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.to_string())
                .bind(ms(at))
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() == 1)
    }
}
