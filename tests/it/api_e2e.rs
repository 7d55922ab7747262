//! End-to-end: the real `duban serve` on port 0 with a fresh database, driven over HTTP the way
//! the committee's clients drive it: a suggestion through two rounds of replies, a petition
//! taken on at a station and transferred, a mediation closed by agreement.

use std::collections::HashMap;
use std::process::Stdio;

use crate::common::{Serve, TempDir, duban_env_ok, http};
use duban_core::{Calendar, Period, Unit, deadline};
use serde_json::{Value, json};

/// A running `duban serve` in its own directory, with its people and their tokens.
pub(crate) struct Server {
    pub(crate) serve: Serve,
    /// Where it runs: a second `serve` of the same office starts here.
    pub(crate) dir: std::path::PathBuf,
    /// Removed after the server (fields drop in order).
    _tmp: TempDir,
    pub(crate) tokens: HashMap<String, String>,
}

impl Server {
    pub(crate) fn start(name: &str) -> Server {
        Self::start_with(name, &[])
    }

    /// As [`Server::start`], with `env` for every command (a PostgreSQL `DATABASE_URL`).
    pub(crate) fn start_with(name: &str, env: &[(&str, &str)]) -> Server {
        let tmp = TempDir::new(&format!("e2e-{name}"));
        let dir = tmp.path().to_path_buf();
        let duban = |dir: &std::path::Path, args: &[&str]| duban_env_ok(dir, args, env);
        // People and organisations, exactly as an administrator would set them up.
        for (code, kind, title) in [
            ("jtj", "department", "县交通运输局"),
            ("czj", "department", "县财政局"),
            ("wsj", "department", "县卫生健康局"),
            ("rsj", "department", "县人力资源和社会保障局"),
            ("st-chengguan", "station", "城关镇人大代表联络站"),
            ("st-xinan", "station", "新安镇代表之家"),
            ("court-1", "court", "县人民法院"),
        ] {
            duban(&dir, &["org", "add", code, "--kind", kind, "--name", title]);
        }
        let people = [
            ("liu", "deputy", Some("st-chengguan")),
            ("wang", "deputy", Some("st-xinan")),
            ("xu", "staff", None),
            ("chen", "leader", None),
            ("zhang", "department", Some("jtj")),
            ("qian", "department", Some("czj")),
            ("sun", "department", Some("wsj")),
            ("zhou", "department", Some("rsj")),
            ("clerk", "court", Some("court-1")),
            ("mediator-li", "mediator", None),
            ("shen", "auditor", None),
        ];
        let mut tokens = HashMap::new();
        for (login, role, org) in people {
            let mut args = vec!["user", "add", login, "--role", role];
            if let Some(o) = org {
                args.extend(["--org", o]);
            }
            duban(&dir, &args);
            let token = duban(&dir, &["token", "create", login]);
            assert!(
                token.starts_with("dbn_") && !token.contains('\n'),
                "{token}"
            );
            tokens.insert(login.to_string(), token);
        }
        let serve = Serve::start(&dir, &[], env, Stdio::null());
        Server {
            serve,
            dir,
            _tmp: tmp,
            tokens,
        }
    }

    /// One HTTP/1.1 request; `who` picks the bearer token.
    fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let auth = who.map(|w| format!("Bearer {}", self.tokens[w]));
        let mut all: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("Authorization", a)])
            .unwrap_or_default();
        all.extend_from_slice(headers);
        let body = body.map(|b| b.to_string());
        let r = http(&self.serve.addr, method, path, &all, body.as_deref()).expect("an answer");
        Reply {
            status: r.status,
            json: serde_json::from_str(&r.body).unwrap_or(Value::Null),
            headers: r.headers,
        }
    }

    pub(crate) fn get(&self, path: &str, who: &str) -> Reply {
        self.call("GET", path, Some(who), &[], None)
    }

    pub(crate) fn post(&self, path: &str, who: &str, if_match: Option<u64>, body: Value) -> Reply {
        let tag = if_match.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = tag
            .as_deref()
            .map(|t| vec![("If-Match", t)])
            .unwrap_or_default();
        self.call("POST", path, Some(who), &headers, Some(&body))
    }

    /// Takes an action at the case's current version; panics unless it succeeds.
    pub(crate) fn act(&self, id: &str, action: &str, who: &str, body: Value) -> Value {
        let current = self.get(&format!("/api/v1/cases/{id}"), who);
        assert_eq!(
            current.status, 200,
            "{who} cannot see {id}: {}",
            current.json
        );
        let version = current.json["version"].as_u64().expect("version");
        assert_eq!(current.headers.get("etag"), Some(&format!("\"{version}\"")));
        let r = self.post(
            &format!("/api/v1/cases/{id}/actions/{action}"),
            who,
            Some(version),
            body,
        );
        assert_eq!(r.status, 200, "{who} {action}: {}", r.json);
        r.json
    }
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) json: Value,
}

