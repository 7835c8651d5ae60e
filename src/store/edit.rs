//! The one write path. Every edit — from the TUI, `keel set`, `keel gate`, imports — is an
//! [`Edit`] applied by [`Store::edit`] in one `BEGIN IMMEDIATE` transaction:
//! validate → apply → domain rules on what was touched → audit rows → commit.
//! Any error rolls the whole edit back: a refused edit leaves the file exactly as it was.

use super::audit::{self, Entry};
use super::fields::{self, FieldType};
use super::{resolve, rules, Actor, Clock, Result, Store, StoreError};
use crate::domain::gates::{self, Acting, GateAction};
use crate::domain::plan::Plan;
use crate::domain::text_check;
use crate::domain::{ItemKey, ItemKind, Num, Period};
use crate::store::engine::{self, params, DbResult, OptionalExtension, Tx, Value};
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashMap, HashSet};

mod records;
mod set_field;

pub(crate) use records::decision;
use records::{depend, gate, link, milestone, setting};
pub(crate) use set_field::{check_version, set_field, unchanged};

#[derive(Clone, Debug)]
pub enum EscalationAction {
    Acknowledge,
    Assign(ItemKey),
    Decide(String),
    Resolve(String),
    Snooze {
        until: NaiveDate,
        reason: String,
    },
    /// Put triage back as it was before an action taken by mistake (open again if it was
    /// resolved); the undone action stays in the audit log.
    Restore(TriageState),
}

/// What triage had done to an open escalation: who acknowledged it and when, its assignee,
/// its snooze and its decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TriageState {
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub assignee_id: Option<i64>,
    pub snoozed_until: Option<String>,
    pub decision: Option<String>,
}

#[derive(Clone, Debug)]
pub enum MilestoneAction {
    Add {
        title: String,
        due: NaiveDate,
    },
    /// Milestones are numbered 1.. in due-date order, as `keel show` lists them.
    Done {
        number: usize,
        on: Option<NaiveDate>,
    },
    Reopen {
        number: usize,
    },
}

