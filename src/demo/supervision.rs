//! The committee's own supervision in the demo year: the opinions on the four special work
//! reports the seed names (审议意见), and the livelihood projects the deputies voted for
//! (民生实事), each acted out step by step like every other case.

use jiff::civil::date;
use serde_json::json;

use super::data::{LEADERS, PROJECTS, SPECIAL_REPORTS};
use super::rng::Rng;
use super::{Filing, Plan, Step, at, plus};

/// The committee's members present to vote on a handling report (常委会组成人员).
const MEMBERS: usize = 27;
/// The deputies of the people's congress, all of whom count for a project's vote.
const DEPUTIES: usize = 200;

/// The opinions in turn from each report, so that every report keeps some at a small scale.
fn opinions() -> Vec<(usize, usize)> {
    let most = SPECIAL_REPORTS.iter().map(|r| r.2.len()).max().unwrap_or(0);
    (0..most)
        .flat_map(|o| (0..SPECIAL_REPORTS.len()).map(move |r| (r, o)))
        .filter(|(r, o)| *o < SPECIAL_REPORTS[*r].2.len())
        .collect()
}

/// 审议意见: 22 at scale 1 (the seed's "20余条"), assigned, their handling reported and voted on
/// at a later meeting; one in seven voted unsatisfactory and followed (跟踪督办). Those of the
/// autumn's report are still being handled at the year's end.
pub(super) fn deliberation(
    plan: &Plan,
    rng: &mut Rng,
    filings: &mut Vec<Filing>,
    steps: &mut Vec<Step>,
) {
    let y = plan.year;
    let all = opinions();
    for j in 0..plan.n(22.0) {
        let (r, o) = all[j % all.len()];
        let (report, (month, day), items) = SPECIAL_REPORTS[r];
        let (title, dept) = items[o];
        let deliberated = date(y, month, day);
        let case = filings.len();
        let mut filing = json!({"title": title, "body": format!("常委会组成人员审议{report}，提出以下意见：……"),
            "report": report, "deliberated_on": deliberated.to_string()});
        let supervisor = (o == 0).then(|| LEADERS[1 + r % (LEADERS.len() - 1)].0);
        if let Some(leader) = supervisor {
            filing["supervisor"] = json!(leader);
        }
        filings.push((
            "deliberation".into(),
            "staff1".into(),
            filing,
            at(plus(deliberated, 5), 10, 0),
        ));
        let assigned = plus(deliberated, 12);
        let clerk = format!("{dept}-clerk");
        let mut step = |day, hour, action: &str, who: &str, payload| {
            steps.push(Step {
                at: at(day, hour, 0),
                case,
                action: action.into(),
                who: who.into(),
                payload,
            });
        };
        step(
            assigned,
            15,
            "assign",
            "staff2",
            json!({"lead_department": dept}),
        );
        if let Some(leader) = supervisor {
            step(
                plus(assigned, 30),
                15,
                "record_supervision",
                leader,
                json!({"activity": "inspection", "note": "实地查看整改落实情况，听取承办单位汇报。"}),
            );
        }
        // Most report within the two months; one in nine late.
        let reported = plus(assigned, if j % 9 == 4 { 66 } else { 35 + rng.below(20) });
        step(
            reported,
            16,
            "report_handling",
            &clerk,
            json!({"result": "已逐条研究，制定整改措施并明确责任单位和完成时限。"}),
        );
        // Heard at the committee meeting about three months on.
        let meeting = plus(reported, 90 + rng.below(10));
        step(
            plus(reported, 5),
            10,
            "schedule",
            "staff1",
            json!({"meeting_on": meeting.to_string()}),
        );
        let present = MEMBERS - rng.below(3);
        if j % 7 == 2 {
            // Not more than half satisfied or basically satisfied: followed for two months.
            let follow_up_by = plus(meeting, 60);
            step(
                meeting,
                15,
                "satisfaction_vote",
                "staff1",
                json!({"members": MEMBERS, "satisfied": 5,
                "basically_satisfied": 7, "dissatisfied": present - 12, "verdict": "dissatisfied",
                "follow_up_by": follow_up_by.to_string()}),
            );
            step(
                follow_up_by.saturating_sub(jiff::Span::new().days(10)),
                16,
                "report_follow_up",
                &clerk,
                json!({"result": "针对测评意见逐项整改，已完成。"}),
            );
            step(
                plus(follow_up_by, 5),
                10,
                "conclude",
                "staff1",
                json!({"note": "跟踪督办事项已落实。"}),
            );
        } else {
            let satisfied = 16 + rng.below(6);
            let basically = 4 + rng.below(3);
            step(
                meeting,
                15,
                "satisfaction_vote",
                "staff1",
                json!({"members": MEMBERS, "satisfied": satisfied,
                "basically_satisfied": basically, "dissatisfied": present.saturating_sub(satisfied + basically),
                "verdict": "satisfied"}),
            );
        }
    }
}

