//! The report as one self-contained HTML file: inline CSS with a print stylesheet, and the value
//! funnel and KPI trends drawn as inline SVG. Nothing is loaded from elsewhere, so the file can be
//! mailed or archived as it is. Every status keeps its word and symbol; colour only helps.

use super::markdown::TextOut;
use super::{rag, render, Measures, Sink};
use crate::domain::rollup::Money;
use crate::domain::{Num, Stage};
use crate::store::report::{KpiBlock, ReportModel};
use crate::store::{Result, StoreError};
use std::fmt::Write;
use std::io::Seek;

const CSS: &str = r#"
:root { --ink: #1d2430; --muted: #5b6575; --line: #d5dae2; --green: #1e7a3c; --amber: #9a6400; --red: #b3261e; --bar: #3d6fb6; --plan: #8a94a6; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 75rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
h4 { font-size: .95rem; margin: 1rem 0 .3rem; color: var(--muted); }
p { margin: .3rem 0 .6rem; }
.muted { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.s-green { color: var(--green); font-weight: 600; }
.s-amber { color: var(--amber); font-weight: 600; }
.s-red { color: var(--red); font-weight: 600; }
.s-stale { color: var(--muted); font-weight: 600; }
ul { margin: .3rem 0 1rem; padding-left: 1.2rem; }
li { margin: .2rem 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; margin: .5rem 0 1rem; }
figure { margin: 0; border: 1px solid var(--line); padding: .4rem; border-radius: 4px; }
figcaption { font-size: 12px; color: var(--muted); margin-bottom: .2rem; max-width: 30rem; }
svg text { font: 10px system-ui, sans-serif; fill: var(--ink); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  h2, h3, h4 { break-after: avoid; }
  tr, figure, li { break-inside: avoid; }
  thead { display: table-header-group; }
  th { background: none; border-bottom: 1.5px solid #000; }
  .s-green, .s-amber, .s-red, .s-stale { color: #000; }
}
"#;

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A CSS class for a cell that starts with a status symbol, so colour follows the word.
fn status_class(cell: &str) -> Option<&'static str> {
    let first = cell.split_whitespace().next()?;
    Some(match first {
        "●" => "s-green",
        "▲" | "⏱" | "!" | "!!" => "s-amber",
        "■" | "⚠" | "!!!" | "⚑" => "s-red",
        "?" => "s-stale",
        _ => return None,
    })
}

struct Html<'a> {
    /// What is being written now.
    body: String,
    /// The body up to the first section, which the contents follow.
    before: String,
    /// The body from the first section on, escaped for printing, once it has begun.
    rest: Option<TextOut<'a>>,
    /// Where that goes (taken when the first section begins).
    spill: Option<&'a mut dyn std::io::Write>,
    open_section: bool,
    /// (level, anchor, text) of every section and objective heading, for the contents.
    toc: Vec<(u8, String, String)>,
}

impl Html<'_> {
    /// Hand what was written on: kept before the first section, written out after it.
    fn flush(&mut self) {
        match &mut self.rest {
            Some(out) => out.put(&self.body),
            None => self.before.push_str(&self.body),
        }
        self.body.clear();
    }

    /// The table of contents: the sections, with their subsections nested under them.
    fn contents(&self) -> String {
        let mut s = String::from("<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
        let mut nested = false;
        for (i, (level, id, text)) in self.toc.iter().enumerate() {
            if *level == 3 && !nested {
                s.push_str("<ol>\n");
                nested = true;
            } else if *level == 2 && nested {
                s.push_str("</ol></li>\n");
                nested = false;
            } else if i > 0 && *level == 2 {
                s.push_str("</li>\n");
            }
            let _ = write!(s, "<li><a href=\"#{id}\">{}</a>", esc(text));
            if *level == 3 {
                s.push_str("</li>\n");
            }
        }
        s.push_str(if nested {
            "</ol></li>\n"
        } else if self.toc.is_empty() {
            ""
        } else {
            "</li>\n"
        });
        s.push_str("</ol>\n</nav>\n");
        s
    }
}

impl Sink for Html<'_> {
    fn heading(&mut self, level: u8, text: &str) {
        if level <= 2 && self.open_section {
            self.body.push_str("</section>\n");
            self.open_section = false;
        }
        if level == 2 {
            if self.rest.is_none() {
                self.flush();
                self.rest = self.spill.take().map(TextOut::exact);
            }
            self.body.push_str("<section>\n");
            self.open_section = true;
        }
        if level == 2 || level == 3 {
            let id = format!("sec-{}", self.toc.len() + 1);
            let _ = writeln!(self.body, "<h{level} id=\"{id}\">{}</h{level}>", esc(text));
            self.toc.push((level, id, text.to_string()));
        } else {
            let _ = writeln!(self.body, "<h{level}>{}</h{level}>", esc(text));
        }
        self.flush();
    }
    fn para(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
        self.flush();
    }
    fn muted(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"muted\">{}</p>", esc(text));
        self.flush();
    }
    fn table_start(&mut self, header: &[&str], right: &[usize]) {
        self.body.push_str("<table>\n<thead><tr>");
        for (i, h) in header.iter().enumerate() {
            let class = if right.contains(&i) { " class=\"num\"" } else { "" };
            let _ = write!(self.body, "<th scope=\"col\"{class}>{}</th>", esc(h));
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        self.flush();
    }
    fn table_row(&mut self, right: &[usize], r: &[String]) {
        self.body.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if right.contains(&i) { Some("num") } else { status_class(c) };
            match class {
                Some(cl) => {
                    let _ = write!(self.body, "<td class=\"{cl}\">{}</td>", esc(c));
                }
                None => {
                    let _ = write!(self.body, "<td>{}</td>", esc(c));
                }
            }
        }
        self.body.push_str("</tr>\n");
        self.flush();
    }
    fn table_end(&mut self) {
        self.body.push_str("</tbody>\n</table>\n");
        self.flush();
    }
    fn bullets_start(&mut self) {
        self.body.push_str("<ul>\n");
        self.flush();
    }
    fn bullet(&mut self, lead: &str, rest: &str) {
        let class = status_class(lead).map(|c| format!(" class=\"{c}\"")).unwrap_or_default();
        let rest = if rest.is_empty() { String::new() } else { format!(" — {}", esc(rest)) };
        let _ = writeln!(self.body, "<li><strong{class}>{}</strong>{rest}</li>", esc(lead));
        self.flush();
    }
    fn bullets_end(&mut self) {
        self.body.push_str("</ul>\n");
        self.flush();
    }
    fn funnel_chart(&mut self, title: &str, by_stage: &[(Stage, Money)]) {
        self.body.push_str("<div class=\"charts\">");
        self.body.push_str(&funnel_svg(title, by_stage));
        self.body.push_str("</div>\n");
        self.flush();
    }
    fn kpi_charts(&mut self, kpis: &[KpiBlock]) {
        let charts: Vec<String> =
            kpis.iter().filter(|k| k.values.iter().any(|v| v.actual.is_some() || v.planned.is_some())).map(kpi_svg).collect();
        if !charts.is_empty() {
            let _ = writeln!(self.body, "<h3>KPI trends</h3>\n<div class=\"charts\">{}</div>", charts.concat());
        }
        self.flush();
    }
}

