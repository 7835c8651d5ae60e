//! The report's tree (objective → key result → measures) and the measures linked to no key
//! result, written row by row: the measures come from a [`Measures`] source, either the model's
//! own lists ([`Held`]) or the store a page at a time (a streamed report of any size).

use super::{
    gap_word, has_notes, kr_status, measure_header, measure_notes, measure_row, num, or_dash, rag, refs, score, Sink, MEASURE_RIGHT,
};
use crate::store::report::stream::Which;
use crate::store::report::{KrBlock, MeasureBlock, ReportModel};
use crate::store::{Result, Store};
use std::collections::HashSet;

/// Which measures a section of the report shows.
#[derive(Clone, Copy)]
pub enum Pick<'a> {
    /// Serving a key result, in key order.
    Serving(&'a KrBlock),
    /// Linked to no key result in the report.
    Unlinked,
    /// Every measure in the report.
    All,
}

/// Where a report's measures come from.
pub trait Measures {
    fn each(&self, r: &ReportModel, pick: Pick, f: &mut dyn FnMut(&MeasureBlock) -> Result<()>) -> Result<()>;

    /// The keys of the measures [`Measures::each`] hands on, in the same order.
    fn keys(&self, r: &ReportModel, pick: Pick, f: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
        self.each(r, pick, &mut |m| f(&m.key))
    }
}

/// The measures the model holds.
pub struct Held;

impl Measures for Held {
    fn each(&self, r: &ReportModel, pick: Pick, f: &mut dyn FnMut(&MeasureBlock) -> Result<()>) -> Result<()> {
        let keys: &[String] = match pick {
            Pick::Serving(k) => &k.measures,
            Pick::Unlinked => &r.unlinked_measures,
            Pick::All => {
                for m in &r.measures {
                    f(m)?;
                }
                return Ok(());
            }
        };
        for m in keys.iter().filter_map(|k| r.measure(k)) {
            f(m)?;
        }
        Ok(())
    }
}

/// The measures read from the store a page at a time (see [`Store::report_measures`]).
impl Measures for Store {
    fn each(&self, r: &ReportModel, pick: Pick, f: &mut dyn FnMut(&MeasureBlock) -> Result<()>) -> Result<()> {
        self.report_measures(r, which(pick), f)
    }

    fn keys(&self, r: &ReportModel, pick: Pick, f: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
        self.report_measure_keys(r, which(pick), f)
    }
}

fn which(pick: Pick) -> Which {
    match pick {
        Pick::Serving(k) => Which::Serving(k.id),
        Pick::Unlinked => Which::Unlinked,
        Pick::All => Which::All,
    }
}

/// A table of measures: its header before the first row, `empty` said when there is none.
fn measure_table(
    r: &ReportModel,
    ms: &dyn Measures,
    pick: Pick,
    out: &mut dyn Sink,
    before: &mut dyn FnMut(&mut dyn Sink),
) -> Result<bool> {
    let header = measure_header(r);
    let mut started = false;
    ms.each(r, pick, &mut |m| {
        if !started {
            before(out);
            out.table_start(&refs(&header), &MEASURE_RIGHT);
            started = true;
        }
        out.table_row(&MEASURE_RIGHT, &measure_row(m));
        Ok(())
    })?;
    if started {
        out.table_end();
    }
    Ok(started)
}

/// Bullets of the notes of the measures `pick` (each once), `before` written before the first.
fn notes(r: &ReportModel, ms: &dyn Measures, picks: &[Pick], out: &mut dyn Sink, before: &mut dyn FnMut(&mut dyn Sink)) -> Result<()> {
    // In the order first met, and a set to ask: an objective can have thousands of measures.
    let mut seen: HashSet<String> = HashSet::new();
    let mut started = false;
    for pick in picks {
        ms.each(r, *pick, &mut |m| {
            if seen.insert(m.key.clone()) && has_notes(m) {
                if !started {
                    before(out);
                    out.bullets_start();
                    started = true;
                }
                let (lead, rest) = measure_notes(m);
                out.bullet(&lead, &rest);
            }
            Ok(())
        })?;
    }
    if started {
        out.bullets_end();
    }
    Ok(())
}

