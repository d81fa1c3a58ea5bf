//! `cram eval --report FILE.html`: the benchmark as a page to look at.
//!
//! One self-contained HTML file (no scripts, no external assets) with SVG
//! charts drawn by `plotters`: nDCG@10 and Recall@100 per method with
//! bootstrap 95% confidence intervals, the latency distribution of each
//! method (cumulative, log-scaled time axis), and the convex-fusion alpha
//! sweep; then the tables `cram eval` prints.

use plotters::prelude::*;

use crate::eval::{BeirMethod, BeirReport};

const W: u32 = 760;
const H: u32 = 340;

fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    C[i % C.len()]
}

type Draw = Result<(), Box<dyn std::error::Error>>;

/// Bars with 95% CI whiskers, one per method.
fn metric_chart(
    out: &mut String,
    title: &str,
    methods: &[BeirMethod],
    value: impl Fn(&BeirMethod) -> (f64, (f64, f64)),
) -> Draw {
    let root = SVGBackend::with_string(out, (W, H)).into_drawing_area();
    root.fill(&WHITE)?;
    let hi = methods.iter().map(|m| value(m).1.1).fold(0.0f64, f64::max);
    let lo = methods.iter().map(|m| value(m).1.0).fold(1.0f64, f64::min);
    let (ymin, ymax) = ((lo - 0.05).max(0.0), (hi + 0.05).min(1.05));
    let n = methods.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), ymin..ymax)?;
    let names: Vec<String> = methods.iter().map(|m| m.name.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()?;
    for (i, m) in methods.iter().enumerate() {
        let (v, (l, h)) = value(m);
        let x = i as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.3, ymin), (x + 0.3, v)],
            palette(i).mix(0.75).filled(),
        )))?;
        chart.draw_series(std::iter::once(ErrorBar::new_vertical(
            x,
            l,
            v,
            h,
            BLACK.stroke_width(2),
            14,
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{v:.4}"),
            (x - 0.2, h + (ymax - ymin) * 0.06),
            ("sans-serif", 13),
        )))?;
    }
    root.present()?;
    Ok(())
}

/// Cumulative distribution of whole-query latency per method.
fn latency_chart(out: &mut String, methods: &[BeirMethod]) -> Draw {
    let root = SVGBackend::with_string(out, (W, H)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = methods.iter().flat_map(|m| m.per_query_ms.iter().copied());
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in all {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let lo = (lo * 0.8).max(0.01);
    let hi = (hi * 1.2).max(lo * 10.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Query latency (embedding + search), cumulative",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0f64..1.0)?;
    chart
        .configure_mesh()
        .x_desc("milliseconds (log scale)")
        .y_desc("share of queries")
        .x_label_formatter(&|x| format!("{x:.2}"))
        .draw()?;
    for (i, m) in methods.iter().enumerate() {
        let mut v = m.per_query_ms.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len().max(1) as f64;
        let color = palette(i);
        chart
            .draw_series(LineSeries::new(
                v.iter()
                    .enumerate()
                    .map(|(j, &x)| (x.max(lo), (j + 1) as f64 / n)),
                color.stroke_width(2),
            ))?
            .label(format!(
                "{} (p50 {:.2} ms, p99 {:.2} ms)",
                m.name, m.total_ms.p50, m.total_ms.p99
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// nDCG@10 and Recall@100 against the convex fusion weight.
fn alpha_chart(out: &mut String, sweep: &[(f32, f64, f64)]) -> Draw {
    let root = SVGBackend::with_string(out, (W, H)).into_drawing_area();
    root.fill(&WHITE)?;
    let lo = sweep.iter().map(|s| s.1.min(s.2)).fold(1.0f64, f64::min);
    let hi = sweep.iter().map(|s| s.1.max(s.2)).fold(0.0f64, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Convex fusion: alpha (weight of the dense arm)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0f64..1.0, (lo - 0.03).max(0.0)..(hi + 0.03).min(1.0))?;
    chart
        .configure_mesh()
        .x_desc("alpha: 0 = BM25 only, 1 = dense only")
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()?;
    for (k, (name, color)) in [("nDCG@10", palette(0)), ("Recall@100", palette(1))]
        .into_iter()
        .enumerate()
    {
        let pts: Vec<(f64, f64)> = sweep
            .iter()
            .map(|s| (s.0 as f64, if k == 0 { s.1 } else { s.2 }))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Markdown tables (as `cram eval` prints them) to HTML tables.
fn tables_html(md: &str) -> String {
    let mut out = String::new();
    let mut in_table = false;
    for line in md.lines() {
        if line.starts_with('|') {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
                continue;
            }
            let tag = if in_table { "td" } else { "th" };
            if !in_table {
                out.push_str("<table>");
                in_table = true;
            }
            out.push_str("<tr>");
            for c in cells {
                out.push_str(&format!("<{tag}>{}</{tag}>", esc(c)));
            }
            out.push_str("</tr>\n");
        } else {
            if in_table {
                out.push_str("</table>\n");
                in_table = false;
            }
            if let Some(h) = line.strip_prefix("## ") {
                out.push_str(&format!("<h2>{}</h2>\n", esc(h)));
            } else if !line.trim().is_empty() {
                out.push_str(&format!("<p>{}</p>\n", esc(line)));
            }
        }
    }
    if in_table {
        out.push_str("</table>\n");
    }
    out
}

/// Renders the whole report page.
pub fn html(r: &BeirReport) -> Result<String, String> {
    let mut svgs = Vec::new();
    let mut push = |f: &mut dyn FnMut(&mut String) -> Draw| -> Result<(), String> {
        let mut s = String::new();
        f(&mut s).map_err(|e| format!("drawing a chart: {e}"))?;
        svgs.push(s);
        Ok(())
    };
    push(&mut |s| {
        metric_chart(
            s,
            "nDCG@10 per method (95% bootstrap CI)",
            &r.methods,
            |m| (m.scores.ndcg10, m.ndcg10_ci),
        )
    })?;
    push(&mut |s| {
        metric_chart(
            s,
            "Recall@100 per method (95% bootstrap CI)",
            &r.methods,
            |m| (m.scores.recall100, m.recall100_ci),
        )
    })?;
    push(&mut |s| latency_chart(s, &r.methods))?;
    if r.alpha_sweep.len() >= 2 {
        push(&mut |s| alpha_chart(s, &r.alpha_sweep))?;
    }
    let mut page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>cram eval: {name}</title>\n<style>\
         body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0;font-size:14px}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
         th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}.chart{{margin:1em 0}}\
         </style></head><body>\n<h1>cram eval: {name}</h1>\n<p>{docs} documents, {q} test queries; BEIR protocol \
         (title + text, judged queries only, the query's own id removed from results); metrics as trec_eval.</p>\n",
        name = esc(&r.collection),
        docs = r.documents,
        q = r.queries
    );
    for s in svgs {
        page.push_str("<div class=\"chart\">");
        page.push_str(&s);
        page.push_str("</div>\n");
    }
    page.push_str(&tables_html(&crate::eval::beir_markdown(r)));
    page.push_str("</body></html>\n");
    Ok(page)
}