fn f(n: Num) -> f64 {
    n.to_f64_for_chart()
}

/// Horizontal bars of net forecast per DoI stage, with the plan as a tick; negative values
/// (costs) extend left of the zero line. Labels carry the exact figures.
fn funnel_svg(title: &str, by_stage: &[(Stage, Money)]) -> String {
    let (w, label_w, value_w, row_h) = (660.0, 120.0, 200.0, 22.0);
    let plot_w = w - label_w - value_w;
    let h = row_h * by_stage.len() as f64 + 24.0;
    let lo = by_stage.iter().flat_map(|(_, m)| [f(m.forecast), f(m.planned)]).fold(0.0_f64, f64::min);
    let hi = by_stage.iter().flat_map(|(_, m)| [f(m.forecast), f(m.planned)]).fold(0.0_f64, f64::max);
    let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    let x = |v: f64| label_w + (v - lo) / span * plot_w;
    let mut s = String::new();
    let _ = write!(
        s,
        "<figure><figcaption>Value funnel — {t}: net forecast by DoI stage (bar) against plan (tick)</figcaption>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"10\" role=\"img\" aria-label=\"Value funnel of {t}\"><title>Value funnel of {t}</title>",
        t = esc(title)
    );
    let zero = x(0.0);
    let _ = write!(s, "<line x1=\"{zero:.1}\" y1=\"4\" x2=\"{zero:.1}\" y2=\"{:.1}\" stroke=\"#1d2430\" stroke-width=\"1\"/>", h - 18.0);
    for (i, (stage, m)) in by_stage.iter().enumerate() {
        let y = 6.0 + i as f64 * row_h;
        let (a, b) = (zero, x(f(m.forecast)));
        let (x0, bw) = if b >= a { (a, b - a) } else { (b, a - b) };
        let _ = write!(s, "<text x=\"4\" y=\"{:.1}\">{} {}</text>", y + 12.0, stage.short(), stage);
        let _ = write!(
            s,
            "<rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"var(--bar)\"><title>{} forecast {}</title></rect>",
            row_h - 8.0,
            stage,
            m.forecast.grouped()
        );
        let px = x(f(m.planned));
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"var(--plan)\" stroke-width=\"3\"/>",
            y - 2.0,
            y + row_h - 6.0
        );
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">{} (plan {})</text>",
            w - value_w + 4.0,
            y + 12.0,
            m.forecast.grouped(),
            m.planned.grouped()
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// A small line chart of one KPI's last periods: actual (solid), plan (dashed), target (dotted).
fn kpi_svg(k: &KpiBlock) -> String {
    let (w, h, left, right, top, bottom) = (300.0, 144.0, 44.0, 8.0, 8.0, 36.0);
    let n = k.values.len().max(1);
    let mut all: Vec<f64> = k.values.iter().flat_map(|v| [v.actual, v.planned]).flatten().map(f).collect();
    if let Some(t) = k.status.target {
        all.push(f(t));
    }
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, hi + 1.0) };
    let x = |i: usize| left + if n > 1 { i as f64 / (n - 1) as f64 * (w - left - right) } else { (w - left - right) / 2.0 };
    let y = |v: f64| top + (hi - v) / (hi - lo) * (h - top - bottom);
    let line = |pick: &dyn Fn(&crate::store::read::ValueRow) -> Option<Num>| -> String {
        k.values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| pick(v).map(|n| format!("{:.1},{:.1}", x(i), y(f(n)))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let actual = line(&|v| v.actual);
    let planned = line(&|v| v.planned);
    let mut s = String::new();
    let caption = format!(
        "{} {} — {} · {} is better · target {} · latest {}",
        k.key,
        k.title,
        rag(k.status.rag),
        k.status.direction,
        super::num(k.status.target),
        super::num(k.status.latest_actual)
    );
    let _ = write!(
        s,
        "<figure><figcaption>{c}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"10\" role=\"img\" aria-label=\"Trend of {k}\"><title>Trend of {k}: actual solid, plan dashed, target dotted</title>",
        c = esc(&caption),
        k = esc(&k.key)
    );
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#d5dae2\"/>",
        w - left - right,
        h - top - bottom
    );
    let _ = write!(s, "<text x=\"2\" y=\"{:.1}\">{}</text>", top + 8.0, esc(&compact(hi)));
    let _ = write!(s, "<text x=\"2\" y=\"{:.1}\">{}</text>", h - bottom, esc(&compact(lo)));
    if let (Some(first), Some(last)) = (k.values.first(), k.values.last()) {
        let _ = write!(s, "<text x=\"{left}\" y=\"{:.1}\">{}</text>", h - 20.0, esc(&first.period));
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", w - right, h - 20.0, esc(&last.period));
    }
    if let Some(t) = k.status.target {
        let ty = y(f(t));
        let _ = write!(s, "<line x1=\"{left}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"#1e7a3c\" stroke-dasharray=\"1 3\" stroke-width=\"1.5\"/>", w - right);
    }
    if !planned.is_empty() {
        let _ = write!(
            s,
            "<polyline points=\"{planned}\" fill=\"none\" stroke=\"var(--plan)\" stroke-dasharray=\"5 3\" stroke-width=\"1.5\"/>"
        );
    }
    if !actual.is_empty() {
        let _ = write!(s, "<polyline points=\"{actual}\" fill=\"none\" stroke=\"var(--bar)\" stroke-width=\"2\"/>");
        for (i, v) in k.values.iter().enumerate() {
            if let Some(a) = v.actual {
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.2\" fill=\"var(--bar)\"><title>{} actual {}</title></circle>",
                    x(i),
                    y(f(a)),
                    esc(&v.period),
                    a.grouped()
                );
            }
        }
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#5b6575\">— actual · - - plan · ··· target</text>",
        left + (w - left - right) / 2.0,
        h - 6.0
    );
    s.push_str("</svg></figure>");
    s
}

