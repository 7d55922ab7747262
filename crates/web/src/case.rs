//! One case: where it stands, its deadline and why, who supervises it, its parties and filing
//! (personal data masked), the whole history as a timeline, and a form for each action the
//! viewer may take now; or, with `?as_of=2024-09-30` (查看某日状态), how it stood at the end of
//! that day, read only.

use crate::strict::Form;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use duban_core::deadline::china_date;
use duban_core::vocabulary::party;
use duban_core::workflow::{Field, FieldType, Workflow};
use duban_service::{
    AttachmentInfo, CaseDetail, EarlierFiling, Error as ServiceError, History, REVEALABLE, Reveal,
    SentNotice, SentOutcome, pending_requests,
};
use maud::{Markup, html};
use serde_json::Value;

use crate::forms::{self, Choices, FormState};
use crate::layout::{csrf, due_badge, nothing, page, paragraphs, when};
use crate::session::Viewer;
use crate::{WebState, choices, files, labels, refused};

/// A form to show open, with what was typed and what was wrong, after a refused submission.
struct Open<'a> {
    action: &'a str,
    form: &'a FormState,
}

/// Whether a field of the workflow names organisations, people or files: its values are shown
/// by name, never by code.
fn names_someone(wf: Option<&Workflow>, field: &str) -> bool {
    let Some(wf) = wf else {
        return false;
    };
    wf.filing
        .payload
        .iter()
        .chain(wf.actions.iter().flat_map(|a| a.payload.iter()))
        .any(|f| {
            f.name == field
                && matches!(
                    f.ty,
                    FieldType::Org
                        | FieldType::Orgs
                        | FieldType::User
                        | FieldType::Users
                        | FieldType::File
                )
        })
}

/// A payload or filing value as text (personal data arrives here already masked).
fn show_value(
    wf: Option<&Workflow>,
    def: Option<&Field>,
    field: &str,
    v: &Value,
    names: &Choices,
) -> String {
    match v {
        Value::String(s) if names_someone(wf, field) => names.name(s).to_string(),
        // An enum's value by its title in the file, else by the built-in name of its code.
        Value::String(s) => def
            .map_or_else(|| labels::value(s), |f| f.value_label(s))
            .to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| show_value(wf, def, field, i, names))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Object(person) => ["name", "id_number", "phone", "address"]
            .iter()
            .filter_map(|k| person.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" / "),
        Value::Bool(true) => "是".into(),
        Value::Bool(false) => "否".into(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// The field `name` as `step` (an action, or `file`) declares it, else as any step of the
/// workflow does: two steps may call a field of the same name differently (a vote's 全体代表
/// and an evaluation's 参加测评代表 are both `members`).
fn field_of<'w>(wf: Option<&'w Workflow>, step: &str, name: &str) -> Option<&'w Field> {
    let wf = wf?;
    let own = if step == duban_core::machine::FILE {
        Some(&wf.filing.payload)
    } else {
        wf.action(step).map(|a| &a.payload)
    };
    own.and_then(|fs| fs.iter().find(|f| f.name == name))
        .or_else(|| wf.field(name))
}

/// A step's payload (`step`: its action, or `file` for the filing), each field by its label.
pub(crate) fn fields_table(
    wf: Option<&Workflow>,
    step: &str,
    map: &serde_json::Map<String, Value>,
    names: &Choices,
    skip: &[&str],
) -> Markup {
    html! {
        dl.fields {
            @for (k, v) in map.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
                @let f = field_of(wf, step, k);
                dt { (f.map_or_else(|| labels::field(k), |f| f.label())) }
                dd { (paragraphs(&show_value(wf, f, k, v, names))) }
            }
        }
    }
}

/// What a case page shows: the case, its history, the names of the people and organisations it
/// names, and (for the committee) what went out about it.
struct Shown {
    detail: CaseDetail,
    history: History,
    names: Choices,
    sent: Vec<SentNotice>,
    files: Vec<AttachmentInfo>,
    /// The person's earlier filings of the kind (重复信访), for a viewer who may know them.
    earlier: Option<Vec<EarlierFiling>>,
    /// The instant the case is shown as of, with the day asked for; `None` for the present.
    as_of: Option<(jiff::Timestamp, String)>,
}

/// `?as_of=`: the day whose end the case is shown as of.
#[derive(Debug, serde::Deserialize)]
pub struct AsOf {
    as_of: Option<String>,
}

