//! The steering committee report (`keel report`) in Markdown, HTML and XLSX.
//!
//! All three render one [`ReportModel`], which the store builds from the read models that
//! `keel check` and the TUI use, so the numbers agree everywhere. Renderers only format: they
//! never add, round for sums or recompute a status. Statuses are always a word and a symbol, so
//! the report reads the same in black and white, and implementation and potential are never
//! blended into one colour.

pub mod html;
mod markdown;
mod pack;
mod tree;
pub mod xlsx;

pub use tree::{Held, Measures, Pick};

pub use markdown::{markdown, markdown_of, write_markdown};
pub use pack::render_summary;

use crate::domain::escalation::Tier;
use crate::domain::rollup::Money;
use crate::domain::status::{ImplLevel, Rag};
use crate::domain::{Num, Stage};
use crate::store::report::{KpiBlock, KrBlock, MeasureBlock, ReportModel};
use crate::store::Result;

/// A symbol for each status (the same shapes as on screen, so a report and the TUI look alike).
pub fn rag_symbol(r: Rag) -> &'static str {
    r.symbol()
}

pub fn impl_symbol(l: ImplLevel) -> &'static str {
    l.symbol()
}

pub fn tier_symbol(tier: i64) -> &'static str {
    match tier {
        3 => "!!!",
        2 => "!!",
        _ => "!",
    }
}

pub fn tier_label(tier: i64) -> &'static str {
    Tier::from_number(tier).map(|t| t.label()).unwrap_or("escalation")
}

/// "▲ amber" — symbol and word together.
pub fn rag(r: Rag) -> String {
    format!("{} {}", rag_symbol(r), r.label())
}

pub fn implementation(l: ImplLevel) -> String {
    format!("{} {}", impl_symbol(l), l.label())
}

pub fn tier(t: i64) -> String {
    format!("{} {}", tier_symbol(t), tier_label(t))
}

pub const LEGEND: &str = "Statuses are words with symbols: ● green · ▲ amber · ■ red · ? stale · · no data. \
Implementation (is the work on schedule?): → on track · ⏱ late · ⚠ critical. Potential (is the value still credible?) \
is judged apart from it. Escalation tiers: ! owner review · !! sponsor action · !!! steering committee.";

/// A number as the app shows it (thousands separators, stored precision), or a dash.
pub fn num(n: Option<Num>) -> String {
    n.map(|x| x.grouped()).unwrap_or_else(|| "—".into())
}

/// A key result's score: the grade with two decimals and its zone.
pub fn score(k: &KrBlock) -> String {
    match k.status.score {
        Some(s) => format!("{} ({})", s.grade.round_dp(2), s.zone.label()),
        None => "—".into(),
    }
}

/// The status of a key result with what puts it at risk.
pub fn kr_status(k: &KrBlock) -> String {
    let mut s = rag(k.status.shown.rag);
    if k.status.shown.manual {
        s.push_str(&format!(" (set by hand; numbers say {})", k.status.shown.computed.label()));
    }
    if !k.status.at_risk.is_empty() {
        s.push_str(&format!(" — at risk: {}", k.status.at_risk.join(", ")));
    }
    s
}

pub fn potential(m: &MeasureBlock) -> String {
    rag(m.status.potential)
}

pub fn stage(m: &MeasureBlock) -> String {
    let mut s = format!("{} {}", m.status.stage.short(), m.status.stage);
    if let Some(side) = m.status.side_state {
        s.push_str(&format!(" ({side})"));
    }
    s
}

