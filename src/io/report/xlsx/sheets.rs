//! What each sheet of the workbook shows, in [`super::SHEETS`] order: a row per objective, key
//! result, measure, KPI … each handed to the sheet writer as it is made. The measures come from
//! a [`Measures`] source (a page at a time from the store), the long check lists (escalations,
//! stale items, late milestones, health warnings) row by row from their spill files.

use super::cells::{date, opt, opt_date, opt_text, text, Cell, Cell::*};
use super::sheet::{Book, Put};
use crate::domain::{Num, Stage};
use crate::io::report::{
    gap_word, health_count, health_each, implementation, kr_forecasts, rag, stage, target_rows, tier, Measures, Pick, LEGEND,
};
use crate::store::report::ReportModel;
use crate::store::Result;

/// A sheet without totals rows.
fn no_totals(_: usize) -> Vec<Vec<Cell>> {
    vec![]
}

/// Every sheet, in order.
pub(super) fn all(b: &mut Book, r: &ReportModel, source: &str, ms: &dyn Measures) -> Result<()> {
    summary(b, r, source)?;
    objectives(b, r)?;
    key_results(b, r, ms)?;
    measures(b, r, ms)?;
    kpis(b, r)?;
    kpi_trends(b, r)?;
    escalations(b, r)?;
    confidence(b, r)?;
    value_funnel(b, r)?;
    targets(b, r)?;
    stale(b, r)?;
    late_milestones(b, r)?;
    health(b, r)
}

fn summary(b: &mut Book, r: &ReportModel, source: &str) -> Result<()> {
    let c = &r.check;
    let t = c.escalations_by_tier;
    let mut rows = vec![
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
        vec![text("Health warnings"), Int(health_count(r) as i64)],
        vec![text("Legend"), text(LEGEND)],
    ];
    if let Some(c) = &r.currency {
        rows.insert(3, vec![text("Currency"), text(c)]);
    }
    if !r.narrowed.is_empty() {
        rows.insert(3, vec![text("Narrowed to"), text(r.narrowed.join(", "))]);
    }
    if let Some(as_of) = &r.as_of {
        rows.insert(1, vec![text("As of"), text(as_of)]);
    }
    let header = [("What", 38.0), ("Value", 60.0)];
    b.sheet("Summary", &header, &[], &mut |put| rows.iter().try_for_each(|row| put(row.to_vec())), &no_totals)
}

fn objectives(b: &mut Book, r: &ReportModel) -> Result<()> {
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
    let rows = &mut |put: Put| {
        for o in &r.objectives {
            let g = o.target_gap;
            put(vec![
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
            ])?;
        }
        Ok(())
    };
    b.sheet("Objectives", &header, &[10, 11, 12], rows, &no_totals)
}

fn key_results(b: &mut Book, r: &ReportModel, ms: &dyn Measures) -> Result<()> {
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
    let drop = (!kr_forecasts(r)).then(|| header.iter().position(|(h, _)| *h == "Forecast").expect("a forecast column"));
    let header: Vec<(&str, f64)> = header.iter().enumerate().filter(|(i, _)| Some(*i) != drop).map(|(_, h)| *h).collect();
    let rows = &mut |put: Put| {
        for o in &r.objectives {
            for k in &o.key_results {
                // The keys of the measures serving it, as the report shows them under it.
                let mut serving = Vec::new();
                ms.keys(r, Pick::Serving(k), &mut |key| {
                    serving.push(key.to_string());
                    Ok(())
                })?;
                let mut row = vec![
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
                    text(serving.join(", ")),
                ];
                if let Some(d) = drop {
                    row.remove(d);
                }
                put(row)?;
            }
        }
        Ok(())
    };
    b.sheet("Key results", &header, &[], rows, &no_totals)
}

fn measures(b: &mut Book, r: &ReportModel, ms: &dyn Measures) -> Result<()> {
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
    let rows = &mut |put: Put| {
        ms.each(r, Pick::All, &mut |m| {
            let s = &m.status;
            put(vec![
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
            ])
        })
    };
    let t = r.measure_totals;
    let totals = |n: usize| {
        let mut total = vec![text("Total"), text(format!("{n} measures (cancelled ones not counted)"))];
        total.extend((2..11).map(|_| Empty));
        total.extend([Money(t.planned), Money(t.forecast), Money(t.actual)]);
        vec![total]
    };
    b.sheet("Measures", &header, &[11, 12, 13], rows, &totals)
}

fn kpis(b: &mut Book, r: &ReportModel) -> Result<()> {
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
    let rows = &mut |put: Put| {
        for k in &r.kpis {
            let s = &k.status;
            put(vec![
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
            ])?;
        }
        Ok(())
    };
    b.sheet("KPIs", &header, &[], rows, &no_totals)
}

fn kpi_trends(b: &mut Book, r: &ReportModel) -> Result<()> {
    let header = [("KPI", 8.0), ("Period", 10.0), ("Planned", 12.0), ("Forecast", 12.0), ("Actual", 12.0)];
    let rows = &mut |put: Put| {
        for k in &r.kpis {
            for v in &k.values {
                put(vec![text(&k.key), text(&v.period), opt(v.planned, Metric), opt(v.forecast, Metric), opt(v.actual, Metric)])?;
            }
        }
        Ok(())
    };
    b.sheet("KPI trends", &header, &[], rows, &no_totals)
}