/// 民生实事: 18 proposals at scale 1, 14 shortlisted, 11 voted through at the session (the
/// seed's eleven) and the rest voted down; each carried out by its department, reported on
/// every quarter, evaluated at mid-year and year's end, and closed in December.
pub(super) fn livelihood(
    plan: &Plan,
    rng: &mut Rng,
    deputies: &[(String, String)],
    filings: &mut Vec<Filing>,
    steps: &mut Vec<Step>,
) {
    let y = plan.year;
    let proposed = plan.n(18.0);
    let shortlisted = plan.n(14.0).min(proposed);
    let adopted = plan.n(11.0).min(shortlisted);
    for i in 0..proposed {
        let (name, dept, budget) = PROJECTS[i % PROJECTS.len()];
        let case = filings.len();
        let (who, source) = if i % 3 == 2 {
            ("staff1".to_string(), "public")
        } else {
            (deputies[(i * 5) % deputies.len()].0.clone(), "deputy")
        };
        filings.push((
            "livelihood".into(),
            who,
            json!({"title": name, "body": format!("{name}：项目内容、实施地点和预期效果……"),
            "source": source, "budget_yuan": budget}),
            at(date(y, 1, 2 + (i % 5) as i8), 10, 0),
        ));
        let clerk = format!("{dept}-clerk");
        let mut step = |day, hour, action: &str, who: &str, payload| {
            steps.push(Step {
                at: at(day, hour, 0),
                case,
                action: action.into(),
                who: who.into(),
                payload,
            });
        };
        if i >= shortlisted {
            step(
                date(y, 1, 10),
                10,
                "set_aside",
                "staff1",
                json!({"reason": "经政府常务会议研究，暂不具备实施条件。"}),
            );
            continue;
        }
        step(date(y, 1, 10), 10, "shortlist", "staff1", json!({}));
        let votes_for = if i < adopted {
            150 + rng.below(40)
        } else {
            70 + rng.below(30)
        };
        let against = (DEPUTIES - votes_for) / 2;
        step(
            date(y, 1, 16),
            15,
            "congress_vote",
            "staff1",
            json!({"session": "第十七届人民代表大会第三次会议",
            "members": DEPUTIES, "votes_for": votes_for, "votes_against": against,
            "abstentions": DEPUTIES - votes_for - against - rng.below(5),
            "result": if i < adopted { "adopted" } else { "rejected" }}),
        );
        if i >= adopted {
            continue;
        }
        let mut start = json!({"lead_department": dept, "milestones": "4月开工，9月主体完工，11月底前验收",
            "complete_by": date(y, 11, 30).to_string()});
        if i < LEADERS.len() {
            start["supervisor"] = json!(LEADERS[i].0);
        }
        step(date(y, 2, 20), 10, "start", "staff2", start);
        for (month, day, percent) in [(5, 8, 30), (8, 5, 70), (11, 3, 100)] {
            step(
                date(y, month, day),
                16,
                "report_progress",
                &clerk,
                json!({"progress": "按计划推进，各节点均已完成。", "percent": percent}),
            );
        }
        let review = |satisfied: usize| {
            json!({"members": 45, "satisfied": satisfied,
            "basically_satisfied": 42 - satisfied, "dissatisfied": 2, "note": "代表实地查看项目现场并测评。"})
        };
        step(
            date(y, 7, 10),
            15,
            "midyear_review",
            "staff1",
            review(28 + rng.below(8)),
        );
        step(
            date(y, 12, 10),
            15,
            "year_end_review",
            "staff1",
            review(33 + rng.below(8)),
        );
        step(
            date(y, 12, 20),
            10,
            "complete",
            "staff1",
            json!({"note": "项目已竣工验收，投入使用。"}),
        );
    }
}
