//! The documents an office prints from a case: 交办通知单, 督办通知, 代表建议办理情况征询意见表,
//! 信访代办回执 and a draft 调解协议书. Each is an A4 page of its own with a print stylesheet and
//! no script; the office's name, the seal's wording and the signature lines come from
//! configuration. Which forms a case offers follows from what it records (a lead department, a
//! reply with its class, a person at a station, an agreement), not from its kind's name.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duban_core::deadline::CHINA;
use duban_core::machine::{Event, StateDeadline};
use duban_core::vocabulary::party;
use duban_core::workflow::Workflow;
use duban_service::{CaseDetail, History, Reveal};
use jiff::Timestamp;
use jiff::civil::Date;
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use crate::forms::Choices;
use crate::layout::error_page;
use crate::session::Viewer;
use crate::{WebState, choices, labels, refused};

/// What the printed forms say of the office: its name, the wording beside the seal, and who
/// signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintSettings {
    /// 机关名称, as it heads every form: `扎鲁特旗人大常委会`.
    pub office: String,
    /// The wording the seal goes over; empty: the office's name and （盖章）.
    pub seal: String,
    /// The signature lines of the office's own forms: 经办人, 审核人 …
    pub signatures: Vec<String>,
}

impl Default for PrintSettings {
    fn default() -> Self {
        PrintSettings {
            office: "人大常委会".into(),
            seal: String::new(),
            signatures: vec!["经办人".into(), "审核人".into(), "分管领导".into()],
        }
    }
}

impl PrintSettings {
    fn seal(&self) -> String {
        if self.seal.trim().is_empty() {
            format!("{}（盖章）", self.office)
        } else {
            self.seal.clone()
        }
    }
}

/// The forms, by the name in their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Assignment,
    Supervision,
    Evaluation,
    Receipt,
    Agreement,
}

impl Form {
    const ALL: [Form; 5] = [
        Form::Assignment,
        Form::Supervision,
        Form::Evaluation,
        Form::Receipt,
        Form::Agreement,
    ];

    fn slug(self) -> &'static str {
        match self {
            Form::Assignment => "assignment",
            Form::Supervision => "supervision",
            Form::Evaluation => "evaluation",
            Form::Receipt => "receipt",
            Form::Agreement => "agreement",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Form::Assignment => "交办通知单",
            Form::Supervision => "督办通知",
            Form::Evaluation => "代表建议办理情况征询意见表",
            Form::Receipt => "信访代办回执",
            Form::Agreement => "调解协议书（草稿）",
        }
    }

    /// Forms that show a person's name in full: printing one is a recorded view.
    fn reveals(self) -> Option<&'static [&'static str]> {
        match self {
            Form::Receipt => Some(&["name"]),
            Form::Agreement => Some(&["name", "id_number", "address"]),
            _ => None,
        }
    }
}

/// A date as a Chinese document writes it: 2024年5月8日.
fn cn_date(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn cn_day(t: Timestamp) -> String {
    cn_date(CHINA.to_datetime(t).date())
}

/// The latest event that named the lead department: the assignment (or a transfer).
fn assignment(h: &History) -> Option<&Event> {
    h.events
        .iter()
        .rev()
        .map(|e| &e.event)
        .find(|e| e.sets.contains_key(party::LEAD_DEPARTMENT))
}

/// The latest event recording a reply's class.
fn reply(h: &History) -> Option<&Event> {
    h.events
        .iter()
        .rev()
        .map(|e| &e.event)
        .find(|e| e.payload.contains_key("classification"))
}

/// The event recording a mediated agreement.
fn agreement(h: &History) -> Option<&Event> {
    h.events
        .iter()
        .rev()
        .map(|e| &e.event)
        .find(|e| e.payload.get("outcome").and_then(Value::as_str) == Some("agreement"))
}

fn overdue(d: &CaseDetail, now: Timestamp) -> bool {
    !d.terminal
        && d.record
            .case
            .deadline
            .as_ref()
            .is_some_and(|dl| dl.deadline.due_at < now)
}

/// Whether the case's filing names a person: a receipt is for them.
fn has_person(d: &CaseDetail) -> bool {
    d.filing.values().any(Value::is_object)
}

/// The forms `d` offers its viewer now.
pub fn offered(
    v: &Viewer,
    d: &CaseDetail,
    h: &History,
    now: Timestamp,
) -> Vec<(String, &'static str)> {
    let case = &d.record.case;
    let at_station = case.parties.contains_key(party::STATION);
    Form::ALL
        .into_iter()
        .filter(|f| match f {
            Form::Assignment => assignment(h).is_some(),
            Form::Supervision => overdue(d, now) || (d.supervisor.is_some() && !d.terminal),
            Form::Evaluation => reply(h).is_some(),
            Form::Receipt => at_station && has_person(d) && v.p.may_reveal(case),
            Form::Agreement => agreement(h).is_some() && v.p.may_reveal(case),
        })
        .map(|f| {
            (
                format!("/cases/{}/print/{}", d.record.id, f.slug()),
                f.title(),
            )
        })
        .collect()
}

/// An A4 page of its own: the print stylesheet, the office heading, and no script.
fn sheet(s: &PrintSettings, title: &str, number: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (title) }
                link rel="stylesheet" href="/static/print.css";
            }
            body {
                p.noprint { "用浏览器的“打印”（Ctrl+P）打印本页，纸张选 A4。" }
                article.a4 {
                    p.office { (s.office) }
                    h1 { (title) }
                    @if let Some(n) = number { p.number { (n) } }
                    (body)
                }
            }
        }
    }
}