#[derive(Clone, Debug)]
pub enum Change {
    /// Set a field of an item (`title`, `owner`, `narrative` …).
    Set {
        key: ItemKey,
        field: String,
        value: String,
        if_version: Option<i64>,
    },
    /// Set one number (or the comment) of an item for one period.
    Value {
        key: ItemKey,
        period: Period,
        field: String,
        value: String,
        if_version: Option<i64>,
    },
    /// Set several numbers of an item for one period as one change (a row of a values file):
    /// the row is read, written and logged once.
    Values {
        key: ItemKey,
        period: Period,
        /// (field, value) pairs, the fields named as a values file names them.
        cells: Vec<(&'static str, String)>,
    },
    Gate {
        key: ItemKey,
        action: GateAction,
        reason: Option<String>,
    },
    Escalation {
        id: i64,
        action: EscalationAction,
    },
    Milestone {
        key: ItemKey,
        action: MilestoneAction,
    },
    /// Measure → key result or KPI it contributes to; KPI → key result or objective it informs.
    Link {
        from: ItemKey,
        to: ItemKey,
        remove: bool,
    },
    Depend {
        key: ItemKey,
        on: ItemKey,
        remove: bool,
    },
    Decision {
        key: ItemKey,
        text: String,
        owner: Option<ItemKey>,
    },
    ImportPlan(Box<Plan>),
    /// Open a check-in meeting with its agenda (keys in order).
    StartMeeting {
        agenda: Vec<ItemKey>,
    },
    EndMeeting {
        id: i64,
    },
    /// A decision taken in a meeting, with who carries it out.
    MeetingDecision {
        meeting: i64,
        key: ItemKey,
        text: String,
        owner: Option<ItemKey>,
    },
    /// Copy a cycle's objectives and key results (not values) into a new cycle.
    CopyCycle {
        from: ItemKey,
        name: String,
        start: NaiveDate,
        end: NaiveDate,
    },
    /// Change one of the organisation's settings (PMO administrators only); checked by the
    /// domain's settings parser against the settings already stored.
    Setting {
        name: String,
        value: String,
    },
    /// Mark an item as fed by a value source (by name; `None`: fed by hand again).
    SourceLink {
        key: ItemKey,
        name: Option<String>,
    },
    /// The value changes that follow (until the next `SourceRun`) are written by `source`'s sync
    /// of `key`; `failure` says why the source failed instead (then nothing else is written).
    SourceRun {
        key: ItemKey,
        source: String,
        failure: Option<String>,
    },
    /// Reassess every item's escalation (signals change with time: `keel sync` sweeps).
    Reassess,
    /// Refuse the whole edit if, after the rules ran, the item is red or escalated and has no
    /// narrative saying why and what happens next (the weekly update asks for one).
    RequireNarrative(ItemKey),
    /// Keeping the organisation current: add, move, retire, reassign, revert an import.
    Upkeep(super::upkeep::Upkeep),
}

#[derive(Clone, Debug, Default)]
pub struct Edit {
    pub changes: Vec<Change>,
    pub reason: Option<String>,
}

impl Edit {
    pub fn one(change: Change) -> Edit {
        Edit { changes: vec![change], reason: None }
    }
    pub fn with_reason(mut self, reason: Option<String>) -> Edit {
        self.reason = reason.filter(|r| !r.trim().is_empty());
        self
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EditOutcome {
    /// What the edit caused, one short line each: "M-27: sponsor action — 3 periods below plan".
    pub effects: Vec<String>,
    /// Audit rows written.
    pub changes: usize,
    /// The meeting opened by this edit, if it opened one.
    pub meeting: Option<i64>,
    /// Keys of the items this edit added.
    pub created: Vec<String>,
    /// What happened, for the hooks (run by the caller after the commit; see `crate::hooks`).
    #[serde(skip)]
    pub events: Vec<super::events::Event>,
    /// Hooks that failed after the commit (the edit stands), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hook_failures: Vec<String>,
    /// Value cells changed (one audit row may hold several cells of one row).
    pub values: usize,
    /// In a trial run (rolled back), each open escalation's tier by item key as the edit would
    /// leave them: what a dry run on a server, where there is no scratch file, compares.
    #[serde(skip)]
    pub trial_tiers: Option<std::collections::BTreeMap<String, i64>>,
}

impl EditOutcome {
    /// What to tell the person: what the edit caused, then any hook that failed.
    pub fn said(&self) -> Vec<String> {
        self.effects.iter().cloned().chain(self.hook_failures.iter().cloned()).collect()
    }
}

/// State carried through one transaction.
pub(crate) struct Ctx<'a> {
    pub tx: &'a Tx<'a>,
    pub actor: &'a Actor,
    pub clock: Clock,
    pub reason: Option<String>,
    pub audit: Vec<Entry>,
    pub effects: Vec<String>,
    /// Measures whose money must be re-summed and rolled up.
    pub touched_money: BTreeSet<i64>,
    /// Items whose variance and escalation must be reassessed.
    pub touched_variance: BTreeSet<i64>,
    /// Key results whose definition (kind, baseline, target) must be checked.
    pub touched_definitions: BTreeSet<i64>,
    /// Objectives whose key results' weights must be checked.
    pub touched_objectives: BTreeSet<i64>,
    /// Measures whose stage criteria must be checked (and that drop back if they fail).
    pub touched_gates: BTreeSet<i64>,
    /// Rows already changed by this edit (their version check has been done).
    pub(crate) bumped: HashSet<String>,
    /// Items whose values this edit set, by key (resolved once per edit).
    pub(crate) value_items: HashMap<ItemKey, i64>,
    /// (measure, plan changed) whose controller validation a value change has already voided in
    /// this edit; a gate change empties it, since it may sign again.
    pub(crate) validation_voided: HashSet<(i64, bool)>,
    /// Value cells this edit changed (for the import's summary).
    pub(crate) values_changed: usize,
    /// The value rows of the item whose values were set last, read at once (a values file
    /// lists an item's periods together); see `value_edit`.
    pub(crate) value_rows: Option<(i64, HashMap<String, super::value_edit::StoredRow>)>,
    /// Skip permission checks (creating a demo or importing a plan as its creator).
    pub trusted: bool,
    /// Items that must carry a narrative if the rules leave them red or escalated.
    pub narrative_required: Vec<ItemKey>,
    /// Items whose numbers this edit changed (the narrative rule looks at them).
    pub valued: BTreeSet<i64>,
    /// The id of a meeting this edit opened, for the caller.
    pub opened_meeting: Option<i64>,
    /// Keys of the items this edit added, for the caller.
    pub created: Vec<String>,
    /// The change set an import in this edit records (closed once its audit rows are written).
    pub change_set: Option<i64>,
    /// A load's new items come after this id: their kept rows are filled in one pass at the end
    /// (see `kept`), not one by one.
    pub loaded_after: Option<i64>,
    /// The value source writing this edit's values (`keel sync`); `None` for a person.
    pub source: Option<String>,
    /// What happened, for the hooks that run after the commit.
    pub events: Vec<super::events::Event>,
    /// Are there hooks to tell (else events that only hooks read are not collected)?
    pub hooks_on: bool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(tx: &'a Tx<'a>, actor: &'a Actor, clock: Clock, reason: Option<String>, trusted: bool) -> Ctx<'a> {
        Ctx {
            tx,
            actor,
            clock,
            reason,
            audit: Vec::new(),
            effects: Vec::new(),
            touched_money: BTreeSet::new(),
            touched_variance: BTreeSet::new(),
            touched_definitions: BTreeSet::new(),
            touched_objectives: BTreeSet::new(),
            touched_gates: BTreeSet::new(),
            bumped: HashSet::new(),
            value_items: HashMap::new(),
            validation_voided: HashSet::new(),
            values_changed: 0,
            value_rows: None,
            trusted,
            narrative_required: Vec::new(),
            valued: BTreeSet::new(),
            opened_meeting: None,
            created: Vec::new(),
            change_set: None,
            loaded_after: None,
            source: None,
            events: Vec::new(),
            hooks_on: false,
        }
    }

    /// Note an event for the hooks that run after the commit.
    pub fn event(&mut self, e: super::events::Event) {
        if self.hooks_on {
            self.events.push(e);
        }
    }
    pub fn log(&mut self, key: &str, field: &str, old: Option<String>, new: Option<String>) {
        self.audit.push(Entry {
            item_key: key.to_string(),
            field: field.to_string(),
            old_value: old,
            new_value: new,
            reason: self.reason.clone(),
        });
    }
}

impl Store {
    /// Apply an edit through the one write path.
    pub fn edit(&mut self, edit: Edit) -> Result<EditOutcome> {
        self.edit_inner(edit, false, false)
    }

    /// Run an edit through the whole write path and roll it back: what it would do, or why it
    /// would be refused, with nothing written (the app asks the rules this way as a person types).
    pub(crate) fn edit_dry_run(&mut self, edit: Edit) -> Result<EditOutcome> {
        self.edit_inner(edit, false, true)
    }

    /// The write path for loading a plan into a fresh file (no person may exist yet to own it).
    pub(crate) fn edit_trusted(&mut self, edit: Edit) -> Result<EditOutcome> {
        self.edit_inner(edit, true, false)
    }

    /// [`Store::edit_trusted`], rolled back: what loading a plan would do, nothing written.
    pub(crate) fn edit_trusted_dry_run(&mut self, edit: Edit) -> Result<EditOutcome> {
        self.edit_inner(edit, true, true)
    }

    fn edit_inner(&mut self, edit: Edit, trusted: bool, dry_run: bool) -> Result<EditOutcome> {
        if let Some(why) = self.file_replaced() {
            return Err(StoreError::Replaced { path: self.path().display().to_string(), why });
        }
        if !trusted {
            if let Some(why) = self.read_only_reason() {
                return Err(StoreError::ReadOnly(why));
            }
        }
        let clock = self.clock();
        let actor = self.actor.clone();
        // A demo or a plan loaded as its creator tells no hooks; a trial run neither.
        let hooks_on = !trusted && !dry_run && crate::hooks::any();
        let gate_attempt = edit.changes.iter().find_map(|c| match c {
            Change::Gate { key, action, .. } => Some((key.clone(), *action)),
            _ => None,
        });
        let attempt = |tx: &engine::Tx<'_>| {
            let outcome = {
                let mut ctx = Ctx::new(tx, &actor, clock, edit.reason.clone(), trusted);
                ctx.hooks_on = hooks_on;
                check_texts(&edit)?;
                for change in &edit.changes {
                    apply(&mut ctx, change)?;
                }
                super::invariants::enforce(&mut ctx)?;
                // What the edit touched, before the rules empty the touched sets.
                let stale = super::kept::touched(&ctx)?;
                rules::run(&mut ctx)?;
                super::kept::after_edit(&ctx, &stale)?;
                super::narratives::check(&mut ctx)?;
                audit::append(tx, &clock.stamp(), &actor.login, &ctx.audit)?;
                super::change_sets::close(tx, ctx.change_set)?;
                let trial_tiers = match dry_run {
                    true => Some(super::read::escalations(tx, clock, &Default::default())?.into_iter().map(|e| (e.key, e.tier)).collect()),
                    false => None,
                };
                EditOutcome {
                    effects: ctx.effects,
                    changes: ctx.audit.len(),
                    meeting: ctx.opened_meeting,
                    created: ctx.created,
                    events: ctx.events,
                    hook_failures: vec![],
                    values: ctx.values_changed,
                    trial_tiers,
                }
            };
            Ok(outcome)
        };
        let result = self.conn().write_retrying(!dry_run, attempt);
        // Someone else's -wal/-shm the write cannot use: say whose and what to do.
        let result = match result {
            Err(StoreError::Database(e @ engine::Error::ReadOnly(_))) => {
                Err(super::files::foreign_wal_files(self.path()).map(StoreError::ReadOnly).unwrap_or(StoreError::Database(e)))
            }
            other => other,
        };
        // Hooks run after the commit; their failures never undo it, and are shown.
        let result = result.map(|mut o| {
            if hooks_on {
                o.hook_failures = crate::hooks::after_commit(&std::mem::take(&mut o.events), &clock.stamp(), &actor.login);
            }
            o
        });
        // A refused gate move is itself recorded (after the rollback), so the log shows attempts.
        if let (Err(StoreError::Refused { missing, .. }), Some((key, action)), false) = (&result, gate_attempt, dry_run) {
            let _ = self.record_refusal(&key, action, missing, clock);
        }
        result
    }

    fn record_refusal(&mut self, key: &ItemKey, action: GateAction, missing: &[String], clock: Clock) -> Result<()> {
        let login = self.actor.login.clone();
        self.conn().write(|tx| {
            let Some((id, stage)) = tx
                .query_row("SELECT id, stage FROM measures WHERE id = (SELECT id FROM items WHERE key = ?1)", [key.to_string()], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?
            else {
                return Ok(());
            };
            let detail = missing.join("; ");
            tx.execute(
                "INSERT INTO gate_events (measure_id, at, actor, action, outcome, from_stage, to_stage, detail)
             VALUES (?1, ?2, ?3, ?4, 'refused', ?5, NULL, ?6)",
                params![id, clock.stamp(), login, action.as_str(), stage, detail],
            )?;
            let entry = Entry {
                item_key: key.to_string(),
                field: "gate".into(),
                old_value: Some(stage),
                new_value: Some(format!("{} refused", action.as_str())),
                reason: Some(detail),
            };
            audit::append(tx, &clock.stamp(), &login, &[entry])?;
            Ok(())
        })
    }
}

impl Change {
    /// The free text this change would store, as (where, field, text), for the one text rule.
    /// A plan's strings are checked by the plan import, which names each item and field.
    fn texts(&self) -> Vec<(String, &str, &str)> {
        match self {
            Change::Set { key, field, value, .. } => vec![(key.to_string(), field.as_str(), value.as_str())],
            Change::Value { key, field, value, .. } => {
                vec![(key.to_string(), if field == "comment" { "comment" } else { "value" }, value.as_str())]
            }
            Change::Values { key, cells, .. } => cells
                .iter()
                .map(|(field, value)| (key.to_string(), if *field == "comment" { "comment" } else { "value" }, value.as_str()))
                .collect(),
            Change::Gate { key, reason, .. } => reason.iter().map(|r| (key.to_string(), "reason", r.as_str())).collect(),
            Change::Escalation { id, action } => match action {
                EscalationAction::Decide(t) => vec![(format!("escalation {id}"), "decision", t.as_str())],
                EscalationAction::Resolve(t) => vec![(format!("escalation {id}"), "resolution", t.as_str())],
                EscalationAction::Snooze { reason, .. } => vec![(format!("escalation {id}"), "reason", reason.as_str())],
                EscalationAction::Acknowledge | EscalationAction::Assign(_) | EscalationAction::Restore(_) => vec![],
            },
            Change::Milestone { key, action: MilestoneAction::Add { title, .. } } => {
                vec![(key.to_string(), "milestone title", title.as_str())]
            }
            Change::Decision { key, text, .. } | Change::MeetingDecision { key, text, .. } => {
                vec![(key.to_string(), "decision", text.as_str())]
            }
            Change::CopyCycle { from, name, .. } => vec![(from.to_string(), "name", name.as_str())],
            Change::Setting { name, value } => vec![(format!("setting {name}"), "value", value.as_str())],
            Change::Upkeep(u) => u.texts(),
            Change::Milestone { .. }
            | Change::Link { .. }
            | Change::Depend { .. }
            | Change::ImportPlan(_)
            | Change::StartMeeting { .. }
            | Change::EndMeeting { .. }
            | Change::RequireNarrative(_)
            | Change::SourceLink { .. }
            | Change::SourceRun { .. }
            | Change::Reassess => vec![],
        }
    }
}

/// Every piece of free text an edit carries meets the one text rule, before anything is written.
fn check_texts(edit: &Edit) -> Result<()> {
    let reason = edit.reason.iter().map(|r| ("--reason".to_string(), "reason", r.as_str()));
    for (at, field, text) in edit.changes.iter().flat_map(Change::texts).chain(reason) {
        text_check::free_text(text).map_err(|why| StoreError::Invalid { key: at, field: field.into(), why })?;
    }
    Ok(())
}

fn apply(ctx: &mut Ctx, change: &Change) -> Result<()> {
    if !matches!(change, Change::Value { .. } | Change::Values { .. }) {
        // Only the value changes keep the rows read for them current.
        ctx.value_rows = None;
    }
    match change {
        Change::Set { key, field, value, if_version } => set_field(ctx, key, field, value, *if_version),
        Change::Value { key, period, field, value, if_version } => {
            super::value_edit::set_values(ctx, key, *period, &[(field.as_str(), value.as_str())], *if_version, false)
        }
        Change::Values { key, period, cells } => {
            let cells: Vec<(&str, &str)> = cells.iter().map(|(f, v)| (*f, v.as_str())).collect();
            super::value_edit::set_values(ctx, key, *period, &cells, None, true)
        }
        Change::Gate { key, action, reason } => gate(ctx, key, *action, reason.as_deref()),
        Change::Escalation { id, action } => rules::escalation_action(ctx, *id, action),
        Change::Milestone { key, action } => milestone(ctx, key, action),
        Change::Link { from, to, remove } => link(ctx, from, to, *remove),
        Change::Depend { key, on, remove } => depend(ctx, key, on, *remove),
        Change::Decision { key, text, owner } => decision(ctx, key, text, owner.as_ref()).map(drop),
        Change::ImportPlan(plan) => super::plan::import(ctx, plan),
        Change::StartMeeting { agenda } => super::rhythms::start_meeting(ctx, agenda),
        Change::EndMeeting { id } => super::rhythms::end_meeting(ctx, *id),
        Change::MeetingDecision { meeting, key, text, owner } => {
            let decided = decision(ctx, key, text, owner.as_ref())?;
            ctx.tx.execute("UPDATE decisions SET meeting_id = ?1 WHERE id = ?2", params![meeting, decided])?;
            Ok(())
        }
        Change::CopyCycle { from, name, start, end } => super::rhythms::copy_cycle(ctx, from, name, *start, *end),
        Change::Setting { name, value } => setting(ctx, name, value),
        Change::RequireNarrative(key) => {
            ctx.narrative_required.push(key.clone());
            Ok(())
        }
        Change::Upkeep(u) => super::upkeep::apply(ctx, u),
        Change::SourceRun { source, failure, .. } => {
            ctx.source = failure.is_none().then(|| source.clone());
            super::sources::apply(ctx, change)
        }
        Change::SourceLink { .. } | Change::Reassess => super::sources::apply(ctx, change),
    }
}

pub(crate) fn key_of(tx: &Tx, id: i64) -> Result<String> {
    Ok(tx.query_row("SELECT key FROM items WHERE id = ?1", [id], |r| r.get(0))?)
}

fn opt_key_of(tx: &Tx, id: Option<i64>) -> Result<Option<String>> {
    id.map(|i| key_of(tx, i)).transpose()
}

/// Who may change an item: its owner (for a key result also the objective's owner) or a PMO
/// administrator; people, units, cycles and areas only a PMO administrator.
pub(crate) fn may_edit(ctx: &Ctx, kind: ItemKind, id: i64, key: &ItemKey) -> Result<()> {
    if ctx.trusted || ctx.actor.pmo_admin {
        return Ok(());
    }
    let Some(me) = ctx.actor.person_id else {
        return Err(StoreError::ReadOnly(format!("'{}' has no person record: viewing only", ctx.actor.login)));
    };
    let owners: Vec<Option<i64>> = match kind {
        ItemKind::Measure => vec![ctx.tx.query_row("SELECT owner_id FROM measures WHERE id = ?1", [id], |r| r.get(0))?],
        ItemKind::Objective => vec![ctx.tx.query_row("SELECT owner_id FROM objectives WHERE id = ?1", [id], |r| r.get(0))?],
        ItemKind::KeyResult => ctx.tx.query_row(
            "SELECT k.owner_id, o.owner_id FROM key_results k JOIN objectives o ON o.id = k.objective_id WHERE k.id = ?1",
            [id],
            |r| Ok(vec![r.get(0)?, r.get(1)?]),
        )?,
        ItemKind::Kpi => vec![ctx.tx.query_row("SELECT owner_id FROM kpis WHERE id = ?1", [id], |r| r.get(0))?],
        ItemKind::Portfolio | ItemKind::Programme | ItemKind::Project | ItemKind::Package => {
            vec![ctx.tx.query_row("SELECT owner_id FROM nodes WHERE id = ?1", [id], |r| r.get(0))?]
        }
        _ => vec![],
    };
    if owners.contains(&Some(me)) {
        return Ok(());
    }
    Err(StoreError::Permission(format!("{key}: only its owner or a PMO administrator may change it (you are {})", ctx.actor.display())))
}
