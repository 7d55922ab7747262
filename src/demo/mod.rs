//! `duban demo`: a living demo year. A county's 2024, generated from a seed and acted out
//! through the service layer with historical timestamps — filed, assigned, answered (some late),
//! rated (some 不满意 and handled again), reminders fired on their days — so that every figure
//! the report shows is computed from records, not written down.

mod data;
mod liaison;
mod rng;
mod supervision;

use duban_storage::{Cases, Directory, Lists, Tokens};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use duban_core::deadline::CHINA;
use duban_core::{Calendar, Role, Workflows};
use duban_scheduler::{Config, Scheduler};
use duban_service::{FixedClock, Principal, Service};
use duban_storage::{CaseQuery, Org, OrgKind, Page, SqlStore, User};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use serde_json::{Value, json};

use data::*;
use rng::Rng;

/// A planned filing: its kind, who files it, its payload, when.
type Filing = (String, String, Value, Timestamp);

/// How big and which year.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    /// 1.0 is the 2024 county: 81 suggestions (8 key), 87 petitions (48 resolved directly, 39
    /// transferred), 176 mediations, 42 stations.
    pub scale: f64,
    pub year: i16,
}

impl Plan {
    fn n(&self, base: f64) -> usize {
        (base * self.scale).round().max(0.0) as usize
    }
}

/// One planned action: when, on which case (by its place in the plan), by whom, what.
struct Step {
    at: Timestamp,
    case: usize,
    action: String,
    who: String,
    payload: Value,
}

fn at(day: Date, hour: i8, minute: i8) -> Timestamp {
    CHINA
        .to_timestamp(day.to_datetime(jiff::civil::time(hour, minute, 0, 0)))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A reply of `class` given on `day`: a B answer promises a date two to eleven months on (by
/// the suggestion's place in the year), a C answer names the condition it waits on. Returns the
/// payload and the promised date.
fn reply_payload(class: &str, answer: String, day: Date, i: usize) -> (Value, Option<Date>) {
    match class {
        "B" => {
            let promised = plus(day, 60 + 90 * (i % 4));
            let payload = json!({"classification": class, "answer": answer, "promised_by": promised.to_string()});
            (payload, Some(promised))
        }
        "C" => (
            json!({"classification": class, "answer": answer, "condition": "受资金和用地条件限制，待纳入下一年度预算后实施"}),
            None,
        ),
        _ => (json!({"classification": class, "answer": answer}), None),
    }
}

fn plus(day: Date, days: usize) -> Date {
    day.saturating_add(jiff::Span::new().days(days as i64))
}

/// A valid resident ID number (GB 11643) for a person of the banner.
fn id_number(rng: &mut Rng) -> String {
    let birth = plus(date(1950, 1, 1), rng.below(365 * 50));
    let body = format!(
        "150526{}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        rng.below(1000)
    );
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize])
}

fn person(rng: &mut Rng) -> Value {
    let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
    let prefix = ["3", "5", "8"][rng.below(3)];
    let phone = format!("1{prefix}{:09}", rng.next() % 1_000_000_000);
    json!({"name": name, "id_number": id_number(rng), "phone": phone, "address": format!("{}{}嘎查", rng.pick(TOWNS), rng.below(30) + 1)})
}

/// The web password of the demo users who get a token: a demo is for trying, and this is printed.
pub const DEMO_PASSWORD: &str = "Duban@2024";

