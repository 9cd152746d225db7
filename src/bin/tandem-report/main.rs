//! `tandem-report`: turns a sweep's CSV (tools/sweep.py) into one
//! self-contained HTML page of plots (SVG inline, no external resources)
//! plus a PNG copy of each plot:
//! - latency percentile vs offered load, one line per configuration, per
//!   pipeline depth (open-loop loadgen runs);
//! - latency CDFs at a fixed offered load, per pipeline depth;
//! - throughput vs pipeline depth (closed loop: loadgen lines,
//!   redis-benchmark crosses);
//! - per-stage breakdown bars (tandem's INFO tandem stage p50s) at the
//!   fixed load.
//!
//! Every plot names its axes with units and the machine the sweep ran on.
//! Text is laid out with a system TrueType font (DejaVu Sans or Liberation
//! Sans; Debian's fonts-dejavu-core).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::Parser;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

#[derive(Parser, Debug)]
#[command(
    name = "tandem-report",
    version,
    about = "Plots of a tandem latency sweep (tools/sweep.py CSV) as an HTML page and PNGs"
)]
struct Args {
    /// The sweep's CSV.
    csv: PathBuf,
    /// Output folder (default: `report` next to the CSV); gets index.html
    /// and one PNG per plot.
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// Latency percentile for the latency-vs-load plots: 50, 90, 99, 99.9
    /// or 99.99.
    #[arg(long, default_value = "99")]
    percentile: String,
    /// Offered load (req/s) for the CDF and stage plots (default: the
    /// highest rate of the sweep that every configuration sustained).
    #[arg(long)]
    rate: Option<f64>,
}

/// One CSV row, by column name.
struct Row(BTreeMap<String, String>);

impl Row {
    fn s(&self, k: &str) -> &str {
        self.0.get(k).map(String::as_str).unwrap_or("")
    }
    fn f(&self, k: &str) -> Option<f64> {
        self.s(k).parse().ok()
    }
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;

/// Tableau 10: distinct hues for configurations; redis-server is black.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How an axis maps data to the plotted (linear) coordinate.
#[derive(Clone, Copy)]
enum Scale {
    Linear,
    Log10,
    Log2,
    /// Percentile p (0–100) plotted at -log10(1 - p/100): 90% at 1, 99% at
    /// 2, 99.9% at 3 (HdrHistogram's percentile axis).
    Nines,
}

impl Scale {
    fn to_plot(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log10 => v.max(1e-9).log10(),
            Scale::Log2 => v.max(1e-9).log2(),
            Scale::Nines => -(1.0 - (v / 100.0).min(0.999_999_9)).log10(),
        }
    }

    fn label(self, c: f64) -> String {
        match self {
            Scale::Linear => human(c),
            // Log axes are labelled at whole powers only.
            Scale::Log10 | Scale::Log2 if (c - c.round()).abs() > 1e-6 => String::new(),
            Scale::Log10 => human(10f64.powf(c.round())),
            Scale::Log2 => human(2f64.powf(c.round())),
            Scale::Nines => {
                let p = 100.0 * (1.0 - 10f64.powf(-c));
                let s = format!("{p:.5}");
                format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
            }
        }
    }

    /// Plotted range covering `lo..hi` (data units), padded; log axes snap
    /// to whole powers so the ticks fall on them.
    fn range(self, lo: f64, hi: f64) -> (f64, f64) {
        let (a, b) = (self.to_plot(lo), self.to_plot(hi));
        match self {
            Scale::Linear => {
                let pad = ((b - a) * 0.05).max(b.abs() * 0.05).max(1e-9);
                (
                    (a - pad)
                        .min(0.0)
                        .max(if a >= 0.0 { 0.0 } else { f64::MIN }),
                    b + pad,
                )
            }
            Scale::Log10 => (a.floor(), b.ceil().max(a.floor() + 1.0)),
            // Pipeline depths: half a power of two of room on each side.
            Scale::Log2 => (a.floor() - 0.5, b.ceil() + 0.5),
            Scale::Nines => (0.0, b.ceil().max(1.0)),
        }
    }
}

