//! Administration as use cases: people, organisations and tokens added, changed, disabled and
//! enabled, passwords reset, sessions ended; and the audit log searched. Administrators only
//! (the audit log also for auditors), each change audited, and the same rules whether the web,
//! the API or a roster import asks.

use duban_core::OrgKind;
use duban_storage::{
    Account, Accounts, Administration, AuditQuery, Contacts, Notification, OrgEntry, OrgQuery,
    PeopleQuery, TokenInfo, UserChange, Verdict,
};

use super::*;

/// A person to add.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPerson {
    pub login: String,
    pub name: String,
    pub role: String,
    pub org: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub sms: bool,
}

/// What changes about a person; `None` leaves a part as it is, `Some(None)` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonChange {
    pub name: Option<String>,
    pub role: Option<String>,
    pub org: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub sms: Option<bool>,
    pub disabled: Option<bool>,
}

/// An organisation to add.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewOrg {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
}

/// What changes about an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgChange {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    /// A webhook's address and signing secret; `Some(None)` removes it.
    pub webhook: Option<Option<(String, String)>>,
    pub disabled: Option<bool>,
}

/// A problem with one field, as a refusal.
fn invalid(field: &str, problem: &str) -> Error {
    Error::Invalid {
        problems: vec![FieldProblem {
            field: field.into(),
            problem: problem.into(),
        }],
    }
}

/// Whether `s` may be a login or an organisation's code: letters, digits, `-_.`, 1 to 64.
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn check_code(field: &str, s: &str) -> Result<()> {
    if is_code(s) {
        Ok(())
    } else {
        Err(invalid(field, "只能用字母、数字和 - _ .，至多64个字符"))
    }
}

fn check_name(field: &str, s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 64 || s.chars().any(char::is_control) {
        return Err(invalid(field, "不能为空，至多64个字"));
    }
    Ok(s.to_string())
}

fn check_email(s: &str) -> Result<String> {
    let s = s.trim();
    let ok = s.len() <= 254
        && s.split_once('@').is_some_and(|(local, host)| {
            !local.is_empty() && host.contains('.') && !host.starts_with('.')
        })
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_string())
    } else {
        Err(invalid("email", "不是有效的电子邮箱地址"))
    }
}

fn check_phone(s: &str) -> Result<String> {
    duban_core::person::mobile_number(s)
        .ok_or_else(|| invalid("phone", "应为11位手机号码（13–19开头）"))
}

fn check_url(field: &str, s: &str) -> Result<String> {
    let s = s.trim();
    if (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace) {
        Ok(s.to_string())
    } else {
        Err(invalid(field, "应为 http:// 或 https:// 开头的地址"))
    }
}

/// A change's value checked when one is given (`Some(Some(_))`); a removal (`Some(None)`) and
/// no change (`None`) pass as they are.
fn checked(
    value: &Option<Option<String>>,
    check: impl Fn(&str) -> Result<String>,
) -> Result<Option<Option<String>>> {
    value
        .as_ref()
        .map(|v| v.as_deref().map(&check).transpose())
        .transpose()
}

fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| invalid("role", "不是已知的角色"))
}

/// A password a person gets from an administrator and must replace at sign-in: 16 random
/// characters in three classes, so that it meets the policy.
fn temporary_password(login: &str) -> String {
    loop {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        let p = format!("Tmp-{}-{}", &hex[..6], hex[6..12].to_uppercase());
        if check_password(login, &p).is_ok() {
            return p;
        }
    }
}

/// Refuses anyone but an administrator.
pub fn admin_only(p: &Principal) -> Result<()> {
    if p.role() == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden {
            detail: "administration is for administrators".into(),
        })
    }
}

impl<S: Store + Audit + Accounts + Administration + Contacts> Service<S> {
    async fn changed(&self, p: &Principal, action: &str, target: &str, detail: &str) -> Result<()> {
        self.audit(Some(p), action, target, "ok", detail).await
    }

    /// People, searched and filtered, by login.
    #[tracing::instrument(skip_all)]
    pub async fn people(&self, p: &Principal, q: &PeopleQuery) -> Result<Vec<Account>> {
        admin_only(p)?;
        Ok(self.store.accounts(q).await?)
    }

    /// One person.
    pub async fn person(&self, p: &Principal, login: &str) -> Result<Account> {
        admin_only(p)?;
        self.store.account(login).await?.ok_or(Error::NotFound)
    }

