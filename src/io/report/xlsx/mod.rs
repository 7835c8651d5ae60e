//! The report as an XLSX workbook for finance: one sheet per section, a bold frozen header row
//! with an autofilter on every sheet, real numeric and date cells with number formats (money in
//! the file's currency when it names one), totals rows where a column adds up, and a print setup
//! on every sheet (landscape, one page wide, the header row repeated, title, scope and page
//! numbers in the page header and footer). A figure nobody entered is a blank cell, never a 0.
//!
//! A spreadsheet number is a binary double. Each number goes from keel's exact decimal through its
//! text to the double, and is written as a number only when that double reads back as the same
//! decimal; anything more precise than a double can hold (beyond ~15 significant digits) is
//! written as text, so a cell never shows a figure keel does not hold.

use super::{gap_word, health_each, implementation, rag, stage, target_rows, tier, LEGEND};
use crate::domain::{Num, Stage};
use crate::store::report::ReportModel;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};

/// One cell of a sheet.
enum Cell {
    Text(String),
    /// Money: `#,##0.00`.
    Money(Num),
    /// A metric (key result or KPI value): `#,##0.00##`.
    Metric(Num),
    /// A share shown as a percentage: `0.0#%` (rounded to six decimals; two decimals of a
    /// percentage, so a 19.99% variance does not read as the 20% steering threshold).
    Percent(Num),
    /// A grade 0–1: `0.00` (rounded to six decimals).
    Grade(Num),
    Int(i64),
    /// A calendar date: `yyyy-mm-dd`.
    Date(NaiveDate),
    Empty,
}

use Cell::*;

/// Stored text for a cell, control characters escaped (they would not survive as XML either).
fn text(s: impl Into<String>) -> Cell {
    Text(crate::io::text::printable(s.into()))
}

fn opt_text(s: Option<&str>) -> Cell {
    s.map(text).unwrap_or(Empty)
}

/// A date cell from stored text (`2026-11-26` or a timestamp starting with one); text otherwise.
fn date(s: &str) -> Cell {
    let day = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map(Date).unwrap_or_else(|_| text(s))
}

fn opt_date(s: Option<&str>) -> Cell {
    s.map(date).unwrap_or(Empty)
}

fn opt(n: Option<Num>, make: fn(Num) -> Cell) -> Cell {
    n.map(make).unwrap_or(Empty)
}

/// The double for a decimal, if it holds the decimal exactly as written (see the module note).
pub fn exact_f64(n: Num) -> Option<f64> {
    let f: f64 = n.to_string().parse().ok()?;
    let back = Num::from_stored(&format!("{f}"))?;
    (f.is_finite() && back == n).then_some(f)
}

struct Formats {
    header: Format,
    money: Format,
    metric: Format,
    percent: Format,
    grade: Format,
    int: Format,
    date: Format,
    wrap: Format,
    total: Format,
    total_money: Format,
}

impl Formats {
    fn new(currency: Option<&str>) -> Formats {
        // The code is three capital letters (checked when set), safe inside a quoted literal.
        let money = match currency {
            Some(c) => format!("#,##0.00 \"{c}\""),
            None => "#,##0.00".to_string(),
        };
        Formats {
            header: Format::new().set_bold().set_background_color("F2F4F7").set_align(FormatAlign::Top).set_text_wrap(),
            money: Format::new().set_num_format(&money),
            metric: Format::new().set_num_format("#,##0.00##"),
            percent: Format::new().set_num_format("0.0#%"),
            grade: Format::new().set_num_format("0.00"),
            int: Format::new().set_num_format("0"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            total: Format::new().set_bold().set_border_top(rust_xlsxwriter::FormatBorder::Thin),
            total_money: Format::new().set_num_format(&money).set_bold().set_border_top(rust_xlsxwriter::FormatBorder::Thin),
        }
    }
}

/// What every printed page says: the report's title, its scope and date, and the page number.
struct Page {
    currency: Option<String>,
    header: String,
    footer: String,
}

impl Page {
    fn new(r: &ReportModel, source: &str) -> Page {
        // In a page header `&` starts a code: a literal one is doubled. Excel allows 255 characters.
        let esc = |s: &str, max: usize| -> String {
            let cut: String = s.chars().take(max).collect();
            cut.replace('&', "&&")
        };
        Page {
            currency: r.currency.clone(),
            header: format!(
                "&L&BSteering committee report&B&C{}&R{}{}",
                esc(&r.scope.describe(), 90),
                if r.as_of.is_some() { "as of " } else { "" },
                r.today
            ),
            footer: format!("&L{}&RPage &P of &N", esc(source, 90)),
        }
    }