/// 1234567 → "1.23M", 1500 → "1.5k", 0.25 → "0.25".
fn human(v: f64) -> String {
    let (n, suffix) = if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if n.fract().abs() < 1e-9 {
        format!("{n:.0}")
    } else {
        format!("{n:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    };
    format!("{s}{suffix}")
}

struct Axis {
    desc: String,
    scale: Scale,
}

#[derive(Clone, Copy)]
enum Mark {
    /// Line through circles.
    Line,
    /// Crosses, no line.
    Cross,
}

struct Series {
    name: String,
    color: RGBColor,
    mark: Mark,
    points: Vec<(f64, f64)>,
}

/// A line chart's content, drawn the same way to SVG and PNG.
struct LineChart {
    title: String,
    x: Axis,
    y: Axis,
    series: Vec<Series>,
}

/// One plot of the page: an id (also the PNG's name), a caption, and how
/// to draw it.
struct Plot {
    id: String,
    caption: String,
    kind: PlotKind,
}

enum PlotKind {
    Lines(LineChart),
    Stages(StageChart),
}

/// Stacked horizontal bars: one bar per configuration, one segment per
/// stage (p50 of that stage, µs).
struct StageChart {
    title: String,
    configs: Vec<String>,
    stages: Vec<String>,
    /// values[config][stage], µs.
    values: Vec<Vec<f64>>,
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn draw_machine<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, machine: &str) -> DrawResult {
    let style = ("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90));
    root.draw(&Text::new(
        format!("machine: {machine}"),
        (10, HEIGHT as i32 - 18),
        style,
    ))
    .map_err(err)
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The chart area of a plot: title on top, room for the axis labels
/// (`y_label_width` px for the y labels), plotted ranges `x` and `y`.
fn chart<'a, DB: DrawingBackend + 'a>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label_width: u32,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, DB>, String> {
    ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .x_label_area_size(45)
        .y_label_area_size(y_label_width)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// Legend at `pos`, the machine line under the chart, and out to the
/// backend.
fn finish<'a, DB: DrawingBackend + 'a>(
    mut chart: Chart<'a, DB>,
    pos: SeriesLabelPosition,
    root: &DrawingArea<DB, Shift>,
    machine: &str,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    draw_machine(root, machine)?;
    root.present().map_err(err)
}

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    c: &LineChart,
    machine: &str,
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let all: Vec<(f64, f64)> = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let fold = |f: fn(&(f64, f64)) -> f64| {
        all.iter()
            .map(f)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    };
    let (mut xlo, mut xhi) = fold(|p| p.0);
    let (mut ylo, mut yhi) = fold(|p| p.1);
    if !xlo.is_finite() {
        (xlo, xhi, ylo, yhi) = (1.0, 10.0, 1.0, 10.0);
    }
    let (x0, x1) = c.x.scale.range(xlo, xhi);
    let (y0, y1) = c.y.scale.range(ylo, yhi);
    let area = root.margin(10, 30, 10, 45);
    let mut chart = chart(&area, &c.title, 75, x0..x1, y0..y1)?;
    let (xs, ys) = (c.x.scale, c.y.scale);
    let integral = |s: Scale, a: f64, b: f64| match s {
        Scale::Linear => 10,
        Scale::Log2 => ((b - a) * 2.0).round() as usize + 1,
        _ => ((b - a).round() as usize + 1).clamp(2, 12),
    };
    chart
        .configure_mesh()
        .x_desc(c.x.desc.as_str())
        .y_desc(c.y.desc.as_str())
        .x_labels(integral(xs, x0, x1))
        .y_labels(integral(ys, y0, y1))
        .x_label_formatter(&|v| xs.label(*v))
        .y_label_formatter(&|v| ys.label(*v))
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for s in &c.series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|&(x, y)| (xs.to_plot(x), ys.to_plot(y)))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let color = s.color;
        match s.mark {
            Mark::Line => {
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(err)?;
            }
            Mark::Cross => {
                chart
                    .draw_series(pts.iter().map(|&p| Cross::new(p, 5, color.stroke_width(2))))
                    .map_err(err)?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| Cross::new((x + 9, y), 5, color.stroke_width(2)));
            }
        }
    }
    finish(chart, SeriesLabelPosition::UpperLeft, &root, machine)
}

fn draw_stages<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    c: &StageChart,
    machine: &str,
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let total = c
        .values
        .iter()
        .map(|v| v.iter().sum::<f64>())
        .fold(0.0f64, f64::max)
        .max(1.0);
    let n = c.configs.len().max(1);
    let area = root.margin(10, 30, 10, 20);
    let configs = c.configs.clone();
    let mut chart = chart(
        &area,
        &c.title,
        230,
        0.0..total * 1.25,
        -0.5..(n as f64 - 0.5),
    )?;
    chart
        .configure_mesh()
        .x_desc("latency, p50 of each stage, stacked (µs)")
        .y_desc("configuration")
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|v| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                configs.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|v| human(*v))
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 12))
        .disable_y_mesh()
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    for (si, stage) in c.stages.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        let bars: Vec<Rectangle<(f64, f64)>> = c
            .values
            .iter()
            .enumerate()
            .map(|(ci, v)| {
                let start: f64 = v[..si].iter().sum();
                let y = ci as f64;
                Rectangle::new(
                    [(start, y - 0.35), (start + v[si], y + 0.35)],
                    color.filled(),
                )
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(err)?
            .label(stage.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    finish(chart, SeriesLabelPosition::UpperRight, &root, machine)
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, p: &Plot, machine: &str) -> DrawResult {
    match &p.kind {
        PlotKind::Lines(c) => draw_lines(root, c, machine),
        PlotKind::Stages(c) => draw_stages(root, c, machine),
    }
}

/// Registers the first TrueType font found as plotters' "sans-serif".
fn load_font() -> Result<(), String> {
    const CANDIDATES: &[&str] = &[
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    ];
    for path in CANDIDATES {
        if let Ok(bytes) = std::fs::read(path) {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            return plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| format!("{path}: not a usable TrueType font"));
        }
    }
    Err(format!(
        "no TrueType font found (looked for {}); install one: apt-get install fonts-dejavu-core",
        CANDIDATES.join(", ")
    ))
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("tandem-report: {e}");
        std::process::exit(1);
    }
}