/// The objectives with their key results and measures, then the measures linked to none.
pub(super) fn objectives(r: &ReportModel, ms: &dyn Measures, out: &mut dyn Sink) -> Result<()> {
    out.heading(2, "Objectives, key results and measures");
    if r.objectives.is_empty() {
        out.muted("No objective in scope.");
    }
    for o in &r.objectives {
        out.heading(3, &format!("{} {}", o.key, o.title));
        let progress = o.status.progress.map(|p| p.percent()).unwrap_or_else(|| "—".into());
        let mut line = format!(
            "{} · progress {progress} · owner {} · {} · {} level",
            rag(o.status.shown.rag),
            or_dash(o.owner.as_deref()),
            o.cycle,
            o.level
        );
        if o.status.shown.manual {
            line.push_str(&format!(" · set by hand (the work underneath is {})", o.status.shown.computed.label()));
        }
        if o.status.shown.green_without_explanation {
            line.push_str(" · ⚑ green without explanation");
        }
        if let Some(p) = &o.parent {
            line.push_str(&format!(" · aligned to {p}"));
        }
        out.para(&line);
        if let Some(e) = o.explanation.as_deref().filter(|e| !e.trim().is_empty()) {
            out.para(&format!("Status explanation: {e}"));
        }
        if let Some(g) = &o.target_gap {
            out.para(&format!(
                "Top-down target {} · bottom-up forecast {} · gap {} ({})",
                g.target.grouped(),
                g.bottom_up.grouped(),
                g.gap.grouped(),
                gap_word(g.gap)
            ));
        }
        let with_forecast = super::kr_forecasts(r);
        let rows: Vec<Vec<String>> = o
            .key_results
            .iter()
            .map(|k| {
                let mut row = vec![format!("{} {}", k.key, k.title), or_dash(k.owner.as_deref()), num(k.baseline), num(k.status.target)];
                if with_forecast {
                    row.push(num(k.forecast));
                }
                row.extend([num(k.status.latest_actual), score(k), kr_status(k)]);
                row
            })
            .collect();
        if r.depth < 2 {
            // Cut at objectives (--depth 1): their key results are not in this report.
        } else if rows.is_empty() {
            out.muted("No key results yet.");
        } else if with_forecast {
            out.table(&["Key result", "Owner", "Baseline", "Target", "Forecast", "Actual", "Score", "Status"], &[2, 3, 4, 5, 6], &rows);
        } else {
            out.table(&["Key result", "Owner", "Baseline", "Target", "Actual", "Score", "Status"], &[2, 3, 4, 5], &rows);
        }
        let picks: Vec<Pick> = o.key_results.iter().filter(|_| r.depth >= 3).map(Pick::Serving).collect();
        for (k, pick) in o.key_results.iter().zip(&picks) {
            out.heading(4, &format!("{} — measures", k.key));
            if !measure_table(r, ms, *pick, out, &mut |_| {})? {
                out.muted("No measure in scope serves this key result.");
            }
        }
        let lead = format!("{} — narrative, decisions, risks and next steps", o.key);
        notes(r, ms, &picks, out, &mut |out| out.heading(4, &lead))?;
        if !o.kpis.is_empty() {
            let list: Vec<String> = o
                .kpis
                .iter()
                .filter_map(|k| r.kpi(k))
                .map(|k| {
                    format!(
                        "{} {} ({}, latest {} against target {})",
                        k.key,
                        k.title,
                        rag(k.status.rag),
                        num(k.status.latest_actual),
                        num(k.status.target)
                    )
                })
                .collect();
            out.para(&format!("KPIs watching {}: {}", o.key, list.join("; ")));
        }
    }
    if measure_table(r, ms, Pick::Unlinked, out, &mut |out| out.heading(2, "Measures not linked to a key result"))? {
        notes(r, ms, &[Pick::Unlinked], out, &mut |_| {})?;
    }
    Ok(())
}
