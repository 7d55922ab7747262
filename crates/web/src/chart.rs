//! Bar charts drawn by the server as SVG: no script, nothing fetched, readable on a phone.

use maud::{Markup, html};

/// One bar: a label, a rate from 0 to 1 (or none when there is nothing to rate), and the
/// counts behind it, shown beside the bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub rate: Option<f64>,
    pub detail: String,
}

/// A horizontal bar chart of rates, 0–100 %, the worst first (what needs attention is on
/// top; nothing to rate goes last), each bar's counts written under it: a printed page and a
/// phone cannot hover.
pub fn rates(title: &str, bars: &[Bar]) -> Markup {
    let mut bars = bars.to_vec();
    bars.sort_by(|a, b| match (a.rate, b.rate) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.label.cmp(&b.label)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.label.cmp(&b.label),
    });
    const ROW: usize = 40;
    const LABEL: usize = 120;
    const WIDTH: usize = 360;
    let plot = WIDTH - LABEL - 70;
    let height = ROW * bars.len().max(1) + 10;
    html! {
        figure.chart {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}"))
                role="img" aria-label=(title) {
                @if bars.is_empty() {
                    text x="0" y="18" { "暂无数据" }
                }
                @for (i, b) in bars.iter().enumerate() {
                    @let y = i * ROW + 4;
                    @let w = b.rate.map_or(0.0, |r| r.clamp(0.0, 1.0) * plot as f64);
                    @let class = match b.rate {
                        Some(r) if r >= 0.9 => "good",
                        Some(r) if r >= 0.7 => "fair",
                        Some(_) => "poor",
                        None => "none",
                    };
                    text x=(LABEL - 6) y=(y + 15) text-anchor="end" { (short(&b.label, 8)) }
                    rect x=(LABEL) y=(y) width=(plot) height="18" class="track" {}
                    rect x=(LABEL) y=(y) width=(format!("{w:.1}")) height="18" class=(class) {
                        title { (b.label) "：" (b.detail) }
                    }
                    text x=(LABEL + plot + 6) y=(y + 15) {
                        (b.rate.map_or("—".to_string(), |r| format!("{:.0}%", r * 100.0)))
                    }
                    text.bar-count x=(LABEL) y=(y + 31) font-size="10" { (b.detail) }
                }
            }
        }
    }
}

/// At most `n` characters, with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_their_rate_and_labelled() {
        let svg = rates(
            "按期答复率",
            &[
                Bar {
                    label: "县交通运输局".into(),
                    rate: Some(0.5),
                    detail: "1/2".into(),
                },
                Bar {
                    label: "县财政局".into(),
                    rate: None,
                    detail: "无".into(),
                },
            ],
        )
        .into_string();
        assert!(svg.contains(r#"width="85.0""#), "half of 170: {svg}");
        assert!(svg.contains("50%"));
        assert!(svg.contains("—"));
        assert!(svg.contains("县交通运输局"));
        assert!(
            svg.contains("1/2"),
            "counts are written out, not hidden in a hover"
        );
    }

    #[test]
    fn the_worst_comes_first_and_nothing_to_rate_last() {
        let bar = |label: &str, rate| Bar {
            label: label.into(),
            rate,
            detail: String::new(),
        };
        let svg = rates(
            "t",
            &[bar("甲", Some(0.9)), bar("乙", None), bar("丙", Some(0.5))],
        )
        .into_string();
        let at = |s: &str| svg.find(s).unwrap_or(usize::MAX);
        assert!(at("丙") < at("甲") && at("甲") < at("乙"), "{svg}");
    }
}
