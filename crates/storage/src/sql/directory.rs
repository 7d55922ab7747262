//! The directory: organisations and users, and what a code in a payload names.

use duban_core::Role;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::*;
use crate::{Directory, Error, Org, OrgKind, Result, User};

pub(crate) fn user_from_row(r: &AnyRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        login: r.try_get("login")?,
        role: Role::parse(&role).ok_or_else(|| Error::Corrupt(format!("role {role}")))?,
        org: r.try_get("org_code")?,
        name: r.try_get("name")?,
    })
}

/// What a code names, as a column `kind`: an organisation's kind or a user's role.
pub(crate) fn code_kind_sql(org: bool) -> &'static str {
    if org {
        "SELECT kind FROM orgs WHERE code = $1"
    } else {
        "SELECT role AS kind FROM users WHERE login = $1"
    }
}

impl Directory for SqlStore {
    async fn directory(&self) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT code, name, kind FROM orgs UNION ALL SELECT login, name, 'user' FROM users",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn add_org(&self, org: &Org) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO orgs (code, kind, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING",
        )
        .bind(org.code.clone())
        .bind(org.kind.as_str())
        .bind(org.name.clone())
        .bind(ms(Timestamp::now()))
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(Error::Duplicate {
                what: "organisation",
                id: org.code.clone(),
            });
        }
        Ok(())
    }

    async fn org(&self, code: &str) -> Result<Option<Org>> {
        let row = sqlx::query("SELECT code, kind, name FROM orgs WHERE code = $1")
            .bind(code.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Org {
                code: r.try_get("code")?,
                kind: OrgKind::parse(&kind)
                    .ok_or_else(|| Error::Corrupt(format!("org kind {kind}")))?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn add_user(&self, user: &User) -> Result<()> {
        if let Some(org) = &user.org
            && self.org(org).await?.is_none()
        {
            return Err(Error::NotFound {
                what: "organisation",
                id: org.clone(),
            });
        }
        let r = sqlx::query(
            "INSERT INTO users (login, role, org_code, name, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (login) DO NOTHING",
        )
        .bind(user.login.clone())
        .bind(user.role.as_str())
        .bind(user.org.clone())
        .bind(user.name.clone())
        .bind(ms(Timestamp::now()))
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(Error::Duplicate {
                what: "user",
                id: user.login.clone(),
            });
        }
        Ok(())
    }

    async fn user(&self, login: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT login, role, org_code, name FROM users WHERE login = $1")
            .bind(login.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn code_kind(&self, org: bool, code: &str) -> Result<Option<String>> {
        let row = sqlx::query(code_kind_sql(org))
            .bind(code.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(r.try_get::<String, _>("kind")?)).transpose()
    }
}
