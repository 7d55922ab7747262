//! Deadline arithmetic by the Civil Code's counting rules (民法典 Arts. 200–204).
//!
//! - The day the period starts is not counted (Art. 201): counting begins the next day.
//! - A period in months ends on the corresponding day of the last month, or on that month's last
//!   day when it has no corresponding day (Art. 202).
//! - A last day that is a public holiday rolls to the day after the holiday ends (Art. 203); by
//!   the calendar's setting (on by default) an ordinary weekend rest day rolls too, while a
//!   make-up working day (调休) is a working day and does not.
//! - A period ends at 24:00 of its last day (Art. 203), China time (UTC+8).
//!
//! Every deadline carries an explanation a person can check against a paper calendar.

use std::fmt;

use jiff::civil::Date;
use jiff::tz::Offset;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, DayKind, weekday_zh};

/// China Standard Time. China has kept UTC+8 without daylight saving since 1991, so a fixed
/// offset is exact and spares us a time-zone database.
pub const CHINA: Offset = Offset::constant(8);

/// The calendar date in China at an instant.
pub fn china_date(at: Timestamp) -> Date {
    CHINA.to_datetime(at).date()
}

/// The last day, China time, that a window ending at `end` (the first instant after it, as a
/// deadline's `due_at` is) still covers: a window ending at 24:00 on 09-18 covers 09-18.
pub fn last_day_before(end: Timestamp) -> Date {
    china_date(
        end.checked_sub(jiff::SignedDuration::from_millis(1))
            .unwrap_or(end),
    )
}

/// How a period is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Natural (calendar) days.
    Days,
    /// Working days by the holiday calendar, make-up working days included.
    WorkingDays,
    /// Calendar months.
    Months,
}

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        match s {
            "days" => Some(Unit::Days),
            "working_days" => Some(Unit::WorkingDays),
            "months" => Some(Unit::Months),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Days => "days",
            Unit::WorkingDays => "working_days",
            Unit::Months => "months",
        }
    }
}

/// A length of time such as "3 months" or "15 working days".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub amount: u32,
    pub unit: Unit,
}

impl Period {
    pub fn new(amount: u32, unit: Unit) -> Self {
        Self { amount, unit }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            Unit::Days => "日",
            Unit::WorkingDays => "个工作日",
            Unit::Months => "个月",
        };
        write!(f, "{}{}", self.amount, unit)
    }
}

/// A computed deadline: the last day, the instant it ends, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The last day of the period.
    pub due_date: Date,
    /// The instant the period ends: 24:00 China time on `due_date`.
    pub due_at: Timestamp,
    /// True when a day that mattered lies in a year with no published holiday arrangement, so
    /// the date was counted on weekends alone and may move once the notice is loaded.
    pub provisional: bool,
    /// The counting, step by step, in Chinese.
    pub explanation: String,
}

impl Deadline {
    /// A deadline set directly to a date (an approved extension), explained by `why`.
    pub fn on_date(due_date: Date, calendar: &Calendar, why: String) -> Deadline {
        Deadline {
            due_date,
            due_at: end_of_day(due_date),
            provisional: !calendar.knows_year(due_date.year()),
            explanation: why,
        }
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        now >= self.due_at
    }
}

/// 24:00 China time on `date`, which is 00:00 of the next day.
pub fn end_of_day(date: Date) -> Timestamp {
    let next = date.tomorrow().unwrap_or(date);
    // Midnight in a fixed offset always exists and is unambiguous; only the far edge of the
    // representable range can fail.
    CHINA
        .to_timestamp(next.to_datetime(jiff::civil::Time::midnight()))
        .unwrap_or(Timestamp::MAX)
}

fn show(date: Date) -> String {
    format!("{date}（{}）", weekday_zh(date))
}

/// Groups consecutive dates carrying the same label into "a至b" runs for explanations.
fn runs(days: &[(Date, String)]) -> Vec<String> {
    let mut out: Vec<(Date, Date, String)> = Vec::new();
    for (d, label) in days {
        if let Some(last) = out.last_mut()
            && last.2 == *label
            && last.1.tomorrow().ok() == Some(*d)
        {
            last.1 = *d;
            continue;
        }
        out.push((*d, *d, label.clone()));
    }
    out.into_iter()
        .map(|(a, b, label)| {
            if a == b {
                format!("{}{label}", show(a))
            } else {
                format!("{}至{}{label}", show(a), show(b))
            }
        })
        .collect()
}