fn render(
    st: &WebState,
    v: &Viewer,
    shown: &Shown,
    open: Option<Open<'_>>,
    banner: Option<&str>,
) -> Markup {
    let (d, h, names) = (&shown.detail, &shown.history, &shown.names);
    let case = &d.record.case;
    let wf = st.service.workflows().get(&case.kind);
    let requests = wf.map_or_else(Vec::new, |w| pending_requests(w, case, &h.events));
    // A form that answers a pending request opens with what was asked (the date wanted).
    let answer_form = |action: &str| {
        let mut form = FormState::default();
        for r in requests
            .iter()
            .filter(|r| r.answered_by.iter().any(|a| a == action))
        {
            for (k, v) in &r.payload {
                if let Some(s) = v.as_str() {
                    form.values.insert(k.clone(), vec![s.to_string()]);
                }
            }
        }
        form
    };
    let awaiting = case
        .parties
        .get(party::AWAITING)
        .cloned()
        .unwrap_or_default();
    // A past view judges its deadlines as of its instant, and offers nothing to do.
    let now = shown.as_of.as_ref().map_or(st.service.now(), |(at, _)| *at);
    let past = shown.as_of.is_some();
    let state_name = |s: &str| {
        wf.and_then(|w| w.state(s))
            .map_or(s.to_string(), |s| s.title.clone())
    };
    let action_title = |a: &str| {
        wf.and_then(|w| w.action(a))
            .map_or(a.to_string(), |a| a.title.clone())
    };
    let has_person = d.filing.values().any(Value::is_object);
    html! {
        @if let Some(b) = banner { p.error.banner role="alert" { (b) } }
        @if let Some((_, day)) = &shown.as_of {
            p.banner.as-of role="status" {
                "以下是本件在 " strong { (day) } " 日终时的状态（只读）。"
                a href=(format!("/cases/{}", d.record.id)) { "返回当前状态" }
            }
        }
        section.case-head {
            p.kind {
                (wf.map_or(case.kind.as_str(), |w| w.title.as_str()))
                @if let Some(n) = &d.record.number { " · " strong.case-number { (n) } }
            }
            p.state {
                (if past { "当日状态：" } else { "当前状态：" }) strong { (d.state_title) }
                @if d.terminal { " " span.badge { "已办结" } }
                @if d.supervisor.is_some() { " " span.badge.key { "重点" } }
            }
            @if let Some(s) = &d.supervisor {
                p { "领衔督办：" strong { (names.name(s)) } }
            }
            @if !awaiting.is_empty() {
                p { "待办方：" strong { (names.names(&awaiting)) } }
            }
        }
        @for r in &requests {
            section.request {
                p { "待决定：" (crate::queue::request_line(r, names)) }
            }
        }
        @if let Some(dl) = &case.deadline {
            section.deadline {
                h2 { "办理期限" }
                p { (due_badge(Some(&dl.deadline.due_date.to_string()), Some(dl.deadline.due_at), now))
                    @if dl.extensions > 0 { " " span.muted { "（已延期 " (dl.extensions) " 次，原期限 " (dl.original_due) "）" } }
                    @if dl.deadline.provisional { " " span.muted { "（当年节假日安排未公布，暂按周末计算）" } }
                }
                details { summary { "期限如何计算" } p.explanation { (dl.deadline.explanation) } }
            }
        }
        @if let Some(p) = &case.paused {
            section.deadline {
                h2 { "办理期限" }
                p { strong { "已中止计算" } "（自 " (when(p.since)) " 起）"
                    span.muted { "：原期限最后一日 " (p.deadline.deadline.due_date) "，恢复计算后按中止天数顺延" } }
                details { summary { "期限如何计算" } p.explanation { (p.deadline.deadline.explanation) } }
            }
        }
        @if let Some(earlier) = shown.earlier.as_ref().filter(|e| !e.is_empty()) {
            (repeat_section(wf, earlier))
        }
        @if !case.duties.is_empty() {
            section {
                h2 { "待履行事项" }
                ul { @for duty in &case.duties {
                    @let title = wf
                        .and_then(|w| w.state(&case.state))
                        .and_then(|s| s.duties.iter().find(|x| x.name == duty.name))
                        .map_or(duty.name.as_str(), |x| x.title.as_str());
                    @let owed = match &duty.member {
                        Some(m) => vec![m.clone()],
                        None => case.parties.get(&duty.owed_by).cloned().unwrap_or_default(),
                    };
                    li { (names.names(&owed)) "：" (title) "，期限 " (duty.deadline.due_date) }
                } }
            }
        }
        @if !d.allowed_actions.is_empty() {
            section.actions {
                h2 { "我可以办理" }
                @for a in &d.allowed_actions {
                    @if let Some(action) = wf.and_then(|w| w.action(a)) {
                        @let is_open = open.as_ref().is_some_and(|o| o.action == a);
                        @let prefilled = answer_form(a);
                        @let form = open.as_ref().filter(|o| o.action == a).map_or(&prefilled, |o| o.form);
                        details.action open[is_open || d.allowed_actions.len() == 1] {
                            summary { (action.title) }
                            @let with_files = action.payload.iter().any(|f| f.ty == FieldType::File);
                            form method="post" action=(format!("/cases/{}/actions/{}", d.record.id, a)) novalidate
                                enctype=[with_files.then_some("multipart/form-data")] {
                                (csrf(v))
                                input type="hidden" name="_version" value=(case.version);
                                (forms::inputs(&action.payload, form, names, a))
                                button.primary type="submit" { (action.title) }
                            }
                        }
                    }
                }
            }
        }
        section.parties {
            h2 { "当事各方" }
            dl.fields {
                @for (party, members) in case.parties.iter().filter(|(p, _)| *p != party::AWAITING) {
                    dt { (labels::field(party)) }
                    dd { (members.iter().map(|m| names.name(m)).collect::<Vec<_>>().join("、")) }
                }
            }
        }
        section.filing {
            h2 { "登记内容" }
            (fields_table(wf, duban_core::machine::FILE, &d.filing, names, &["title"]))
            @if !d.revealed.is_empty() {
                div.revealed {
                    h3 { "个人信息（完整，本次查看已记录）" }
                    @for r in &d.revealed {
                        p { (labels::field(&r.field)) "：" (r.person.name) " / "
                            (r.person.id_number.as_deref().unwrap_or("—")) " / "
                            (r.person.phone.as_deref().unwrap_or("—")) " / "
                            (r.person.address.as_deref().unwrap_or("—")) }
                    }
                }
            }
            @if has_person && !past && v.p.may_reveal(case) && d.revealed.is_empty() {
                details {
                    summary { "查看完整个人信息（需说明理由，查看将被记录）" }
                    form method="post" action=(format!("/cases/{}/reveal", d.record.id)) {
                        (csrf(v))
                        div.field {
                            @for f in REVEALABLE {
                                label.inline { input type="checkbox" name="reveal" value=(f) checked[*f == "phone"]; (labels::field(f)) }
                            }
                        }
                        div.field {
                            label for="reveal-reason" { "理由" span.req { "*" } }
                            input #reveal-reason name="reason" type="text" required maxlength="500";
                        }
                        button type="submit" { "查看" }
                    }
                }
            }
        }
        @if !past {
            @let printable = crate::print::offered(v, d, h, now);
            @if !printable.is_empty() {
                section.print {
                    h2 { "打印文书" }
                    ul { @for (href, title) in &printable { li { a href=(href) target="_blank" { (title) } } } }
                }
            }
            (files::section(st, v, &d.record.id, &shown.files, names))
        }
        section.timeline {
            h2 { "办理经过" }
            @if !past {
                form.as-of method="get" action=(format!("/cases/{}", d.record.id)) {
                    label for="as-of" { "查看某日状态" }
                    " "
                    input #as-of name="as_of" type="date"
                        min=(china_date(case.filed_at).to_string())
                        max=(china_date(now).to_string());
                    " "
                    button type="submit" { "查看" }
                }
            }
            ol.timeline {
                @for e in h.events.iter().rev() {
                    li {
                        div.when { (when(e.event.at)) }
                        div.what {
                            strong { (if e.event.seq == 1 { "登记".to_string() } else { action_title(&e.event.action) }) }
                            " · " (names.name(&e.event.actor.user)) "（" (labels::role(e.event.actor.role)) "）"
                            @if e.event.from_state.as_deref() != Some(e.event.to_state.as_str()) {
                                div.muted { "→ " (state_name(&e.event.to_state)) }
                            }
                            @if e.event.seq > 1 && !e.event.payload.is_empty() {
                                (fields_table(wf, &e.event.action, &e.event.payload, names, &[]))
                            }
                            @if let Some(dl) = &e.event.deadline {
                                @if e.event.seq > 1 || h.events.len() == 1 {
                                    div.muted { "办理期限：" (dl.deadline.due_date) }
                                } @else { (nothing()) }
                            }
                        }
                    }
                }
            }
            @if !shown.sent.is_empty() && !past {
                (sent_table(&shown.sent, names))
            }
            @if !h.accesses.is_empty() && !past {
                h3 { "个人信息查看记录" }
                ul.accesses {
                    @for a in &h.accesses {
                        li { (when(a.at)) " " (names.name(&a.actor)) " 查看了 "
                            (a.fields.iter().map(|f| labels::field(f)).collect::<Vec<_>>().join("、"))
                            "，理由：" (a.reason) }
                    }
                }
            }
        }
    }
}