pub(crate) fn file(s: &Server, who: &str, kind: &str, payload: Value) -> String {
    let r = s.post(
        "/api/v1/cases",
        who,
        None,
        json!({"kind": kind, "payload": payload}),
    );
    assert_eq!(r.status, 201, "{who} files {kind}: {}", r.json);
    r.json["id"].as_str().expect("id").to_string()
}

/// What the deadline of a state entered at `entered_at` must be, by the same calendar.
fn expected_due(entered_at: &str, period: Period) -> String {
    let at: jiff::Timestamp = entered_at.parse().expect("instant");
    deadline::due(&Calendar::builtin(), at, period)
        .due_date
        .to_string()
}

#[test]
fn a_suggestion_goes_round_twice_and_only_its_departments_see_it() {
    let s = Server::start("suggestion");
    let id = file(
        &s,
        "liu",
        "suggestion",
        json!({"title": "关于加快农村公路提档升级的建议", "body": "建议县交通局……"}),
    );
    s.act(&id, "register", "xu", json!({}));
    let assigned = s.act(
        &id,
        "assign",
        "xu",
        json!({"lead_department": "jtj", "co_departments": ["czj"]}),
    );
    assert_eq!(assigned["state"], "assigned");
    assert_eq!(
        assigned["deadline"]["due_date"],
        expected_due(
            assigned["entered_at"].as_str().expect("at"),
            Period::new(3, Unit::Months)
        )
    );
    assert!(
        assigned["deadline"]["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("起算3个月"))
    );

    // The lead and the co-handler see it; a third department does not even learn it exists.
    assert_eq!(s.get(&format!("/api/v1/cases/{id}"), "zhang").status, 200);
    assert_eq!(s.get(&format!("/api/v1/cases/{id}"), "qian").status, 200);
    let other = s.get(&format!("/api/v1/cases/{id}"), "sun");
    assert_eq!(other.status, 404);
    assert_eq!(
        other.headers.get("content-type").map(String::as_str),
        Some("application/problem+json")
    );
    let sun_list = s.get("/api/v1/cases", "sun");
    assert_eq!(sun_list.json["items"], json!([]));
    let zhang_list = s.get("/api/v1/cases", "zhang");
    assert_eq!(zhang_list.json["items"][0]["id"], id.as_str());

    let shown = s.get(&format!("/api/v1/cases/{id}"), "zhang");
    assert_eq!(
        shown.json["allowed_actions"],
        json!(["request_reassignment", "request_extension", "reply"])
    );
    s.act(
        &id,
        "send_co_opinion",
        "qian",
        json!({"opinion": "资金可统筹安排"}),
    );
    s.act(
        &id,
        "reply",
        "zhang",
        json!({"classification": "B", "answer": "已列入明年计划", "promised_by": "2025-06-30"}),
    );

    // 不满意: back for re-handling with one month.
    let back = s.act(
        &id,
        "evaluate",
        "liu",
        json!({"rating": "dissatisfied", "comment": "进度太慢"}),
    );
    assert_eq!(back["state"], "rehandling");
    assert_eq!(
        back["deadline"]["due_date"],
        expected_due(
            back["entered_at"].as_str().expect("at"),
            Period::new(1, Unit::Months)
        )
    );
    s.act(
        &id,
        "reply",
        "zhang",
        json!({"classification": "A", "answer": "已开工建设"}),
    );
    let done = s.act(&id, "evaluate", "liu", json!({"rating": "satisfied"}));
    assert_eq!(done["state"], "evaluated");
    assert!(done["terminal"].as_bool().unwrap_or(false));

    // The whole history, in order, with who did what.
    let history = s.get(&format!("/api/v1/cases/{id}/events"), "liu");
    let actions: Vec<&str> = history.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "file",
            "register",
            "assign",
            "send_co_opinion",
            "reply",
            "evaluate",
            "reply",
            "evaluate"
        ]
    );
    assert!(
        history.json["events"][1]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );

    // A stale version is refused and changes nothing.
    let stale = s.post(
        &format!("/api/v1/cases/{id}/actions/evaluate"),
        "liu",
        Some(3),
        json!({"rating": "satisfied"}),
    );
    assert_eq!(stale.status, 412);
    assert_eq!(stale.json["current_version"], 8);
}

