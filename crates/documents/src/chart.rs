//! Accessible inline SVG charts of availability rates, readable without
//! JavaScript and without CSS.
//!
//! Two shapes serve the SLA page: bars (one per Paris day of a month) and a
//! line (one point per month, a month without data left as a gap). Both draw
//! the guaranteed rate as a dashed line. Accessibility: the `<svg>` is a
//! `role="img"` labelled by its `<title>` and `<desc>`; every bar and point
//! carries its own `<title>` with the exact figure (read by screen readers,
//! shown as a tooltip); axis ticks and x labels are real `<text>`. Colours
//! and strokes are presentation attributes, so the chart draws the same with
//! the page's stylesheet missing. Coordinates are computed with decimals
//! (never floats) and written with one decimal place.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::xml::XmlOut;

/// One bar or point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// Under the x axis: "1", "2"... or "2026-04".
    pub label: String,
    /// A rate in percent; `None` draws nothing (a gap), e.g. a month without data.
    pub value: Option<Decimal>,
    /// The figure in words, for the element's `<title>` (screen readers, tooltip).
    pub title: String,
}

/// A chart to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// Unique within the page (the `<title>` and `<desc>` ids derive from it).
    pub id: String,
    pub title: String,
    pub desc: String,
    pub points: Vec<Point>,
    pub guaranteed: Decimal,
    /// "guaranteed 99.90 %", drawn beside the guaranteed line.
    pub guaranteed_label: String,
    /// Ticks written "99,5" rather than "99.5".
    pub decimal_comma: bool,
}

const WIDTH: i64 = 680;
const HEIGHT: i64 = 260;
const LEFT: i64 = 56;
const RIGHT: i64 = 12;
const TOP: i64 = 16;
const BOTTOM: i64 = 36;
const BAR: &str = "#2b6cb0";
const MISSED: &str = "#c53030";
const GUARANTEE: &str = "#2f855a";
const AXIS: &str = "#4a5568";

/// The lowest rate shown: the largest of 99.5, 99, 98, 95, 90, 50, 0 below
/// every value and the guaranteed rate, so the interesting band fills the chart.
pub fn floor_of(chart: &Chart) -> Decimal {
    let lowest = chart
        .points
        .iter()
        .filter_map(|p| p.value)
        .chain([chart.guaranteed])
        .min()
        .unwrap_or(Decimal::ONE_HUNDRED);
    ["99.5", "99", "98", "95", "90", "50", "0"]
        .iter()
        .filter_map(|s| s.parse::<Decimal>().ok())
        .find(|f| *f < lowest)
        .unwrap_or(Decimal::ZERO)
}

fn fmt1(d: Decimal) -> String {
    format!(
        "{:.1}",
        d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    )
}

fn tick(d: Decimal, comma: bool) -> String {
    let s = d.normalize().to_string();
    if comma { s.replace('.', ",") } else { s }
}

struct Frame {
    floor: Decimal,
    slot: Decimal,
}

impl Frame {
    fn new(chart: &Chart) -> Self {
        let n = i64::try_from(chart.points.len().max(1)).unwrap_or(1);
        Frame {
            floor: floor_of(chart),
            slot: Decimal::from(WIDTH - LEFT - RIGHT) / Decimal::from(n),
        }
    }
    /// y of a rate, clamped to [floor, 100].
    fn y(&self, v: Decimal) -> Decimal {
        let v = v.clamp(self.floor, Decimal::ONE_HUNDRED);
        let span = Decimal::ONE_HUNDRED - self.floor;
        let h = Decimal::from(HEIGHT - TOP - BOTTOM);
        Decimal::from(TOP) + h * (Decimal::ONE_HUNDRED - v) / span
    }
    /// x of the left edge of slot `i`.
    fn x(&self, i: usize) -> Decimal {
        Decimal::from(LEFT) + self.slot * Decimal::from(i as u64)
    }
}