/// Where a report is written: Markdown and HTML receive the same walk through the model, as
/// plain text; each escapes it for its own format.
pub trait Sink {
    fn heading(&mut self, level: u8, text: &str);
    fn para(&mut self, text: &str);
    /// A quiet note such as "nothing is stale".
    fn muted(&mut self, text: &str);
    /// A table's header; the columns in `right` hold numbers and are right-aligned.
    fn table_start(&mut self, header: &[&str], right: &[usize]);
    fn table_row(&mut self, right: &[usize], row: &[String]);
    fn table_end(&mut self);
    /// A table at once.
    fn table(&mut self, header: &[&str], right: &[usize], rows: &[Vec<String>]) {
        self.table_start(header, right);
        for r in rows {
            self.table_row(right, r);
        }
        self.table_end();
    }
    /// A list of (lead, rest) items, the lead emphasised.
    fn bullets_start(&mut self);
    fn bullet(&mut self, lead: &str, rest: &str);
    fn bullets_end(&mut self);
    fn bullets(&mut self, items: &[(String, String)]) {
        self.bullets_start();
        for (lead, rest) in items {
            self.bullet(lead, rest);
        }
        self.bullets_end();
    }
    /// A chart of the value funnel (only the HTML draws one).
    fn funnel_chart(&mut self, _title: &str, _by_stage: &[(Stage, Money)]) {}
    /// Trend charts of the KPIs (only the HTML draws them).
    fn kpi_charts(&mut self, _kpis: &[KpiBlock]) {}
}

pub(crate) fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

pub(crate) fn or_dash(s: Option<&str>) -> String {
    s.filter(|x| !x.trim().is_empty()).map(str::to_string).unwrap_or_else(|| "—".into())
}

pub(crate) fn day(s: &str) -> String {
    s.get(..10).unwrap_or(s).to_string()
}

pub(crate) fn measure_row(m: &MeasureBlock) -> Vec<String> {
    vec![
        format!("{} {}", m.key, m.title),
        or_dash(m.owner.as_deref()),
        stage(m),
        implementation(m.status.implementation.level),
        potential(m),
        num(m.status.shown_money.planned),
        num(m.status.shown_money.forecast),
        num(m.status.shown_money.actual),
        m.tier.map(tier).unwrap_or_else(|| "—".into()),
    ]
}

/// A money column's heading, with the file's currency when it names one.
pub fn money_heading(name: &str, currency: Option<&str>) -> String {
    match currency {
        Some(c) => format!("{name} ({c})"),
        None => name.to_string(),
    }
}

pub(crate) fn measure_header(r: &ReportModel) -> Vec<String> {
    let c = r.currency.as_deref();
    let mut h: Vec<String> = ["Measure", "Owner", "Stage", "Implementation", "Potential"].map(String::from).to_vec();
    h.extend(["Target (planned)", "Forecast", "Actual"].map(|x| money_heading(x, c)));
    h.push("Escalation".into());
    h
}
pub(crate) const MEASURE_RIGHT: [usize; 3] = [5, 6, 7];

/// Does any key result in the report have a forecast? (Else its column is left out.)
pub fn kr_forecasts(r: &ReportModel) -> bool {
    r.objectives.iter().flat_map(|o| &o.key_results).any(|k| k.forecast.is_some())
}

/// Does a measure have anything to say beyond its numbers (a narrative, a decision, …)?
pub(crate) fn has_notes(m: &MeasureBlock) -> bool {
    let said = |s: &Option<String>| s.as_deref().is_some_and(|x| !x.trim().is_empty());
    said(&m.narrative)
        || said(&m.decision_needed)
        || said(&m.risk)
        || said(&m.next_steps)
        || !m.status.implementation.detail.is_empty()
        || m.status.stale
}

pub(crate) fn measure_notes(m: &MeasureBlock) -> (String, String) {
    let mut parts = vec![format!("owner {}, sponsor {}", or_dash(m.owner.as_deref()), or_dash(m.sponsor.as_deref()))];
    if !m.status.implementation.detail.is_empty() {
        parts.push(format!("implementation {} ({})", implementation(m.status.implementation.level), m.status.implementation.detail));
    }
    if m.status.stale {
        let last = m.status.last_update.as_deref().map(day).unwrap_or_else(|| "never".into());
        parts.push(format!("? stale: last update {last} ({} cadence)", m.status.cadence.as_str()));
    }
    parts.push(format!("status narrative: {}", or_dash(m.narrative.as_deref())));
    parts.push(format!("decision needed: {}", or_dash(m.decision_needed.as_deref())));
    parts.push(format!("risk: {}", or_dash(m.risk.as_deref())));
    parts.push(format!("next steps: {}", or_dash(m.next_steps.as_deref())));
    (format!("{} {}", m.key, m.title), parts.join(" · "))
}

