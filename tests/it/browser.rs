//! The web pages in a real browser: headless Chromium through chromedriver against
//! `duban serve --demo` on a free port. The main journey runs with JavaScript switched off, so
//! every form is shown to submit without it: a deputy files a petition for a constituent and
//! sees it listed; a department clerk cannot see it until it is transferred to them, then accepts
//! and replies; the deputy rates the reply 不满意 and sees it reopened with its new deadline; a
//! leader sees it on the dashboard; a clerk cannot open another department's case by URL; an
//! administrator adds a department clerk, who signs in with their own password. A
//! second window, with JavaScript on, checks the main pages at 375 px. Screenshots of each main
//! page are kept under `target/screenshots/`.

use std::path::PathBuf;
use std::process::Stdio;

use crate::common::webdriver::{Browser, Driver, browser};
use crate::common::{Serve, TempDir, http_as};
use serde_json::Value;

const PASSWORD: &str = "Duban@2024";
/// A valid GB 11643 number (check digit X), and a phone, that must never appear in full.
const ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13912345678";

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

fn sign_in(b: &Browser, base: &str, login: &str) {
    b.delete_cookies();
    b.goto(&format!("{base}/login"));
    b.type_into("#login", login);
    b.type_into("#password", PASSWORD);
    b.click_and_wait("form button[type=submit]");
    assert!(
        !b.url().contains("/login"),
        "{login} could not sign in at {}: {}",
        b.url(),
        b.source()
    );
}

/// Opens an action's form on the case page (it sits in a closed `<details>`).
fn open_action(b: &Browser, action: &str) {
    let selector = format!("details:has(form[action$=\"/actions/{action}\"])");
    if b.count(&format!("{selector}[open]")) == 0 {
        b.click(&format!("{selector} > summary"));
    }
}

/// Submits an action's form; it must go through (no form sent back with problems).
fn submit_action(b: &Browser, action: &str) {
    b.click_and_wait(&format!(
        "form[action$=\"/actions/{action}\"] button[type=submit]"
    ));
    let text = b.text();
    assert!(
        !text.contains("请修改标注的内容") && !text.contains("现在不能办理"),
        "{action} was refused: {text}"
    );
}