/// Opens the `<svg>` with its title, description, axes, ticks and the
/// guaranteed line; the caller draws the data and closes it.
fn open(out: &mut XmlOut, chart: &Chart, f: &Frame) {
    let (tid, did) = (format!("{}-title", chart.id), format!("{}-desc", chart.id));
    let labelled = format!("{tid} {did}");
    let view = format!("0 0 {WIDTH} {HEIGHT}");
    out.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("id", &chart.id),
            ("role", "img"),
            ("aria-labelledby", &labelled),
            ("viewBox", &view),
            // As wide as its container (a phone's screen too), the height
            // following the view box's proportions.
            ("width", "100%"),
            ("font-family", "sans-serif"),
            ("font-size", "11"),
        ],
    );
    out.leaf_with("title", &[("id", &tid)], &chart.title);
    out.leaf_with("desc", &[("id", &did)], &chart.desc);
    let base = fmt1(f.y(f.floor));
    let (l, r) = (LEFT.to_string(), (WIDTH - RIGHT).to_string());
    out.empty_with(
        "line",
        &[
            ("x1", &l),
            ("y1", &base),
            ("x2", &r),
            ("y2", &base),
            ("stroke", AXIS),
        ],
    );
    let top = TOP.to_string();
    out.empty_with(
        "line",
        &[
            ("x1", &l),
            ("y1", &top),
            ("x2", &l),
            ("y2", &base),
            ("stroke", AXIS),
        ],
    );
    let tx = (LEFT - 4).to_string();
    for v in [f.floor, Decimal::ONE_HUNDRED] {
        let y = fmt1(f.y(v) + Decimal::from(4));
        out.leaf_with(
            "text",
            &[
                ("x", &tx),
                ("y", &y),
                ("text-anchor", "end"),
                ("fill", AXIS),
            ],
            &format!("{} %", tick(v, chart.decimal_comma)),
        );
    }
    let gy = fmt1(f.y(chart.guaranteed));
    out.empty_with(
        "line",
        &[
            ("x1", &l),
            ("y1", &gy),
            ("x2", &r),
            ("y2", &gy),
            ("stroke", GUARANTEE),
            ("stroke-width", "1.5"),
            ("stroke-dasharray", "6 4"),
            ("data-guaranteed", &chart.guaranteed.normalize().to_string()),
        ],
    );
    let gty = fmt1(f.y(chart.guaranteed) - Decimal::from(3));
    out.leaf_with(
        "text",
        &[
            ("x", &r),
            ("y", &gty),
            ("text-anchor", "end"),
            ("fill", GUARANTEE),
        ],
        &chart.guaranteed_label,
    );
}

fn x_label(out: &mut XmlOut, f: &Frame, i: usize, label: &str) {
    let x = fmt1(f.x(i) + f.slot / Decimal::TWO);
    let y = (HEIGHT - BOTTOM + 14).to_string();
    out.leaf_with(
        "text",
        &[
            ("x", &x),
            ("y", &y),
            ("text-anchor", "middle"),
            ("fill", AXIS),
            ("font-size", "9"),
        ],
        label,
    );
}

/// One bar per point (a day of a month), from the floor up to its rate; a
/// bar below the guaranteed rate is drawn in red.
pub fn bars(chart: &Chart) -> String {
    let f = Frame::new(chart);
    let mut out = XmlOut::fragment();
    open(&mut out, chart, &f);
    let base = f.y(f.floor);
    let gap = f.slot / Decimal::from(5);
    let width = fmt1(f.slot - gap);
    for (i, p) in chart.points.iter().enumerate() {
        if let Some(v) = p.value {
            let y = f.y(v);
            let (x, y_s, h) = (fmt1(f.x(i) + gap / Decimal::TWO), fmt1(y), fmt1(base - y));
            let fill = if v < chart.guaranteed { MISSED } else { BAR };
            out.open(
                "rect",
                &[
                    ("x", &x),
                    ("y", &y_s),
                    ("width", &width),
                    ("height", &h),
                    ("fill", fill),
                    ("data-value", &v.normalize().to_string()),
                ],
            );
            out.leaf("title", &p.title);
            out.close("rect");
        }
        x_label(&mut out, &f, i, &p.label);
    }
    out.close("svg");
    out.finish_fragment()
}