#[test]
fn filing_twice_with_one_idempotency_key_files_once() {
    let s = Server::start("idempotency");
    let body = json!({"kind": "suggestion", "payload": {"title": "t", "body": "b"}});
    let first = s.call(
        "POST",
        "/api/v1/cases",
        Some("liu"),
        &[("Idempotency-Key", "k-1")],
        Some(&body),
    );
    assert_eq!(first.status, 201);
    let again = s.call(
        "POST",
        "/api/v1/cases",
        Some("liu"),
        &[("Idempotency-Key", "k-1")],
        Some(&body),
    );
    assert_eq!(again.status, 200);
    assert_eq!(again.json["id"], first.json["id"]);
    let other = json!({"kind": "suggestion", "payload": {"title": "t2", "body": "b"}});
    let conflict = s.call(
        "POST",
        "/api/v1/cases",
        Some("liu"),
        &[("Idempotency-Key", "k-1")],
        Some(&other),
    );
    assert_eq!(conflict.status, 409);
    assert_eq!(
        conflict.json["type"],
        "urn:duban:problem:idempotency-key-reused"
    );
    assert_eq!(
        s.get("/api/v1/cases", "liu").json["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn a_petition_taken_on_at_a_station_is_transferred_and_its_personal_data_stays_masked() {
    let s = Server::start("petition");
    let id = file(
        &s,
        "liu",
        "petition",
        json!({"title": "反映拖欠农民工工资", "body": "……", "station": "st-chengguan",
               "constituent": {"name": "王小明", "id_number": "110101199003074477", "phone": "13812345678"}}),
    );
    let shown = s.get(&format!("/api/v1/cases/{id}"), "liu");
    assert_eq!(shown.json["filing"]["constituent"]["phone"], "138****5678");
    assert_eq!(
        shown.json["filing"]["constituent"]["id_number"],
        "110***********4477"
    );
    // The other station's deputy cannot see it.
    assert_eq!(s.get(&format!("/api/v1/cases/{id}"), "wang").status, 404);
    s.act(&id, "transfer", "liu", json!({"lead_department": "rsj"}));
    // Transferring schedules an "entered" reminder for the department; the scheduler inside
    // `serve` is woken by the action and puts it in the clerk's inbox at once.
    let mut inbox = Value::Null;
    for _ in 0..50 {
        inbox = s.get("/api/v1/notifications", "zhou").json;
        if inbox["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(inbox["items"][0]["case_id"], id.as_str(), "{inbox}");
    assert!(
        inbox["items"][0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("反映拖欠农民工工资"))
    );
    assert_eq!(
        s.get("/api/v1/notifications", "sun").json["items"],
        json!([])
    );
    let accepted = s.act(&id, "accept", "zhou", json!({}));
    assert_eq!(
        accepted["deadline"]["due_date"],
        expected_due(
            accepted["entered_at"].as_str().expect("at"),
            Period::new(60, Unit::Days)
        )
    );
    // The handling department may see the phone in full, with a reason, and it is recorded.
    let no_reason = s.get(&format!("/api/v1/cases/{id}?reveal=phone"), "zhou");
    assert_eq!(no_reason.status, 422);
    let revealed = s.get(
        &format!(
            "/api/v1/cases/{id}?reveal=phone&reason=%E8%81%94%E7%B3%BB%E4%BF%A1%E8%AE%BF%E4%BA%BA"
        ),
        "zhou",
    );
    assert_eq!(revealed.status, 200, "{}", revealed.json);
    assert_eq!(revealed.json["personal_data"][0]["phone"], "13812345678");
    assert_eq!(
        revealed.json["personal_data"][0]["id_number"], "110***********4477",
        "only what was asked for"
    );
    let history = s.get(&format!("/api/v1/cases/{id}/events"), "xu");
    assert_eq!(history.json["personal_data_access"][0]["actor"], "zhou");
    assert_eq!(
        history.json["personal_data_access"][0]["reason"],
        "联系信访人"
    );
    // An auditor sees the case but may not reveal its personal data.
    assert_eq!(s.get(&format!("/api/v1/cases/{id}"), "shen").status, 200);
    assert_eq!(
        s.get(
            &format!("/api/v1/cases/{id}?reveal=phone&reason=audit"),
            "shen"
        )
        .status,
        403
    );
    s.act(
        &id,
        "reply",
        "zhou",
        json!({"result": "已督促企业支付", "outcome": "supported"}),
    );
    let closed = s.act(
        &id,
        "record_satisfaction",
        "liu",
        json!({"rating": "satisfied"}),
    );
    assert_eq!(closed["state"], "evaluated");
    let station = s.get("/api/v1/cases?station=st-chengguan", "liu");
    assert_eq!(station.json["items"][0]["id"], id.as_str());
    assert_eq!(s.get("/api/v1/cases?station=st-xinan", "liu").status, 403);
}

#[test]
fn a_mediation_referred_by_the_court_is_closed_by_agreement() {
    let s = Server::start("mediation");
    let id = file(
        &s,
        "clerk",
        "mediation",
        json!({"title": "买卖合同纠纷", "summary": "货款争议", "court": "court-1", "dispute_type": "contract",
               "applicant": {"name": "甲公司"}, "respondent": {"name": "乙"}}),
    );
    s.act(
        &id,
        "assign_mediators",
        "clerk",
        json!({"mediators": ["mediator-li"]}),
    );
    let accepted = s.act(&id, "accept", "mediator-li", json!({}));
    assert_eq!(
        accepted["deadline"]["due_date"],
        expected_due(
            accepted["entered_at"].as_str().expect("at"),
            Period::new(30, Unit::Days)
        )
    );
    s.act(
        &id,
        "record_session",
        "mediator-li",
        json!({"held_on": "2024-05-10", "notes": "双方同意分期付款"}),
    );
    let concluded = s.act(
        &id,
        "conclude",
        "mediator-li",
        json!({"outcome": "agreement", "judicial_confirmation": true}),
    );
    assert_eq!(concluded["state"], "handled");
    let done = s.act(&id, "evaluate", "clerk", json!({"rating": "satisfied"}));
    assert_eq!(done["state"], "evaluated");
    assert_eq!(s.get(&format!("/api/v1/cases/{id}"), "zhang").status, 404);
    let mine = s.get("/api/v1/cases", "mediator-li");
    assert_eq!(mine.json["items"][0]["id"], id.as_str());
}

/// `s` percent-encoded for a query string: Chinese words and the brackets of a number.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ids and numbers a list answers with.
fn found(s: &Server, who: &str, query: &str) -> Vec<(String, String)> {
    let r = s.get(&format!("/api/v1/cases?{query}"), who);
    assert_eq!(r.status, 200, "{who} {query}: {}", r.json);
    let items = r.json["items"].as_array().expect("items");
    assert_eq!(
        r.json["total"].as_u64(),
        Some(items.len() as u64),
        "{query}"
    );
    items
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_string(),
                c["number"].as_str().expect("number").to_string(),
            )
        })
        .collect()
}

/// The titles of `who`'s notices, newest first, and how many are unread.
fn inbox(s: &Server, who: &str, unread_only: bool) -> (Vec<Value>, u64) {
    let r = s.get(&format!("/api/v1/notifications?unread={unread_only}"), who);
    assert_eq!(r.status, 200, "{}", r.json);
    (
        r.json["items"].as_array().expect("items").clone(),
        r.json["unread"].as_u64().expect("unread"),
    )
}

/// The ids of the cases waiting on `who`.
fn queue(s: &Server, who: &str) -> Vec<String> {
    let r = s.get("/api/v1/queue", who);
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn a_clerk_is_told_at_once_finds_the_case_by_number_and_words_and_sees_what_waits() {
    let s = Server::start("daily");
    let road = file(
        &s,
        "liu",
        "suggestion",
        json!({"title": "关于城关镇道路改造的建议", "body": "老街路面破损，雨天积水严重。"}),
    );
    let tax = file(
        &s,
        "liu",
        "suggestion",
        json!({"title": "关于减轻小微企业税费的建议", "body": "建议落实减税降费政策。"}),
    );
    // Numbers follow filing order within the kind and the year of filing.
    let case = s.get(&format!("/api/v1/cases/{road}"), "liu").json;
    let year = &case["filed_at"].as_str().expect("filed_at")[..4];
    assert_eq!(case["number"], format!("建议〔{year}〕001号"));
    let tax_number = format!("建议〔{year}〕002号");
    assert_eq!(
        s.get(&format!("/api/v1/cases/{tax}"), "liu").json["number"],
        tax_number
    );

    // Staff's queue holds what is to be registered, first come first; registered and
    // assigned, it moves on.
    assert_eq!(queue(&s, "xu"), [road.clone(), tax.clone()]);
    for (id, dept) in [(&road, "jtj"), (&tax, "czj")] {
        s.act(id, "register", "xu", json!({}));
        let assigned = std::time::Instant::now();
        s.act(id, "assign", "xu", json!({"lead_department": dept}));
        // The department's clerk has the notice within a second of the assignment.
        let clerk = if dept == "jtj" { "zhang" } else { "qian" };
        let notice = loop {
            let (items, _) = inbox(&s, clerk, true);
            if let Some(n) = items.iter().find(|n| n["case_id"] == id.as_str()) {
                break n.clone();
            }
            assert!(
                assigned.elapsed() < std::time::Duration::from_secs(1),
                "no notice for {clerk} within a second"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let title = notice["title"].as_str().expect("title");
        assert!(title.starts_with("【新交办】"), "{title}");
        let number = s.get(&format!("/api/v1/cases/{id}"), "xu").json["number"].clone();
        assert!(title.contains(number.as_str().expect("number")), "{title}");
    }
    assert!(queue(&s, "xu").is_empty());
    assert_eq!(queue(&s, "zhang"), std::slice::from_ref(&road));

    // Search: by any two characters of the title or body, by the number, with the filters.
    let road_number = format!("建议〔{year}〕001号");
    for q in ["道路", "路面破损", "城关镇 积水", &road_number] {
        assert_eq!(
            found(&s, "xu", &format!("q={}", enc(q))),
            [(road.clone(), road_number.clone())],
            "{q}"
        );
    }
    assert_eq!(
        found(&s, "xu", &format!("q={}&kind=petition", enc("道路"))),
        []
    );
    assert_eq!(found(&s, "xu", &format!("q={}", enc("建议"))).len(), 2);
    // Reach: the transport bureau never finds the finance bureau's case, by words or number.
    for q in ["税费", "小微企业", &tax_number] {
        assert_eq!(found(&s, "zhang", &format!("q={}", enc(q))), [], "{q}");
        assert_eq!(found(&s, "qian", &format!("q={}", enc(q))).len(), 1, "{q}");
    }
    // One character says too little to search by, and says so.
    let short = s.get(&format!("/api/v1/cases?q={}", enc("路")), "xu");
    assert_eq!(short.status, 422, "{}", short.json);
    assert_eq!(short.json["field"], "q");

    // The department asks for more time: staff are told, and the request waits in their
    // queue with the date asked for.
    // A month past the deadline, well inside the six months an extension may reach.
    let due: jiff::civil::Date = s.get(&format!("/api/v1/cases/{road}"), "zhang").json["deadline"]
        ["due_date"]
        .as_str()
        .expect("due")
        .parse()
        .expect("date");
    let until = due
        .checked_add(jiff::Span::new().days(30))
        .expect("date")
        .to_string();
    s.act(
        &road,
        "request_extension",
        "zhang",
        json!({"until": until, "reason": "需财政追加预算"}),
    );
    let asked = std::time::Instant::now();
    while !inbox(&s, "xu", true).0.iter().any(|n| {
        n["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("【申请延期】"))
    }) {
        assert!(asked.elapsed() < std::time::Duration::from_secs(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(queue(&s, "xu"), std::slice::from_ref(&road));
    s.act(
        &road,
        "extend",
        "xu",
        json!({"until": until, "reason": "同意"}),
    );
    assert!(queue(&s, "xu").is_empty());
    // The scheduler writes the notice once woken: wait for it, as for the others, so that a
    // busy machine delays the test rather than failing it.
    let extended = std::time::Instant::now();
    while !inbox(&s, "zhang", true).0.iter().any(|n| {
        n["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("【延期已批准】"))
    }) {
        assert!(extended.elapsed() < std::time::Duration::from_secs(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // The reply: the deputy is told, and the rating waits on them.
    s.act(
        &road,
        "reply",
        "zhang",
        json!({"classification": "A", "answer": "已列入年度计划"}),
    );
    assert_eq!(queue(&s, "liu"), std::slice::from_ref(&road));
    assert!(queue(&s, "zhang").is_empty());

    // Marking read: one at a time, then all at once; someone else's notice is not found.
    let (items, unread) = inbox(&s, "zhang", false);
    assert!(unread >= 2, "新交办 and 延期已批准: {items:?}");
    let first = items[0]["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/notifications/{first}/read");
    assert_eq!(s.call("POST", &path, Some("qian"), &[], None).status, 404);
    assert_eq!(s.call("POST", &path, Some("zhang"), &[], None).status, 204);
    assert_eq!(inbox(&s, "zhang", false).1, unread - 1);
    assert!(
        inbox(&s, "zhang", true)
            .0
            .iter()
            .all(|n| n["id"].as_str() != Some(first.as_str()))
    );
    let all = s.call(
        "POST",
        "/api/v1/notifications/read-all",
        Some("zhang"),
        &[],
        None,
    );
    assert_eq!(all.status, 200, "{}", all.json);
    assert_eq!(all.json["marked"].as_u64(), Some(unread - 1));
    assert_eq!(inbox(&s, "zhang", false).1, 0);
    assert!(inbox(&s, "zhang", true).0.is_empty());
    assert!(inbox(&s, "qian", false).1 >= 1, "only zhang's were marked");
}

/// Files `per_thread` suggestions from each of `threads` threads, spread over `servers`; the
/// numbers they got.
fn race_filings(s: &Server, servers: &[String], threads: usize, per_thread: usize) -> Vec<String> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let addr = servers[t % servers.len()].clone();
                let token = s.tokens["liu"].clone();
                scope.spawn(move || {
                    (0..per_thread)
                        .map(|i| {
                            let auth = format!("Bearer {token}");
                            let body = json!({"kind": "suggestion", "payload":
                                {"title": format!("并发提交 {t}-{i}"), "body": "……"}})
                            .to_string();
                            let r = http(
                                &addr,
                                "POST",
                                "/api/v1/cases",
                                &[("Authorization", &auth)],
                                Some(&body),
                            )
                            .expect("answer");
                            assert_eq!(r.status, 201, "{}", r.body);
                            let v: Value = serde_json::from_str(&r.body).expect("json");
                            v["number"].as_str().expect("number").to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    })
}

/// Every number once, and together the sequence 001… with no gap.
fn assert_one_sequence(mut numbers: Vec<String>, count: usize) {
    numbers.sort();
    let year = numbers[0]
        .trim_start_matches("建议〔")
        .split('〕')
        .next()
        .expect("year")
        .to_string();
    let want: Vec<String> = (1..=count)
        .map(|n| format!("建议〔{year}〕{n:03}号"))
        .collect();
    assert_eq!(numbers, want);
}

#[test]
fn racing_filings_each_get_their_own_number_on_sqlite() {
    let s = Server::start("numbers-sqlite");
    let numbers = race_filings(&s, std::slice::from_ref(&s.serve.addr), 8, 5);
    assert_one_sequence(numbers, 40);
}

#[test]
fn racing_filings_each_get_their_own_number_across_two_postgresql_serve_processes() {
    let Some(db) = duban_testkit::PgDatabase::create_blocking() else {
        return;
    };
    let s = Server::start_with("numbers-postgres", &[("DATABASE_URL", db.url())]);
    let second = Serve::start(
        &s.dir,
        &["--no-scheduler"],
        &[("DATABASE_URL", db.url())],
        Stdio::null(),
    );
    let servers = [s.serve.addr.clone(), second.addr.clone()];
    let numbers = race_filings(&s, &servers, 8, 5);
    assert_one_sequence(numbers, 40);
}