/// Walk the model in report order and hand every section to the sink, the measures read from `ms`.
pub fn render(r: &ReportModel, source: &str, ms: &dyn Measures, out: &mut dyn Sink) -> Result<()> {
    let c = &r.check;
    out.heading(1, "Steering committee report");
    heading_lines(r, source, out);

    summary_section(r, out);

    tree::objectives(r, ms, out)?;

    out.heading(2, "KPIs");
    if r.kpis.is_empty() {
        out.muted("No KPI in scope.");
    } else {
        let rows: Vec<Vec<String>> = r
            .kpis
            .iter()
            .map(|k| {
                vec![
                    format!("{} {}", k.key, k.title),
                    k.status.ipo_class.to_string(),
                    format!("{} is better", k.status.direction),
                    num(k.status.target),
                    num(k.status.latest_actual),
                    rag(k.status.rag),
                    or_dash(k.owner.as_deref()),
                ]
            })
            .collect();
        out.table(&["KPI", "IPO class", "Direction", "Target", "Latest actual", "Status", "Owner"], &[3, 4], &rows);
        out.kpi_charts(&r.kpis);
    }

    escalations_section(r, out)?;
    confidence_section(r, out);

    funnel_section(r, out);

    out.heading(2, "Top-down targets against bottom-up value");
    let targets = target_rows(r);
    if targets.is_empty() {
        out.muted("No top-down target set in scope.");
    } else {
        let rows: Vec<Vec<String>> = targets
            .iter()
            .map(|(k, title, g)| {
                vec![format!("{k} {title}"), g.target.grouped(), g.bottom_up.grouped(), g.gap.grouped(), gap_word(g.gap).into()]
            })
            .collect();
        out.table(&["Item", "Top-down target", "Bottom-up forecast", "Gap", "Covered?"], &[1, 2, 3], &rows);
    }

    out.heading(2, "Stale items");
    if c.stale.is_empty() {
        out.muted("Nothing is stale.");
    } else {
        let right = [4];
        out.table_start(&["Item", "Owner", "Cadence", "Last update", "Days since"], &right);
        c.stale.each(&mut |s| {
            out.table_row(
                &right,
                &[
                    format!("? {} {}", s.key, s.title),
                    or_dash(s.owner.as_deref()),
                    s.cadence,
                    s.last_update.as_deref().map(day).unwrap_or_else(|| "never".into()),
                    s.days_since_update.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                ],
            );
            Ok(())
        })?;
        out.table_end();
    }
    if !c.late_milestones.is_empty() {
        out.heading(3, "Late milestones");
        let right = [3];
        out.table_start(&["Measure", "Milestone", "Due", "Days overdue", "Owner"], &right);
        c.late_milestones.each(&mut |m| {
            out.table_row(&right, &[m.key, m.milestone, m.due, m.days_overdue.to_string(), or_dash(m.owner.as_deref())]);
            Ok(())
        })?;
        out.table_end();
    }

    out.heading(2, "Health warnings");
    if health_count(r) == 0 {
        out.muted("No warnings.");
    } else {
        out.bullets_start();
        health_each(r, &mut |what, key, detail| {
            out.bullet(&what, &if detail.is_empty() { key } else { format!("{key} — {detail}") });
            Ok(())
        })?;
        out.bullets_end();
    }
    Ok(())
}

/// The date, scope and file under the title, what narrowed the report, and the legend.
pub(crate) fn heading_lines(r: &ReportModel, source: &str, out: &mut dyn Sink) {
    let currency = r.currency.as_deref().map(|c| format!(" · Money in {c}")).unwrap_or_default();
    out.para(&format!("Date: {} · Scope: {} · File: {}{currency}", r.today, r.scope.describe(), source));
    if let Some(as_of) = &r.as_of {
        out.para(&format!("As of: {as_of}."));
    }
    if !r.narrowed.is_empty() {
        out.para(&format!("Narrowed to: {} (the summary counts cover the whole scope).", r.narrowed.join(", ")));
    }
    out.muted(LEGEND);
}