    /// Checks that `role` may belong to `org` (which must exist).
    async fn check_membership(&self, role: Role, org: Option<&str>) -> Result<()> {
        let kind = match org {
            Some(code) => match self.store.org(code).await? {
                Some(o) => Some(o.kind),
                None => return Err(invalid("org", "没有这个单位")),
            },
            None => None,
        };
        role.may_belong_to(kind).map_err(|why| invalid("org", why))
    }

    /// Adds a person; every field is checked before anything is written.
    #[tracing::instrument(skip_all)]
    pub async fn add_person(&self, p: &Principal, new: &NewPerson) -> Result<Account> {
        admin_only(p)?;
        check_code("login", &new.login)?;
        let role = parse_role(&new.role)?;
        let name = check_name("name", &new.name)?;
        let email = new.email.as_deref().map(check_email).transpose()?;
        let phone = new.phone.as_deref().map(check_phone).transpose()?;
        if new.sms && phone.is_none() {
            return Err(invalid("sms", "须先填写手机号码"));
        }
        self.check_membership(role, new.org.as_deref()).await?;
        if self.store.user(&new.login).await?.is_some() {
            return Err(invalid("login", "已有同名登录账号"));
        }
        let user = User {
            login: new.login.clone(),
            role,
            org: new.org.clone(),
            name,
        };
        self.store.add_user(&user).await?;
        if email.is_some() {
            self.store
                .set_user_email(&user.login, email.as_deref())
                .await?;
        }
        if let Some(phone) = &phone {
            self.store.set_user_phone(&user.login, Some(phone)).await?;
            self.store.set_user_sms(&user.login, new.sms).await?;
        }
        self.changed(p, "user_added", &user.login, role.as_str())
            .await?;
        if role == Role::Admin {
            self.tell_administrators(p, &user.login, None, Some(role))
                .await?;
        }
        self.person(p, &user.login).await
    }

    /// Changes a person. Disabling ends their sessions and tokens at once; a new role or
    /// organisation ends their sessions. An administrator cannot disable or demote themselves,
    /// so that the installation keeps one.
    #[tracing::instrument(skip_all)]
    pub async fn change_person(
        &self,
        p: &Principal,
        login: &str,
        change: &PersonChange,
    ) -> Result<Account> {
        let before = self.person(p, login).await?;
        let name = change
            .name
            .as_deref()
            .map(|n| check_name("name", n))
            .transpose()?;
        let role = change.role.as_deref().map(parse_role).transpose()?;
        let email = checked(&change.email, check_email)?;
        let phone = checked(&change.phone, check_phone)?;
        if login == p.user.login
            && (change.disabled == Some(true) || role.is_some_and(|r| r != Role::Admin))
        {
            return Err(invalid("login", "不能停用自己的账号或取消自己的管理员角色"));
        }
        let new_role = role.unwrap_or(before.user.role);
        let new_org = match &change.org {
            Some(o) => o.clone(),
            None => before.user.org.clone(),
        };
        if role.is_some() || change.org.is_some() {
            self.check_membership(new_role, new_org.as_deref()).await?;
        }
        if change.sms == Some(true)
            && phone
                .as_ref()
                .map_or(before.phone_masked.is_none(), Option::is_none)
        {
            return Err(invalid("sms", "须先填写手机号码"));
        }
        let mut what = Vec::new();
        let user_change = UserChange {
            name: name.clone(),
            role,
            org: change.org.clone(),
        };
        if user_change != UserChange::default() {
            self.store.change_user(login, &user_change).await?;
            for (part, given) in [
                ("name", name.is_some()),
                ("role", role.is_some()),
                ("org", change.org.is_some()),
            ] {
                if given {
                    what.push(part);
                }
            }
        }
        if let Some(email) = &email {
            self.store.set_user_email(login, email.as_deref()).await?;
            what.push("email");
        }
        if let Some(phone) = &phone {
            self.store.set_user_phone(login, phone.as_deref()).await?;
            what.push("phone");
        }
        if let Some(on) = change.sms {
            self.store.set_user_sms(login, on).await?;
            what.push("sms");
        }
        if !what.is_empty() {
            let detail = match role {
                Some(r) if r != before.user.role => {
                    format!("{} ({} → {})", what.join(","), before.user.role, r)
                }
                _ => what.join(","),
            };
            self.changed(p, "user_changed", login, &detail).await?;
        }
        if let Some(disabled) = change.disabled {
            let at = disabled.then(|| self.now());
            self.store.set_user_disabled(login, at).await?;
            let action = if disabled {
                "user_disabled"
            } else {
                "user_enabled"
            };
            self.changed(p, action, login, "").await?;
        }
        let was_admin = before.user.role == Role::Admin;
        if role.is_some_and(|r| r != before.user.role && (was_admin || r == Role::Admin)) {
            self.tell_administrators(p, login, Some(before.user.role), role)
                .await?;
        }
        self.person(p, login).await
    }

