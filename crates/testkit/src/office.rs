//! An office to test the use cases in: organisations, people with their tokens and passwords,
//! and a service over a fresh store on a clock the test sets.

use std::sync::{Arc, Mutex};

use duban_core::{Calendar, Role, Workflows};
use duban_service::{FixedClock, Principal, Service, hash_password, hash_token};
use duban_storage::{Accounts, Cases, Directory, Org, OrgKind, SqlStore, Tokens, User};
use serde_json::Value;

use crate::{TestDb, sqlite, ts};

/// When the accounts are set up (tokens issued, passwords set): 2024-01-01 00:00 UTC.
const SET_UP: &str = "2024-01-01T08:00:00";

/// Where the clock starts unless the builder says otherwise.
const OPENS: &str = "2024-01-01T09:00:00";

/// A service over a store with its organisations and people, on a fixed clock.
#[derive(Debug)]
pub struct Office {
    pub store: SqlStore,
    pub service: Arc<Service<SqlStore>>,
    pub clock: Arc<FixedClock>,
    /// The fresh database the builder made, kept until the office goes; `None` on a store
    /// the caller owns.
    _db: Option<TestDb>,
}

/// What an [`Office`] is set up with; [`OfficeBuilder::build`] writes it.
#[derive(Debug, Default)]
pub struct OfficeBuilder {
    orgs: Vec<Org>,
    users: Vec<User>,
    tokens: bool,
    password: Option<String>,
    opens: Option<String>,
}

impl OfficeBuilder {
    /// An organisation.
    pub fn org(mut self, code: &str, kind: OrgKind, name: &str) -> Self {
        self.orgs.push(Org {
            code: code.into(),
            kind,
            name: name.into(),
        });
        self
    }

    /// A person, whose name is their login.
    pub fn user(mut self, login: &str, role: Role, org: Option<&str>) -> Self {
        self.users.push(User {
            login: login.into(),
            role,
            org: org.map(str::to_string),
            name: login.into(),
        });
        self
    }

    /// A bearer token for every person: `token-LOGIN`, kept under the id `tok-LOGIN`.
    pub fn tokens(mut self) -> Self {
        self.tokens = true;
        self
    }

    /// The same password for every person.
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Starts the clock at `when`, China time (else 2024-01-01 09:00).
    pub fn opens_at(mut self, when: &str) -> Self {
        self.opens = Some(when.into());
        self
    }

    /// The office on a fresh SQLite database of its own.
    pub async fn build(self) -> Office {
        let db = sqlite().await;
        let mut office = self.build_on(db.store.clone()).await;
        office._db = Some(db);
        office
    }

    /// The office on `store`, which the caller keeps.
    pub async fn build_on(self, store: SqlStore) -> Office {
        for org in &self.orgs {
            store.add_org(org).await.expect("org");
        }
        // One hash for everyone: argon2 is slow by design.
        let hash = self.password.as_deref().map(hash_password);
        for user in &self.users {
            store.add_user(user).await.expect("user");
            let login = &user.login;
            if self.tokens {
                let secret = hash_token(&format!("token-{login}"));
                store
                    .add_token(&format!("tok-{login}"), login, &secret, ts(SET_UP), None)
                    .await
                    .expect("token");
            }
            if let Some(hash) = &hash {
                store
                    .set_password(login, hash, ts(SET_UP), None)
                    .await
                    .expect("password");
            }
        }
        let clock = Arc::new(FixedClock(Mutex::new(ts(self
            .opens
            .as_deref()
            .unwrap_or(OPENS)))));
        Office::over(store, clock)
    }
}

impl Office {
    /// An office to set up.
    pub fn builder() -> OfficeBuilder {
        OfficeBuilder::default()
    }

    /// A service over `store` on `clock`, with the shipped workflows and calendar.
    fn over(store: SqlStore, clock: Arc<FixedClock>) -> Office {
        let links = store.link_key();
        let service = Service::new(
            store.clone(),
            Arc::new(Workflows::builtin()),
            Arc::new(Calendar::builtin()),
            clock.clone(),
        )
        .with_links(links);
        Office {
            store,
            service: Arc::new(service),
            clock,
            _db: None,
        }
    }

    /// This office's service over another store (one with faults injected, say), on the same
    /// clock; the database stays this office's.
    pub fn with_store(&self, store: SqlStore) -> Office {
        Office::over(store, self.clock.clone())
    }

    /// Sets the clock to `when`, China time.
    pub fn at(&self, when: &str) {
        *self.clock.0.lock().expect("clock") = ts(when);
    }

    /// The person signed in as `login`.
    pub async fn principal(&self, login: &str) -> Principal {
        Principal {
            user: self.store.user(login).await.expect("user").expect("exists"),
        }
    }

    /// Files a case of `kind` as `who` at `when`; its id, or the error if filing failed.
    pub async fn try_file(
        &self,
        who: &str,
        kind: &str,
        payload: Value,
        when: &str,
    ) -> Result<String, duban_service::Error> {
        self.at(when);
        let p = self.principal(who).await;
        let (detail, _) = self.service.file(&p, kind, &payload, None, None).await?;
        Ok(detail.record.id)
    }

    /// [`Office::try_file`], which must succeed.
    pub async fn file(&self, who: &str, kind: &str, payload: Value, when: &str) -> String {
        self.try_file(who, kind, payload, when)
            .await
            .unwrap_or_else(|e| panic!("file {kind}: {e}"))
    }

    /// Takes `action` as `who` at `when`, at the case's current version; the error if it
    /// failed.
    pub async fn try_act(
        &self,
        id: &str,
        action: &str,
        who: &str,
        payload: Value,
        when: &str,
    ) -> Result<(), duban_service::Error> {
        self.at(when);
        let p = self.principal(who).await;
        let version = self
            .store
            .case(id)
            .await?
            .map(|r| r.case.version)
            .unwrap_or(0);
        self.service
            .act(&p, id, action, &payload, version, None)
            .await
            .map(|_| ())
    }

    /// [`Office::try_act`], which must succeed.
    pub async fn act(&self, id: &str, action: &str, who: &str, payload: Value, when: &str) {
        self.try_act(id, action, who, payload, when)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    }
}
