//! China's working-day calendar: public holidays and make-up working days (调休) from yearly files.
//!
//! The data comes from the State Council's yearly notices and lives in
//! `workflows/calendars/cn-YYYY.toml`, never in Rust: a new year needs a new file, not a release.
//! A date in a year with no file is judged by weekends alone and flagged, so that deadlines
//! reaching into it can be marked provisional instead of failing.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};

use crate::diagnostic::{Diagnostics, FileDiagnostics, Source};
use crate::tomlread::{self, Located};

/// The calendar files shipped with Duban, compiled into the binary.
pub const BUILTIN_CALENDARS: &[Source<'static>] = &[
    Source {
        name: "workflows/calendars/cn-2024.toml",
        text: include_str!("../../../workflows/calendars/cn-2024.toml"),
    },
    Source {
        name: "workflows/calendars/cn-2025.toml",
        text: include_str!("../../../workflows/calendars/cn-2025.toml"),
    },
    Source {
        name: "workflows/calendars/cn-2026.toml",
        text: include_str!("../../../workflows/calendars/cn-2026.toml"),
    },
];

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayKind {
    /// An ordinary Monday to Friday.
    Workday,
    /// A Saturday or Sunday that the year's notice makes a working day (调休上班).
    MakeUpWorkday,
    /// A public holiday (including weekend days inside a holiday run), with its name.
    Holiday(String),
    /// An ordinary Saturday or Sunday.
    Weekend,
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::MakeUpWorkday)
    }
}

/// One year's arrangement as published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayYear {
    pub year: i16,
    /// Where the dates come from (the notice's title and number).
    pub source: String,
    pub holidays: BTreeMap<Date, String>,
    pub make_up_workdays: BTreeSet<Date>,
}

/// The working-day calendar used to count deadlines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i16, HolidayYear>,
    /// Whether a period whose last day is an ordinary weekend rest day rolls forward to the next
    /// working day. The Civil Code (Art. 203) rolls past 法定休假日; courts and most regulations
    /// read that to include weekend rest days, so this defaults to on.
    pub roll_over_weekends: bool,
}

impl Default for Calendar {
    fn default() -> Self {
        Self {
            years: BTreeMap::new(),
            roll_over_weekends: true,
        }
    }
}

impl Calendar {
    /// The calendar built from the shipped yearly files.
    pub fn builtin() -> Self {
        // The shipped files are tested to load; failing here would mean a broken build.
        Self::load(BUILTIN_CALENDARS)
            .unwrap_or_else(|d| panic!("shipped calendars are invalid:\n{d}"))
    }