fn signatures(s: &PrintSettings, when: Timestamp) -> Markup {
    html! {
        div.signatures {
            @for who in &s.signatures { p { (who) "：" span.line {} } }
        }
        div.seal { p { (s.seal()) } p { (cn_day(when)) } }
    }
}

fn deadline_rows(dl: &StateDeadline, basis: Option<&str>) -> Markup {
    html! {
        tr { th { "办理期限" } td { strong { (cn_date(dl.deadline.due_date)) } "前办结" } }
        @if let Some(b) = basis { tr { th { "期限依据" } td { (b) } } }
        tr { th { "期限计算" } td.small { (dl.deadline.explanation) } }
    }
}

/// The state a deadline belongs to, for its basis.
fn basis<'a>(wf: &'a Workflow, state: &str) -> Option<&'a str> {
    wf.state(state)
        .and_then(|s| s.deadline.as_ref())
        .and_then(|dl| dl.basis.as_deref())
}

fn names_of(d: &CaseDetail, names: &Choices, p: &str) -> String {
    names.names(&d.record.case.parties.get(p).cloned().unwrap_or_default())
}

fn text_of<'a>(map: &'a serde_json::Map<String, Value>, field: &str) -> &'a str {
    map.get(field).and_then(Value::as_str).unwrap_or("")
}

fn assignment_notice(
    s: &PrintSettings,
    wf: &Workflow,
    d: &CaseDetail,
    h: &History,
    names: &Choices,
) -> Markup {
    let Some(e) = assignment(h) else {
        return html! {};
    };
    html! {
        table.form {
            tr { th { "事项" } td { (wf.title) "：" (d.record.title) } }
            tr { th { "提出人" } td { (names_of(d, names, party::FILER)) } }
            @if d.record.case.parties.contains_key(party::COSIGNERS) {
                tr { th { "联名代表" } td { (names_of(d, names, party::COSIGNERS)) } }
            }
            tr { th { "主办单位" } td { (names_of(d, names, party::LEAD_DEPARTMENT)) } }
            @if d.record.case.parties.contains_key(party::CO_DEPARTMENTS) {
                tr { th { "协办单位" } td { (names_of(d, names, party::CO_DEPARTMENTS)) } }
            }
            tr { th { "交办日期" } td { (cn_day(e.at)) } }
            @if let Some(dl) = &e.deadline { (deadline_rows(dl, basis(wf, &e.to_state))) }
            tr { th { "内容" } td.body { (text_of(&d.filing, "body")) } }
        }
        p { "请按期办理，并将办理结果答复提出人，同时抄送本机关。" }
        (signatures(s, e.at))
    }
}

