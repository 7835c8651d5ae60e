//! The `keel check` part of a report, with its long lists (escalations, stale items, late
//! milestones, implementation, potential — they grow with the measures) spilled to private
//! temporary files as [`Store::check_each`] hands their rows on, and read back row by row as the
//! report is written; the short lists (they grow with the objectives and KPIs) stay in memory.

use crate::domain::Num;
use crate::store::check::{CheckReport, CheckRow, LateMilestone, StaleItem, StatusItem};
use crate::store::read::EscalationRow;
use crate::store::{Result, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, Write};
use std::marker::PhantomData;
use std::sync::Arc;

/// A row kept in a spill file, as a form that reads back exactly.
pub trait Spill: Sized {
    type Wire: Serialize + DeserializeOwned;
    fn to_wire(&self) -> Self::Wire;
    fn from_wire(w: Self::Wire) -> Self;
}

macro_rules! spill_as_itself {
    ($($t:ty),*) => {$(
        impl Spill for $t {
            type Wire = $t;
            fn to_wire(&self) -> $t {
                self.clone()
            }
            fn from_wire(w: $t) -> $t {
                w
            }
        }
    )*};
}
spill_as_itself!(StaleItem, LateMilestone, StatusItem);

/// An escalation row as spilled: its relative variance at full precision (the JSON output cuts
/// it to four places) and its tier's label taken from the tier again.
#[derive(Serialize, Deserialize)]
pub struct EscalationWire {
    id: i64,
    key: String,
    title: String,
    kind: String,
    owner: Option<String>,
    tier: i64,
    reason: String,
    period: String,
    relative: Option<Num>,
    gap: Num,
    periods_out: i64,
    assignee_role: String,
    assignee: Option<String>,
    opened_at: String,
    due_at: String,
    overdue: bool,
    acknowledged_by: Option<String>,
    snoozed_until: Option<String>,
    decision: Option<String>,
    unit: Option<String>,
    tier_label: String,
}

impl Spill for EscalationRow {
    type Wire = EscalationWire;
    fn to_wire(&self) -> EscalationWire {
        let e = self.clone();
        EscalationWire {
            id: e.id,
            key: e.key,
            title: e.title,
            kind: e.kind,
            owner: e.owner,
            tier: e.tier,
            reason: e.reason,
            period: e.period,
            relative: e.relative,
            gap: e.gap,
            periods_out: e.periods_out,
            assignee_role: e.assignee_role,
            assignee: e.assignee,
            opened_at: e.opened_at,
            due_at: e.due_at,
            overdue: e.overdue,
            acknowledged_by: e.acknowledged_by,
            snoozed_until: e.snoozed_until,
            decision: e.decision,
            unit: e.unit,
            tier_label: e.tier_label.to_string(),
        }
    }
    fn from_wire(w: EscalationWire) -> EscalationRow {
        // The label is one of a few constants; find it again rather than leak a string.
        let label = crate::domain::escalation::Tier::from_number(w.tier).map(|t| t.label()).filter(|l| *l == w.tier_label);
        EscalationRow {
            id: w.id,
            key: w.key,
            title: w.title,
            kind: w.kind,
            owner: w.owner,
            tier: w.tier,
            tier_label: label.unwrap_or("escalation"),
            reason: w.reason,
            period: w.period,
            relative: w.relative,
            gap: w.gap,
            periods_out: w.periods_out,
            assignee_role: w.assignee_role,
            assignee: w.assignee,
            opened_at: w.opened_at,
            due_at: w.due_at,
            overdue: w.overdue,
            acknowledged_by: w.acknowledged_by,
            snoozed_until: w.snoozed_until,
            decision: w.decision,
            unit: w.unit,
        }
    }
}

/// One long list of a report's check: its rows in a temporary file (unnamed, 0600, gone when
/// the last copy of the list is dropped), read back in order by [`Rows::each`].
pub struct Rows<T> {
    file: Option<Arc<File>>,
    len: usize,
    _row: PhantomData<fn() -> T>,
}

impl<T> Clone for Rows<T> {
    fn clone(&self) -> Self {
        Rows { file: self.file.clone(), len: self.len, _row: PhantomData }
    }
}

impl<T> std::fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rows({} spilled)", self.len)
    }
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows { file: None, len: 0, _row: PhantomData }
    }
}

impl<T: Spill> Rows<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every row in order, handed to `each`.
    pub fn each(&self, each: &mut dyn FnMut(T) -> Result<()>) -> Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        let mut f: &File = file;
        f.rewind()?;
        let rows = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 * 1024, f)).into_iter::<T::Wire>();
        for row in rows {
            each(T::from_wire(row.map_err(|e| StoreError::Io(std::io::Error::other(e)))?))?;
        }
        Ok(())
    }

    /// Every row, in memory (for a caller that needs them all at once; tests).
    pub fn to_vec(&self) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.len);
        self.each(&mut |x| {
            out.push(x);
            Ok(())
        })?;
        Ok(out)
    }
}

/// A list being spilled.
struct Writer<T> {
    file: Option<BufWriter<File>>,
    len: usize,
    _row: PhantomData<fn() -> T>,
}

impl<T: Spill> Writer<T> {
    fn new() -> Self {
        Writer { file: None, len: 0, _row: PhantomData }
    }