/// One point per entry (a month), joined by a line within each run of
/// months with data: a month without data is a gap, never a zero.
pub fn line(chart: &Chart) -> String {
    let f = Frame::new(chart);
    let mut out = XmlOut::fragment();
    open(&mut out, chart, &f);
    let centre = |i: usize| fmt1(f.x(i) + f.slot / Decimal::TWO);
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut XmlOut| {
        if run.len() > 1 {
            out.empty_with(
                "polyline",
                &[
                    ("points", &run.join(" ")),
                    ("fill", "none"),
                    ("stroke", BAR),
                    ("stroke-width", "2"),
                ],
            );
        }
        run.clear();
    };
    for (i, p) in chart.points.iter().enumerate() {
        match p.value {
            Some(v) => run.push(format!("{},{}", centre(i), fmt1(f.y(v)))),
            None => flush(&mut run, &mut out),
        }
    }
    flush(&mut run, &mut out);
    for (i, p) in chart.points.iter().enumerate() {
        if let Some(v) = p.value {
            let fill = if v < chart.guaranteed { MISSED } else { BAR };
            out.open(
                "circle",
                &[
                    ("cx", &centre(i)),
                    ("cy", &fmt1(f.y(v))),
                    ("r", "4"),
                    ("fill", fill),
                    ("data-value", &v.normalize().to_string()),
                ],
            );
            out.leaf("title", &p.title);
            out.close("circle");
        }
        x_label(&mut out, &f, i, &p.label);
    }
    out.close("svg");
    out.finish_fragment()
}

/// One series of a traffic chart (a direction), one value per slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// Shown in the legend and the line's `<title>`.
    pub label: String,
    pub colour: &'static str,
    /// `None` draws a gap (no reading in that slot).
    pub values: Vec<Option<Decimal>>,
}

/// A horizontal reference line (the 95th percentile, the flat tier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub value: Decimal,
    pub label: String,
    pub colour: &'static str,
}

/// A month of traffic (R2.8): one line per direction from 0 up, with the
/// percentile and the flat tier as dashed lines; x labels at chosen slots
/// (e.g. the first hour of each day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficChart {
    pub id: String,
    pub title: String,
    pub desc: String,
    /// "Mbit/s", written after the top tick.
    pub unit: String,
    pub series: Vec<Series>,
    pub levels: Vec<Level>,
    /// (slot index, label) under the x axis.
    pub x_labels: Vec<(usize, String)>,
    pub decimal_comma: bool,
}

/// Colours of the two directions and of the percentile line.
pub const IN_COLOUR: &str = BAR;
pub const OUT_COLOUR: &str = "#b7791f";
pub const LEVEL_COLOUR: &str = MISSED;
pub const FLAT_COLOUR: &str = GUARANTEE;

/// The top of the y axis: the smallest 1, 2 or 5 × 10^k at or above every
/// value and level (at least 1).
pub fn traffic_top(chart: &TrafficChart) -> Decimal {
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .chain(chart.levels.iter().map(|l| &l.value))
        .copied()
        .max()
        .unwrap_or(Decimal::ZERO);
    let mut step = Decimal::ONE;
    loop {
        for m in [1u32, 2, 5] {
            let top = step * Decimal::from(m);
            if top >= max {
                return top;
            }
        }
        step *= Decimal::TEN;
    }
}