fn supervision_notice(
    s: &PrintSettings,
    wf: &Workflow,
    d: &CaseDetail,
    names: &Choices,
    now: Timestamp,
) -> Markup {
    let case = &d.record.case;
    let waiting = names.names(
        &case
            .parties
            .get(party::AWAITING)
            .cloned()
            .unwrap_or_default(),
    );
    let supervisor = d.supervisor.as_deref().map_or_else(
        || "常委会主任会议".to_string(),
        |l| names.name(l).to_string(),
    );
    html! {
        table.form {
            tr { th { "事项" } td { (wf.title) "：" (d.record.title) } }
            tr { th { "当前状态" } td { (d.state_title) } }
            tr { th { "待办单位（人）" } td { (waiting) } }
            @if let Some(dl) = &case.deadline {
                tr { th { "办理期限" } td { (cn_date(dl.deadline.due_date)) } }
                @if dl.deadline.due_at < now {
                    @let late = (CHINA.to_datetime(now).date() - dl.deadline.due_date).get_days();
                    tr { th { "逾期情况" } td { strong { "自" (cn_date(dl.deadline.due_date)) "起已逾期 " (late) " 天" } } }
                }
                @if let Some(b) = basis(wf, &case.state) { tr { th { "期限依据" } td { (b) } } }
            }
            tr { th { "督办领导" } td { (supervisor) } }
        }
        p { "上述事项" @if overdue(d, now) { "已超过办理期限" } @else { "列为重点督办事项" }
            "。请承办单位高度重视，抓紧办理，于收到本通知后及时报告办理进展，并按要求答复。" }
        (signatures(s, now))
    }
}

fn evaluation_form(
    s: &PrintSettings,
    wf: &Workflow,
    d: &CaseDetail,
    h: &History,
    names: &Choices,
) -> Markup {
    let Some(e) = reply(h) else {
        return html! {};
    };
    let class = text_of(&e.payload, "classification");
    html! {
        table.form {
            tr { th { "建议题目" } td { (d.record.title) } }
            tr { th { "领衔代表" } td { (names_of(d, names, party::FILER)) } }
            @if d.record.case.parties.contains_key(party::COSIGNERS) {
                tr { th { "联名代表" } td { (names_of(d, names, party::COSIGNERS)) } }
            }
            tr { th { "主办单位" } td { (names_of(d, names, party::LEAD_DEPARTMENT)) } }
            tr { th { "答复日期" } td { (cn_day(e.at)) } }
            tr { th { "答复类别" } td { (labels::value(class)) } }
            tr { th { "代表意见" } td {
                @for r in ["满意", "基本满意", "不满意"] { span.tick { "□ " (r) } }
            } }
            tr.tall { th { "具体意见" } td {} }
            tr { th { "代表签名" } td { span.line {} " 年 月 日" } }
        }
        p.small { "请于收到答复后一个月内填写本表，交" (s.office) "。选择“不满意”的，请写明理由，" (wf.title) "将退回承办单位重新办理。" }
    }
}

fn receipt(s: &PrintSettings, wf: &Workflow, d: &CaseDetail, names: &Choices) -> Markup {
    let case = &d.record.case;
    // The constituent's own name in full (revealed for this receipt); the rest stays masked.
    let person = d.revealed.first().map(|r| r.person.name.clone());
    let next = case.deadline.as_ref().map(|dl| {
        format!(
            "{}，{}：{}前",
            d.state_title,
            names.names(
                &case
                    .parties
                    .get(party::AWAITING)
                    .cloned()
                    .unwrap_or_default()
            ),
            cn_date(dl.deadline.due_date)
        )
    });
    html! {
        table.form {
            tr { th { "编号" } td { (d.record.number.as_deref().unwrap_or("")) } }
            tr { th { "登记日期" } td { (cn_day(case.filed_at)) } }
            tr { th { "反映人" } td { (person.unwrap_or_default()) } }
            tr { th { "反映事项" } td { (d.record.title) } }
            tr { th { "接待站点" } td { (names_of(d, names, party::STATION)) } }
            tr { th { "代办代表" } td { (names_of(d, names, party::FILER)) } }
            tr { th { "下一步及时限" } td { (next.unwrap_or_else(|| d.state_title.clone())) } }
            @if let Some(b) = basis(wf, &case.state) { tr { th { "依据" } td { (b) } } }
        }
        p { "您反映的事项已由人大代表登记代办。可凭本回执编号向接待站点查询办理进展。" }
        div.seal { p { (names_of(d, names, party::STATION)) "（盖章）" } p { (cn_day(case.filed_at)) } }
        p.small { "本回执仅载明反映人姓名，其他个人信息已隐去。" (s.office) "监制。" }
    }
}