    /// Loads yearly files, reporting every problem in every file at once.
    pub fn load(sources: &[Source<'_>]) -> Result<Self, Diagnostics> {
        let mut cal = Calendar::default();
        let mut problems = Vec::new();
        let mut seen_in: BTreeMap<i16, String> = BTreeMap::new();
        for source in sources {
            let mut diags = FileDiagnostics::new(source);
            if let Some(year) = parse_year(source, &mut diags) {
                if let Some(other) = seen_in.get(&year.year) {
                    diags.at_line(
                        0,
                        format!("year {} is already defined in {other}", year.year),
                    );
                } else {
                    seen_in.insert(year.year, source.name.to_string());
                    if diags.found.is_empty() {
                        cal.years.insert(year.year, year);
                    }
                }
            }
            problems.extend(diags.found);
        }
        if problems.is_empty() {
            Ok(cal)
        } else {
            Err(Diagnostics(problems))
        }
    }

    /// The years that have published data.
    pub fn years(&self) -> impl Iterator<Item = &HolidayYear> {
        self.years.values()
    }

    /// Whether `date`'s year has published data; if not, judgements about it are provisional.
    pub fn knows_year(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    pub fn day_kind(&self, date: Date) -> DayKind {
        if let Some(year) = self.years.get(&date.year()) {
            if let Some(name) = year.holidays.get(&date) {
                return DayKind::Holiday(name.clone());
            }
            if year.make_up_workdays.contains(&date) {
                return DayKind::MakeUpWorkday;
            }
        }
        if is_weekend(date) {
            DayKind::Weekend
        } else {
            DayKind::Workday
        }
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        self.day_kind(date).is_working()
    }
}

pub(crate) fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The Chinese name of a weekday, as shown in explanations: 周一 … 周日.
pub fn weekday_zh(date: Date) -> &'static str {
    match date.weekday() {
        Weekday::Monday => "周一",
        Weekday::Tuesday => "周二",
        Weekday::Wednesday => "周三",
        Weekday::Thursday => "周四",
        Weekday::Friday => "周五",
        Weekday::Saturday => "周六",
        Weekday::Sunday => "周日",
    }
}

fn parse_year(source: &Source<'_>, diags: &mut FileDiagnostics<'_>) -> Option<HolidayYear> {
    let doc = tomlread::parse(source, diags)?;
    let top = doc.get_ref();
    let top_span = 0..0;
    tomlread::check_keys(
        top,
        "",
        &["year", "source", "holidays", "make_up_workdays"],
        diags,
    );
    let year_value = tomlread::count(top, "year", "", diags);
    let Some(Located {
        value: year,
        line: year_line,
    }) = year_value
    else {
        if tomlread::get(top, "year").is_none() {
            diags.at(&top_span, "missing `year`");
        }
        return None;
    };
    let Ok(year) = i16::try_from(year) else {
        diags.at_line(year_line, format!("`year` {year} is out of range"));
        return None;
    };
    let mut out = HolidayYear {
        year,
        source: tomlread::string(top, "source", "", diags)
            .map(|s| s.value)
            .unwrap_or_default(),
        ..HolidayYear::default()
    };
    for (i, (t, span)) in tomlread::tables(top, "holidays", "", diags)
        .into_iter()
        .enumerate()
    {
        let path = format!("holidays[{i}]");
        tomlread::check_keys(t, &path, &["name", "from", "to"], diags);
        let name = tomlread::required_string(t, &span, "name", &path, diags);
        let from = required_date(t, &span, "from", &path, diags);
        let to = required_date(t, &span, "to", &path, diags);
        let (Some(name), Some(from), Some(to)) = (name, from, to) else {
            continue;
        };
        for d in [&from, &to] {
            if d.value.year() != year {
                diags.at_line(d.line, format!("{} is not in {year}", d.value));
            }
        }
        if from.value > to.value {
            diags.at_line(
                from.line,
                format!("holiday `{}` ends before it starts", name.value),
            );
            continue;
        }
        let mut day = from.value;
        while day <= to.value {
            if out.holidays.insert(day, name.value.clone()).is_some() {
                diags.at_line(from.line, format!("{day} is listed in two holidays"));
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
    }
    if let Some(v) = tomlread::get(top, "make_up_workdays") {
        match v.get_ref().as_array() {
            Some(items) => {
                for item in items.iter() {
                    let Some(d) = tomlread::date_value(item, "make_up_workdays", diags) else {
                        continue;
                    };
                    if d.value.year() != year {
                        diags.at_line(d.line, format!("{} is not in {year}", d.value));
                    } else if !is_weekend(d.value) {
                        diags.at_line(
                            d.line,
                            format!(
                                "make-up working day {} is a {}, not a weekend day",
                                d.value,
                                weekday_zh(d.value)
                            ),
                        );
                    } else if out.holidays.contains_key(&d.value) {
                        diags.at_line(
                            d.line,
                            format!("{} is both a holiday and a make-up working day", d.value),
                        );
                    } else {
                        out.make_up_workdays.insert(d.value);
                    }
                }
            }
            None => diags.at(&v.span(), "`make_up_workdays` must be a list of dates"),
        }
    }
    Some(out)
}

fn required_date(
    t: &tomlread::Table<'_>,
    span: &std::ops::Range<usize>,
    key: &str,
    path: &str,
    diags: &mut FileDiagnostics<'_>,
) -> Option<Located<Date>> {
    match tomlread::get(t, key) {
        Some(v) => tomlread::date_value(v, &tomlread::join(path, key), diags),
        None => {
            diags.at(span, format!("missing `{}`", tomlread::join(path, key)));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_shipped_calendars_load() {
        let cal = Calendar::builtin();
        assert!(cal.knows_year(2024) && cal.knows_year(2025) && cal.knows_year(2026));
        assert!(!cal.knows_year(2027));
    }

    #[test]
    fn days_are_classified_by_the_published_arrangement() {
        let cal = Calendar::builtin();
        let cases = [
            (date(2024, 10, 1), DayKind::Holiday("国庆节".into())),
            (date(2024, 10, 5), DayKind::Holiday("国庆节".into())),
            (date(2024, 9, 29), DayKind::MakeUpWorkday),
            (date(2024, 9, 28), DayKind::Weekend),
            (date(2024, 9, 27), DayKind::Workday),
            (date(2025, 1, 26), DayKind::MakeUpWorkday),
            (date(2026, 2, 23), DayKind::Holiday("春节".into())),
            (date(2026, 10, 10), DayKind::MakeUpWorkday),
            (date(2027, 1, 1), DayKind::Workday),
            (date(2027, 1, 2), DayKind::Weekend),
        ];
        for (d, want) in cases {
            assert_eq!(cal.day_kind(d), want, "{d}");
        }
    }

    #[test]
    fn a_bad_calendar_file_reports_every_problem_with_its_line() {
        let text = "year = 2024\nholidays = [\n  { name = \"x\", from = 2024-01-02, to = 2024-01-01 },\n  { name = \"y\", from = 2023-12-31, to = 2024-01-01, extra = 1 },\n]\nmake_up_workdays = [2024-02-05]\n";
        let err = Calendar::load(&[Source {
            name: "cn-2024.toml",
            text,
        }])
        .unwrap_err();
        let lines: Vec<(usize, &str)> =
            err.0.iter().map(|d| (d.line, d.message.as_str())).collect();
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 3 && m.contains("ends before it starts")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 4 && m.contains("unknown key `extra`")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 4 && m.contains("not in 2024")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 6 && m.contains("not a weekend day")),
            "{lines:?}"
        );
    }
}