/// Draws a traffic chart (accessible inline SVG, no script, no CSS).
pub fn traffic(chart: &TrafficChart) -> String {
    let top = traffic_top(chart);
    let n = chart
        .series
        .iter()
        .map(|s| s.values.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = Decimal::from(WIDTH - LEFT - RIGHT) / Decimal::from(n as u64);
    let h = Decimal::from(HEIGHT - TOP - BOTTOM);
    let y = |v: Decimal| Decimal::from(TOP) + h * (top - v.clamp(Decimal::ZERO, top)) / top;
    let x = |i: usize| Decimal::from(LEFT) + slot * Decimal::from(i as u64) + slot / Decimal::TWO;
    let mut out = XmlOut::fragment();
    let (tid, did) = (format!("{}-title", chart.id), format!("{}-desc", chart.id));
    let labelled = format!("{tid} {did}");
    let view = format!("0 0 {WIDTH} {HEIGHT}");
    out.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("id", &chart.id),
            ("role", "img"),
            ("aria-labelledby", &labelled),
            ("viewBox", &view),
            ("width", "100%"),
            ("font-family", "sans-serif"),
            ("font-size", "11"),
        ],
    );
    out.leaf_with("title", &[("id", &tid)], &chart.title);
    out.leaf_with("desc", &[("id", &did)], &chart.desc);
    let base = fmt1(y(Decimal::ZERO));
    let (l, r) = (LEFT.to_string(), (WIDTH - RIGHT).to_string());
    out.empty_with(
        "line",
        &[
            ("x1", &l),
            ("y1", &base),
            ("x2", &r),
            ("y2", &base),
            ("stroke", AXIS),
        ],
    );
    let t = TOP.to_string();
    out.empty_with(
        "line",
        &[
            ("x1", &l),
            ("y1", &t),
            ("x2", &l),
            ("y2", &base),
            ("stroke", AXIS),
        ],
    );
    let tx = (LEFT - 4).to_string();
    for (v, unit) in [(Decimal::ZERO, ""), (top, chart.unit.as_str())] {
        let ty = fmt1(y(v) + Decimal::from(4));
        let text = format!("{} {unit}", tick(v, chart.decimal_comma));
        out.leaf_with(
            "text",
            &[
                ("x", &tx),
                ("y", &ty),
                ("text-anchor", "end"),
                ("fill", AXIS),
            ],
            text.trim_end(),
        );
    }
    for s in &chart.series {
        let mut run: Vec<String> = Vec::new();
        let mut runs: Vec<String> = Vec::new();
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => run.push(format!("{},{}", fmt1(x(i)), fmt1(y(*v)))),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run).join(" ")),
                None => {}
            }
        }
        if !run.is_empty() {
            runs.push(run.join(" "));
        }
        for points in runs {
            out.open(
                "polyline",
                &[
                    ("points", &points),
                    ("fill", "none"),
                    ("stroke", s.colour),
                    ("stroke-width", "1"),
                ],
            );
            out.leaf("title", &s.label);
            out.close("polyline");
        }
    }
    for lv in &chart.levels {
        let ly = fmt1(y(lv.value));
        out.empty_with(
            "line",
            &[
                ("x1", &l),
                ("y1", &ly),
                ("x2", &r),
                ("y2", &ly),
                ("stroke", lv.colour),
                ("stroke-width", "1.5"),
                ("stroke-dasharray", "6 4"),
                ("data-value", &lv.value.normalize().to_string()),
            ],
        );
        let lty = fmt1(y(lv.value) - Decimal::from(3));
        out.leaf_with(
            "text",
            &[
                ("x", &r),
                ("y", &lty),
                ("text-anchor", "end"),
                ("fill", lv.colour),
            ],
            &lv.label,
        );
    }
    let ly = (HEIGHT - BOTTOM + 14).to_string();
    for (i, label) in &chart.x_labels {
        out.leaf_with(
            "text",
            &[
                ("x", &fmt1(x(*i))),
                ("y", &ly),
                ("text-anchor", "middle"),
                ("fill", AXIS),
                ("font-size", "9"),
            ],
            label,
        );
    }
    // The legend: each series' colour and label, in words too.
    let mut lx = LEFT;
    let legend_y = (HEIGHT - 6).to_string();
    for s in &chart.series {
        let (x1, x2) = (lx.to_string(), (lx + 16).to_string());
        let yy = (HEIGHT - 10).to_string();
        out.empty_with(
            "line",
            &[
                ("x1", &x1),
                ("y1", &yy),
                ("x2", &x2),
                ("y2", &yy),
                ("stroke", s.colour),
                ("stroke-width", "2"),
            ],
        );
        out.leaf_with(
            "text",
            &[
                ("x", &(lx + 20).to_string()),
                ("y", &legend_y),
                ("fill", AXIS),
            ],
            &s.label,
        );
        lx += 160;
    }
    out.close("svg");
    out.finish_fragment()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn chart(values: &[Option<&str>]) -> Chart {
        Chart {
            id: "c".into(),
            title: "Disponibilité <quotidienne>".into(),
            desc: "avril 2026".into(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| Point {
                    label: (i + 1).to_string(),
                    value: v.map(d),
                    title: format!("jour {}", i + 1),
                })
                .collect(),
            guaranteed: d("99.9"),
            guaranteed_label: "garanti 99,90 %".into(),
            decimal_comma: true,
        }
    }

    #[test]
    fn the_floor_is_the_first_round_rate_below_everything() {
        // (values, guaranteed 99.9) → floor: all at 100 → 99.5 (below 99.9);
        // a day at 99.6 → 99.5; at 99.5 exactly → 99 (strictly below);
        // at 96 → 95; at 0 → 0.
        for (v, floor) in [
            ("100", "99.5"),
            ("99.6", "99.5"),
            ("99.5", "99"),
            ("96", "95"),
            ("0", "0"),
        ] {
            assert_eq!(floor_of(&chart(&[Some(v)])), d(floor), "{v}");
        }
    }

    #[test]
    fn bars_are_placed_by_hand_worked_coordinates() {
        // Floor 99.5 (values 100 and 99.75, guaranteed 99.9). Plot height
        // 260 − 16 − 36 = 208; y(v) = 16 + 208 × (100 − v) / 0.5.
        // y(100) = 16, y(99.75) = 16 + 104 = 120, baseline y(99.5) = 224,
        // y(99.9) = 16 + 41.6 = 57.6. Two slots of (680 − 56 − 12) / 2 = 306,
        // gap 306 / 5 = 61.2, bar width 244.8, first bar at 56 + 30.6 = 86.6.
        let svg = bars(&chart(&[Some("100"), Some("99.75")]));
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.contains(r#"role="img" aria-labelledby="c-title c-desc""#));
        assert!(svg.contains("<title id=\"c-title\">Disponibilité &lt;quotidienne&gt;</title>"));
        assert!(
            svg.contains(
                r##"<rect x="86.6" y="16.0" width="244.8" height="208.0" fill="#2b6cb0""##
            ),
            "{svg}"
        );
        assert!(
            svg.contains(
                r##"<rect x="392.6" y="120.0" width="244.8" height="104.0" fill="#c53030""##
            ),
            "{svg}"
        );
        assert!(svg.contains(r#"y1="57.6" x2="668" y2="57.6""#), "{svg}");
        assert_eq!(svg.matches("<rect ").count(), 2);
        assert!(svg.contains("<title>jour 2</title>"));
        assert!(svg.contains(">99,5 %</text>") && svg.contains(">100 %</text>"));
        assert!(svg.contains(">garanti 99,90 %</text>"));
        assert!(!svg.contains("class="), "no CSS needed");
    }

    #[test]
    fn a_month_without_data_is_a_gap_not_a_zero() {
        // Points 1-2 joined, 3 missing, 4-5 joined: two polylines, four circles.
        let svg = line(&chart(&[
            Some("100"),
            Some("99.95"),
            None,
            Some("99.8"),
            Some("100"),
        ]));
        assert_eq!(svg.matches("<polyline ").count(), 2, "{svg}");
        assert_eq!(svg.matches("<circle ").count(), 4);
        // Five x labels, the missing month included.
        assert_eq!(svg.matches("font-size=\"9\"").count(), 5);
        // A lone month between two gaps is a point without a line.
        let svg = line(&chart(&[None, Some("99.99"), None]));
        assert_eq!(svg.matches("<polyline ").count(), 0);
        assert_eq!(svg.matches("<circle ").count(), 1);
    }

    #[test]
    fn traffic_is_drawn_from_zero_with_its_percentile_line() {
        // Values 40 and 80 Mbit/s, p95 at 80: top = 100 (1, 2, 5 × 10^k).
        // Plot height 208: y(80) = 16 + 208 × 20 / 100 = 57.6;
        // y(40) = 16 + 208 × 60 / 100 = 140.8.
        // Two slots of 306: centres at 56 + 153 = 209 and 515.
        let c = TrafficChart {
            id: "t".into(),
            title: "Trafic".into(),
            desc: "juin 2026".into(),
            unit: "Mbit/s".into(),
            series: vec![Series {
                label: "entrant".into(),
                colour: IN_COLOUR,
                values: vec![Some(d("40")), Some(d("80"))],
            }],
            levels: vec![Level {
                value: d("80"),
                label: "95e centile 80 Mbit/s".into(),
                colour: LEVEL_COLOUR,
            }],
            x_labels: vec![(0, "1".into())],
            decimal_comma: true,
        };
        assert_eq!(traffic_top(&c), d("100"));
        let svg = traffic(&c);
        assert!(svg.contains(r#"points="209.0,140.8 515.0,57.6""#), "{svg}");
        assert!(svg.contains(r#"y1="57.6" x2="668" y2="57.6""#), "{svg}");
        assert!(svg.contains(">95e centile 80 Mbit/s</text>"));
        assert!(svg.contains(">100 Mbit/s</text>"));
        assert!(svg.contains(r#"role="img" aria-labelledby="t-title t-desc""#));
    }
}
