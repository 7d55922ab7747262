//! The security findings of the outside probe, checked from outside as the probe checked them:
//! `duban serve` over HTTP and the command line, nothing internal. Parallel guesses at the lock
//! (SQLite, and PostgreSQL behind two processes), where sign-in may send a browser, sessions
//! after a password change, text that does not decode, short personal data, the headers of
//! every answer, oversized headers, and the modes of the files that hold the data.

use std::process::Stdio;

use duban_testkit::PgDatabase;

use crate::common::{Reply, Serve, TempDir, duban_command, duban_env_with_input, http, http_as};

const PASSWORD: &str = "Duban@2024x";

/// A directory with a station, a department, staff `xu` and deputy `liu` (both with
/// `PASSWORD`), and a token each; `env` applies to every command (a PostgreSQL URL).
struct Office {
    dir: TempDir,
    env: Vec<(String, String)>,
}

impl Office {
    fn new(name: &str, env: &[(&str, &str)]) -> Office {
        let o = Office {
            dir: TempDir::new(&format!("security-{name}")),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        o.ok(&[
            "org",
            "add",
            "st1",
            "--kind",
            "station",
            "--name",
            "城关镇联络站",
        ]);
        o.ok(&[
            "org",
            "add",
            "st2",
            "--kind",
            "station",
            "--name",
            "新安镇代表之家",
        ]);
        o.ok(&[
            "org",
            "add",
            "jtj",
            "--kind",
            "department",
            "--name",
            "县交通运输局",
        ]);
        for args in [
            vec!["user", "add", "xu", "--role", "staff", "--password-stdin"],
            vec![
                "user",
                "add",
                "liu",
                "--role",
                "deputy",
                "--org",
                "st1",
                "--password-stdin",
            ],
        ] {
            let out = o.with_input(&args, &format!("{PASSWORD}\n"));
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        o
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = duban_command(self.dir.path(), args, &self.env())
            .output()
            .expect("run duban");
        assert!(
            out.status.success(),
            "duban {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn with_input(&self, args: &[&str], input: &str) -> std::process::Output {
        duban_env_with_input(self.dir.path(), args, &self.env(), input)
    }

    fn serve(&self, extra: &[&str]) -> Serve {
        Serve::start(self.dir.path(), extra, &self.env(), Stdio::null())
    }

    /// The audit records whose line contains every one of `words`.
    fn audited(&self, words: &[&str]) -> usize {
        self.ok(&["audit", "tail", "--limit", "1000"])
            .lines()
            .filter(|l| words.iter().all(|w| l.contains(w)))
            .count()
    }
}

/// A form body: each value percent-encoded.
fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Posts the sign-in form, with the double-submit CSRF cookie it needs.
fn sign_in(addr: &str, login: &str, password: &str, next: &str) -> Reply {
    let body = form(&[("login", login), ("password", password), ("_csrf", "t0k3n")]);
    let body = format!("{body}&next={next}");
    http(
        addr,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", "duban_login_csrf=t0k3n"),
        ],
        Some(&body),
    )
    .expect("answer")
}

/// The session cookie a successful sign-in set.
fn session_of(r: &Reply) -> String {
    assert_eq!(r.status, 303, "signed in: {}", r.body);
    r.headers["set-cookie"]
        .lines()
        .find_map(|c| c.strip_prefix("duban_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string()
}

fn page(addr: &str, path: &str, session: &str) -> Reply {
    let cookie = format!("duban_session={session}");
    http(addr, "GET", path, &[("Cookie", &cookie)], None).expect("answer")
}

/// 16 wrong passwords at once at `login`, shared out over `addrs`: what each was answered.
fn sixteen_at_once(addrs: &[String], login: &str) -> Vec<u16> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let (addr, login, barrier) = (
                addrs[i % addrs.len()].clone(),
                login.to_string(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                sign_in(&addr, &login, &format!("Wrong-guess-{i}"), "/").status
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

/// At most five of 16 parallel guesses are checked, at a known login and an unknown one alike;
/// then even the right password is refused.
fn the_lock_holds_against_parallel_guesses(o: &Office, addrs: &[String]) {
    for login in ["xu", "nobody-here"] {
        let mut answers = sixteen_at_once(addrs, login);
        answers.sort();
        assert_eq!(
            answers,
            [vec![401; 5], vec![429; 11]].concat(),
            "{login}: five wrong passwords checked, eleven refused as locked"
        );
        assert_eq!(
            o.audited(&["login_failed", "refused", login]),
            5,
            "{login}: exactly five passwords were checked"
        );
    }
    let right = sign_in(&addrs[0], "xu", PASSWORD, "/");
    assert_eq!(
        right.status, 429,
        "locked: even the right password is refused"
    );
    // The unknown login reads as the known one: locked, with the same words.
    let unknown = sign_in(&addrs[0], "nobody-here", PASSWORD, "/");
    assert_eq!(unknown.status, 429);
    let strip = |r: &Reply, login: &str| r.body.replace(login, "LOGIN");
    let (a, b) = (strip(&right, "xu"), strip(&unknown, "nobody-here"));
    let locked_line = |s: &str| {
        s.lines()
            .find(|l| l.contains("锁定"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(!locked_line(&a).is_empty(), "{a}");
    assert_eq!(locked_line(&a), locked_line(&b));
}

#[test]
fn parallel_guesses_never_pass_the_lock_on_sqlite() {
    let o = Office::new("lock-sqlite", &[]);
    let serve = o.serve(&[]);
    the_lock_holds_against_parallel_guesses(&o, std::slice::from_ref(&serve.addr));
}

#[test]
fn parallel_guesses_never_pass_the_lock_across_two_postgresql_processes() {
    let Some(db) = PgDatabase::create_blocking() else {
        return;
    };
    let o = Office::new("lock-postgres", &[("DATABASE_URL", db.url())]);
    let (one, two) = (o.serve(&["--no-scheduler"]), o.serve(&["--no-scheduler"]));
    the_lock_holds_against_parallel_guesses(&o, &[one.addr.clone(), two.addr.clone()]);
}

#[test]
fn sign_in_sends_browsers_only_to_paths_of_this_site() {
    let o = Office::new("next", &[]);
    let serve = o.serve(&[]);
    for next in [
        "/%09/evil.example/",
        "/%0d%0a/evil.example",
        "%0d%0aSet-Cookie:%20x=1",
        "/%0b/evil.example",
        "/%00",
        "//evil.example/",
        "/%5cevil.example",
        "https://evil.example/",
        "/%252F/evil.example",
    ] {
        let shown = http(
            &serve.addr,
            "GET",
            &format!("/login?next={next}"),
            &[],
            None,
        )
        .expect("answer");
        assert_eq!(shown.status, 200, "{next}: never a 500");
        assert!(
            !shown.body.contains("evil.example"),
            "{next}: {}",
            shown.body
        );
        let r = sign_in(&serve.addr, "xu", PASSWORD, next);
        assert_eq!(r.status, 303, "{next}: {}", r.body);
        assert_eq!(r.headers["location"], "/", "{next}");
    }
    let r = sign_in(&serve.addr, "xu", PASSWORD, "/cases%3Fkind%3Dpetition");
    assert_eq!(r.headers["location"], "/cases?kind=petition");
}

#[test]
fn a_password_change_ends_every_other_session() {
    let o = Office::new("sessions", &[]);
    let serve = o.serve(&[]);
    let live = |s: &str| page(&serve.addr, "/cases", s).status == 200;
    let (a, b) = (
        session_of(&sign_in(&serve.addr, "xu", PASSWORD, "/")),
        session_of(&sign_in(&serve.addr, "xu", PASSWORD, "/")),
    );
    assert!(live(&a) && live(&b));
    // Reset from the command line: every session ends at once.
    let out = o.with_input(&["user", "passwd", "xu"], "Second@2024x\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!live(&a) && !live(&b), "sessions end with the old password");
    // Changed by the user: the session it was changed in goes on, the others end.
    let a = session_of(&sign_in(&serve.addr, "xu", "Second@2024x", "/"));
    let b = session_of(&sign_in(&serve.addr, "xu", "Second@2024x", "/"));
    let csrf = {
        let p = page(&serve.addr, "/password", &a);
        let at = p.body.find("name=\"_csrf\" value=\"").expect("csrf") + 20;
        p.body[at..].split('"').next().expect("token").to_string()
    };
    let cookie = format!("duban_session={a}");
    let changed = http(
        &serve.addr,
        "POST",
        "/password",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &cookie),
        ],
        Some(&form(&[
            ("_csrf", &csrf),
            ("current", "Second@2024x"),
            ("new", "Third@2024xyz"),
            ("confirm", "Third@2024xyz"),
        ])),
    )
    .expect("answer");
    assert!(changed.status < 400, "{}: {}", changed.status, changed.body);
    assert!(live(&a), "the session that changed it goes on");
    assert!(!live(&b), "every other session ends");
    // On demand.
    assert_eq!(
        o.ok(&["user", "sessions", "end", "xu"]),
        "ended 1 session(s) of `xu`"
    );
    assert!(!live(&a));
    assert_eq!(o.audited(&["sessions_ended", "xu"]), 1);
}

#[test]
fn a_form_that_is_not_utf8_is_refused_and_nothing_is_filed() {
    let o = Office::new("utf8", &[]);
    let token = o.ok(&["token", "create", "liu"]);
    let serve = o.serve(&[]);
    let s = session_of(&sign_in(&serve.addr, "liu", PASSWORD, "/"));
    let new = page(&serve.addr, "/cases/new?kind=suggestion", &s);
    let at = new.body.find("name=\"_csrf\" value=\"").expect("csrf") + 20;
    let csrf = new.body[at..].split('"').next().expect("token").to_string();
    let cookie = format!("duban_session={s}");
    // GBK bytes for 路灯, and an overlong sequence: neither is UTF-8.
    for (key, title) in [("k1", "%C2%B7%B5%C6"), ("k2", "%C0%80")] {
        let body = format!("_csrf={csrf}&_kind=suggestion&_key={key}&title={title}&body=ok");
        let r = http(
            &serve.addr,
            "POST",
            "/cases/new",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", &cookie),
            ],
            Some(&body),
        )
        .expect("answer");
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("字段「标题」"), "{}", r.body);
    }
    let listed = http_as(&serve.addr, &token, "GET", "/api/v1/cases", &[], None).expect("list");
    assert!(
        listed.body.contains("\"items\":[]"),
        "nothing was filed: {}",
        listed.body
    );
}

#[test]
fn short_personal_data_is_masked_everywhere_it_is_kept() {
    let o = Office::new("short", &[]);
    let liu = o.ok(&["token", "create", "liu"]);
    let xu = o.ok(&["token", "create", "xu"]);
    let serve = o.serve(&[]);
    let body = serde_json::json!({"kind": "petition", "payload": {
        "title": "路灯不亮", "body": "村口路灯坏了", "station": "st1",
        "constituent": {"name": "张", "address": "龙门镇7号"},
    }});
    let filed = http_as(
        &serve.addr,
        &liu,
        "POST",
        "/api/v1/cases",
        &[],
        Some(&body.to_string()),
    )
    .expect("file");
    assert_eq!(filed.status, 201, "{}", filed.body);
    let filed: serde_json::Value = serde_json::from_str(&filed.body).expect("json");
    let id = filed["id"].as_str().expect("id").to_string();
    // The year it was filed in, as the export is asked for it (the filing instant is +08:00
    // or UTC; either way its year is the first four characters but at the turn of a year).
    let year = filed["filed_at"].as_str().expect("filed_at")[..4].to_string();
    for who in [&liu, &xu] {
        for path in [
            format!("/api/v1/cases/{id}"),
            format!("/api/v1/cases/{id}/events"),
        ] {
            let r = http_as(&serve.addr, who, "GET", &path, &[], None).expect("show");
            assert!(
                !r.body.contains("龙门镇7号") && !r.body.contains("\"张\""),
                "{path}: {}",
                r.body
            );
            assert!(
                r.body.contains("龙****") && r.body.contains("\"*\""),
                "{}",
                r.body
            );
        }
    }
    drop(serve);
    o.ok(&["export", "--kind", "petition", "--year", &year, "out.csv"]);
    let csv = std::fs::read_to_string(o.dir.path().join("out.csv")).expect("export");
    assert!(
        !csv.contains("龙门镇7号") && csv.contains("龙****"),
        "{csv}"
    );
    // Nor in the database's files.
    for file in ["duban.db", "duban.db-wal"] {
        if let Ok(bytes) = std::fs::read(o.dir.path().join(file)) {
            let needle = "龙门镇7号".as_bytes();
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{file}");
        }
    }
}

#[test]
fn every_answer_says_how_it_may_be_shown_and_kept() {
    let o = Office::new("headers", &[]);
    let token = o.ok(&["token", "create", "xu"]);
    let serve = o.serve(&[]);
    let login = http(&serve.addr, "GET", "/login", &[], None).expect("login page");
    let api = http_as(&serve.addr, &token, "GET", "/api/v1/workflows", &[], None).expect("api");
    let missing = http(&serve.addr, "GET", "/api/v1/cases", &[], None).expect("401");
    let metrics = http(&serve.addr, "GET", "/metrics", &[], None).expect("metrics");
    assert_eq!(metrics.status, 200);
    for r in [&login, &api, &missing, &metrics] {
        assert_eq!(
            r.headers["content-security-policy"],
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        );
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["referrer-policy"], "same-origin");
        assert_eq!(r.headers["cache-control"], "no-store");
        assert!(!r.headers.contains_key("strict-transport-security"));
    }
    let https = o.serve(&["--base-url", "https://duban.example.gov.cn"]);
    let r = http(&https.addr, "GET", "/login", &[], None).expect("login page");
    assert!(r.headers["strict-transport-security"].starts_with("max-age="));

    // Oversized headers: 431, whether one is 20 KB or 200 KB.
    for size in [20_000, 200_000] {
        let big = "x".repeat(size);
        let r = http(&serve.addr, "GET", "/login", &[("X-Padding", &big)], None).expect("answer");
        assert_eq!(r.status, 431, "{size}");
    }
    let r = http(
        &serve.addr,
        "GET",
        "/login",
        &[("X-Padding", &"x".repeat(4_000))],
        None,
    )
    .expect("answer");
    assert_eq!(r.status, 200, "a few KiB of headers is fine");
}

#[cfg(unix)]
#[test]
fn the_database_its_log_and_backups_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let o = Office::new("modes", &[]);
    let mode = |f: &str| {
        std::fs::metadata(o.dir.path().join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    let serve = o.serve(&[]);
    for f in ["duban.db", "duban.db-wal", "duban.db-shm", "duban.keys"] {
        assert_eq!(mode(f), 0o600, "{f}");
    }
    drop(serve);
    o.ok(&["backup", "b.duban"]);
    assert_eq!(mode("b.duban"), 0o600, "backup");
    // A database an older version left readable by all is made private when next opened.
    for f in ["duban.db", "duban.db-wal", "duban.db-shm"] {
        let _ =
            std::fs::set_permissions(o.dir.path().join(f), std::fs::Permissions::from_mode(0o644));
    }
    o.ok(&["migrate"]);
    assert_eq!(mode("duban.db"), 0o600);
}

/// Disables `liu` (from the command line, or by an administrator over the API) while a
/// `duban serve` holds his session and his token live: the very next request with either is
/// 401, and his password opens no new session. Enabling him again brings no old token back.
fn disabling_a_person_ends_their_session_and_token_at_once(o: &Office, over_api: bool) {
    let serve = o.serve(&["--no-scheduler"]);
    let token = o.ok(&["token", "create", "liu"]);
    let session = session_of(&sign_in(&serve.addr, "liu", PASSWORD, "/"));
    let api = |t: &str| {
        http_as(&serve.addr, t, "GET", "/api/v1/cases", &[], None)
            .expect("answer")
            .status
    };
    assert_eq!(api(&token), 200);
    assert_eq!(page(&serve.addr, "/cases", &session).status, 200);
    if over_api {
        o.ok(&["user", "add", "root", "--role", "admin"]);
        let admin = o.ok(&["token", "create", "root"]);
        let r = http_as(
            &serve.addr,
            &admin,
            "PATCH",
            "/api/v1/admin/users/liu",
            &[],
            Some(r#"{"disabled": true}"#),
        )
        .expect("answer");
        assert_eq!(r.status, 200, "{}", r.body);
    } else {
        o.ok(&["user", "disable", "liu"]);
    }
    assert_eq!(api(&token), 401);
    let gone = page(&serve.addr, "/cases", &session);
    assert_eq!(gone.status, 401, "{}", gone.body);
    let again = sign_in(&serve.addr, "liu", PASSWORD, "/");
    assert_eq!(again.status, 403, "{}", again.body);
    assert!(again.body.contains("账户已停用"), "{}", again.body);
    assert_eq!(o.audited(&["user_disabled", "liu"]), 1);

    o.ok(&["user", "enable", "liu"]);
    assert_eq!(api(&token), 401, "revoked for good");
    let back = session_of(&sign_in(&serve.addr, "liu", PASSWORD, "/"));
    assert_eq!(page(&serve.addr, "/cases", &back).status, 200);

    // Disabling his station stops him too, and enabling it lets him back.
    o.ok(&["org", "disable", "st1"]);
    assert_eq!(page(&serve.addr, "/cases", &back).status, 401);
    assert_eq!(sign_in(&serve.addr, "liu", PASSWORD, "/").status, 403);
    o.ok(&["org", "enable", "st1"]);
    session_of(&sign_in(&serve.addr, "liu", PASSWORD, "/"));
}

#[test]
fn a_disabled_person_is_out_on_the_next_request_on_sqlite() {
    let o = Office::new("disable-sqlite", &[]);
    disabling_a_person_ends_their_session_and_token_at_once(&o, false);
}

#[test]
fn a_disabled_person_is_out_on_the_next_request_on_postgresql() {
    let Some(db) = PgDatabase::create_blocking() else {
        return;
    };
    let o = Office::new("disable-postgres", &[("DATABASE_URL", db.url())]);
    disabling_a_person_ends_their_session_and_token_at_once(&o, true);
}
