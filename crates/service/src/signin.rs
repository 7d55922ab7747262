//! Signing in to the web pages: passwords (argon2id) under a complexity policy, a lock after
//! repeated failures, and sessions with a CSRF token. Every attempt is audited.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use duban_storage::{Accounts, Audit, AuditRecord, Session, SignInAttempt, Store, User};
use jiff::{SignedDuration, Timestamp};

use crate::{Principal, Result, Service, hash_token};

/// How sign-in is guarded. The defaults follow MLPS 2.0 level 2: a lock after five wrong
/// passwords in a row, sessions that end, complex passwords (see docs/security.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInPolicy {
    /// Wrong passwords in a row that lock the account.
    pub max_failures: u32,
    /// How long the lock lasts.
    pub lock_minutes: i64,
    /// How long a session lasts from sign-in.
    pub session_hours: i64,
    /// Days after which a password must be changed before signing in again; 0 never.
    pub password_max_age_days: i64,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_minutes: 15,
            session_hours: 8,
            password_max_age_days: 0,
        }
    }
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in: the cookie value (shown once, stored hashed) and the session's CSRF token.
    Welcome {
        cookie: String,
        csrf: String,
        user: User,
        expires_at: Timestamp,
    },
    /// Unknown login, no password set, or a wrong password: one answer for all three.
    Wrong,
    /// Too many wrong passwords in a row; refused even with the right one until then.
    Locked { until: Timestamp },
    /// The password is older than the policy allows; an administrator sets a new one.
    Expired,
    /// An administrator reset the password: the person sets their own before signing in.
    MustChange,
    /// The right password, but the person or their organisation is disabled.
    Disabled,
}

/// A password that does not meet the policy, with the reason in Chinese for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WeakPassword(pub String);

/// MLPS asks for complexity: at least 10 characters, at least three of upper case, lower case,
/// digits and other characters, and not containing the login.
pub fn check_password(login: &str, password: &str) -> Result<(), WeakPassword> {
    if password.chars().count() < 10 {
        return Err(WeakPassword("密码至少10个字符".into()));
    }
    if password.chars().count() > 128 {
        return Err(WeakPassword("密码最多128个字符".into()));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err(WeakPassword(
            "密码须包含大写字母、小写字母、数字、其他字符中的至少三类".into(),
        ));
    }
    if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
        return Err(WeakPassword("密码不得包含登录名".into()));
    }
    Ok(())
}

/// The argon2id hash (PHC string) of a password, with a random salt.
pub fn hash_password(password: &str) -> String {
    // 16 bytes from the operating system's random source, by way of a v4 UUID.
    let salt_bytes = *uuid::Uuid::new_v4().as_bytes();
    // Encoding 16 bytes and hashing with the default parameters cannot fail.
    let Ok(salt) = SaltString::encode_b64(&salt_bytes) else {
        return String::new();
    };
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verified against for unknown logins too, so that the answer's timing does not tell which
/// logins exist.
static DECOY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("decoy-password-never-matches"));