    fn push(&mut self, x: &T) -> Result<()> {
        let f = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(BufWriter::with_capacity(64 * 1024, tempfile::tempfile()?)),
        };
        serde_json::to_writer(&mut *f, &x.to_wire()).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        f.write_all(b"\n")?;
        self.len += 1;
        Ok(())
    }

    fn finish(self) -> Result<Rows<T>> {
        let file = match self.file {
            Some(f) => Some(Arc::new(f.into_inner().map_err(|e| StoreError::Io(e.into_error()))?)),
            None => None,
        };
        Ok(Rows { file, len: self.len, _row: PhantomData })
    }
}

/// `keel check` as a report shows it: when the report is scoped, only the rows of items in scope.
/// Its summary and short lists are a [`CheckReport`]'s (read through it, `Deref`), whose five
/// long lists stay empty: here they are spilled.
#[derive(Clone, Debug)]
pub struct ReportCheck {
    short: CheckReport,
    pub escalations: Rows<EscalationRow>,
    pub stale: Rows<StaleItem>,
    pub late_milestones: Rows<LateMilestone>,
    pub implementation: Rows<StatusItem>,
    pub potential: Rows<StatusItem>,
}

impl std::ops::Deref for ReportCheck {
    type Target = CheckReport;
    fn deref(&self) -> &CheckReport {
        &self.short
    }
}

impl ReportCheck {
    pub(crate) fn empty() -> ReportCheck {
        ReportCheck {
            short: CheckReport::empty(),
            escalations: Rows::default(),
            stale: Rows::default(),
            late_milestones: Rows::default(),
            implementation: Rows::default(),
            potential: Rows::default(),
        }
    }

    /// The keys of the open escalations.
    pub fn escalated_keys(&self) -> Result<std::collections::BTreeSet<String>> {
        let mut keys = std::collections::BTreeSet::new();
        self.escalations.each(&mut |e| {
            keys.insert(e.key);
            Ok(())
        })?;
        Ok(keys)
    }
}

/// Run the check, spilling its long lists; `keep` says whether a row naming an item (by key)
/// belongs in the report (`None`: the whole file, every row). A scoped report leaves out the
/// programme funnel and recounts the escalations by tier from the rows it kept.
pub(crate) fn collect(store: &crate::store::Store, mut keep: Option<&mut dyn FnMut(&str) -> Result<bool>>) -> Result<ReportCheck> {
    let mut r = ReportCheck::empty();
    let (mut esc, mut stale, mut late, mut imp, mut pot) = (Writer::new(), Writer::new(), Writer::new(), Writer::new(), Writer::new());
    let mut tiers = [0usize; 3];
    let summary = store.check_each(|row| {
        let key: &str = match &row {
            CheckRow::Escalation(x) => &x.key,
            CheckRow::Stale(x) => &x.key,
            CheckRow::LateMilestone(x) => &x.key,
            CheckRow::Implementation(x) | CheckRow::Potential(x) | CheckRow::AtRisk(x) | CheckRow::Unexplained(x) => &x.key,
            CheckRow::OutcomeOnly(k) | CheckRow::IsolatedKpi(k) => k,
            CheckRow::IncompleteKpi(g) | CheckRow::NotExecutable(g) => &g.key,
            CheckRow::Funnel(_) => "",
            CheckRow::ObjectiveTarget((k, _)) => k,
        };
        if let Some(keep) = keep.as_mut() {
            if matches!(row, CheckRow::Funnel(_)) || !keep(key)? {
                return Ok(());
            }
        }
        match row {
            CheckRow::Escalation(x) => {
                tiers[(x.tier - 1).clamp(0, 2) as usize] += 1;
                esc.push(x)?
            }
            CheckRow::Stale(x) => stale.push(x)?,
            CheckRow::LateMilestone(x) => late.push(x)?,
            CheckRow::Implementation(x) => imp.push(x)?,
            CheckRow::Potential(x) => pot.push(x)?,
            short => r.short.keep_short(short),
        }
        Ok(())
    })?;
    r.escalations = esc.finish()?;
    r.stale = stale.finish()?;
    r.late_milestones = late.finish()?;
    r.implementation = imp.finish()?;
    r.potential = pot.finish()?;
    let r_short = &mut r.short;
    r_short.today = summary.today;
    r_short.alignment = summary.alignment;
    match keep {
        None => {
            r_short.escalations_by_tier = summary.escalations_by_tier;
            r_short.exit_code = summary.exit_code;
        }
        Some(keep) => {
            r_short.escalations_by_tier = tiers;
            r_short.exit_code = crate::domain::escalation::check_exit_code(tiers);
            let a = &mut r_short.alignment;
            let mut kept = |v: Vec<String>| -> Result<Vec<String>> {
                let mut out = Vec::with_capacity(v.len());
                for k in v {
                    if keep(&k)? {
                        out.push(k);
                    }
                }
                Ok(out)
            };
            a.orphans = kept(std::mem::take(&mut a.orphans))?;
            a.cross_functional = kept(std::mem::take(&mut a.cross_functional))?;
            let mut dups = Vec::new();
            for (x, y) in std::mem::take(&mut a.likely_duplicates) {
                if keep(&x)? || keep(&y)? {
                    dups.push((x, y));
                }
            }
            a.likely_duplicates = dups;
        }
    }
    Ok(r)
}