fn escalations(b: &mut Book, r: &ReportModel) -> Result<()> {
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
    let rows = &mut |put: Put| {
        r.check.escalations.each(&mut |e| {
            // Cut toward zero to what the format shows, so Excel cannot round 19.999% to 20%.
            let shown = |r: Num| Num::from(r.inner().round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero));
            put(vec![
                Int(e.tier),
                text(tier(e.tier)),
                text(&e.key),
                text(&e.title),
                text(&e.kind),
                opt_text(e.owner.as_deref()),
                text(&e.reason),
                text(&e.period),
                opt(e.relative.map(shown), Percent),
                if e.kind == "measure" { Money(e.gap) } else { Metric(e.gap) },
                Int(e.periods_out),
                text(&e.assignee_role),
                opt_text(e.assignee.as_deref()),
                date(&e.opened_at),
                date(&e.due_at),
                text(if e.overdue { "yes" } else { "no" }),
                opt_text(e.acknowledged_by.as_deref()),
                opt_text(e.decision.as_deref()),
            ])
        })
    };
    b.sheet("Escalations", &header, &[9], rows, &no_totals)
}

/// Confidence at the check-ins (the Markdown and HTML "Confidence" section): the trend as the
/// report words it, the latest share and its change as numbers to sort and filter by.
fn confidence(b: &mut Book, r: &ReportModel) -> Result<()> {
    let header = [("Key", 8.0), ("Item", 36.0), ("Latest", 8.0), ("Change", 8.0), ("Confidence at the check-ins", 36.0), ("Warning", 40.0)];
    let rows = &mut |put: Put| {
        for c in &r.confidence {
            let t = &c.trend;
            put(vec![
                text(&c.key),
                text(&c.title),
                opt(t.latest, Grade),
                opt(t.change, Grade),
                text(t.line(6)),
                opt_text(t.falling.as_deref()),
            ])?;
        }
        Ok(())
    };
    b.sheet("Confidence", &header, &[], rows, &no_totals)
}

fn value_funnel(b: &mut Book, r: &ReportModel) -> Result<()> {
    let c = &r.check;
    let header = [("Node", 8.0), ("Title", 36.0), ("DoI", 6.0), ("Stage", 14.0), ("Planned", 16.0), ("Forecast", 16.0), ("Actual", 16.0)];
    let rows = &mut |put: Put| match &r.scoped_funnel {
        Some(by_stage) => by_stage.iter().try_for_each(|(s, m)| put(funnel_row("scope", &r.scope.describe(), *s, m))),
        None => c
            .funnel
            .iter()
            .flat_map(|row| row.by_stage.iter().map(move |(s, m)| funnel_row(&row.key, &row.title, *s, m)))
            .try_for_each(&mut *put),
    };
    // A total per node (nodes nest, so a grand total over them would count money twice).
    let totals = |_: usize| match &r.scoped_funnel {
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
    b.sheet("Value funnel", &header, &[4, 5, 6], rows, &totals)
}

fn funnel_row(key: &str, title: &str, s: Stage, m: &crate::domain::rollup::Money) -> Vec<Cell> {
    vec![text(key), text(title), text(s.short()), text(s.as_str()), Money(m.planned), Money(m.forecast), Money(m.actual)]
}

fn targets(b: &mut Book, r: &ReportModel) -> Result<()> {
    let header =
        [("Key", 8.0), ("Title", 40.0), ("Top-down target", 16.0), ("Bottom-up forecast", 18.0), ("Gap", 16.0), ("Covered?", 18.0)];
    let rows = &mut |put: Put| {
        for (k, title, g) in target_rows(r) {
            put(vec![text(k), text(title), Money(g.target), Money(g.bottom_up), Money(g.gap), text(gap_word(g.gap))])?;
        }
        Ok(())
    };
    b.sheet("Targets", &header, &[2, 3, 4], rows, &no_totals)
}

fn stale(b: &mut Book, r: &ReportModel) -> Result<()> {
    let header = [("Key", 8.0), ("Item", 40.0), ("Owner", 18.0), ("Cadence", 10.0), ("Last update", 12.0), ("Days since", 10.0)];
    let rows = &mut |put: Put| {
        r.check.stale.each(&mut |s| {
            put(vec![
                text(&s.key),
                text(&s.title),
                opt_text(s.owner.as_deref()),
                text(&s.cadence),
                opt_date(s.last_update.as_deref()),
                s.days_since_update.map(Int).unwrap_or(Empty),
            ])
        })
    };
    b.sheet("Stale", &header, &[], rows, &no_totals)
}

fn late_milestones(b: &mut Book, r: &ReportModel) -> Result<()> {
    let header = [("Measure", 8.0), ("Milestone", 40.0), ("Due", 12.0), ("Days overdue", 12.0), ("Owner", 18.0)];
    let rows = &mut |put: Put| {
        r.check
            .late_milestones
            .each(&mut |m| put(vec![text(&m.key), text(&m.milestone), date(&m.due), Int(m.days_overdue), opt_text(m.owner.as_deref())]))
    };
    b.sheet("Late milestones", &header, &[], rows, &no_totals)
}

fn health(b: &mut Book, r: &ReportModel) -> Result<()> {
    let header = [("Check", 28.0), ("Item", 12.0), ("Detail", 70.0)];
    let rows = &mut |put: Put| health_each(r, &mut |what, key, detail| put(vec![text(what), text(key), text(detail)]));
    b.sheet("Health", &header, &[], rows, &no_totals)
}