/// An axis label: a few significant figures are enough beside a chart (the tables carry the
/// exact numbers).
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The report as one HTML document.
pub fn html(r: &ReportModel, source: &str) -> String {
    html_of(r, source, None)
}

/// The whole report, or the steering pack with its top N (`Some(n)`), as one HTML document with
/// a table of contents linking to every section and objective.
pub fn html_of(r: &ReportModel, source: &str, pack_top: Option<usize>) -> String {
    let mut bytes = Vec::new();
    // The model holds every measure and a Vec takes every write: only the spill file can fail.
    let _ = write_html(r, source, pack_top, &super::Held, &mut bytes);
    String::from_utf8(bytes).unwrap_or_default()
}

/// The report as one HTML document written to `w`, its measures read from `ms`. The body from
/// the first section on goes to a temporary file (unnamed, 0600) as it is made, since the
/// contents, which name every section, come before it.
pub fn write_html(r: &ReportModel, source: &str, pack_top: Option<usize>, ms: &dyn Measures, w: &mut dyn std::io::Write) -> Result<()> {
    let io = StoreError::Io;
    let mut spill = std::io::BufWriter::with_capacity(64 * 1024, tempfile::tempfile().map_err(io)?);
    let mut sink =
        Html { body: String::new(), before: String::new(), rest: None, spill: Some(&mut spill), open_section: false, toc: Vec::new() };
    match pack_top {
        Some(top) => super::render_summary(r, source, top, ms, &mut sink)?,
        None => render(r, source, ms, &mut sink)?,
    }
    if sink.open_section {
        sink.body.push_str("</section>\n");
    }
    sink.flush();
    let contents = if sink.rest.is_some() { sink.contents() } else { String::new() };
    let before = std::mem::take(&mut sink.before);
    if let Some(rest) = sink.rest.take() {
        rest.finish()?;
    }
    drop(sink);
    let mut file = spill.into_inner().map_err(|e| StoreError::Io(e.into_error()))?;
    file.rewind().map_err(io)?;
    let mut out = TextOut::exact(w);
    out.put(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"keel {}\">\n<title>Steering committee report — {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&r.today),
    ));
    out.put(&before);
    out.put(&contents);
    out.finish()?;
    std::io::copy(&mut std::io::BufReader::with_capacity(64 * 1024, file), w).map_err(io)?;
    w.write_all(b"</main>\n</body>\n</html>\n").map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_classes_follow_symbols() {
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(status_class("■ red"), Some("s-red"));
        assert_eq!(status_class("● green"), Some("s-green"));
        assert_eq!(status_class("M-1 title"), None);
    }

    #[test]
    fn compact_axis_labels() {
        assert_eq!(compact(1_425_540.0), "1.4M");
        assert_eq!(compact(-17_990.0), "-18k");
        assert_eq!(compact(0.82), "0.82");
    }
}
