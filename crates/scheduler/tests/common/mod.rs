//! Test harness for the scheduler: a fresh database with people and organisations, a service to
//! act through at chosen instants, and a channel that records what it is asked to send.
#![allow(dead_code)] // each test file uses a different part of the harness

use duban_storage::{Cases, Directory};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use duban_core::{Calendar, Role, Workflows};
use duban_scheduler::{Channel, SendFuture};
use duban_service::{FixedClock, Principal, Service};
use duban_storage::{Delivery, Keyring, Org, OrgKind, Outbox, SqlStore, User};
use jiff::Timestamp;
use serde_json::Value;

pub fn ts(s: &str) -> Timestamp {
    format!("{s}+08:00")
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub struct Env {
    pub store: SqlStore,
    pub service: Service<SqlStore>,
    pub clock: Arc<FixedClock>,
    dir: std::path::PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// (login, role, organisation, e-mail)
pub const PEOPLE: &[(&str, Role, Option<&str>, Option<&str>)] = &[
    ("liu", Role::Deputy, None, None),
    ("xu", Role::Staff, None, Some("xu@rd.example")),
    (
        "zhang",
        Role::Department,
        Some("jtj"),
        Some("zhang@jtj.example"),
    ),
    ("chen", Role::Leader, None, Some("chen@rd.example")),
    ("li", Role::Leader, None, None),
];

pub async fn env(webhook: &str) -> Env {
    let dir = std::env::temp_dir().join(format!("duban-sched-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    let store = SqlStore::open(&url, 4)
        .await
        .expect("store")
        .with_keys(Keyring::new([3; 32], [4; 32]));
    let mut e = env_on(store, webhook).await;
    e.dir = dir;
    e
}

/// The people, organisations and a service over an existing store.
pub async fn env_on(store: SqlStore, webhook: &str) -> Env {
    store
        .add_org(&Org {
            code: "jtj".into(),
            kind: OrgKind::Department,
            name: "县交通运输局".into(),
        })
        .await
        .expect("org");
    store
        .set_org_contact(
            "jtj",
            Some("office@jtj.example"),
            Some((webhook, "jtj-secret")),
        )
        .await
        .expect("contact");
    for (login, role, org, email) in PEOPLE {
        store
            .add_user(&User {
                login: login.to_string(),
                role: *role,
                org: org.map(str::to_string),
                name: login.to_string(),
            })
            .await
            .expect("user");
        store.set_user_email(login, *email).await.expect("email");
    }
    let clock = Arc::new(FixedClock(Mutex::new(ts("2024-01-01T09:00:00"))));
    let service = Service::new(
        store.clone(),
        Arc::new(Workflows::builtin()),
        Arc::new(Calendar::builtin()),
        clock.clone(),
    );
    Env {
        store,
        service,
        clock,
        dir: std::path::PathBuf::new(),
    }
}

/// A store on a fresh database: SQLite in a temp directory, or PostgreSQL (a database created
/// for the test; `None` without a server outside CI, a failure under `CI=true`).
pub struct TestDb {
    pub store: SqlStore,
    pub url: String,
    drop_db: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = self.drop_db.clone() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(async {
                        if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("duban-sched-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    let store = SqlStore::open(&url, 4)
        .await
        .expect("store")
        .with_keys(Keyring::new([3; 32], [4; 32]));
    TestDb {
        store,
        url,
        drop_db: None,
        dir: Some(dir),
    }
}

pub async fn postgres() -> Option<TestDb> {
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(3))
        .connect(&admin)
        .await;
    let pool = match pool {
        Ok(p) => p,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but PostgreSQL is unreachable at {admin}: {e}")
        }
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** PostgreSQL leg SKIPPED: no server at {admin} ({e}) ***\n"
            );
            return None;
        }
    };
    let name = format!("duban_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .expect("create database");
    pool.close().await;
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin)
    );
    let store = SqlStore::open(&url, 8)
        .await
        .expect("store")
        .with_keys(Keyring::new([3; 32], [4; 32]));
    Some(TestDb {
        store,
        url,
        drop_db: Some((admin, name)),
        dir: None,
    })
}

/// An environment over `store` (a faulty one, say) sharing `base`'s clock; no directory of its own.
pub fn env_service(store: SqlStore, base: &Env) -> Env {
    let service = Service::new(
        store.clone(),
        Arc::new(Workflows::builtin()),
        Arc::new(Calendar::builtin()),
        base.clock.clone(),
    );
    Env {
        store,
        service,
        clock: base.clock.clone(),
        dir: std::path::PathBuf::new(),
    }
}

impl Env {
    /// Files a suggestion, or the error if the store failed.
    pub async fn try_file(
        &self,
        who: &str,
        payload: Value,
        when: &str,
    ) -> Result<String, duban_service::Error> {
        self.at(when);
        let p = self.principal(who).await;
        Ok(self
            .service
            .file(&p, "suggestion", &payload, None, None)
            .await?
            .0
            .record
            .id)
    }

    /// Takes an action at the current version, or the error if the store failed.
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

    pub async fn principal(&self, login: &str) -> Principal {
        Principal {
            user: self.store.user(login).await.expect("user").expect("exists"),
        }
    }

    pub fn at(&self, when: &str) {
        *self.clock.0.lock().expect("clock") = ts(when);
    }

    pub async fn file(&self, who: &str, payload: Value, when: &str) -> String {
        self.at(when);
        let p = self.principal(who).await;
        let (detail, _) = self
            .service
            .file(&p, "suggestion", &payload, None, None)
            .await
            .expect("file");
        detail.record.id
    }

    /// A suggestion filed 2024-06-20 by `liu`, registered, and assigned on 2024-07-01 09:00 to
    /// `jtj` (due 2024-10-08: National Day rolls it; reminders 09-23, 10-05, from 10-09).
    pub async fn assigned_suggestion(&self, title: &str) -> String {
        let id = self
            .file(
                "liu",
                serde_json::json!({"title": title, "body": "……"}),
                "2024-06-20T10:00:00",
            )
            .await;
        self.act(
            &id,
            "register",
            "xu",
            serde_json::json!({}),
            "2024-06-25T09:00:00",
        )
        .await;
        self.act(
            &id,
            "assign",
            "xu",
            serde_json::json!({"lead_department": "jtj"}),
            "2024-07-01T09:00:00",
        )
        .await;
        id
    }

    pub async fn act(&self, id: &str, action: &str, who: &str, payload: Value, when: &str) {
        self.at(when);
        let p = self.principal(who).await;
        let version = self
            .store
            .case(id)
            .await
            .expect("read")
            .expect("case")
            .case
            .version;
        self.service
            .act(&p, id, action, &payload, version, None)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    }
}

/// A channel that records what it sends; it can be told to fail its first `fail_first` sends,
/// or all of them.
pub struct Recording {
    pub name: &'static str,
    pub fail_first: AtomicU32,
    pub always_fail: bool,
    pub sent: Mutex<Vec<(Delivery, Option<String>)>>,
    pub calls: AtomicU32,
}

impl Recording {
    pub fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            fail_first: AtomicU32::new(0),
            always_fail: false,
            sent: Mutex::new(Vec::new()),
            calls: AtomicU32::new(0),
        })
    }

    pub fn sent(&self) -> Vec<(Delivery, Option<String>)> {
        self.sent.lock().expect("lock").clone()
    }
}

impl Channel for Recording {
    fn name(&self) -> &'static str {
        self.name
    }

    fn send<'a>(&'a self, d: &'a Delivery, secret: Option<&'a str>, _now: i64) -> SendFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.always_fail {
                return Err("receiver down".into());
            }
            if self.fail_first.load(Ordering::SeqCst) > 0 {
                self.fail_first.fetch_sub(1, Ordering::SeqCst);
                return Err("HTTP 503".into());
            }
            self.sent
                .lock()
                .expect("lock")
                .push((d.clone(), secret.map(str::to_string)));
            Ok(())
        })
    }
}
