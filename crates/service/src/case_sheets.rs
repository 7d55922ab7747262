//! The annual workbook's sheet per kind: every case of the year, one row each, with the number
//! people quote, the deputy, the department, the dates that matter (filed, assigned, answered,
//! closed), the answer's class and the rating, read from its history. Personal data is never
//! in it: the history keeps persons masked, and no person field is a column.

use duban_core::deadline::china_date;
use duban_core::labels;
use duban_core::machine::Event;
use duban_storage::CaseHistory;
use serde_json::Value;

use super::*;
use crate::xlsx::{Cell, Table};

/// What a history says of one case, for its row.
#[derive(Debug, Default)]
struct Line<'a> {
    filer: Option<&'a str>,
    handlers: Vec<String>,
    assigned: Option<Timestamp>,
    answered: Option<(Timestamp, &'a str)>,
    rating: Option<&'a str>,
    closed: Option<Timestamp>,
}

fn line(events: &[Event]) -> Line<'_> {
    let mut l = Line::default();
    for e in events {
        if l.filer.is_none() {
            l.filer = e
                .sets
                .get(party::FILER)
                .and_then(|f| f.first())
                .map(String::as_str)
                .or(Some(e.actor.user.as_str()));
        }
        // Whoever handles it: the lead department, or the mediators.
        for p in [party::LEAD_DEPARTMENT, party::MEDIATORS] {
            if let Some(who) = e.sets.get(p) {
                l.handlers = who.clone();
                l.assigned.get_or_insert(e.at);
            }
        }
        // The answer's class: a suggestion's A–D, a petition's or a mediation's outcome.
        if let Some(class) = ["classification", "outcome"]
            .iter()
            .find_map(|f| e.payload.get(*f).and_then(Value::as_str))
        {
            l.answered = Some((e.at, class));
        }
        if let Some(r) = e.payload.get("rating").and_then(Value::as_str) {
            l.rating = Some(r);
        }
        if e.closed {
            l.closed = Some(e.at);
        }
    }
    l
}

/// The sheet of `wf`'s cases of the year, names shown by `name`.
pub fn table(wf: &Workflow, cases: &[CaseHistory], name: &dyn Fn(&str) -> String) -> Table {
    let day = |t: Option<Timestamp>| Cell::from(t.map(china_date));
    let rows = cases
        .iter()
        .map(|c| {
            let l = line(&c.events);
            let state = c
                .events
                .last()
                .and_then(|e| wf.state(&e.to_state))
                .map_or("", |s| s.title.as_str());
            vec![
                Cell::from(c.number.clone().unwrap_or_default()),
                Cell::from(c.title.as_str()),
                Cell::from(l.filer.map(name).unwrap_or_default()),
                Cell::from(
                    l.handlers
                        .iter()
                        .map(|h| name(h))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                day(c.events.first().map(|e| e.at)),
                day(l.assigned),
                day(l.answered.map(|(at, _)| at)),
                Cell::from(l.answered.map_or("", |(_, class)| labels::value(class))),
                Cell::from(l.rating.map_or("", labels::value)),
                day(l.closed),
                Cell::from(state),
            ]
        })
        .collect();
    Table {
        name: wf.title.clone(),
        headers: [
            "编号",
            "标题",
            "提出人",
            "承办单位（调解员）",
            "登记日期",
            "交办日期",
            "答复日期",
            "答复类别（结果）",
            "评价",
            "办结日期",
            "状态",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

impl<S: Store + Audit> Service<S> {
    /// A sheet per kind listing the year's cases, kinds in the report's order.
    #[tracing::instrument(skip_all)]
    pub async fn case_sheets(
        &self,
        year: i16,
        names: &BTreeMap<String, String>,
    ) -> Result<Vec<Table>> {
        let name = |c: &str| names.get(c).cloned().unwrap_or_else(|| c.to_string());
        let mut workflows: Vec<&Workflow> = self.workflows.iter().collect();
        workflows.sort_by_key(|wf| kind::report_order(&wf.kind));
        let mut out = Vec::new();
        for wf in workflows {
            let cases = self.store.histories(&wf.kind, year).await?;
            out.push(table(wf, &cases, &name));
        }
        Ok(out)
    }
}