/// Fills an empty database with the demo year and returns the demo logins with their tokens.
pub async fn run(
    store: SqlStore,
    workflows: Arc<Workflows>,
    calendar: Arc<Calendar>,
    plan: &Plan,
) -> Result<Vec<(String, String, String)>> {
    if !store
        .list(&CaseQuery::All, &Page::first(1))
        .await?
        .items
        .is_empty()
    {
        bail!(
            "the database already has cases; the demo fills an empty one (use a new --database-url)"
        );
    }
    let mut rng = Rng(plan.seed);
    let y = plan.year;

    // Organisations and people.
    for (code, name) in DEPARTMENTS {
        store
            .add_org(&Org {
                code: code.to_string(),
                kind: OrgKind::Department,
                name: name.to_string(),
            })
            .await?;
    }
    let station_count = plan.n(42.0).max(1);
    let mut stations = Vec::new();
    for i in 0..station_count {
        let town = TOWNS[i % TOWNS.len()];
        let (code, name) = if i % 2 == 0 {
            (format!("home-{i:02}"), format!("{town}人大代表之家"))
        } else {
            (
                format!("station-{i:02}"),
                format!("{town}第{}人大代表联络站", i / TOWNS.len() + 1),
            )
        };
        store
            .add_org(&Org {
                code: code.clone(),
                kind: OrgKind::Station,
                name,
            })
            .await?;
        stations.push(code);
    }
    store
        .add_org(&Org {
            code: "court".into(),
            kind: OrgKind::Court,
            name: "扎鲁特旗人民法院".into(),
        })
        .await?;
    let add_user = async |login: &str, role: Role, org: Option<&str>, name: String| -> Result<()> {
        store
            .add_user(&User {
                login: login.into(),
                role,
                org: org.map(str::to_string),
                name,
            })
            .await?;
        Ok(())
    };
    for (login, name) in LEADERS {
        add_user(login, Role::Leader, None, name.to_string()).await?;
    }
    for i in 1..=3 {
        add_user(
            &format!("staff{i}"),
            Role::Staff,
            None,
            format!("{}{}", SURNAMES[i], GIVEN[i]),
        )
        .await?;
    }
    for (code, name) in DEPARTMENTS {
        add_user(
            &format!("{code}-clerk"),
            Role::Department,
            Some(code),
            format!("{name}承办员"),
        )
        .await?;
    }
    let mut deputies = Vec::new();
    for (i, station) in stations.iter().enumerate() {
        let login = format!("deputy{:02}", i + 1);
        add_user(
            &login,
            Role::Deputy,
            Some(station),
            format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN)),
        )
        .await?;
        deputies.push((login, station.clone()));
    }
    let mediators: Vec<String> = (1..=8).map(|i| format!("mediator{i}")).collect();
    for m in &mediators {
        add_user(
            m,
            Role::Mediator,
            None,
            format!(
                "{}{}（人大代表调解员）",
                rng.pick(SURNAMES),
                rng.pick(GIVEN)
            ),
        )
        .await?;
    }
    add_user(
        "court-clerk",
        Role::Court,
        Some("court"),
        "法院立案庭书记员".into(),
    )
    .await?;
    add_user("auditor", Role::Auditor, None, "审计员".into()).await?;
    add_user("admin", Role::Admin, None, "系统管理员".into()).await?;

    // The plan: every case's steps, dated.
    let mut filings: Vec<Filing> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let session = date(y, 1, 16);

    // Suggestions from the people's congress session, all answered, the key ones implemented.
    let suggestions = plan.n(81.0);
    let key = plan.n(8.0).min(suggestions);
    for i in 0..suggestions {
        let (title, lead, co) = *rng.pick(SUGGESTIONS);
        let town = TOWNS[rng.below(TOWNS.len())];
        let title = title.replace("{town}", town);
        let (deputy, _) = rng.pick(&deputies).clone();
        let case = filings.len();
        let mut filing = json!({"title": title, "body": format!("{title}。具体内容见代表建议原件。"), "session": "第十七届人民代表大会第三次会议"});
        // One in three is a joint suggestion (联名), co-signed by another deputy, who rates
        // the reply too.
        let cosigner = (i % 3 == 1)
            .then(|| {
                (3..5)
                    .map(|k| &deputies[(i * 7 + k) % deputies.len()].0)
                    .find(|c| **c != deputy)
                    .cloned()
            })
            .flatten();
        if let Some(c) = &cosigner {
            filing["cosigners"] = json!([c]);
        }
        filings.push((
            "suggestion".into(),
            deputy.clone(),
            filing,
            at(plus(session, rng.below(3)), 9 + rng.below(8) as i8, 0),
        ));
        let registered = plus(session, 10 + rng.below(5));
        let assigned = plus(registered, 5 + rng.below(8));
        steps.push(Step {
            at: at(registered, 10, 0),
            case,
            action: "register".into(),
            who: "staff1".into(),
            payload: json!({}),
        });
        let mut assign = json!({"lead_department": lead});
        if let Some(co) = co {
            assign["co_departments"] = json!([co]);
        }
        steps.push(Step {
            at: at(assigned, 15, 0),
            case,
            action: "assign".into(),
            who: "staff2".into(),
            payload: assign,
        });
        let is_key = i < key;
        if is_key {
            let (leader, _) = LEADERS[i % LEADERS.len()];
            steps.push(Step {
                at: at(plus(assigned, 1), 9, 30),
                case,
                action: "mark_key".into(),
                who: "staff1".into(),
                payload: json!({"supervisor": leader}),
            });
            // The leader's supervision: an inspection, a forum with the department and the
            // deputy, and for every other one a supervision meeting, before the reply is due.
            let mut activities = vec![(15, "inspection"), (25, "forum")];
            if i % 2 == 0 {
                activities.push((28, "supervision_meeting"));
            }
            for (after, activity) in activities {
                let day = plus(assigned, after);
                steps.push(Step {
                    at: at(day, 15, 0),
                    case,
                    action: "record_supervision".into(),
                    who: leader.to_string(),
                    payload: json!({"activity": activity, "activity_on": day.to_string(),
                        "participants": "领衔督办领导、承办单位负责同志、提出建议的代表",
                        "notes": "听取办理情况汇报，实地查看，提出加快办理的要求。"}),
                });
            }
        }
        // The co-handler's opinion, due a month after the assignment: most within it, one in
        // six a few days late, or never if the lead department replies first.
        let co_opinion = co.map(|co| (co, plus(assigned, 10 + rng.below(15))));
        // Most answer within the three months; a few are late.
        let late = !is_key && rng.chance(0.08);
        let reply_day = plus(
            assigned,
            if late {
                95 + rng.below(20)
            } else {
                30 + rng.below(55)
            },
        );
        if let Some((co, day)) = co_opinion {
            let day = if i % 6 == 5 { plus(assigned, 33) } else { day };
            if day < reply_day {
                steps.push(Step {
                    at: at(day, 11, 0),
                    case,
                    action: "send_co_opinion".into(),
                    who: format!("{co}-clerk"),
                    payload: json!({"opinion": "同意主办单位办理意见，将积极配合。"}),
                });
            }
        }
        let class = if is_key {
            "A"
        } else {
            ["A", "A", "B", "B", "C", "D"][rng.below(6)]
        };
        let answer = format!("关于《{title}》的答复：已研究办理，具体措施如下……");
        let (reply, promised) = reply_payload(class, answer, reply_day, i);
        steps.push(Step {
            at: at(reply_day, 16, 0),
            case,
            action: "reply".into(),
            who: format!("{lead}-clerk"),
            payload: reply,
        });
        // The co-signer rates the reply before the lead deputy does: mostly 满意, now and then
        // 基本满意 or 不满意 (which staff are told of).
        if let Some(c) = &cosigner {
            let rating = [
                "satisfied",
                "satisfied",
                "basically_satisfied",
                "satisfied",
                "dissatisfied",
            ][i % 5];
            steps.push(Step {
                at: at(plus(reply_day, 2), 11, 0),
                case,
                action: "evaluate".into(),
                who: c.clone(),
                payload: json!({"rating": rating, "comment": "答复对群众关心的问题回应不够具体。"}),
            });
        }
        let rated = plus(reply_day, 5 + rng.below(10));
        let unhappy = !is_key && rng.chance(0.09);
        // 回头看: a rated B answer is followed to its promised date. Most promises due within
        // the year are reported delivered a few days before, one in four a few days late; the
        // rest (and the C answers, which wait on a condition) are still followed at the year's
        // end.
        let delivery = |promised: Option<Date>, after: Date| {
            let day = promised?;
            let day = if i % 4 == 1 {
                plus(day, 4)
            } else {
                day.saturating_sub(jiff::Span::new().days(3))
            };
            (day > after).then(|| Step {
                at: at(day, 15, 0),
                case,
                action: "report_delivery".into(),
                who: format!("{lead}-clerk"),
                payload: json!({"delivered_on": day.to_string(), "report": "承诺事项已完成，经实地查看，群众反映良好。"}),
            })
        };
        if unhappy {
            steps.push(Step { at: at(rated, 10, 0), case, action: "evaluate".into(), who: deputy.clone(), payload: json!({"rating": "dissatisfied", "comment": "答复过于笼统，未提出具体时间表"}) });
            let again = plus(rated, 10 + rng.below(18));
            let (reply, promised) = reply_payload(
                "B",
                "重新研究后，已列入年度计划并明确完成时限。".into(),
                again,
                i,
            );
            steps.push(Step {
                at: at(again, 16, 0),
                case,
                action: "reply".into(),
                who: format!("{lead}-clerk"),
                payload: reply,
            });
            steps.push(Step { at: at(plus(again, 6), 10, 0), case, action: "evaluate".into(), who: deputy.clone(), payload: json!({"rating": (if rng.chance(0.5) { "satisfied" } else { "basically_satisfied" })}) });
            steps.extend(delivery(promised, plus(again, 6)));
        } else {
            let rating = if is_key || rng.chance(0.8) {
                "satisfied"
            } else {
                "basically_satisfied"
            };
            steps.push(Step {
                at: at(rated, 10, 0),
                case,
                action: "evaluate".into(),
                who: deputy.clone(),
                payload: json!({"rating": rating}),
            });
            steps.extend(delivery(promised, rated));
        }
    }

    // Petitions taken on at stations: some resolved by the deputy, the others transferred.
    let petitions = plan.n(87.0);
    let direct = plan.n(48.0).min(petitions);
    let mut constituents: Vec<Value> = Vec::new();
    for i in 0..petitions {
        let (title, dept) = *rng.pick(PETITIONS);
        let town = TOWNS[rng.below(TOWNS.len())];
        let title = title.replace("{town}", town);
        let (deputy, station) = rng.pick(&deputies).clone();
        let filed = plus(date(y, 2, 1), rng.below(300));
        let case = filings.len();
        let mut constituent = person(&mut rng);
        // One petition in eleven is a person coming back (重复信访): the same constituent as
        // five petitions before, drawn after the new one so the random draws stay as they were.
        if i % 11 == 6 && i >= 5 {
            constituent = constituents[i - 5].clone();
        }
        constituents.push(constituent.clone());
        filings.push(("petition".into(), deputy.clone(), json!({"title": title, "body": format!("群众来访{title}，请求协调解决。"), "station": station, "constituent": constituent}), at(filed, 9 + rng.below(7) as i8, 30)));
        if i < direct {
            let done = plus(filed, 3 + rng.below(10));
            steps.push(Step {
                at: at(done, 15, 0),
                case,
                action: "resolve_directly".into(),
                who: deputy.clone(),
                payload: json!({"result": "经代表协调，相关问题已当场解决，群众表示认可。"}),
            });
            steps.push(Step { at: at(plus(done, 2), 10, 0), case, action: "record_satisfaction".into(), who: deputy.clone(), payload: json!({"rating": (if rng.chance(0.85) { "satisfied" } else { "basically_satisfied" })}) });
        } else {
            let sent = plus(filed, 2 + rng.below(6));
            steps.push(Step {
                at: at(sent, 11, 0),
                case,
                action: "transfer".into(),
                who: deputy.clone(),
                payload: json!({"lead_department": dept, "note": "请依法依规办理并反馈。"}),
            });
            // Transferred late in the year: still being handled at the year's end.
            if filed > date(y, 11, 20) {
                continue;
            }
            let accepted = plus(sent, 2 + rng.below(8));
            steps.push(Step {
                at: at(accepted, 10, 0),
                case,
                action: "accept".into(),
                who: format!("{dept}-clerk"),
                payload: json!({}),
            });
            // One petition in seven waits for an appraisal: the clock stops for eight days.
            if i % 7 == 3 {
                steps.push(Step {
                    at: at(plus(accepted, 4), 10, 0),
                    case,
                    action: "pause".into(),
                    who: format!("{dept}-clerk"),
                    payload: json!({"cause": "appraisal", "note": "委托第三方鉴定，鉴定期间不计入办理期限。"}),
                });
                steps.push(Step {
                    at: at(plus(accepted, 12), 10, 0),
                    case,
                    action: "resume".into(),
                    who: format!("{dept}-clerk"),
                    payload: json!({"note": "鉴定意见已送达。"}),
                });
            }
            let replied = plus(
                accepted,
                if rng.chance(0.1) {
                    62 + rng.below(15)
                } else {
                    15 + rng.below(40)
                },
            );
            steps.push(Step { at: at(replied, 16, 0), case, action: "reply".into(), who: format!("{dept}-clerk"), payload: json!({"result": "经调查核实，已督促落实，具体情况已书面告知。", "outcome": (["supported", "partly_supported", "not_supported"][rng.below(3)])}) });
            let rating = if rng.chance(0.12) {
                "dissatisfied"
            } else if rng.chance(0.7) {
                "satisfied"
            } else {
                "basically_satisfied"
            };
            steps.push(Step {
                at: at(plus(replied, 3), 10, 0),
                case,
                action: "record_satisfaction".into(),
                who: deputy.clone(),
                payload: if rating == "dissatisfied" {
                    json!({"rating": rating, "comment": "群众认为问题未实际解决"})
                } else {
                    json!({"rating": rating})
                },
            });
            if rating == "dissatisfied" {
                steps.push(Step {
                    at: at(plus(replied, 10), 10, 0),
                    case,
                    action: "request_review".into(),
                    who: deputy.clone(),
                    payload: json!({"reason": "群众对处理结果不满意，申请复查。"}),
                });
                steps.push(Step {
                    at: at(plus(replied, 30), 15, 0),
                    case,
                    action: "answer_review".into(),
                    who: format!("{dept}-clerk"),
                    payload: json!({"result": "经复查，维持原处理意见，并做好解释工作。"}),
                });
                // Every other one goes on to 复核 and ends final; the rest let it rest.
                if i % 2 == 0 {
                    steps.push(Step {
                        at: at(plus(replied, 40), 10, 0),
                        case,
                        action: "request_recheck".into(),
                        who: deputy.clone(),
                        payload: json!({"reason": "群众不服复查意见，申请复核。", "recheck_body": "qzf"}),
                    });
                    steps.push(Step {
                        at: at(plus(replied, 65), 15, 0),
                        case,
                        action: "answer_recheck".into(),
                        who: "qzf-clerk".into(),
                        payload: json!({"result": "经复核，维持复查意见。本信访事项终结。"}),
                    });
                } else {
                    steps.push(Step {
                        at: at(plus(replied, 61), 9, 30),
                        case,
                        action: "close_after_review".into(),
                        who: "staff1".into(),
                        payload: json!({"note": "期满未申请复核，办结。"}),
                    });
                }
            }
        }
    }

    // Pre-litigation mediation referred by the court.
    let mediations = plan.n(176.0);
    for _ in 0..mediations {
        let (dispute, title) = *rng.pick(DISPUTES);
        let filed = plus(date(y, 1, 8), rng.below(345));
        let case = filings.len();
        filings.push(("mediation".into(), "court-clerk".into(), json!({"title": format!("{}{}诉{}{}{}", rng.pick(SURNAMES), rng.pick(GIVEN), rng.pick(SURNAMES), rng.pick(GIVEN), title), "summary": format!("{title}，经法院引导同意诉前调解。"), "court": "court", "dispute_type": dispute, "amount_yuan": 1000 + rng.below(200_000), "applicant": person(&mut rng), "respondent": person(&mut rng)}), at(filed, 9, 0)));
        let mut mediator = rng.pick(&mediators).clone();
        let mut assigned = plus(filed, 1 + rng.below(3));
        steps.push(Step {
            at: at(assigned, 10, 0),
            case,
            action: "assign_mediators".into(),
            who: "court-clerk".into(),
            payload: json!({"mediators": [mediator]}),
        });
        // One referral in twelve is declined (the mediator knows a party), and the court names
        // another mediator the next day. Chosen by the case's place, so the random draws of
        // the rest of the year stay as they were.
        if case % 12 == 5 {
            steps.push(Step {
                at: at(plus(assigned, 1), 9, 0),
                case,
                action: "decline".into(),
                who: mediator.clone(),
                payload: json!({"reason": "与一方当事人系亲属，申请回避。"}),
            });
            let next = mediators.iter().position(|m| *m == mediator).unwrap_or(0) + 1;
            mediator = mediators[next % mediators.len()].clone();
            assigned = plus(assigned, 2);
            steps.push(Step {
                at: at(assigned, 10, 0),
                case,
                action: "assign_mediators".into(),
                who: "court-clerk".into(),
                payload: json!({"mediators": [mediator]}),
            });
        }
        steps.push(Step {
            at: at(plus(assigned, 1), 9, 0),
            case,
            action: "accept".into(),
            who: mediator.clone(),
            payload: json!({}),
        });
        if filed > date(y, 12, 10) {
            continue; // still being mediated at the year's end
        }
        let session_day = plus(assigned, 5 + rng.below(15));
        steps.push(Step { at: at(session_day, 14, 0), case, action: "record_session".into(), who: mediator.clone(), payload: json!({"held_on": session_day.to_string(), "notes": "组织双方当事人面对面调解，释法说理。"}) });
        let roll = rng.below(100);
        let outcome = if roll < 75 {
            "agreement"
        } else if roll < 95 {
            "failed"
        } else {
            "withdrawn"
        };
        let concluded = plus(session_day, 1 + rng.below(10));
        let confirm = outcome == "agreement" && rng.chance(0.5);
        steps.push(Step { at: at(concluded, 16, 0), case, action: "conclude".into(), who: mediator.clone(), payload: json!({"outcome": outcome, "judicial_confirmation": confirm, "notes": "调解结束。"}) });
        // The parties apply for judicial confirmation the next day and the court rules within
        // its 15 days; a failed mediation is filed for trial two days after it ended.
        let mut rated = plus(concluded, 3);
        if confirm {
            let applied = plus(concluded, 1);
            let ruled = plus(applied, 3 + case % 8);
            steps.push(Step {
                at: at(applied, 10, 0),
                case,
                action: "apply_confirmation".into(),
                who: mediator.clone(),
                payload: json!({"applied_on": applied.to_string()}),
            });
            let decision = if case.is_multiple_of(20) {
                "not_confirmed"
            } else {
                "confirmed"
            };
            steps.push(Step {
                at: at(ruled, 15, 0),
                case,
                action: "rule_on_confirmation".into(),
                who: "court-clerk".into(),
                payload: json!({"ruled_on": ruled.to_string(), "decision": decision}),
            });
            rated = plus(ruled, 2);
        } else if outcome == "failed" {
            let filed_on = plus(concluded, 2);
            steps.push(Step { at: at(filed_on, 9, 30), case, action: "return_for_filing".into(), who: "court-clerk".into(), payload: json!({"filed_on": filed_on.to_string(), "court_case_number": format!("（{y}）民初{}号", 1000 + case)}) });
        }
        steps.push(Step { at: at(rated, 10, 0), case, action: "evaluate".into(), who: "court-clerk".into(), payload: json!({"rating": (if rng.chance(0.85) { "satisfied" } else { "basically_satisfied" })}) });
    }

    // The committee's own supervision and the deputies' liaison work.
    supervision::deliberation(plan, &mut rng, &mut filings, &mut steps);
    supervision::livelihood(plan, &mut rng, &deputies, &mut filings, &mut steps);
    liaison::plan(plan, &mut rng, &deputies, &mut filings, &mut steps);

    // Act it all out in time order, firing reminders day by day as the scheduler would have.
    let clock = Arc::new(FixedClock(Mutex::new(at(date(y, 1, 1), 0, 0))));
    let service = Service::new(store.clone(), workflows.clone(), calendar, clock.clone());
    let scheduler = Scheduler::new(
        store.clone(),
        workflows,
        Vec::new(),
        Config {
            owner: "demo".into(),
            ..Config::default()
        },
    );
    let mut principals: BTreeMap<String, Principal> = BTreeMap::new();
    let mut who = async |login: &str| -> Result<Principal> {
        if let Some(p) = principals.get(login) {
            return Ok(p.clone());
        }
        let user = store
            .user(login)
            .await?
            .with_context(|| format!("demo user {login}"))?;
        let p = Principal { user };
        principals.insert(login.to_string(), p.clone());
        Ok(p)
    };
    enum Todo {
        File(usize),
        Act(usize),
    }
    let mut todo: Vec<(Timestamp, Todo)> = filings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.3, Todo::File(i)))
        .collect();
    todo.extend(steps.iter().enumerate().map(|(i, s)| (s.at, Todo::Act(i))));
    todo.sort_by_key(|(t, _)| *t);
    let mut ids: Vec<Option<String>> = vec![None; filings.len()];
    let mut last_day = date(y, 1, 1);
    let year_end = at(date(y, 12, 31), 23, 59);
    for (t, item) in todo {
        if t > year_end {
            continue;
        }
        let day = CHINA.to_datetime(t).date();
        while last_day < day {
            scheduler.tick(at(last_day, 23, 59)).await?;
            last_day = plus(last_day, 1);
        }
        *clock.0.lock().unwrap_or_else(|e| e.into_inner()) = t;
        match item {
            Todo::File(i) => {
                let (kind, filer, payload, _) = &filings[i];
                let p = who(filer).await?;
                let (detail, _) = service
                    .file(&p, kind, payload, None, None)
                    .await
                    .with_context(|| format!("demo: filing {kind}"))?;
                ids[i] = Some(detail.record.id);
            }
            Todo::Act(i) => {
                let s = &steps[i];
                let Some(id) = ids[s.case].clone() else {
                    continue;
                };
                let p = who(&s.who).await?;
                let version = store.case(&id).await?.map(|r| r.case.version).unwrap_or(0);
                service
                    .act(&p, &id, &s.action, &s.payload, version, None)
                    .await
                    .with_context(|| format!("demo: {} on {id}", s.action))?;
            }
        }
    }
    while last_day <= date(y, 12, 31) {
        scheduler.tick(at(last_day, 23, 59)).await?;
        last_day = plus(last_day, 1);
    }

    // Tokens and a password for one person in each role, to try the API and the web pages
    // straight away.
    let demo_hash = duban_service::hash_password(DEMO_PASSWORD);
    let mut logins = Vec::new();
    for (login, role) in [
        ("zhuren", "leader"),
        ("staff1", "staff"),
        ("deputy01", "deputy"),
        ("jtj-clerk", "department"),
        ("mediator1", "mediator"),
        ("court-clerk", "court"),
        ("auditor", "auditor"),
        ("admin", "admin"),
    ] {
        let (token, id) = duban_service::new_token();
        store
            .add_token(
                &id,
                login,
                &duban_service::hash_token(&token),
                Timestamp::now(),
                None,
            )
            .await?;
        duban_storage::Accounts::set_password(&store, login, &demo_hash, Timestamp::now(), None)
            .await?;
        logins.push((role.to_string(), login.to_string(), token));
    }
    Ok(logins)
}