pub(crate) fn summary_section(r: &ReportModel, out: &mut dyn Sink) {
    let c = &r.check;
    out.heading(2, "Summary");
    let t = c.escalations_by_tier;
    let health = health_count(r);
    out.table(
        &["What", "Count"],
        &[1],
        &[
            vec!["Open escalations".into(), (t[0] + t[1] + t[2]).to_string()],
            vec![tier(3), t[2].to_string()],
            vec![tier(2), t[1].to_string()],
            vec![tier(1), t[0].to_string()],
            vec!["Stale items".into(), c.stale.len().to_string()],
            vec!["Late milestones".into(), c.late_milestones.len().to_string()],
            vec!["Measures late or critical".into(), c.implementation.len().to_string()],
            vec!["Measures with amber or red potential".into(), c.potential.len().to_string()],
            vec!["Key results at risk".into(), c.at_risk_key_results.len().to_string()],
            vec!["Health warnings".into(), health.to_string()],
        ],
    );
}

pub(crate) fn escalations_section(r: &ReportModel, out: &mut dyn Sink) -> Result<()> {
    let c = &r.check;
    out.heading(2, "Open escalations by tier");
    let mut counts = [0usize; 4];
    c.escalations.each(&mut |e| {
        if let Some(n) = usize::try_from(e.tier).ok().and_then(|t| counts.get_mut(t)) {
            *n += 1;
        }
        Ok(())
    })?;
    for t in [3, 2, 1] {
        let n = counts[t as usize];
        out.heading(3, &format!("{} ({})", tier(t), n));
        if n == 0 {
            out.muted("None open.");
            continue;
        }
        let right = [4, 5, 6];
        out.table_start(&["Item", "Owner", "Reason", "Period", "Variance", "Gap", "Periods out", "Assigned to", "Due", "Decision"], &right);
        c.escalations.each(&mut |e| {
            if e.tier != t {
                return Ok(());
            }
            out.table_row(
                &right,
                &[
                    format!("{} {}", e.key, e.title),
                    or_dash(e.owner.as_deref()),
                    e.reason.clone(),
                    e.period.clone(),
                    e.relative.map(crate::domain::escalation::relative_percent).unwrap_or_else(|| "—".into()),
                    e.gap.grouped(),
                    e.periods_out.to_string(),
                    or_dash(e.assignee.as_deref()),
                    format!("{}{}", day(&e.due_at), if e.overdue { " (overdue)" } else { "" }),
                    or_dash(e.decision.as_deref()),
                ],
            );
            Ok(())
        })?;
        out.table_end();
    }
    Ok(())
}

/// Confidence at the check-ins, where owners gave one: the trend and any warning.
pub(crate) fn confidence_section(r: &ReportModel, out: &mut dyn Sink) {
    if r.confidence.is_empty() {
        return;
    }
    out.heading(2, "Confidence");
    let rows: Vec<Vec<String>> = r
        .confidence
        .iter()
        .map(|c| vec![format!("{} {}", c.key, c.title), c.trend.line(6), c.trend.falling.clone().unwrap_or_default()])
        .collect();
    out.table(&["Item", "Confidence at the check-ins", "Warning"], &[], &rows);
}

pub(crate) fn funnel_section(r: &ReportModel, out: &mut dyn Sink) {
    let c = &r.check;
    out.heading(2, "Value funnel by DoI stage");
    if let Some(f) = &r.scoped_funnel {
        out.para("Net money of the measures in scope by stage (benefits less costs; cancelled measures do not count).");
        let rows: Vec<Vec<String>> = f
            .iter()
            .map(|(s, m)| vec![format!("{} {s}", s.short()), m.planned.grouped(), m.forecast.grouped(), m.actual.grouped()])
            .collect();
        out.table(&["Stage", "Planned", "Forecast", "Actual"], &[1, 2, 3], &rows);
        out.funnel_chart("Measures in scope", f);
    } else if c.funnel.is_empty() {
        out.muted("No portfolio or programme yet.");
    } else {
        out.para("Net forecast (benefits less costs) by stage, per portfolio and programme.");
        let stages: Vec<String> = Stage::ALL.iter().map(|s| format!("{} {s}", s.short())).collect();
        let mut header: Vec<&str> = vec!["Node"];
        header.extend(stages.iter().map(String::as_str));
        header.push("Total");
        let rows: Vec<Vec<String>> = c
            .funnel
            .iter()
            .map(|f| {
                let mut row = vec![format!("{} {}", f.key, f.title)];
                row.extend(f.by_stage.iter().map(|(_, m)| m.forecast.grouped()));
                row.push(f.total.forecast.grouped());
                row
            })
            .collect();
        out.table(&header, &[1, 2, 3, 4, 5, 6, 7], &rows);
        let rows: Vec<Vec<String>> = c
            .funnel
            .iter()
            .map(|f| {
                vec![format!("{} {}", f.key, f.title), f.total.planned.grouped(), f.total.forecast.grouped(), f.total.actual.grouped()]
            })
            .collect();
        out.table(&["Node", "Planned", "Forecast", "Actual"], &[1, 2, 3], &rows);
        for f in &c.funnel {
            out.funnel_chart(&format!("{} {}", f.key, f.title), &f.by_stage);
        }
    }
}

