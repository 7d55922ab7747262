//! The deputies' liaison work in the demo year (社情民意): what they heard receiving constituents
//! at their deputy homes and on village visits, at the seed's scale of 4,200 people received,
//! 385 opinions collected and 564 things done.

use jiff::civil::date;
use serde_json::json;

use super::data::{TOWNS, VOICES};
use super::rng::Rng;
use super::{Filing, Plan, Step, at, plus};

/// Each record is a visit: the deputy files it with the people received there; an opinion is
/// resolved by the deputy directly or referred to its department, a request for help resolved
/// directly; then the deputy closes it. The figures are the records': the people received are
/// shared out among the visits so that they add up to the seed's total.
pub(super) fn plan(
    plan: &Plan,
    rng: &mut Rng,
    deputies: &[(String, String)],
    filings: &mut Vec<Filing>,
    steps: &mut Vec<Step>,
) {
    let y = plan.year;
    let opinions = plan.n(385.0);
    let deeds = plan.n(564.0);
    let opinions_direct = plan.n(230.0).min(opinions).min(deeds);
    let help = deeds - opinions_direct;
    let records = opinions + help;
    let people = plan.n(4200.0).max(records);
    let opinion_voices: Vec<_> = VOICES.iter().filter(|v| v.1 == "opinion").collect();
    let help_voices: Vec<_> = VOICES.iter().filter(|v| v.1 == "help").collect();
    for i in 0..records {
        let is_opinion = i < opinions;
        let (title, category, dept) = if is_opinion {
            **rng.pick(&opinion_voices)
        } else {
            **rng.pick(&help_voices)
        };
        let town = TOWNS[rng.below(TOWNS.len())];
        let (deputy, station) = rng.pick(deputies).clone();
        let visited = plus(date(y, 1, 10), rng.below(330));
        let village = i % 3 != 0;
        let place = if village {
            format!("{town}{}嘎查（社区）", 1 + rng.below(20))
        } else {
            format!("{town}人大代表之家")
        };
        let received = people / records + usize::from(i < people % records);
        let case = filings.len();
        filings.push((
            "liaison".into(),
            deputy.clone(),
            json!({"title": title.replace("{town}", town),
            "body": "代表接待走访时群众反映，已记录。", "category": category,
            "visit": if village { "village" } else { "station" }, "place": place,
            "visited_on": visited.to_string(), "received": received, "station": station}),
            at(plus(visited, 1), 9, 30),
        ));
        let mut step = |day, hour, action: &str, who: &str, payload| {
            steps.push(Step {
                at: at(day, hour, 0),
                case,
                action: action.into(),
                who: who.into(),
                payload,
            });
        };
        let direct = !is_opinion || i < opinions_direct;
        let handled = if direct {
            let done = plus(visited, 3 + rng.below(8));
            step(
                done,
                15,
                "resolve",
                &deputy,
                json!({"done": "协调有关方面当场解决，群众表示满意。"}),
            );
            done
        } else {
            let sent = plus(visited, 2 + rng.below(4));
            step(
                sent,
                11,
                "refer",
                &deputy,
                json!({"lead_department": dept, "note": "请研究办理并反馈。"}),
            );
            let replied = plus(sent, 7 + rng.below(20));
            step(
                replied,
                16,
                "reply",
                &format!("{dept}-clerk"),
                json!({"result": "已研究办理，情况已向代表反馈。"}),
            );
            replied
        };
        step(
            plus(handled, 1 + rng.below(3)),
            10,
            "conclude",
            &deputy,
            json!({}),
        );
    }
}