#[test]
fn the_main_journeys_in_a_real_browser() {
    let Some((chromium, chromedriver)) = browser() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("Chromium and chromedriver are required under CI=true (.ci/run installs them)");
        }
        eprintln!(
            "\n*** browser test SKIPPED: install Debian's chromium and chromium-driver to run it ***\n"
        );
        return;
    };
    let dir = TempDir::new("browser");
    let log = std::fs::File::create(dir.path().join("serve.log")).expect("log");
    let serve = Serve::start(
        dir.path(),
        &["--demo", "--scale", "0.2", "--no-scheduler"],
        &[],
        Stdio::from(log),
    );
    let base = format!("http://{}", serve.addr);
    let serve_log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    let token = |role: &str| {
        serve_log
            .lines()
            .map(str::split_whitespace)
            .find_map(|mut w| (w.next() == Some(role)).then(|| w.nth(1).map(str::to_string)))
            .flatten()
            .unwrap_or_else(|| panic!("no {role} token in {serve_log}"))
    };
    let driver = Driver::start(&chromium, &chromedriver);
    let b = driver.session(false, 1280, 1000);
    let out = shots();

    // The sign-in page.
    b.goto(&format!("{base}/"));
    assert!(b.url().contains("/login?next=/"), "{}", b.url());
    b.screenshot(&out.join("login.png"));

    // A deputy files a petition for a constituent. First without a title: the form comes back
    // with what was typed and the problem beside the field.
    sign_in(&b, &base, "deputy01");
    assert!(b.url().ends_with("/cases"), "{}", b.url());
    b.goto(&format!("{base}/cases/new?kind=petition"));
    b.type_into(
        "#new-body",
        "村东头道路积水严重，群众出行困难，请求修缮排水沟。",
    );
    b.type_into("#new-constituent-name", "王秀英");
    b.type_into("#new-constituent-id_number", ID_NUMBER);
    b.type_into("#new-constituent-phone", PHONE);
    b.type_into("#new-constituent-address", "巨日合镇东村3组");
    b.select("#new-category", "urban_management");
    b.screenshot(&out.join("petition-form.png"));
    b.click_and_wait("form[action=\"/cases/new\"] button[type=submit]");
    let text = b.text();
    assert!(text.contains("请修改标注的内容"), "{text}");
    assert!(
        b.count(".field.invalid #new-title") == 1,
        "the error sits by the title"
    );
    assert!(text.contains("必填"), "{text}");
    assert!(
        b.source().contains("村东头道路积水严重"),
        "what was typed is kept"
    );
    b.screenshot(&out.join("petition-form-error.png"));
    b.type_into("#new-title", "反映东村道路积水问题");
    b.type_into("#new-constituent-id_number", ID_NUMBER);
    b.click_and_wait("form[action=\"/cases/new\"] button[type=submit]");
    let case_url = b.url();
    assert!(case_url.contains("/cases/"), "{case_url}: {}", b.text());
    let case_path = case_url.trim_start_matches(&base).to_string();
    let page = b.source();
    assert!(page.contains("代表已接待登记"), "{}", b.text());
    assert!(
        !page.contains(ID_NUMBER) && !page.contains(PHONE),
        "shown masked"
    );
    assert!(page.contains("110***********002X") && page.contains("139****5678"));
    b.screenshot(&out.join("case-petition.png"));
    b.goto(&format!("{base}/cases"));
    assert!(b.text().contains("反映东村道路积水问题"));
    b.screenshot(&out.join("deputy-cases.png"));

    // The transport bureau's clerk does not see it while it is at the station.
    sign_in(&b, &base, "jtj-clerk");
    assert!(b.url().ends_with("/inbox"), "{}", b.url());
    assert!(!b.text().contains("反映东村道路积水问题"));
    b.goto(&format!("{base}{case_path}"));
    assert!(b.text().contains("未找到"), "{}", b.text());

    // The deputy transfers it to the transport bureau.
    sign_in(&b, &base, "deputy01");
    b.goto(&format!("{base}{case_path}"));
    open_action(&b, "transfer");
    b.select("#transfer-lead_department", "jtj");
    b.type_into("#transfer-note", "请尽快查看现场。");
    submit_action(&b, "transfer");
    assert!(b.text().contains("已转交承办单位待受理"), "{}", b.text());

    // The number the deputy reads out on the phone.
    let number = b
        .script("return document.querySelector('.case-number').textContent;")
        .as_str()
        .expect("a case number on the page")
        .to_string();
    assert!(number.starts_with("信访〔"), "{number}");

    // Now the clerk sees it in the inbox, with a notice, and finds it by the number in the
    // header's search box; then accepts it and replies.
    sign_in(&b, &base, "jtj-clerk");
    assert!(b.text().contains("反映东村道路积水问题"), "{}", b.text());
    b.screenshot(&out.join("department-inbox.png"));
    b.type_into("form.search input[name=q]", &number);
    b.click_and_wait("form.search button[type=submit]");
    let text = b.text();
    assert!(text.contains("共 1 件"), "{text}");
    assert!(
        text.contains(&number) && text.contains("反映东村道路积水问题"),
        "{text}"
    );
    b.screenshot(&out.join("search.png"));
    b.click_and_wait(&format!("a[href=\"{case_path}\"]"));
    assert!(b.text().contains(&number), "{}", b.text());
    open_action(&b, "accept");
    submit_action(&b, "accept");
    assert!(b.text().contains("已受理办理中"), "{}", b.text());
    open_action(&b, "reply");
    b.type_into("#reply-result", "已组织施工疏通排水沟，积水问题已解决。");
    b.select("#reply-outcome", "supported");
    // The stamped written opinion goes with the reply, in the same form.
    let letter = out.join("处理意见书.pdf");
    std::fs::create_dir_all(&out).expect("dir");
    std::fs::write(&letter, b"%PDF-1.4\n% the stamped opinion\n%%EOF\n").expect("letter");
    b.attach_file("#reply-letter", &letter);
    b.screenshot(&out.join("department-reply.png"));
    submit_action(&b, "reply");
    let text = b.text();
    assert!(text.contains("已办结待反馈满意度"), "{text}");
    assert!(
        text.contains("处理意见书.pdf"),
        "the letter is listed and named: {text}"
    );

    // The assignment notice, printed to PDF as Chromium prints it.
    b.goto(&format!("{base}{case_path}/print/assignment"));
    let notice = b.text();
    assert!(
        notice.contains("交办通知单") && notice.contains(&number),
        "{notice}"
    );
    let pdf = b.print_pdf(&out.join("print-assignment.pdf"));
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    b.screenshot(&out.join("print-assignment.png"));

    // The deputy rates it 不满意 and sees it reopened, with its new deadline.
    sign_in(&b, &base, "deputy01");
    b.goto(&format!("{base}{case_path}"));
    open_action(&b, "record_satisfaction");
    b.select("#record_satisfaction-rating", "dissatisfied");
    // 不满意 without a reason comes back, the reason's field marked.
    b.click_and_wait("form[action$=\"/actions/record_satisfaction\"] button[type=submit]");
    assert!(b.text().contains("为“不满意”时必填"), "{}", b.text());
    open_action(&b, "record_satisfaction");
    b.select("#record_satisfaction-rating", "dissatisfied");
    b.type_into("#record_satisfaction-comment", "雨后仍有积水。");
    submit_action(&b, "record_satisfaction");
    let text = b.text();
    assert!(text.contains("群众不满意，可申请复查"), "{text}");
    assert!(
        text.contains("办理期限") && text.contains("期限 "),
        "{text}"
    );
    assert!(
        text.contains("申请复查"),
        "the next step is offered: {text}"
    );
    b.screenshot(&out.join("deputy-rated.png"));

    // A leader sees it on the dashboard, among those sent back.
    sign_in(&b, &base, "zhuren");
    assert!(b.url().ends_with("/dashboard"), "{}", b.url());
    let text = b.text();
    assert!(text.contains("反映东村道路积水问题"), "{text}");
    assert!(text.contains("各承办单位按期答复率") && b.count("figure.chart svg") >= 2);
    b.screenshot(&out.join("leader-dashboard.png"));
    b.goto(&format!("{base}/dashboard?year=2024"));
    assert!(b.text().contains("2024年办理情况"));
    // The demo year's co-handlers, each credited with its own opinions, and its deputies'
    // satisfaction, co-signers' ratings included.
    assert!(
        b.text().contains("各协办单位按期提出协办意见率")
            && b.text().contains("各代表对答复的满意率")
            && b.count("figure.chart svg") == 4,
        "{}",
        b.text()
    );
    assert!(
        b.count("table.cases tbody tr") > 0,
        "overdue and key items listed"
    );
    b.screenshot(&out.join("leader-dashboard-2024.png"));

    // A clerk cannot open another department's case by its address.
    let leader = token("leader");
    let reply = http_as(
        &serve.addr,
        &leader,
        "GET",
        "/api/v1/cases?kind=suggestion&limit=50",
        &[],
        None,
    )
    .expect("list");
    let listed: Value = serde_json::from_str(&reply.body).expect("json");
    let other = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .find(|id| {
            let shown = http_as(
                &serve.addr,
                &leader,
                "GET",
                &format!("/api/v1/cases/{id}"),
                &[],
                None,
            )
            .expect("show");
            let case: Value = serde_json::from_str(&shown.body).expect("json");
            let lead = &case["parties"]["lead_department"];
            lead.is_array()
                && lead[0] != "jtj"
                && case["parties"]["co_departments"]
                    .as_array()
                    .is_none_or(|co| !co.iter().any(|d| d == "jtj"))
        })
        .expect("a case of another department")
        .to_string();
    sign_in(&b, &base, "jtj-clerk");
    b.goto(&format!("{base}/cases/{other}"));
    assert!(b.text().contains("未找到"), "{}", b.text());
    b.goto(&format!("{base}/notifications"));
    assert!(b.text().contains("消息提醒"));
    b.screenshot(&out.join("notifications.png"));

    // Staff: the registration form with department choices.
    sign_in(&b, &base, "staff1");
    b.goto(&format!("{base}/cases/new?kind=suggestion"));
    assert!(
        b.count("#new-deputy option") > 1,
        "staff file in a deputy's name"
    );
    b.screenshot(&out.join("staff-register.png"));
    b.goto(&format!("{base}/queue"));
    assert!(b.text().contains("等待我办理的事项"), "{}", b.text());
    b.screenshot(&out.join("staff-queue.png"));

    // The court refers a dispute; it names the mediator; the mediator records a session and
    // the agreement.
    sign_in(&b, &base, "court-clerk");
    b.goto(&format!("{base}/cases/new?kind=mediation"));
    b.type_into("#new-title", "李某诉赵某买卖合同纠纷");
    b.type_into("#new-summary", "货款二万元未付，双方同意诉前调解。");
    b.select("#new-dispute_type", "contract");
    b.type_into("#new-applicant-name", "李明");
    b.type_into("#new-respondent-name", "赵强");
    b.screenshot(&out.join("court-refer.png"));
    b.click_and_wait("form[action=\"/cases/new\"] button[type=submit]");
    let mediation = b.url().trim_start_matches(&base).to_string();
    assert!(b.text().contains("李某诉赵某买卖合同纠纷"), "{}", b.text());
    open_action(&b, "assign_mediators");
    b.select("#assign_mediators-mediators", "mediator1");
    submit_action(&b, "assign_mediators");
    sign_in(&b, &base, "mediator1");
    assert!(b.text().contains("李某诉赵某买卖合同纠纷"), "{}", b.text());
    b.goto(&format!("{base}{mediation}"));
    open_action(&b, "accept");
    submit_action(&b, "accept");
    open_action(&b, "record_session");
    // A date input takes keystrokes in its locale's order: headless Chromium here is en-US
    // (month, day, year) whatever --lang says.
    b.type_into("#record_session-held_on", "11272026");
    b.type_into(
        "#record_session-notes",
        "双方到场，就分期付款达成初步意向。",
    );
    submit_action(&b, "record_session");
    assert!(b.text().contains("双方到场"), "{}", b.text());
    open_action(&b, "conclude");
    b.select("#conclude-outcome", "agreement");
    b.click("#conclude-judicial_confirmation");
    b.screenshot(&out.join("mediator-case.png"));
    submit_action(&b, "conclude");
    assert!(b.text().contains("调解成功"), "{}", b.text());

    // An administrator adds a clerk of the transport bureau and resets their password; the
    // clerk signs in with the temporary one, must choose their own, and then works in the
    // bureau's inbox.
    sign_in(&b, &base, "admin");
    assert!(b.url().ends_with("/admin/users"), "{}", b.url());
    b.goto(&format!("{base}/admin/users/new"));
    b.type_into("#login", "jtj-newclerk");
    b.type_into("#name", "新来的科员");
    b.select("#role", "department");
    b.select("#org", "jtj");
    b.screenshot(&out.join("admin-add-person.png"));
    b.click_and_wait("form[action=\"/admin/users\"] button[type=submit]");
    assert!(b.text().contains("已添加"), "{}", b.text());
    b.click_and_wait("form[action$=\"/password-reset\"] button[type=submit]");
    let temporary = b
        .source()
        .split("<code class=\"number\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the temporary password, shown once")
        .to_string();
    b.screenshot(&out.join("admin-temporary-password.png"));
    b.goto(&format!("{base}/admin/users?q=jtj-newclerk"));
    assert!(b.text().contains("新来的科员"), "{}", b.text());
    b.screenshot(&out.join("admin-people.png"));
    b.delete_cookies();
    b.goto(&format!("{base}/login"));
    b.type_into("#login", "jtj-newclerk");
    b.type_into("#password", &temporary);
    b.click_and_wait("form button[type=submit]");
    assert!(b.text().contains("管理员已重置您的密码"), "{}", b.text());
    b.type_into("#current", &temporary);
    b.type_into("#new", "Newclerk-Pass-2024");
    b.type_into("#confirm", "Newclerk-Pass-2024");
    b.click_and_wait("form[action=\"/password/renew\"] button[type=submit]");
    assert!(b.text().contains("新密码已设置"), "{}", b.text());
    b.type_into("#password", "Newclerk-Pass-2024");
    b.click_and_wait("form button[type=submit]");
    assert!(b.url().ends_with("/inbox"), "the clerk is in: {}", b.url());
    assert!(b.text().contains("新来的科员"), "{}", b.text());

    // At 375 px (a deputy's phone), with JavaScript on: nothing wider than the screen.
    let phone = driver.session(true, 375, 812);
    for (login, path, shot) in [
        ("deputy01", case_path.as_str(), "phone-case.png"),
        ("deputy01", "/cases", "phone-deputy-cases.png"),
        ("jtj-clerk", "/inbox", "phone-inbox.png"),
        ("zhuren", "/dashboard", "phone-dashboard.png"),
    ] {
        sign_in(&phone, &base, login);
        phone.goto(&format!("{base}{path}"));
        let width = phone
            .script("return document.documentElement.scrollWidth;")
            .as_u64()
            .unwrap_or(9999);
        let viewport = phone
            .script("return window.innerWidth;")
            .as_u64()
            .unwrap_or(0);
        assert!(
            width <= viewport,
            "{path} is {width}px wide at a {viewport}px screen"
        );
        phone.screenshot(&out.join(shot));
    }
    drop(serve);
}