    /// A money column's header names the currency, when the file sets one.
    fn heading(&self, name: &str, money: bool) -> String {
        match (&self.currency, money) {
            (Some(c), true) => format!("{name} ({c})"),
            _ => name.to_string(),
        }
    }
}

fn write_cell(ws: &mut Worksheet, f: &Formats, r: u32, c: u16, cell: &Cell, total: bool) -> Result<(), XlsxError> {
    let number = |n: &Num, fmt: &Format, ws: &mut Worksheet| -> Result<(), XlsxError> {
        match exact_f64(*n) {
            Some(x) => ws.write_number_with_format(r, c, x, fmt).map(|_| ()),
            None => ws.write_string(r, c, n.to_string()).map(|_| ()),
        }
    };
    match cell {
        Text(s) if total => ws.write_string_with_format(r, c, s, &f.total).map(|_| ())?,
        Text(s) if s.len() > 60 => ws.write_string_with_format(r, c, s, &f.wrap).map(|_| ())?,
        Text(s) => ws.write_string(r, c, s).map(|_| ())?,
        Money(n) => number(n, if total { &f.total_money } else { &f.money }, ws)?,
        Metric(n) => number(n, &f.metric, ws)?,
        // Derived ratios (progress, scores, variances) carry up to 28 decimals: six suffice.
        Percent(n) => number(&n.round_dp(6), &f.percent, ws)?,
        Grade(n) => number(&n.round_dp(6), &f.grade, ws)?,
        Int(i) => ws.write_number_with_format(r, c, *i as f64, &f.int).map(|_| ())?,
        Date(d) => {
            let day = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
            ws.write_datetime_with_format(r, c, &day, &f.date).map(|_| ())?
        }
        Empty if total => ws.write_blank(r, c, &f.total).map(|_| ())?,
        Empty => {}
    }
    Ok(())
}

/// One sheet: the header row, the data rows (filtered and sorted by the autofilter), then the
/// totals rows below them, outside the filter so a sort never moves them.
fn sheet(
    wb: &mut Workbook,
    f: &Formats,
    page: &Page,
    name: &str,
    header: &[(&str, f64)],
    rows: Vec<Vec<Cell>>,
    totals: Vec<Vec<Cell>>,
) -> Result<(), XlsxError> {
    // Written row by row, so each row goes to the sheet's temporary file (unnamed, 0600) as it is
    // finished rather than staying in memory: a sheet of every measure of a large file.
    let ws: &mut Worksheet = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(name)?;
    let is_money = |c: usize| rows.iter().chain(totals.iter()).any(|row| matches!(row.get(c), Some(Money(_))));
    for (c, (h, width)) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, page.heading(h, is_money(c)), &f.header)?;
        ws.set_column_width(c as u16, *width)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            write_cell(ws, f, r as u32 + 1, c as u16, cell, false)?;
        }
    }
    for (t, row) in totals.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            write_cell(ws, f, (rows.len() + t) as u32 + 1, c as u16, cell, true)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, rows.len().max(1) as u32, header.len().saturating_sub(1) as u16)?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    ws.set_header(&page.header);
    ws.set_footer(&page.footer);
    Ok(())
}

