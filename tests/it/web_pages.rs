//! Every page, for every demo role, over the demo year: each signs in, opens its start page,
//! its lists, the forms it may file, and every case on its first page of cases. Each answers
//! 200 (or the redirect or refusal its role should get), in Chinese, with nothing half-rendered.

use std::process::Stdio;

use crate::common::{Reply, Serve, TempDir, http};

const PASSWORD: &str = "Duban@2024";

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).expect("hidden field") + marker.len();
    body[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn set_cookie(r: &Reply, name: &str) -> String {
    r.headers
        .get("set-cookie")
        .and_then(|all| {
            all.lines()
                .filter_map(|c| c.split(';').next())
                .find(|kv| kv.starts_with(&format!("{name}=")))
        })
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", r.headers))
        .to_string()
}

fn sign_in(addr: &str, login: &str) -> String {
    let form = http(addr, "GET", "/login", &[], None).expect("login page");
    let csrf_cookie = set_cookie(&form, "duban_login_csrf");
    let token = hidden(&form.body, "_csrf");
    let body = format!("_csrf={token}&login={login}&password=Duban%402024&next=%2F");
    let r = http(
        addr,
        "POST",
        "/login",
        &[
            ("Cookie", &csrf_cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(&body),
    )
    .expect("sign in");
    assert_eq!(r.status, 303, "{login}: {}", r.body);
    let _ = PASSWORD;
    set_cookie(&r, "duban_session")
}

fn page(addr: &str, cookie: &str, path: &str) -> Reply {
    let r = http(addr, "GET", path, &[("Cookie", cookie)], None).expect("answer");
    assert!(!r.body.contains("系统错误"), "{path} failed: {}", r.body);
    r
}

fn case_links(body: &str) -> Vec<String> {
    body.split("href=\"/cases/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|id| !id.starts_with("new") && !id.contains('?') && !id.contains('/'))
        .map(|id| format!("/cases/{id}"))
        .collect()
}

#[test]
fn every_page_renders_for_every_role_over_the_demo_year() {
    let dir = TempDir::new("web-pages");
    let serve = Serve::start(
        dir.path(),
        &[
            "--demo",
            "--scale",
            "0.3",
            "--no-scheduler",
            "--rate-limit",
            "10000",
            "--rate-burst",
            "10000",
        ],
        &[],
        Stdio::null(),
    );
    let addr = serve.addr.clone();
    let mut cases_seen = 0;
    for (login, start, may_file) in [
        ("zhuren", "/dashboard", &[][..]),
        (
            "staff1",
            "/dashboard",
            &["suggestion", "petition", "mediation"][..],
        ),
        ("deputy01", "/cases", &["suggestion", "petition"][..]),
        ("jtj-clerk", "/inbox", &[][..]),
        ("mediator1", "/cases", &[][..]),
        ("court-clerk", "/cases", &["mediation"][..]),
        ("auditor", "/dashboard", &[][..]),
        ("admin", "/admin/users", &[][..]),
    ] {
        let cookie = sign_in(&addr, login);
        let home = page(&addr, &cookie, "/");
        assert_eq!(home.status, 303);
        assert_eq!(
            home.headers.get("location").map(String::as_str),
            Some(start)
        );
        let start_page = page(&addr, &cookie, start);
        assert_eq!(start_page.status, 200, "{login} {start}");
        assert!(start_page.body.contains("退出"), "signed in: {login}");
        assert_eq!(page(&addr, &cookie, "/notifications").status, 200);
        for kind in ["suggestion", "petition", "mediation"] {
            let form = page(&addr, &cookie, &format!("/cases/new?kind={kind}"));
            let expected = if may_file.contains(&kind) { 200 } else { 403 };
            assert_eq!(form.status, expected, "{login} filing a {kind}");
        }
        let list = page(&addr, &cookie, "/cases");
        if login == "admin" {
            assert_eq!(
                list.status, 403,
                "administrators manage accounts, not cases"
            );
            continue;
        }
        assert_eq!(list.status, 200, "{login} /cases");
        let mut links = case_links(&list.body);
        links.extend(case_links(&start_page.body));
        links.sort();
        links.dedup();
        assert!(!links.is_empty(), "{login} sees cases in the demo year");
        for link in links.iter().take(40) {
            let r = page(&addr, &cookie, link);
            assert_eq!(r.status, 200, "{login} {link}");
            assert!(r.body.contains("办理经过"), "{login} {link}: the timeline");
            cases_seen += 1;
        }
        for filter in ["/cases?overdue=1", "/cases?key=1", "/cases?kind=petition"] {
            assert_eq!(page(&addr, &cookie, filter).status, 200, "{login} {filter}");
        }
    }
    assert!(cases_seen > 100, "{cases_seen} case pages rendered");
    let leader = sign_in(&addr, "zhuren");
    let book = page(&addr, &leader, "/reports/annual.xlsx?year=2024");
    assert_eq!(book.status, 200);
    assert!(
        book.headers
            .get("content-type")
            .is_some_and(|t| t.contains("spreadsheetml"))
    );
    let clerk = sign_in(&addr, "jtj-clerk");
    assert_eq!(
        page(&addr, &clerk, "/dashboard").status,
        303,
        "not a department's page"
    );
    assert_eq!(
        page(&addr, &clerk, "/reports/annual.xlsx?year=2024").status,
        403
    );
}