/// Counts `period` from the instant `from` (whose China date is the start day, not counted).
pub fn due(calendar: &Calendar, from: Timestamp, period: Period) -> Deadline {
    due_from_date(calendar, china_date(from), period)
}

/// Counts `period` from the start day `start` (not counted).
pub fn due_from_date(calendar: &Calendar, start: Date, period: Period) -> Deadline {
    let mut provisional_years = std::collections::BTreeSet::new();
    let mut note = |d: Date| {
        if !calendar.knows_year(d.year()) {
            provisional_years.insert(d.year());
        }
    };
    let mut text = format!("自{}起算{}（起算日当日不计入）", show(start), period);
    let last = match period.unit {
        Unit::Days | Unit::Months => {
            let span = if period.unit == Unit::Days {
                i64::from(period.amount).days()
            } else {
                i64::from(period.amount).months()
            };
            // jiff clamps a month addition to the month's last day (2024-11-30 + 3 months =
            // 2025-02-28), which is exactly Art. 202.
            let nominal = start.saturating_add(span);
            text.push_str(&format!("，期间最后一日为{}", show(nominal)));
            if period.unit == Unit::Months && nominal.day() != start.day() {
                text.push_str("（到期月无对应日，以月末日为最后一日）");
            }
            let mut last = nominal;
            let mut skipped = Vec::new();
            loop {
                note(last);
                let kind = calendar.day_kind(last);
                let rolls = match &kind {
                    DayKind::Holiday(name) => Some(format!("{name}假期")),
                    DayKind::Weekend if calendar.roll_over_weekends => Some("休息日".to_string()),
                    _ => None,
                };
                match rolls {
                    Some(label) => {
                        skipped.push((last, label));
                        last = last.saturating_add(1.day());
                    }
                    None => break,
                }
            }
            if !skipped.is_empty() {
                text.push_str(&format!(
                    "；{}，顺延至{}",
                    runs(&skipped).join("、"),
                    show(last)
                ));
            } else if calendar.day_kind(last) == DayKind::MakeUpWorkday {
                text.push_str("（调休上班日，不顺延）");
            }
            last
        }
        Unit::WorkingDays => {
            let mut counted = 0;
            let mut day = start;
            let mut make_up = Vec::new();
            let mut skipped = Vec::new();
            while counted < period.amount {
                day = day.saturating_add(1.day());
                note(day);
                match calendar.day_kind(day) {
                    DayKind::Workday => counted += 1,
                    DayKind::MakeUpWorkday => {
                        counted += 1;
                        make_up.push((day, "调休上班".to_string()));
                    }
                    DayKind::Holiday(name) => skipped.push((day, format!("{name}假期"))),
                    DayKind::Weekend => skipped.push((day, "休息日".to_string())),
                }
            }
            if !make_up.is_empty() {
                text.push_str(&format!("；计入{}", runs(&make_up).join("、")));
            }
            let holidays: Vec<_> = skipped
                .into_iter()
                .filter(|(_, label)| label != "休息日")
                .collect();
            if !holidays.is_empty() {
                text.push_str(&format!("；不计{}", runs(&holidays).join("、")));
            }
            text.push_str(&format!("；第{}个工作日为{}", period.amount, show(day)));
            day
        }
    };
    text.push_str("，截止于该日24:00（北京时间）");
    let provisional = !provisional_years.is_empty();
    if provisional {
        let years: Vec<String> = provisional_years.iter().map(|y| y.to_string()).collect();
        text.push_str(&format!(
            "。{}年的节假日安排尚未载入，仅按周末计算，此期限为暂定",
            years.join("、")
        ));
    }
    text.push('。');
    Deadline {
        due_date: last,
        due_at: end_of_day(last),
        provisional,
        explanation: text,
    }
}

/// The last day `last` of a period counted in `unit`, moved later for a pause from the China
/// date `paused` to `resumed`: by as many days as the pause lasted, or by as many working days
/// for a period in working days, then rolled over a holiday as any last day is. Returns the
/// moved day and the length of the pause as the explanation states it.
pub fn moved_by_pause(
    calendar: &Calendar,
    last: Date,
    unit: Unit,
    paused: Date,
    resumed: Date,
) -> (Date, String) {
    let days = u32::try_from((resumed - paused).get_days()).unwrap_or(0);
    let (amount, by, length) = match unit {
        Unit::WorkingDays => {
            let mut working = 0;
            let mut day = paused;
            while day < resumed {
                day = day.saturating_add(1.day());
                working += u32::from(calendar.is_working_day(day));
            }
            (
                working,
                Unit::WorkingDays,
                format!("{days}日（其中{working}个工作日）"),
            )
        }
        Unit::Days | Unit::Months => (days, Unit::Days, format!("{days}日")),
    };
    let moved = if amount == 0 {
        last
    } else {
        due_from_date(calendar, last, Period::new(amount, by)).due_date
    };
    (moved, length)
}