/// Which notices went to whom, by which channel, and how each fared; never what they said.
fn sent_table(sent: &[SentNotice], names: &Choices) -> Markup {
    fn channel(c: &str) -> &str {
        match c {
            "inbox" => "站内消息",
            "email" => "电子邮件",
            "webhook" => "推送接口",
            "wecom" => "企业微信群",
            "dingtalk" => "钉钉群",
            "sms" => "短信",
            other => other,
        }
    }
    let outcome = |o: SentOutcome| match o {
        SentOutcome::Read => "已读",
        SentOutcome::Unread => "未读",
        SentOutcome::Delivered => "已送达",
        SentOutcome::Pending => "待发送",
        SentOutcome::Failed => "发送失败",
    };
    html! {
        h3 { "通知发送情况" }
        table.sent {
            thead { tr { th { "时间" } th { "通知" } th { "发给" } th { "方式" } th { "结果" } } }
            tbody {
                @for n in sent {
                    tr {
                        td { (when(n.at)) }
                        td { "【" (n.headline) "】" }
                        td { (names.name(&n.to)) }
                        td { (channel(&n.channel)) }
                        td {
                            (outcome(n.outcome))
                            @if n.attempts > 1 && n.channel != "inbox" { "（尝试" (n.attempts) "次）" }
                        }
                    }
                }
            }
        }
    }
}

