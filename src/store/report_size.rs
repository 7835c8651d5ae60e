//! Narrowing the steering committee report for a large organisation: only the items that are
//! escalated, at risk or stale (`--only`), only the top levels of the tree (`--depth`), and the
//! measures whose forecast falls furthest short of plan (the steering pack's top N).

use super::report::{MeasureBlock, ReportModel};
use crate::domain::status::{ImplLevel, Rag};
use crate::domain::Num;
use std::collections::BTreeSet;

/// Which items a narrowed report keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// Items with an open escalation.
    Escalated,
    /// Key results at risk or amber/red; measures late, critical or with amber/red potential; amber/red KPIs.
    AtRisk,
    /// Items whose update is overdue for their cadence.
    Stale,
}

impl Only {
    pub fn label(self) -> &'static str {
        match self {
            Only::Escalated => "escalated",
            Only::AtRisk => "at risk",
            Only::Stale => "stale",
        }
    }
}

fn amber_or_red(r: Rag) -> bool {
    matches!(r, Rag::Amber | Rag::Red)
}

pub(crate) fn measure_kept(m: &MeasureBlock, only: Only) -> bool {
    let s = &m.status;
    match only {
        Only::Escalated => m.tier.is_some(),
        Only::AtRisk => s.implementation.level != ImplLevel::OnTrack || amber_or_red(s.potential),
        Only::Stale => s.stale,
    }
}

impl ReportModel {
    /// Keep only the items that are `only`, and what leads to them: an objective stays when one
    /// of its key results does, a key result when it is `only` itself or a kept measure serves it.
    /// The summary counts and the escalation, funnel and health sections still describe the scope.
    pub fn keep_only(&mut self, only: Only) -> crate::store::Result<()> {
        self.measures.retain(|m| measure_kept(m, only));
        let kept: BTreeSet<String> = self.measures.iter().map(|m| m.key.clone()).collect();
        self.unlinked_measures.retain(|m| kept.contains(m));
        self.keep_only_with(only, &mut |k| {
            k.measures.retain(|m| kept.contains(m));
            !k.measures.is_empty()
        })
    }

    /// As [`ReportModel::keep_only`], `serves_kept` saying whether a kept measure serves a key
    /// result (keeping only those in its list).
    pub(crate) fn keep_only_with(
        &mut self,
        only: Only,
        serves_kept: &mut dyn FnMut(&mut super::report::KrBlock) -> bool,
    ) -> crate::store::Result<()> {
        let escalated: BTreeSet<String> = self.check.escalated_keys()?;
        for o in &mut self.objectives {
            o.key_results.retain_mut(|k| {
                let served = serves_kept(k);
                let own = match only {
                    Only::Escalated => escalated.contains(&k.key),
                    Only::AtRisk => !k.status.at_risk.is_empty() || amber_or_red(k.status.shown.rag),
                    Only::Stale => k.status.stale,
                };
                own || served
            });
        }
        self.objectives.retain(|o| !o.key_results.is_empty());
        self.kpis.retain(|k| match only {
            Only::Escalated => escalated.contains(&k.key),
            Only::AtRisk => amber_or_red(k.status.rag),
            Only::Stale => k.status.stale,
        });
        let kpis: BTreeSet<String> = self.kpis.iter().map(|k| k.key.clone()).collect();
        for o in &mut self.objectives {
            o.kpis.retain(|k| kpis.contains(k));
        }
        self.narrowed.push(format!("only {} items", only.label()));
        self.reindex();
        Ok(())
    }

    /// Cut the tree: depth 1 shows objectives, 2 adds their key results, 3 (the full report) adds
    /// the measures and their notes.
    pub fn cut_to_depth(&mut self, depth: u8) {
        if depth >= 3 {
            return;
        }
        self.measures.clear();
        self.unlinked_measures.clear();
        for o in &mut self.objectives {
            for k in &mut o.key_results {
                k.measures.clear();
            }
            if depth < 2 {
                o.key_results.clear();
            }
        }
        self.narrowed.push(format!("depth {depth} ({})", if depth < 2 { "objectives only" } else { "objectives and key results" }));
        self.depth = depth;
        self.reindex();
    }

    /// The `n` measures whose net forecast falls furthest short of their plan, largest first,
    /// with the shortfall (plan less forecast); measures without a plan are left out.
    pub fn top_shortfalls(&self, n: usize) -> Vec<(MeasureBlock, Num)> {
        let mut top = Shortfalls::new(n);
        for m in &self.measures {
            top.offer(m);
        }
        top.finish()
    }
}

/// The `n` measures furthest short of plan among those offered one at a time: at most about
/// twice `n` are held, whatever the number offered.
pub struct Shortfalls {
    n: usize,
    rows: Vec<(MeasureBlock, Num)>,
}

impl Shortfalls {
    pub fn new(n: usize) -> Self {
        Shortfalls { n, rows: Vec::new() }
    }

    /// A measure's shortfall (plan less net forecast), when it has a plan and falls short.
    fn shortfall(m: &MeasureBlock) -> Option<Num> {
        m.status.shown_money.planned?;
        let short = m.status.money.planned.checked_sub(m.status.money.forecast).ok()?;
        (short > Num::ZERO).then_some(short)
    }

    pub fn offer(&mut self, m: &MeasureBlock) {
        if let Some(short) = Self::shortfall(m) {
            self.rows.push((m.clone(), short));
            if self.rows.len() > 2 * self.n + 64 {
                self.settle();
            }
        }
    }

    fn settle(&mut self) {
        self.rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.key.cmp(&b.0.key)));
        self.rows.truncate(self.n);
    }

    /// The top `n`, largest shortfall first (ties by key).
    pub fn finish(mut self) -> Vec<(MeasureBlock, Num)> {
        self.settle();
        self.rows
    }
}
