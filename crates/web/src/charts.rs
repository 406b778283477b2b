//! Chart geometry for server-rendered SVG. Handlers compute rectangles here;
//! templates only draw them, so charts need no JavaScript and no CDN.

/// One bar of a vertical bar chart.
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub value_text: String,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub class: &'static str,
    /// Where the bar's link goes (a filtered vendor list), if anywhere.
    pub href: String,
}

pub struct BarChart {
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub baseline: u32,
    pub bars: Vec<Bar>,
}

pub struct BarInput {
    pub label: String,
    pub value: i64,
    pub class: &'static str,
    pub href: String,
}

const CHART_HEIGHT: u32 = 180;
const LABEL_SPACE: u32 = 34;
const TOP_SPACE: u32 = 18;

pub fn bar_chart(
    title: String,
    items: Vec<BarInput>,
    value_text: impl Fn(i64) -> String,
) -> BarChart {
    let slot = 64u32;
    let width = (items.len() as u32 * slot).max(slot) + 16;
    let max = items.iter().map(|i| i.value).max().unwrap_or(0).max(1);
    let plot = CHART_HEIGHT - LABEL_SPACE - TOP_SPACE;
    let baseline = CHART_HEIGHT - LABEL_SPACE;
    let bars = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let height = ((item.value.max(0) as f64 / max as f64) * f64::from(plot)).round() as u32;
            let height = if item.value > 0 { height.max(2) } else { 0 };
            Bar {
                value_text: value_text(item.value),
                label: item.label,
                value: item.value,
                x: 8 + i as u32 * slot + 10,
                y: baseline - height,
                width: slot - 20,
                height,
                class: item.class,
                href: item.href,
            }
        })
        .collect();
    BarChart {
        title,
        width,
        height: CHART_HEIGHT,
        baseline,
        bars,
    }
}

/// One segment of a horizontal stacked bar.
pub struct Segment {
    pub x: u32,
    pub width: u32,
    pub class: &'static str,
    pub value: i64,
    pub title: String,
}

pub struct StackedRow {
    pub label: String,
    pub y: u32,
    pub text_y: u32,
    pub segments: Vec<Segment>,
}

pub struct StackedChart {
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub label_width: u32,
    pub rows: Vec<StackedRow>,
    pub legend: Vec<(String, &'static str, u32)>,
    pub legend_y: u32,
}

pub struct StackedInput {
    pub label: String,
    /// (value, css class, tooltip prefix)
    pub parts: Vec<(i64, &'static str, String)>,
}

pub fn stacked_chart(
    title: String,
    rows: Vec<StackedInput>,
    legend: Vec<(String, &'static str)>,
) -> StackedChart {
    let label_width = 130u32;
    let plot = 360u32;
    let row_height = 24u32;
    let total_max = rows
        .iter()
        .map(|r| r.parts.iter().map(|p| p.0.max(0)).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let rows_out: Vec<StackedRow> = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let y = 8 + i as u32 * row_height;
            let mut x = label_width;
            let segments = row
                .parts
                .into_iter()
                .map(|(value, class, title)| {
                    let width =
                        ((value.max(0) as f64 / total_max as f64) * f64::from(plot)).round() as u32;
                    let seg = Segment {
                        x,
                        width,
                        class,
                        value,
                        title: format!("{title}: {value}"),
                    };
                    x += width;
                    seg
                })
                .collect();
            StackedRow {
                label: row.label,
                y,
                text_y: y + 14,
                segments,
            }
        })
        .collect();
    let legend_y = 8 + rows_out.len() as u32 * row_height + 14;
    let legend = legend
        .into_iter()
        .enumerate()
        .map(|(i, (label, class))| (label, class, label_width + i as u32 * 90))
        .collect();
    StackedChart {
        title,
        width: label_width + plot + 20,
        height: legend_y + 16,
        label_width,
        rows: rows_out,
        legend,
        legend_y,
    }
}

pub fn tier_class(tier: mamori_domain::Tier) -> &'static str {
    match tier {
        mamori_domain::Tier::Low => "t-low",
        mamori_domain::Tier::Moderate => "t-moderate",
        mamori_domain::Tier::High => "t-high",
        mamori_domain::Tier::Critical => "t-critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallest_bar_fills_the_plot_and_zero_is_flat() {
        let chart = bar_chart(
            "t".into(),
            vec![
                BarInput {
                    label: "a".into(),
                    value: 10,
                    class: "x",
                    href: String::new(),
                },
                BarInput {
                    label: "b".into(),
                    value: 0,
                    class: "x",
                    href: String::new(),
                },
                BarInput {
                    label: "c".into(),
                    value: 5,
                    class: "x",
                    href: String::new(),
                },
            ],
            |v| v.to_string(),
        );
        assert_eq!(chart.bars[0].y + chart.bars[0].height, chart.baseline);
        assert_eq!(chart.bars[1].height, 0);
        assert!(chart.bars[0].height > chart.bars[2].height);
    }

    #[test]
    fn stacked_segments_are_contiguous() {
        let chart = stacked_chart(
            "t".into(),
            vec![StackedInput {
                label: "r".into(),
                parts: vec![(3, "a", "A".into()), (1, "b", "B".into())],
            }],
            vec![],
        );
        let s = &chart.rows[0].segments;
        assert_eq!(s[0].x + s[0].width, s[1].x);
    }
}