/// A case's heading: the number people quote, then its title.
fn heading(d: &CaseDetail) -> String {
    match &d.record.number {
        Some(n) => format!("{n} {}", d.record.title),
        None => d.record.title.clone(),
    }
}

/// 此人近12个月已有N件…: the person's earlier filings, each by number, date and state; a link
/// where the viewer may open it, the number alone where not.
fn repeat_section(wf: Option<&Workflow>, earlier: &[EarlierFiling]) -> Markup {
    let kind = wf.map_or("事项", |w| w.title.as_str());
    html! {
        section.repeat {
            h2 { "重复信访" }
            p { "此人近12个月已有 " strong { (earlier.len()) } " 件" (kind) "：" }
            ul { @for e in earlier {
                @let s = &e.summary;
                @let number = s.number.as_deref().unwrap_or("（无编号）");
                @let state = wf.and_then(|w| w.state(&s.state)).map_or(s.state.as_str(), |x| x.title.as_str());
                li {
                    @if e.visible { a href=(format!("/cases/{}", s.id)) { (number) } } @else { (number) }
                    " " span.muted { (when(s.filed_at)) " 提出，" (state) }
                }
            } }
        }
    }
}

async fn load(
    st: &WebState,
    v: &Viewer,
    id: &str,
    reveal: Option<&Reveal>,
) -> Result<Shown, Response> {
    let detail = st
        .service
        .show(&v.p, id, reveal, None)
        .await
        .map_err(refused)?;
    let history = st.service.history(&v.p, id).await.map_err(refused)?;
    let files = st.service.attachments(&v.p, id).await.map_err(refused)?;
    let mut names = choices(st).await?;
    names.files = files
        .iter()
        .map(|f| (f.id.clone(), f.name.clone()))
        .collect();
    // Only the committee sees what went out; for anyone else the section is not there.
    let sent = match st.service.sent_notices(&v.p, id).await {
        Ok(sent) => sent,
        Err(ServiceError::Forbidden { .. }) => Vec::new(),
        Err(e) => return Err(refused(e)),
    };
    let earlier = st
        .service
        .earlier_filings(&v.p, id)
        .await
        .map_err(refused)?;
    Ok(Shown {
        detail,
        history,
        names,
        sent,
        files,
        earlier,
        as_of: None,
    })
}

/// The case as it stood at the end of `day`: its view folded to then, and its history up to
/// then; what went out and the files are the present's, and are not shown.
async fn load_as_of(
    st: &WebState,
    v: &Viewer,
    id: &str,
    day: &str,
) -> Result<Result<Shown, String>, Response> {
    let Some(at) = duban_service::as_of_instant(day).filter(|_| day.trim().len() == 10) else {
        return Ok(Err("日期格式应为 2024-09-30".into()));
    };
    let detail = match st.service.show_as_of(&v.p, id, at).await {
        Ok(d) => d,
        Err(ServiceError::Invalid { problems }) => {
            return Ok(Err(problems
                .into_iter()
                .map(|p| p.problem)
                .collect::<Vec<_>>()
                .join("；")));
        }
        Err(e) => return Err(refused(e)),
    };
    let mut history = st.service.history(&v.p, id).await.map_err(refused)?;
    history.events.retain(|e| e.event.at <= at);
    history.accesses.clear();
    Ok(Ok(Shown {
        detail,
        history,
        names: choices(st).await?,
        sent: Vec::new(),
        files: Vec::new(),
        earlier: None,
        as_of: Some((at, day.trim().to_string())),
    }))
}