/// "above" / "short": whether the bottom-up value covers the top-down target.
pub fn gap_word(gap: Num) -> &'static str {
    if gap.is_negative() {
        "■ short of target"
    } else {
        "● covers target"
    }
}

/// Top-down targets in scope: programmes and portfolios, then objectives.
pub fn target_rows(r: &ReportModel) -> Vec<(String, String, crate::domain::rollup::TargetGap)> {
    let mut out: Vec<_> = r.check.funnel.iter().filter_map(|f| f.target_gap.map(|g| (f.key.clone(), f.title.clone(), g))).collect();
    for (key, g) in &r.check.objective_targets {
        let title = r.objectives.iter().find(|o| &o.key == key).map(|o| o.title.clone()).unwrap_or_default();
        out.push((key.clone(), title, *g));
    }
    out
}

/// How many health warnings [`health_each`] hands on.
pub fn health_count(r: &ReportModel) -> usize {
    let c = &r.check;
    let a = &c.alignment;
    c.implementation.len()
        + c.potential.len()
        + c.at_risk_key_results.len()
        + c.green_without_explanation.len()
        + usize::from(a.above_ceiling)
        + a.orphans.len()
        + a.likely_duplicates.len()
        + c.outcome_only_objectives.len()
        + c.isolated_kpis.len()
        + c.incomplete_kpis.len()
        + c.not_executable.len()
}

/// Every health warning as (check, key, detail), in a fixed order, handed to `each`.
pub fn health_each(r: &ReportModel, each: &mut dyn FnMut(String, String, String) -> Result<()>) -> Result<()> {
    let c = &r.check;
    c.implementation.each(&mut |s| each(format!("implementation {}", s.status), s.key, format!("{} — {}", s.title, s.detail)))?;
    c.potential.each(&mut |s| each(format!("potential {}", s.status), s.key, format!("{} — {}", s.title, s.detail)))?;
    for s in &c.at_risk_key_results {
        each("key result at risk".into(), s.key.clone(), format!("{} — {}", s.title, s.detail))?;
    }
    for s in &c.green_without_explanation {
        each("⚑ green without explanation".into(), s.key.clone(), s.detail.clone())?;
    }
    let a = &c.alignment;
    if a.above_ceiling {
        let share = a.cascade_share.map(|s| s.percent()).unwrap_or_default();
        let ceiling = a.ceiling.map(|s| s.percent()).unwrap_or_default();
        each("cascade above ceiling".into(), String::new(), format!("{share} of objectives cascaded; the ceiling is {ceiling}"))?;
    }
    for k in &a.orphans {
        each("orphan objective".into(), k.clone(), "no parent and no link".into())?;
    }
    for (x, y) in &a.likely_duplicates {
        each("likely duplicate objectives".into(), format!("{x} ~ {y}"), String::new())?;
    }
    for k in &c.outcome_only_objectives {
        each("outcome-only objective".into(), k.clone(), "watched only by outcome KPIs: no input or process KPI".into())?;
    }
    for k in &c.isolated_kpis {
        each("isolated KPI".into(), k.clone(), "linked to nothing".into())?;
    }
    for g in &c.incomplete_kpis {
        each("incomplete KPI".into(), g.key.clone(), format!("missing {}", g.missing.join(", ")))?;
    }
    for g in &c.not_executable {
        each("objective not yet executable".into(), g.key.clone(), format!("missing {}", g.missing.join(", ")))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "report/stream_cases.rs"]
mod stream_cases;
#[cfg(test)]
#[path = "report/stream_tests.rs"]
mod stream_tests;