fn read_rows(path: &Path) -> Result<Vec<Row>, String> {
    let mut rd = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = rd.headers().map_err(|e| e.to_string())?.clone();
    let mut rows = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
        rows.push(Row(headers
            .iter()
            .zip(rec.iter())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect()));
    }
    if rows.is_empty() {
        return Err(format!("{}: no runs in it", path.display()));
    }
    for col in [
        "config",
        "server",
        "tool",
        "pipeline",
        "achieved_rps",
        "machine",
    ] {
        if !rows[0].0.contains_key(col) {
            return Err(format!(
                "{}: no '{col}' column; is it a tools/sweep.py CSV?",
                path.display()
            ));
        }
    }
    Ok(rows)
}

fn run(a: &Args) -> Result<(), String> {
    load_font()?;
    let rows = read_rows(&a.csv)?;
    let pcol = format!("p{}_us", a.percentile);
    if !rows[0].0.contains_key(&pcol) {
        return Err(format!("--percentile {}: no column {pcol}", a.percentile));
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| a.csv.parent().unwrap_or(Path::new(".")).join("report"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let machine = rows[0].s("machine").to_string();

    // Configurations in sweep order; redis-server last, in black.
    let mut configs: Vec<String> = Vec::new();
    for r in &rows {
        if !configs.iter().any(|c| c == r.s("config")) {
            configs.push(r.s("config").to_string());
        }
    }
    let color = |name: &str| -> RGBColor {
        if rows
            .iter()
            .any(|r| r.s("config") == name && r.s("server") == "redis")
        {
            BLACK
        } else {
            let i = configs.iter().position(|c| c == name).unwrap_or(0);
            PALETTE[i % PALETTE.len()]
        }
    };
    let pipelines: BTreeSet<u64> = rows
        .iter()
        .filter_map(|r| r.s("pipeline").parse().ok())
        .collect();
    let conns = rows[0].s("connections").to_string();
    let mut plots = Vec::new();

    for &p in &pipelines {
        let open: Vec<&Row> = rows
            .iter()
            .filter(|r| r.s("tool") == "loadgen-open" && r.s("pipeline") == p.to_string())
            .collect();
        if open.is_empty() {
            continue;
        }
        // Latency percentile vs offered load.
        let series = configs
            .iter()
            .map(|c| Series {
                name: c.clone(),
                color: color(c),
                mark: Mark::Line,
                points: open
                    .iter()
                    .filter(|r| r.s("config") == c)
                    .filter_map(|r| Some((r.f("offered_rps")?, r.f(&pcol)?)))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        plots.push(Plot {
            id: format!("latency-vs-load-P{p}"),
            caption: format!(
                "p{} latency from intended send time against offered load, pipeline depth {p}, {conns} connections (open-loop tandem-loadgen). Where a line turns up, that configuration has saturated.",
                a.percentile
            ),
            kind: PlotKind::Lines(LineChart {
                title: format!("p{} latency vs offered load (pipeline {p})", a.percentile),
                x: Axis { desc: "offered load (requests/s)".into(), scale: Scale::Linear },
                y: Axis { desc: format!("p{} latency (µs, log scale)", a.percentile), scale: Scale::Log10 },
                series,
            }),
        });

        // The fixed load: given, or the highest rate every configuration
        // sustained (achieved ≥ 95% of offered, nothing timed out).
        let rates: BTreeSet<u64> = open
            .iter()
            .filter_map(|r| r.f("offered_rps"))
            .map(|v| v as u64)
            .collect();
        let sustained = |rate: u64| {
            configs.iter().all(|c| {
                open.iter()
                    .filter(|r| r.s("config") == c && r.f("offered_rps") == Some(rate as f64))
                    .all(|r| {
                        r.f("achieved_rps").unwrap_or(0.0) >= 0.95 * rate as f64
                            && r.s("timeouts") == "0"
                    })
            })
        };
        let rate = match a.rate {
            Some(r) => r as u64,
            None => rates
                .iter()
                .rev()
                .find(|&&r| sustained(r))
                .or(rates.iter().next())
                .copied()
                .unwrap_or(0),
        };
        let at_rate: Vec<&Row> = open
            .iter()
            .copied()
            .filter(|r| r.f("offered_rps").map(|v| v as u64) == Some(rate))
            .collect();
        if at_rate.is_empty() {
            continue;
        }

        // Latency CDF at that load.
        let series = configs
            .iter()
            .filter_map(|c| {
                let r = at_rate.iter().find(|r| r.s("config") == c)?;
                let points: Vec<(f64, f64)> = r
                    .s("cdf")
                    .split(';')
                    .filter_map(|kv| {
                        let (p, v) = kv.split_once(':')?;
                        Some((p.parse().ok()?, v.parse().ok()?))
                    })
                    .collect();
                (!points.is_empty()).then(|| Series {
                    name: c.clone(),
                    color: color(c),
                    mark: Mark::Line,
                    points,
                })
            })
            .collect();
        plots.push(Plot {
            id: format!("cdf-P{p}-{rate}"),
            caption: format!(
                "Latency distribution at {} requests/s offered, pipeline depth {p}: the latency below which each share of requests completed (open loop, from intended send time).",
                human(rate as f64)
            ),
            kind: PlotKind::Lines(LineChart {
                title: format!("Latency CDF at {} req/s (pipeline {p})", human(rate as f64)),
                x: Axis { desc: "percentile of requests (log scale of 1/(1-p))".into(), scale: Scale::Nines },
                y: Axis { desc: "latency (µs, log scale)".into(), scale: Scale::Log10 },
                series,
            }),
        });

        // Per-stage breakdown at that load (tandem configurations only).
        let mut stage_names: Vec<String> = Vec::new();
        let mut bars: Vec<(String, BTreeMap<String, f64>)> = Vec::new();
        for c in &configs {
            let Some(r) = at_rate
                .iter()
                .find(|r| r.s("config") == c && !r.s("stages").is_empty())
            else {
                continue;
            };
            let mut m = BTreeMap::new();
            for part in r.s("stages").split(';') {
                let mut it = part.split(':');
                if let (Some(name), Some(p50)) = (it.next(), it.next()) {
                    if !stage_names.iter().any(|s| s == name) {
                        stage_names.push(name.to_string());
                    }
                    m.insert(name.to_string(), p50.parse().unwrap_or(0.0));
                }
            }
            bars.push((c.clone(), m));
        }
        if !bars.is_empty() {
            plots.push(Plot {
                id: format!("stages-P{p}-{rate}"),
                caption: format!(
                    "Where a sampled request's time goes inside tandem at {} requests/s, pipeline depth {p}: the p50 of each stage (receive → parsed → batched → queued to the shard → executed → reply handed back → written), from INFO tandem.",
                    human(rate as f64)
                ),
                kind: PlotKind::Stages(StageChart {
                    title: format!("Per-stage p50 at {} req/s (pipeline {p})", human(rate as f64)),
                    configs: bars.iter().map(|b| b.0.clone()).collect(),
                    values: bars
                        .iter()
                        .map(|b| stage_names.iter().map(|s| b.1.get(s).copied().unwrap_or(0.0)).collect())
                        .collect(),
                    stages: stage_names,
                }),
            });
        }
    }

    // Throughput vs pipeline depth (closed loop).
    let mut series = Vec::new();
    for (tool, mark, suffix) in [
        ("loadgen-closed", Mark::Line, ""),
        ("redis-benchmark", Mark::Cross, " (redis-benchmark)"),
    ] {
        for c in &configs {
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.s("tool") == tool && r.s("config") == c)
                .filter_map(|r| Some((r.f("pipeline")?, r.f("achieved_rps")?)))
                .collect();
            if !points.is_empty() {
                series.push(Series {
                    name: format!("{c}{suffix}"),
                    color: color(c),
                    mark,
                    points,
                });
            }
        }
    }
    if !series.is_empty() {
        plots.push(Plot {
            id: "throughput-vs-pipeline".into(),
            caption: format!(
                "Most requests/s each configuration served in closed loop ({conns} connections), by pipeline depth: tandem-loadgen (lines) and redis-benchmark (crosses) on the same workload."
            ),
            kind: PlotKind::Lines(LineChart {
                title: "Throughput vs pipeline depth (closed loop)".into(),
                x: Axis { desc: "pipeline depth (requests per batch, log scale)".into(), scale: Scale::Log2 },
                y: Axis { desc: "throughput (requests/s)".into(), scale: Scale::Linear },
                series,
            }),
        });
    }

    // Render: SVG for the page, PNG copies.
    let mut figures = String::new();
    for p in &plots {
        let mut svg = String::new();
        draw(
            SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area(),
            p,
            &machine,
        )
        .map_err(|e| format!("plot {}: {e}", p.id))?;
        let png = out.join(format!("{}.png", p.id));
        draw(
            BitMapBackend::new(&png, (WIDTH, HEIGHT)).into_drawing_area(),
            p,
            &machine,
        )
        .map_err(|e| format!("plot {}: {e}", p.id))?;
        figures += &format!(
            "<figure class=\"plot\" id=\"{id}\">\n{svg}\n<figcaption>{cap} <a href=\"{id}.png\">PNG</a></figcaption>\n</figure>\n",
            id = p.id,
            cap = html(&p.caption)
        );
    }
    let page = page(&machine, &rows, &configs, &figures, &a.csv);
    let index = out.join("index.html");
    std::fs::write(&index, page).map_err(|e| format!("{}: {e}", index.display()))?;
    println!("{} plots -> {}", plots.len(), index.display());
    Ok(())
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(machine: &str, rows: &[Row], configs: &[String], figures: &str, csv: &Path) -> String {
    let mut table = String::from(
        "<table>\n<tr><th>config</th><th>pipeline</th><th>tool</th><th>offered req/s</th><th>achieved req/s</th><th>p50 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>max µs</th><th>server CPU µs/req</th><th>errors</th><th>timeouts</th></tr>\n",
    );
    for r in rows {
        table += "<tr>";
        for k in [
            "config",
            "pipeline",
            "tool",
            "offered_rps",
            "achieved_rps",
            "p50_us",
            "p99_us",
            "p99.9_us",
            "max_us",
            "server_cpu_us_per_req",
            "errors",
            "timeouts",
        ] {
            table += &format!("<td>{}</td>", html(r.s(k)));
        }
        table += "</tr>\n";
    }
    table += "</table>\n";
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tandem latency sweep — {machine_h}</title>
<script>
  // Any script or resource error lands in data-errors (checked by tests/report.rs).
  window.__errors = [];
  window.addEventListener("error", function (e) {{ window.__errors.push(String(e.message || e.type)); }}, true);
</script>
<style>
  body {{ font-family: "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
  figure.plot {{ margin: 2em 0; }}
  figure.plot svg {{ max-width: 100%; height: auto; border: 1px solid #ddd; }}
  figcaption {{ font-size: 0.9em; color: #444; margin-top: 0.4em; }}
  table {{ border-collapse: collapse; font-size: 0.8em; }}
  td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
  td:first-child, th:first-child {{ text-align: left; }}
</style>
</head>
<body>
<h1>tandem latency sweep</h1>
<p>Machine: <b>{machine_h}</b>. {n} runs over {c} configurations from <code>{csv_h}</code>.
Latency from tandem-loadgen is measured from each request's intended send time (open loop), so stalls are not hidden by coordinated omission; redis-benchmark runs are closed loop.</p>
{figures}
<h2>All runs</h2>
{table}
<script>
  window.addEventListener("load", function () {{
    var figs = Array.prototype.slice.call(document.querySelectorAll("figure.plot"));
    var rendered = figs.filter(function (f) {{
      var s = f.querySelector("svg");
      if (!s) return false;
      var b = s.getBoundingClientRect();
      return b.width > 100 && b.height > 100 && s.querySelectorAll("polyline, path, rect, circle, line, text").length > 10;
    }}).length;
    document.body.dataset.plots = String(figs.length);
    document.body.dataset.plotsRendered = String(rendered);
    document.body.dataset.errors = window.__errors.join(" | ");
  }});
</script>
</body>
</html>
"#,
        machine_h = html(machine),
        n = rows.len(),
        c = configs.len(),
        csv_h = html(&csv.display().to_string()),
    )
}