/// The deadline `d` of a period counted in `unit`, paused on the China date `paused` and
/// resumed on `resumed`: the days in between are not counted (鉴定、听证 and the like), so its
/// last day moves as [`moved_by_pause`] says, and the explanation gains the sentence that says
/// so.
pub fn resumed(
    calendar: &Calendar,
    d: &Deadline,
    unit: Unit,
    paused: Date,
    resumed: Date,
) -> Deadline {
    let (last, length) = moved_by_pause(calendar, d.due_date, unit, paused, resumed);
    let explanation = format!(
        "{}；{}中止计算，{}恢复计算，中止期间{length}不计入，期间最后一日由{}顺延至{}，截止于该日24:00（北京时间）。",
        d.explanation.trim_end_matches('。'),
        show(paused),
        show(resumed),
        show(d.due_date),
        show(last)
    );
    Deadline {
        due_date: last,
        due_at: end_of_day(last),
        provisional: d.provisional || !calendar.knows_year(last.year()),
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> Calendar {
        Calendar::builtin()
    }

    /// The statutory examples from the issue and more, each checked against a paper calendar.
    #[test]
    fn periods_end_on_the_days_the_civil_code_gives() {
        let m = |n| Period::new(n, Unit::Months);
        let d = |n| Period::new(n, Unit::Days);
        let w = |n| Period::new(n, Unit::WorkingDays);
        let table = [
            // 3 months from 2024-09-30 → 2024-12-30, a Monday: nothing to roll.
            (date(2024, 9, 30), m(3), date(2024, 12, 30)),
            // No 2025-02-30: the month's last day.
            (date(2024, 11, 30), m(3), date(2025, 2, 28)),
            // 2024-10-01 is National Day: rolls past the holiday to 10-08.
            (date(2024, 7, 1), m(3), date(2024, 10, 8)),
            // Sun 09-29 is a make-up working day; Oct 1–7 are holidays.
            (date(2024, 9, 27), w(3), date(2024, 10, 8)),
            // Leap year: 2024-02-29 exists.
            (date(2023, 11, 29), m(3), date(2024, 2, 29)),
            // 15 days from 2024-01-20 → Mon 2024-02-04? No: 02-04 is a Sunday make-up workday.
            (date(2024, 1, 20), d(15), date(2024, 2, 4)),
            // 15 days from 2024-01-27 → 02-11, inside Spring Festival (02-10..02-17) → 02-18,
            // a Sunday that is a make-up working day, so it stops there.
            (date(2024, 1, 27), d(15), date(2024, 2, 18)),
            // A plain Saturday last day rolls to Monday.
            (date(2024, 3, 1), d(15), date(2024, 3, 18)),
            // 60 days from 2025-08-02 → 2025-10-01, in the 8-day holiday → 10-09.
            (date(2025, 8, 2), d(60), date(2025, 10, 9)),
            // 1 month from 2026-01-31 → 2026-02-28, a make-up working Saturday: no roll.
            (date(2026, 1, 31), m(1), date(2026, 2, 28)),
            // 30 days from 2026-01-24 → 2026-02-23, last day of Spring Festival → 02-24.
            (date(2026, 1, 24), d(30), date(2026, 2, 24)),
            // 5 working days over New Year 2026: 01-01..03 off, Sun 01-04 works.
            (date(2025, 12, 31), w(5), date(2026, 1, 8)),
            // 0 days from a Friday is that Friday.
            (date(2024, 9, 27), d(0), date(2024, 9, 27)),
        ];
        let cal = cal();
        for (start, period, want) in table {
            let got = due_from_date(&cal, start, period);
            assert_eq!(
                got.due_date, want,
                "{period} from {start}: {}",
                got.explanation
            );
            assert!(!got.provisional, "{start} {period}");
        }
    }

    #[test]
    fn a_weekend_last_day_stays_when_the_setting_is_off() {
        let mut cal = cal();
        cal.roll_over_weekends = false;
        let got = due_from_date(&cal, date(2024, 3, 1), Period::new(15, Unit::Days));
        assert_eq!(got.due_date, date(2024, 3, 16));
        // Holidays still roll: the Civil Code requires it regardless of the setting.
        let got = due_from_date(&cal, date(2024, 7, 1), Period::new(3, Unit::Months));
        assert_eq!(got.due_date, date(2024, 10, 8));
    }

    #[test]
    fn the_explanation_names_the_rule_and_the_holidays_that_moved_it() {
        let got = due_from_date(&cal(), date(2024, 7, 1), Period::new(3, Unit::Months));
        assert!(
            got.explanation.contains("自2024-07-01（周一）起算3个月"),
            "{}",
            got.explanation
        );
        assert!(
            got.explanation
                .contains("2024-10-01（周二）至2024-10-07（周一）国庆节假期"),
            "{}",
            got.explanation
        );
        assert!(
            got.explanation.contains("顺延至2024-10-08（周二）"),
            "{}",
            got.explanation
        );

        let got = due_from_date(&cal(), date(2024, 9, 27), Period::new(3, Unit::WorkingDays));
        assert!(
            got.explanation.contains("计入2024-09-29（周日）调休上班"),
            "{}",
            got.explanation
        );
        assert!(
            got.explanation
                .contains("不计2024-10-01（周二）至2024-10-07（周一）国庆节假期"),
            "{}",
            got.explanation
        );
    }

    #[test]
    fn a_deadline_in_a_year_without_data_is_provisional_not_a_crash() {
        let got = due_from_date(&cal(), date(2026, 12, 1), Period::new(3, Unit::Months));
        // 2027-03-01 is a Monday; with no 2027 file only weekends count.
        assert_eq!(got.due_date, date(2027, 3, 1));
        assert!(got.provisional);
        assert!(
            got.explanation.contains("2027年的节假日安排尚未载入"),
            "{}",
            got.explanation
        );
        // Far beyond any data, and at the edge of the representable range: still no panic.
        let far = due_from_date(&cal(), date(9999, 12, 1), Period::new(3, Unit::Months));
        assert!(far.provisional);
    }

    #[test]
    fn a_period_ends_at_midnight_china_time() {
        let got = due_from_date(&cal(), date(2024, 9, 30), Period::new(3, Unit::Months));
        assert_eq!(got.due_at.to_string(), "2024-12-30T16:00:00Z");
        let before: Timestamp = "2024-12-30T15:59:59Z".parse().unwrap();
        assert!(!got.is_overdue(before));
        assert!(got.is_overdue(got.due_at));
    }

    #[test]
    fn the_start_day_is_the_china_date_of_the_instant() {
        // 2024-09-29T17:00Z is already 2024-09-30 01:00 in Beijing.
        let at: Timestamp = "2024-09-29T17:00:00Z".parse().unwrap();
        assert_eq!(
            due(&cal(), at, Period::new(3, Unit::Months)).due_date,
            date(2024, 12, 30)
        );
    }

    #[test]
    fn a_pause_in_working_days_moves_the_last_day_by_the_working_days_paused() {
        // 3 working days from Fri 2024-09-27: Sun 09-29 (调休), Mon 09-30, then 10-08.
        let d = due_from_date(&cal(), date(2024, 9, 27), Period::new(3, Unit::WorkingDays));
        assert_eq!(d.due_date, date(2024, 10, 8));
        // Paused 09-27 to 09-30: Sat 09-28 is rest, Sun 09-29 and Mon 09-30 are working days,
        // so two working days are not counted: 10-09, 10-10.
        let r = resumed(
            &cal(),
            &d,
            Unit::WorkingDays,
            date(2024, 9, 27),
            date(2024, 9, 30),
        );
        assert_eq!(r.due_date, date(2024, 10, 10));
        assert!(
            r.explanation.contains("中止期间3日（其中2个工作日）不计入"),
            "{}",
            r.explanation
        );
        // Paused over a weekend alone: no working day lost, the last day stays.
        let r = resumed(
            &cal(),
            &d,
            Unit::WorkingDays,
            date(2024, 9, 20),
            date(2024, 9, 22),
        );
        assert_eq!(r.due_date, date(2024, 10, 8));
        // Resumed the day it was paused: nothing moves.
        let r = resumed(&cal(), &d, Unit::Days, date(2024, 9, 27), date(2024, 9, 27));
        assert_eq!(r.due_date, d.due_date);
    }
}