pub async fn show(
    State(st): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<AsOf>,
) -> Response {
    let mut banner = None;
    if let Some(day) = q.as_of.as_deref().filter(|d| !d.trim().is_empty()) {
        match load_as_of(&st, &v, &id, day).await {
            Ok(Ok(shown)) => {
                let title = heading(&shown.detail);
                return page(&v, &title, render(&st, &v, &shown, None, None)).into_response();
            }
            Ok(Err(problem)) => banner = Some(format!("无法查看该日状态：{problem}")),
            Err(r) => return r,
        }
    }
    match load(&st, &v, &id, None).await {
        Ok(shown) => {
            let title = heading(&shown.detail);
            let status = if banner.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let body = render(&st, &v, &shown, None, banner.as_deref());
            (status, page(&v, &title, body)).into_response()
        }
        Err(r) => r,
    }
}

pub async fn act(
    State(st): State<WebState>,
    v: Viewer,
    Path((id, action)): Path<(String, String)>,
    request: Request,
) -> Response {
    // A form with documents comes as multipart; any other as an ordinary form.
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let (pairs, uploads) = if multipart {
        match files::read(&st, request, files::attachment_limit(&st)).await {
            Ok(sent) => (sent.pairs, sent.files),
            Err(r) => return r,
        }
    } else {
        match Form::<Vec<(String, String)>>::from_request(request, &st).await {
            Ok(Form(pairs)) => (pairs, Vec::new()),
            Err(r) => return r,
        }
    };
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Err(r) = v.check_csrf(get("_csrf")) {
        return r;
    }
    let version = get("_version")
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    // The case is read first (and its visibility checked) to know the action's fields; the
    // rest of the page is read only if the form has to be shown again.
    let kind = match st.service.show(&v.p, &id, None, None).await {
        Ok(d) => d.record.case.kind,
        Err(e) => return refused(e),
    };
    let Some(spec) = st
        .service
        .workflows()
        .get(&kind)
        .and_then(|w| w.action(&action))
    else {
        return refused(ServiceError::NotFound);
    };
    let mut form = FormState::from_pairs(&pairs);
    let payload = forms::payload(&spec.payload, &form);
    // Only the action's own file fields carry documents.
    let uploads: Vec<_> = uploads
        .into_iter()
        .filter(|(field, _)| {
            spec.payload
                .iter()
                .any(|f| &f.name == field && f.ty == FieldType::File)
        })
        .collect();
    let outcome = st
        .service
        .act_with_files(
            &v.p,
            &id,
            &action,
            &Value::Object(payload),
            version,
            uploads,
        )
        .await;
    let (status, banner) = match outcome {
        Ok(_) => return Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(ServiceError::Invalid { problems }) => {
            for p in problems {
                form.errors.entry(p.field).or_insert(p.problem);
            }
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "请修改标注的内容后重新提交。".to_string(),
            )
        }
        Err(ServiceError::Stale { .. }) => (
            StatusCode::CONFLICT,
            "提交前这个事项已被他人更新。请核对下面的最新情况，再重新提交。".to_string(),
        ),
        Err(e @ (ServiceError::TooLarge { .. } | ServiceError::UnsupportedType { .. })) => {
            return refused(e);
        }
        Err(ServiceError::NotAllowed { reason, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("现在不能办理这一项：{reason}"),
        ),
        Err(e) => return refused(e),
    };
    let shown = match load(&st, &v, &id, None).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let title = heading(&shown.detail);
    let body = render(
        &st,
        &v,
        &shown,
        Some(Open {
            action: &action,
            form: &form,
        }),
        Some(&banner),
    );
    (status, page(&v, &title, body)).into_response()
}

/// Shows personal data in full, for a stated reason; the view is recorded.
pub async fn reveal(
    State(st): State<WebState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Err(r) = v.check_csrf(get("_csrf")) {
        return r;
    }
    let request = Reveal {
        fields: pairs
            .iter()
            .filter(|(k, _)| k == "reveal")
            .map(|(_, v)| v.clone())
            .collect(),
        reason: get("reason").unwrap_or_default().trim().to_string(),
    };
    match load(&st, &v, &id, Some(&request)).await {
        Ok(shown) => {
            let title = heading(&shown.detail);
            page(&v, &title, render(&st, &v, &shown, None, None)).into_response()
        }
        Err(r) => r,
    }
}