fn random_hex() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl<S: Store + Audit + Accounts> Service<S> {
    /// Records a sign-in event at `at` (the instant its use case read the clock at), for the
    /// user (if known), the login as typed and the client address.
    async fn audit_sign_in(
        &self,
        at: Timestamp,
        (user, login, source): (Option<&User>, &str, &str),
        action: &str,
        outcome: &str,
        detail: &str,
    ) {
        let record = AuditRecord {
            at,
            actor: user.map_or_else(|| "-".to_string(), |u| u.login.clone()),
            role: user.map_or_else(|| "-".to_string(), |u| u.role.as_str().to_string()),
            source: source.into(),
            action: action.into(),
            // The login typed, even when unknown: repeated guesses at names are worth seeing.
            target: login.chars().take(64).collect(),
            outcome: outcome.into(),
            detail: detail.into(),
        };
        if let Err(e) = self.store.audit(&record).await {
            tracing::error!(error = %e, "could not record a sign-in event");
        }
    }

    /// Checks a login and password from `source` (the client address).
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(&self, login: &str, password: &str, source: &str) -> Result<SignIn> {
        let now = self.now();
        let creds = match self
            .check(now, login, password, source, "login_failed", "login_locked")
            .await?
        {
            Checked::Good(creds) => creds,
            Checked::Wrong => return Ok(SignIn::Wrong),
            Checked::Locked(until) => return Ok(SignIn::Locked { until }),
            Checked::Disabled => return Ok(SignIn::Disabled),
        };
        if creds.must_change {
            let who = (Some(&creds.user), login, source);
            self.audit_sign_in(now, who, "login_failed", "refused", "password reset")
                .await;
            return Ok(SignIn::MustChange);
        }
        if self.sign_in.password_max_age_days > 0
            && creds.password_changed_at.is_some_and(|at| {
                now.duration_since(at)
                    > SignedDuration::from_hours(24 * self.sign_in.password_max_age_days)
            })
        {
            let who = (Some(&creds.user), login, source);
            self.audit_sign_in(now, who, "login_failed", "refused", "password expired")
                .await;
            return Ok(SignIn::Expired);
        }
        // Expired sessions go when someone signs in: no timer needed, and the table stays small.
        self.store.purge_sessions(now).await?;
        let cookie = random_hex();
        let csrf = random_hex();
        let expires_at = now + SignedDuration::from_hours(self.sign_in.session_hours);
        let session = Session {
            id_hash: hash_token(&cookie),
            login: creds.user.login.clone(),
            csrf: csrf.clone(),
            source: source.into(),
            created_at: now,
            expires_at,
        };
        let checked = creds.password_hash.as_deref().unwrap_or_default();
        if !self.store.create_session(&session, checked).await? {
            // The password changed while this one was checked: no session from the old one.
            let who = (Some(&creds.user), login, source);
            let why = "password changed during sign-in";
            self.audit_sign_in(now, who, "login_failed", "refused", why)
                .await;
            return Ok(SignIn::Wrong);
        }
        self.audit_sign_in(now, (Some(&creds.user), login, source), "login", "ok", "")
            .await;
        Ok(SignIn::Welcome {
            cookie,
            csrf,
            user: creds.user,
            expires_at,
        })
    }

    /// The organisations (code, name, kind) and the people who sign in, for choosing them in
    /// forms and naming them on pages.
    pub async fn directory(&self) -> Result<(Vec<(String, String, String)>, Vec<User>)> {
        Ok((self.store.directory().await?, self.store.people().await?))
    }

    /// The signed-in user behind a session cookie, and the session's CSRF token.
    pub async fn session(&self, cookie: &str) -> Result<Option<(Principal, String)>> {
        Ok(self
            .store
            .session(&hash_token(cookie), self.now())
            .await?
            .map(|(s, user)| (Principal { user }, s.csrf)))
    }

    /// Ends a session.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, p: &Principal, cookie: &str, source: &str) -> Result<()> {
        let now = self.now();
        self.store.delete_session(&hash_token(cookie)).await?;
        self.audit_sign_in(
            now,
            (Some(&p.user), &p.user.login, source),
            "logout",
            "ok",
            "",
        )
        .await;
        Ok(())
    }

    /// Sets a user's password after checking it against the policy, and ends every session of
    /// theirs: whoever knew the old password is signed out. False if no such user.
    #[tracing::instrument(skip_all)]
    pub async fn set_password(
        &self,
        login: &str,
        password: &str,
        source: &str,
    ) -> Result<std::result::Result<bool, WeakPassword>> {
        let now = self.now();
        if let Err(weak) = check_password(login, password) {
            return Ok(Err(weak));
        }
        let found = self
            .store
            .set_password(login, &hash_password(password), now, None)
            .await?;
        if found {
            let user = self.store.user(login).await?;
            self.audit_sign_in(
                now,
                (user.as_ref(), login, source),
                "password_set",
                "ok",
                "",
            )
            .await;
        }
        Ok(Ok(found))
    }

    /// Someone whose password has expired sets a new one with the old: no session is made
    /// from an expired password, so this checks the login and the current password as sign-in
    /// does (the lock included), then the new one under the policy.
    #[tracing::instrument(skip_all)]
    pub async fn renew_expired_password(
        &self,
        login: &str,
        current: &str,
        new: &str,
        source: &str,
    ) -> Result<std::result::Result<(), String>> {
        let now = self.now();
        match self
            .check(
                now,
                login,
                current,
                source,
                "password_change",
                "password_change",
            )
            .await?
        {
            Checked::Good(creds) => {
                self.replace_password(
                    now,
                    &creds.user,
                    (current, new),
                    source,
                    "expired password renewed",
                    None,
                )
                .await
            }
            Checked::Wrong => Ok(Err("登录名或密码不正确".into())),
            Checked::Locked(_) => Ok(Err("账户已暂时锁定，请稍后再试".into())),
            Checked::Disabled => Ok(Err(DISABLED.into())),
        }
    }

    /// A signed-in user changes their own password: the current one first (a wrong one counts
    /// towards the lock, as at sign-in), then the new one under the policy. Every other session
    /// of theirs ends with the old password; `cookie`'s, the one changing it, goes on. The
    /// refusal is in Chinese, for the form.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        p: &Principal,
        cookie: &str,
        current: &str,
        new: &str,
        source: &str,
    ) -> Result<std::result::Result<(), String>> {
        let now = self.now();
        match self
            .check(
                now,
                &p.user.login,
                current,
                source,
                "password_change",
                "password_change",
            )
            .await?
        {
            Checked::Good(_) => {
                let keep = hash_token(cookie);
                self.replace_password(now, &p.user, (current, new), source, "", Some(&keep))
                    .await
            }
            Checked::Wrong => Ok(Err("当前密码不正确".into())),
            Checked::Locked(_) => Ok(Err("账户已暂时锁定，请稍后再试".into())),
            Checked::Disabled => Ok(Err(DISABLED.into())),
        }
    }

    /// Checks a login and password as sign-in does. Every attempt, at a known login or not,
    /// first claims its place under the lock ([`Accounts::claim_attempt`]): a locked login is
    /// refused before any hash is checked, and at most `max_failures` wrong passwords are ever
    /// checked in a row, however many arrive at once. An unknown login is counted, locked,
    /// checked against a decoy hash and audited exactly as a known one, so that neither the
    /// answer nor its timing tells which logins exist. Each refusal is audited under `refused`
    /// (or `locked`), and a lock it causes as `lockout`.
    async fn check(
        &self,
        now: Timestamp,
        login: &str,
        password: &str,
        source: &str,
        refused: &str,
        locked: &str,
    ) -> Result<Checked> {
        let creds = self.store.credentials(login).await?;
        let user = creds.as_ref().map(|c| &c.user);
        // The login as typed, bounded: it keys the count for unknown logins too.
        let key: String = login.chars().take(64).collect();
        let lock_until = now + SignedDuration::from_mins(self.sign_in.lock_minutes);
        let claimed = self
            .store
            .claim_attempt(&key, now, self.sign_in.max_failures, lock_until)
            .await?;
        let refuse_locked = |until| async move {
            self.audit_sign_in(
                now,
                (user, login, source),
                locked,
                "refused",
                "account locked",
            )
            .await;
            Ok(Checked::Locked(until))
        };
        let locks = match claimed {
            SignInAttempt::Locked(until) => return refuse_locked(until).await,
            SignInAttempt::Counted { locks, .. } => locks,
        };
        let phc = creds.as_ref().and_then(|c| c.password_hash.as_deref());
        let ok = verify_password(password, phc.unwrap_or(&DECOY)) && phc.is_some();
        if ok && let Some(creds) = &creds {
            return match self.store.attempt_succeeded(&key, now, locks).await? {
                // Only after the right password: a disabled account is no secret from someone
                // who knows its password, and a wrong one gets the one answer for all.
                None if creds.disabled => {
                    let who = (user, login, source);
                    self.audit_sign_in(now, who, refused, "refused", "account disabled")
                        .await;
                    Ok(Checked::Disabled)
                }
                None => Ok(Checked::Good(creds.clone())),
                // Another attempt locked the login while this one was checked: the lock stands
                // even for the right password.
                Some(until) => refuse_locked(until).await,
            };
        }
        // The answer is one for both; the audit log, read only by those who may, says which it
        // was, since repeated guesses at names that do not exist are worth seeing.
        let why = if creds.is_some() {
            "wrong password"
        } else {
            "unknown login"
        };
        self.audit_sign_in(now, (user, login, source), refused, "refused", why)
            .await;
        if locks {
            self.audit_sign_in(
                now,
                (user, login, source),
                "lockout",
                "ok",
                &format!(
                    "{} wrong passwords in a row; locked for {} minutes",
                    self.sign_in.max_failures, self.sign_in.lock_minutes
                ),
            )
            .await;
        }
        Ok(Checked::Wrong)
    }

    /// Puts `new` in place of the (checked) current password, under the policy; audited.
    /// Every session of the user but `keep` (a session id hash) ends with the old password.
    async fn replace_password(
        &self,
        now: Timestamp,
        user: &User,
        (current, new): (&str, &str),
        source: &str,
        detail: &str,
        keep: Option<&str>,
    ) -> Result<std::result::Result<(), String>> {
        if current == new {
            return Ok(Err("新密码不能与当前密码相同".into()));
        }
        if let Err(weak) = check_password(&user.login, new) {
            return Ok(Err(weak.0));
        }
        self.store
            .set_password(&user.login, &hash_password(new), now, keep)
            .await?;
        self.audit_sign_in(
            now,
            (Some(user), &user.login, source),
            "password_change",
            "ok",
            detail,
        )
        .await;
        Ok(Ok(()))
    }
}

/// What checking a login and password came to.
enum Checked {
    Good(duban_storage::Credentials),
    Wrong,
    Locked(Timestamp),
    Disabled,
}

/// What a disabled person is told once their password has proved right.
const DISABLED: &str = "账户已停用，请联系系统管理员";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_asks_for_length_variety_and_no_login() {
        assert!(check_password("zhang", "Short1!").is_err());
        assert!(check_password("zhang", "alllowercaseletters").is_err());
        assert!(check_password("zhang", "lowercase123").is_err());
        assert!(check_password("zhang", "Lowercase123").is_ok());
        assert!(check_password("zhang", "zhang-Secret-2024").is_err());
        assert!(check_password("zhang", "长城-secret-2024").is_ok());
    }

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash_password("Duban@2024x");
        let b = hash_password("Duban@2024x");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("Duban@2024x", &a));
        assert!(!verify_password("Duban@2024y", &a));
        assert!(!verify_password("anything", "not a hash"));
    }
}