/// The report as XLSX bytes.
pub fn xlsx(r: &ReportModel, source: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title("Steering committee report").set_subject(r.scope.describe()).set_comment(LEGEND));
    let f = Formats::new(r.currency.as_deref());
    let page = Page::new(r, source);
    let c = &r.check;
    let t = c.escalations_by_tier;
    let mut health = Vec::new();
    health_each(r, &mut |what, key, detail| {
        health.push((what, key, detail));
        Ok(())
    })
    .map_err(store_error)?;
    let summary = vec![
        vec![text("Report date"), date(&r.today)],
        vec![text("Scope"), text(r.scope.describe())],
        vec![text("File"), text(source)],
        vec![text("Open escalations"), Int((t[0] + t[1] + t[2]) as i64)],
        vec![text(tier(3)), Int(t[2] as i64)],
        vec![text(tier(2)), Int(t[1] as i64)],
        vec![text(tier(1)), Int(t[0] as i64)],
        vec![text("Stale items"), Int(c.stale.len() as i64)],
        vec![text("Late milestones"), Int(c.late_milestones.len() as i64)],
        vec![text("Measures late or critical"), Int(c.implementation.len() as i64)],
        vec![text("Measures with amber or red potential"), Int(c.potential.len() as i64)],
        vec![text("Key results at risk"), Int(c.at_risk_key_results.len() as i64)],
        vec![text("Health warnings"), Int(health.len() as i64)],
        vec![text("Legend"), text(LEGEND)],
    ];
    let mut summary = summary;
    if let Some(c) = &r.currency {
        summary.insert(3, vec![text("Currency"), text(c)]);
    }
    if !r.narrowed.is_empty() {
        summary.insert(3, vec![text("Narrowed to"), text(r.narrowed.join(", "))]);
    }
    if let Some(as_of) = &r.as_of {
        summary.insert(1, vec![text("As of"), text(as_of)]);
    }
    sheet(&mut wb, &f, &page, "Summary", &[("What", 38.0), ("Value", 60.0)], summary, vec![])?;

    let rows = r
        .objectives
        .iter()
        .map(|o| {
            let g = o.target_gap;
            vec![
                text(&o.key),
                text(&o.title),
                text(&o.cycle),
                opt_text(o.owner.as_deref()),
                text(&o.level),
                opt_text(o.parent.as_deref()),
                text(rag(o.status.shown.rag)),
                text(rag(o.status.shown.computed)),
                text(if o.status.shown.manual { "yes" } else { "no" }),
                opt(o.status.progress, Percent),
                opt(g.map(|g| g.target), Money),
                opt(g.map(|g| g.bottom_up), Money),
                opt(g.map(|g| g.gap), Money),
                opt_text(o.explanation.as_deref()),
            ]
        })
        .collect();
    let header = [
        ("Key", 8.0),
        ("Objective", 44.0),
        ("Cycle", 10.0),
        ("Owner", 18.0),
        ("Level", 12.0),
        ("Aligned to", 10.0),
        ("Status", 12.0),
        ("Computed status", 14.0),
        ("Set by hand", 10.0),
        ("Progress", 10.0),
        ("Top-down target", 16.0),
        ("Bottom-up forecast", 16.0),
        ("Gap", 14.0),
        ("Status explanation", 40.0),
    ];
    sheet(&mut wb, &f, &page, "Objectives", &header, rows, vec![])?;

    let rows = r
        .objectives
        .iter()
        .flat_map(|o| o.key_results.iter().map(move |k| (o, k)))
        .map(|(o, k)| {
            vec![
                text(&o.key),
                text(&k.key),
                text(&k.title),
                opt_text(k.owner.as_deref()),
                opt_text(k.unit.as_deref()),
                opt(k.baseline, Metric),
                opt(k.status.target, Metric),
                opt(k.forecast, Metric),
                opt(k.status.latest_actual, Metric),
                opt(k.status.score.map(|s| s.grade), Grade),
                opt(k.status.score.map(|s| s.raw), Grade),
                opt_text(k.status.score.map(|s| s.zone.label())),
                text(rag(k.status.shown.rag)),
                text(rag(k.status.shown.computed)),
                text(k.status.at_risk.join(", ")),
                text(if k.status.stale { "yes" } else { "no" }),
                text(k.measures.join(", ")),
            ]
        })
        .collect();
    let header = [
        ("Objective", 10.0),
        ("Key", 8.0),
        ("Key result", 44.0),
        ("Owner", 18.0),
        ("Unit", 8.0),
        ("Baseline", 12.0),
        ("Target", 12.0),
        ("Forecast", 12.0),
        ("Actual", 12.0),
        ("Score", 8.0),
        ("Raw score", 10.0),
        ("Zone", 14.0),
        ("Status", 12.0),
        ("Computed status", 14.0),
        ("At risk from", 24.0),
        ("Stale", 8.0),
        ("Measures", 24.0),
    ];
    // A forecast column only when some key result has a forecast: an always-empty column misleads.
    let (header, rows): (Vec<(&str, f64)>, Vec<Vec<Cell>>) = if super::kr_forecasts(r) {
        (header.to_vec(), rows)
    } else {
        let drop = header.iter().position(|(h, _)| *h == "Forecast").expect("a forecast column");
        let header = header.iter().enumerate().filter(|(i, _)| *i != drop).map(|(_, h)| *h).collect();
        let rows = rows.into_iter().map(|mut row: Vec<Cell>| {
            row.remove(drop);
            row
        });
        (header, rows.collect())
    };
    sheet(&mut wb, &f, &page, "Key results", &header, rows, vec![])?;

    let rows = r
        .measures
        .iter()
        .map(|m| {
            let s = &m.status;
            vec![
                text(&m.key),
                text(&m.title),
                text(m.serves.join(", ")),
                opt_text(m.owner.as_deref()),
                opt_text(m.sponsor.as_deref()),
                opt_text(m.business_unit.as_deref()),
                text(stage(m)),
                text(implementation(s.implementation.level)),
                text(&s.implementation.detail),
                text(rag(s.potential)),
                text(s.value_type.as_str()),
                opt(s.shown_money.planned, Money),
                opt(s.shown_money.forecast, Money),
                opt(s.shown_money.actual, Money),
                text(if s.stale { "yes" } else { "no" }),
                opt_date(s.last_update.as_deref()),
                m.tier.map(|t| text(tier(t))).unwrap_or(Empty),
                opt_text(m.narrative.as_deref()),
                opt_text(m.decision_needed.as_deref()),
                opt_text(m.risk.as_deref()),
                opt_text(m.next_steps.as_deref()),
            ]
        })
        .collect();
    let header = [
        ("Key", 8.0),
        ("Measure", 40.0),
        ("Serves", 16.0),
        ("Owner", 18.0),
        ("Sponsor", 18.0),
        ("Business unit", 18.0),
        ("Stage", 18.0),
        ("Implementation", 14.0),
        ("Implementation detail", 30.0),
        ("Potential", 12.0),
        ("Value type", 16.0),
        ("Target (planned)", 16.0),
        ("Forecast", 16.0),
        ("Actual", 16.0),
        ("Stale", 8.0),
        ("Last update", 12.0),
        ("Escalation", 22.0),
        ("Status narrative", 40.0),
        ("Decision needed", 30.0),
        ("Risk", 30.0),
        ("Next steps", 30.0),
    ];
    let t = r.measure_totals;
    let mut total = vec![text("Total"), text(format!("{} measures (cancelled ones not counted)", r.measures.len()))];
    total.extend((2..11).map(|_| Empty));
    total.extend([Money(t.planned), Money(t.forecast), Money(t.actual)]);
    sheet(&mut wb, &f, &page, "Measures", &header, rows, vec![total])?;

    let rows = r
        .kpis
        .iter()
        .map(|k| {
            let s = &k.status;
            vec![
                text(&k.key),
                text(&k.title),
                text(s.ipo_class.as_str()),
                text(format!("{} is better", s.direction)),
                opt_text(k.unit.as_deref()),
                opt(s.target, Metric),
                opt(s.latest_actual, Metric),
                text(rag(s.rag)),
                text(if s.stale { "yes" } else { "no" }),
                text(s.missing.join(", ")),
                opt_text(k.owner.as_deref()),
            ]
        })
        .collect();
    let header = [
        ("Key", 8.0),
        ("KPI", 40.0),
        ("IPO class", 10.0),
        ("Direction", 16.0),
        ("Unit", 8.0),
        ("Target", 12.0),
        ("Latest actual", 14.0),
        ("Status", 12.0),
        ("Stale", 8.0),
        ("Missing", 24.0),
        ("Owner", 18.0),
    ];
    sheet(&mut wb, &f, &page, "KPIs", &header, rows, vec![])?;

    let rows = r
        .kpis
        .iter()
        .flat_map(|k| k.values.iter().map(move |v| (k, v)))
        .map(|(k, v)| vec![text(&k.key), text(&v.period), opt(v.planned, Metric), opt(v.forecast, Metric), opt(v.actual, Metric)])
        .collect();
    let header = [("KPI", 8.0), ("Period", 10.0), ("Planned", 12.0), ("Forecast", 12.0), ("Actual", 12.0)];
    sheet(&mut wb, &f, &page, "KPI trends", &header, rows, vec![])?;

    let rows = c
        .escalations
        .to_vec()
        .map_err(store_error)?
        .iter()
        .map(|e| {
            vec![
                Int(e.tier),
                text(tier(e.tier)),
                text(&e.key),
                text(&e.title),
                text(&e.kind),
                opt_text(e.owner.as_deref()),
                text(&e.reason),
                text(&e.period),
                // Cut toward zero to what the format shows, so Excel cannot round 19.999% to 20%.
                opt(e.relative.map(|r| Num::from(r.inner().round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero))), Percent),
                if e.kind == "measure" { Money(e.gap) } else { Metric(e.gap) },
                Int(e.periods_out),
                text(&e.assignee_role),
                opt_text(e.assignee.as_deref()),
                date(&e.opened_at),
                date(&e.due_at),
                text(if e.overdue { "yes" } else { "no" }),
                opt_text(e.acknowledged_by.as_deref()),
                opt_text(e.decision.as_deref()),
            ]
        })
        .collect();
    let header = [
        ("Tier", 6.0),
        ("Tier name", 22.0),
        ("Key", 8.0),
        ("Item", 36.0),
        ("Kind", 10.0),
        ("Owner", 18.0),
        ("Reason", 40.0),
        ("Period", 10.0),
        ("Variance", 10.0),
        ("Gap", 14.0),
        ("Periods out", 11.0),
        ("Assigned role", 14.0),
        ("Assigned to", 18.0),
        ("Opened", 11.0),
        ("Due", 11.0),
        ("Overdue", 9.0),
        ("Acknowledged by", 16.0),
        ("Decision", 30.0),
    ];
    sheet(&mut wb, &f, &page, "Escalations", &header, rows, vec![])?;

    // Confidence at the check-ins (the Markdown and HTML "Confidence" section): the trend as the
    // report words it, the latest share and its change as numbers to sort and filter by.
    let rows = r
        .confidence
        .iter()
        .map(|c| {
            let t = &c.trend;
            vec![text(&c.key), text(&c.title), opt(t.latest, Grade), opt(t.change, Grade), text(t.line(6)), opt_text(t.falling.as_deref())]
        })
        .collect();
    let header = [("Key", 8.0), ("Item", 36.0), ("Latest", 8.0), ("Change", 8.0), ("Confidence at the check-ins", 36.0), ("Warning", 40.0)];
    sheet(&mut wb, &f, &page, "Confidence", &header, rows, vec![])?;

    let funnel_rows: Vec<Vec<Cell>> = match &r.scoped_funnel {
        Some(by_stage) => by_stage.iter().map(|(s, m)| funnel_row("scope", &r.scope.describe(), *s, m)).collect(),
        None => c.funnel.iter().flat_map(|row| row.by_stage.iter().map(move |(s, m)| funnel_row(&row.key, &row.title, *s, m))).collect(),
    };
    let header = [("Node", 8.0), ("Title", 36.0), ("DoI", 6.0), ("Stage", 14.0), ("Planned", 16.0), ("Forecast", 16.0), ("Actual", 16.0)];
    // A total per node (nodes nest, so a grand total over them would count money twice).
    let funnel_totals: Vec<Vec<Cell>> = match &r.scoped_funnel {
        Some(_) => {
            let t = r.measure_totals;
            vec![vec![text("scope"), text("Total"), Empty, Empty, Money(t.planned), Money(t.forecast), Money(t.actual)]]
        }
        None => c
            .funnel
            .iter()
            .map(|row| {
                let t = row.total;
                vec![
                    text(&row.key),
                    text(format!("Total {}", row.title)),
                    Empty,
                    Empty,
                    Money(t.planned),
                    Money(t.forecast),
                    Money(t.actual),
                ]
            })
            .collect(),
    };
    sheet(&mut wb, &f, &page, "Value funnel", &header, funnel_rows, funnel_totals)?;

    let rows = target_rows(r)
        .into_iter()
        .map(|(k, title, g)| vec![text(k), text(title), Money(g.target), Money(g.bottom_up), Money(g.gap), text(gap_word(g.gap))])
        .collect();
    let header =
        [("Key", 8.0), ("Title", 40.0), ("Top-down target", 16.0), ("Bottom-up forecast", 18.0), ("Gap", 16.0), ("Covered?", 18.0)];
    sheet(&mut wb, &f, &page, "Targets", &header, rows, vec![])?;

    let rows = c
        .stale
        .to_vec()
        .map_err(store_error)?
        .iter()
        .map(|s| {
            vec![
                text(&s.key),
                text(&s.title),
                opt_text(s.owner.as_deref()),
                text(&s.cadence),
                opt_date(s.last_update.as_deref()),
                s.days_since_update.map(Int).unwrap_or(Empty),
            ]
        })
        .collect();
    let header = [("Key", 8.0), ("Item", 40.0), ("Owner", 18.0), ("Cadence", 10.0), ("Last update", 12.0), ("Days since", 10.0)];
    sheet(&mut wb, &f, &page, "Stale", &header, rows, vec![])?;

    let rows = c
        .late_milestones
        .to_vec()
        .map_err(store_error)?
        .iter()
        .map(|m| vec![text(&m.key), text(&m.milestone), date(&m.due), Int(m.days_overdue), opt_text(m.owner.as_deref())])
        .collect();
    let header = [("Measure", 8.0), ("Milestone", 40.0), ("Due", 12.0), ("Days overdue", 12.0), ("Owner", 18.0)];
    sheet(&mut wb, &f, &page, "Late milestones", &header, rows, vec![])?;

    let rows = health.into_iter().map(|(what, key, detail)| vec![text(what), text(key), text(detail)]).collect();
    sheet(&mut wb, &f, &page, "Health", &[("Check", 28.0), ("Item", 12.0), ("Detail", 70.0)], rows, vec![])?;

    wb.save_to_buffer()
}

fn funnel_row(key: &str, title: &str, s: Stage, m: &crate::domain::rollup::Money) -> Vec<Cell> {
    vec![text(key), text(title), text(s.short()), text(s.as_str()), Money(m.planned), Money(m.forecast), Money(m.actual)]
}

/// The sheet names, in order (for tests and documentation).
pub const SHEETS: &[&str] = &[
    "Summary",
    "Objectives",
    "Key results",
    "Measures",
    "KPIs",
    "KPI trends",
    "Escalations",
    "Confidence",
    "Value funnel",
    "Targets",
    "Stale",
    "Late milestones",
    "Health",
];

/// A failure to read back the report's spilled lists, as the workbook's error.
fn store_error(e: crate::store::StoreError) -> XlsxError {
    XlsxError::IoError(std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_go_through_their_text_and_refuse_lossy_doubles() {
        let n = |s: &str| Num::parse(s).unwrap();
        assert_eq!(exact_f64(n("-1200")), Some(-1200.0));
        assert_eq!(exact_f64(n("0.1")), Some(0.1));
        assert_eq!(exact_f64(n("151220.50")), Some(151220.5));
        assert_eq!(exact_f64(n("12345678901234567.89")), None, "beyond a double: written as text");
    }
}