fn agreement_draft(s: &PrintSettings, d: &CaseDetail, h: &History, names: &Choices) -> Markup {
    let Some(e) = agreement(h) else {
        return html! {};
    };
    let person = |field: &str| {
        d.revealed
            .iter()
            .find(|r| r.field == field)
            .map(|r| r.person.clone())
    };
    let party_block = |label: &str, field: &str| {
        let p = person(field);
        html! {
            p.party {
                (label) "：" (p.as_ref().map_or("", |p| p.name.as_str()))
                "，身份证号：" (p.as_ref().and_then(|p| p.id_number.as_deref()).unwrap_or("　　　　　　　　　　"))
                "，住址：" (p.as_ref().and_then(|p| p.address.as_deref()).unwrap_or("　　　　　　　　　　"))
            }
        }
    };
    let terms = text_of(&e.payload, "notes");
    let confirm = e
        .payload
        .get("judicial_confirmation")
        .and_then(Value::as_bool)
        == Some(true);
    html! {
        (party_block("申请人", "applicant"))
        (party_block("被申请人", "respondent"))
        p { "纠纷事由：" (text_of(&d.filing, "summary")) }
        p { "本纠纷由" (names_of(d, names, party::COURT)) "委派" (s.office) "代表调解室进行诉前调解，调解员："
            (names_of(d, names, party::MEDIATORS)) "。经调解，双方当事人自愿达成如下协议：" }
        div.terms { @if terms.is_empty() { p.blank {} p.blank {} p.blank {} } @else { p { (terms) } } }
        @if confirm { p { "双方当事人同意共同向人民法院申请司法确认。" } }
        p { "本协议一式三份，双方当事人各执一份，调解室存档一份，自双方签字之日起生效。" }
        div.signatures {
            p { "申请人（签名）：" span.line {} }
            p { "被申请人（签名）：" span.line {} }
            p { "调解员（签名）：" span.line {} }
        }
        div.seal { p { (s.office) "代表调解室" } p { (cn_day(e.at)) } }
    }
}

/// `GET /cases/{id}/print/{form}`: the form, for whoever may see the case (and, for a form
/// with a person's name in full, may see that too; the view is recorded).
pub async fn form(
    State(st): State<WebState>,
    v: Viewer,
    Path((id, slug)): Path<(String, String)>,
) -> Response {
    let Some(form) = Form::ALL.into_iter().find(|f| f.slug() == slug) else {
        return error_page(StatusCode::NOT_FOUND, "未找到", "没有这种文书。");
    };
    let detail = match st.service.show(&v.p, &id, None, None).await {
        Ok(d) => d,
        Err(e) => return refused(e),
    };
    let history = match st.service.history(&v.p, &id).await {
        Ok(h) => h,
        Err(e) => return refused(e),
    };
    let now = st.service.now();
    if !offered(&v, &detail, &history, now)
        .iter()
        .any(|(href, _)| href.ends_with(&format!("/print/{slug}")))
    {
        return error_page(
            StatusCode::NOT_FOUND,
            "未找到",
            "这个事项现在没有这种文书可打印。",
        );
    }
    // A form with a name in full reveals it for a stated reason, recorded like any other view.
    let detail = match form.reveals() {
        Some(fields) => {
            let ask = Reveal {
                fields: fields.iter().map(|f| f.to_string()).collect(),
                reason: format!("打印{}", form.title()),
            };
            match st.service.show(&v.p, &id, Some(&ask), None).await {
                Ok(d) => d,
                Err(e) => return refused(e),
            }
        }
        None => detail,
    };
    let names = match choices(&st).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let Some(wf) = st.service.workflows().get(&detail.record.case.kind) else {
        return refused(duban_service::Error::NotFound);
    };
    let s = &st.print;
    let body = match form {
        Form::Assignment => assignment_notice(s, wf, &detail, &history, &names),
        Form::Supervision => supervision_notice(s, wf, &detail, &names, now),
        Form::Evaluation => evaluation_form(s, wf, &detail, &history, &names),
        Form::Receipt => receipt(s, wf, &detail, &names),
        Form::Agreement => agreement_draft(s, &detail, &history, &names),
    };
    sheet(s, form.title(), detail.record.number.as_deref(), body).into_response()
}