    /// Tells every other administrator that an administrator's role changed (given, taken).
    pub(crate) async fn tell_administrators(
        &self,
        p: &Principal,
        login: &str,
        from: Option<Role>,
        to: Option<Role>,
    ) -> Result<()> {
        let now = self.now();
        let label = |r: Option<Role>| r.map_or("（新账号）", duban_core::labels::role);
        let body = format!(
            "账号 {login} 的角色由 {} 改为 {}，操作人：{}（{}）。如非预期，请立即核查。",
            label(from),
            label(to),
            p.user.name,
            p.user.login
        );
        for admin in self.store.administrators(&p.user.login).await? {
            self.store
                .add_notification(&Notification {
                    id: format!("ntf_{}", uuid::Uuid::now_v7().simple()),
                    recipient: admin,
                    case_id: None,
                    reminder_key: None,
                    title: "【系统】管理员角色变更".into(),
                    body: body.clone(),
                    escalate: true,
                    created_at: now,
                    read_at: None,
                })
                .await?;
        }
        Ok(())
    }

    /// Resets a person's password to a temporary one, returned to be handed over: they must
    /// choose their own at their next sign-in, and their sessions end now.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, p: &Principal, login: &str) -> Result<String> {
        self.person(p, login).await?;
        let temporary = temporary_password(login);
        self.store
            .reset_password(login, &hash_password(&temporary), self.now())
            .await?;
        self.changed(p, "password_reset", login, "").await?;
        Ok(temporary)
    }

    /// Ends every session of a person; how many ended.
    #[tracing::instrument(skip_all)]
    pub async fn end_person_sessions(&self, p: &Principal, login: &str) -> Result<u64> {
        self.person(p, login).await?;
        let ended = self.store.end_sessions(login, None).await?;
        self.changed(p, "sessions_ended", login, &format!("{ended} session(s)"))
            .await?;
        Ok(ended)
    }

    /// A person's tokens (ids and dates, never the tokens).
    pub async fn person_tokens(&self, p: &Principal, login: &str) -> Result<Vec<TokenInfo>> {
        self.person(p, login).await?;
        Ok(self.store.tokens(login).await?)
    }

    /// Makes a token for a person, optionally expiring, and returns it (shown once) with its
    /// id. A disabled person gets none.
    #[tracing::instrument(skip_all)]
    pub async fn create_token(
        &self,
        p: &Principal,
        login: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<(String, String)> {
        let person = self.person(p, login).await?;
        if !person.active() {
            return Err(invalid("login", "账号已停用，不能发放令牌"));
        }
        let now = self.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(invalid("expires_at", "到期时间须晚于现在"));
        }
        let (token, id) = new_token();
        self.store
            .add_token(&id, login, &hash_token(&token), now, expires_at)
            .await?;
        let detail = match expires_at {
            Some(at) => format!("for {login}, expires {at}"),
            None => format!("for {login}"),
        };
        self.changed(p, "token_created", &id, &detail).await?;
        Ok((token, id))
    }

    /// Revokes a token by its id.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_token(&self, p: &Principal, id: &str) -> Result<()> {
        admin_only(p)?;
        if !self.store.revoke_token(id, self.now()).await? {
            return Err(Error::NotFound);
        }
        self.changed(p, "token_revoked", id, "").await
    }

    /// Organisations, searched and filtered, by code.
    #[tracing::instrument(skip_all)]
    pub async fn org_list(&self, p: &Principal, q: &OrgQuery) -> Result<Vec<OrgEntry>> {
        admin_only(p)?;
        Ok(self.store.org_entries(q).await?)
    }

    /// One organisation.
    pub async fn org_entry(&self, p: &Principal, code: &str) -> Result<OrgEntry> {
        admin_only(p)?;
        self.store.org_entry(code).await?.ok_or(Error::NotFound)
    }

    /// Adds an organisation.
    #[tracing::instrument(skip_all)]
    pub async fn add_org(&self, p: &Principal, new: &NewOrg) -> Result<OrgEntry> {
        admin_only(p)?;
        check_code("code", &new.code)?;
        let kind = OrgKind::parse(&new.kind)
            .ok_or_else(|| invalid("kind", "应为 department、station、court 或 committee"))?;
        let name = check_name("name", &new.name)?;
        let email = new.email.as_deref().map(check_email).transpose()?;
        if self.store.org(&new.code).await?.is_some() {
            return Err(invalid("code", "已有同代码的单位"));
        }
        self.store
            .add_org(&duban_storage::Org {
                code: new.code.clone(),
                kind,
                name,
            })
            .await?;
        if email.is_some() {
            self.store
                .set_org_channel(&new.code, "email", email.as_deref(), None)
                .await?;
        }
        self.changed(p, "org_added", &new.code, kind.as_str())
            .await?;
        self.org_entry(p, &new.code).await
    }

    /// Changes an organisation. Disabling it ends its people's sessions and stops their tokens
    /// while it stays disabled.
    #[tracing::instrument(skip_all)]
    pub async fn change_org(
        &self,
        p: &Principal,
        code: &str,
        change: &OrgChange,
    ) -> Result<OrgEntry> {
        self.org_entry(p, code).await?;
        let name = change
            .name
            .as_deref()
            .map(|n| check_name("name", n))
            .transpose()?;
        let email = checked(&change.email, check_email)?;
        let webhook = match &change.webhook {
            Some(Some((url, secret))) => {
                if secret.trim().len() < 16 {
                    return Err(invalid("webhook_secret", "签名密钥至少16个字符"));
                }
                Some(Some((
                    check_url("webhook_url", url)?,
                    secret.trim().to_string(),
                )))
            }
            Some(None) => Some(None),
            None => None,
        };
        let mut what = Vec::new();
        if let Some(name) = &name {
            self.store.rename_org(code, name).await?;
            what.push("name");
        }
        if let Some(email) = &email {
            self.store
                .set_org_channel(code, "email", email.as_deref(), None)
                .await?;
            what.push("email");
        }
        if let Some(webhook) = &webhook {
            let (url, secret) = match webhook {
                Some((u, s)) => (Some(u.as_str()), Some(s.as_str())),
                None => (None, None),
            };
            self.store
                .set_org_channel(code, "webhook", url, secret)
                .await?;
            what.push("webhook");
        }
        if !what.is_empty() {
            self.changed(p, "org_changed", code, &what.join(","))
                .await?;
        }
        if let Some(disabled) = change.disabled {
            let at = disabled.then(|| self.now());
            self.store.set_org_disabled(code, at).await?;
            let action = if disabled {
                "org_disabled"
            } else {
                "org_enabled"
            };
            self.changed(p, action, code, "").await?;
        }
        self.org_entry(p, code).await
    }

    fn audit_reader(p: &Principal) -> Result<()> {
        if matches!(p.role(), Role::Admin | Role::Auditor) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                detail: "the audit log is for auditors and administrators".into(),
            })
        }
    }

    /// Audit records matching `q`, newest first (auditors and administrators).
    #[tracing::instrument(skip_all)]
    pub async fn audit_search(
        &self,
        p: &Principal,
        q: &AuditQuery,
    ) -> Result<Vec<(i64, AuditRecord)>> {
        Self::audit_reader(p)?;
        Ok(self.store.audit_search(q).await?)
    }

    /// Recomputes the audit chain (auditors and administrators); the check is itself audited.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit(&self, p: &Principal) -> Result<Verdict> {
        Self::audit_reader(p)?;
        let verdict = self.store.verify_audit().await?;
        let outcome = match &verdict {
            Verdict::Intact { .. } => "intact".to_string(),
            other => format!("{other:?}"),
        };
        self.changed(p, "audit_verified", "audit_log", &outcome)
            .await?;
        Ok(verdict)
    }

    /// Records that someone exported audit records (auditors and administrators).
    pub async fn audit_exported(&self, p: &Principal, count: usize) -> Result<()> {
        Self::audit_reader(p)?;
        self.changed(
            p,
            "audit_exported",
            "audit_log",
            &format!("{count} record(s)"),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_meet_the_policy_and_differ() {
        let a = temporary_password("zhang");
        let b = temporary_password("zhang");
        assert_ne!(a, b);
        assert!(check_password("zhang", &a).is_ok());
    }

    #[test]
    fn codes_emails_and_urls_are_checked() {
        assert!(is_code("jtj-2.x_1"));
        assert!(!is_code("交通局"));
        assert!(!is_code(""));
        assert!(check_email("a@b.cn").is_ok());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.cn").is_err());
        assert!(check_url("u", "https://x.cn/hook").is_ok());
        assert!(check_url("u", "ftp://x.cn").is_err());
    }
}
