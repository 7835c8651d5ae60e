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

/// Audit fields that record a change to a measure's gate columns (they bump its row's version).
const GATE_FIELDS: &[&str] =
    &["stage", "side_state", "side_reason", "pending_stage", "requested_by", "sponsor_approved_by", "controller_signed_by", "validated_by"];

/// Does an audit row's field name a change to this row? A value row (`period` given) is changed
/// by its own `FIELD@PERIOD` entries; an item's own row by its fields and gate columns — not by
/// its values, links, milestones or escalations, which live in other rows.
fn changes_row(kind: ItemKind, period: Option<&str>, audit_field: &str) -> bool {
    match period {
        Some(p) => audit_field.split_once('@').is_some_and(|(_, at)| at == p),
        None => fields::fields_of(kind).iter().any(|f| f.name == audit_field) || GATE_FIELDS.contains(&audit_field),
    }
}

pub(crate) fn check_version(
    ctx: &Ctx,
    row: &str,
    key: &ItemKey,
    field: &str,
    period: Option<&str>,
    expected: Option<i64>,
    found: i64,
) -> Result<()> {
    if ctx.bumped.contains(row) {
        return Ok(());
    }
    if let Some(expected) = expected {
        if expected != found {
            let belongs = |f: &str| changes_row(key.kind, period, f);
            let (who, when) = audit::last_change_where(ctx.tx, &key.to_string(), &belongs)?
                .unwrap_or_else(|| ("someone".to_string(), "an unknown time".to_string()));
            return Err(StoreError::Conflict { key: key.to_string(), field: field.to_string(), expected, found, who, when });
        }
    }
    Ok(())
}

/// A typed value ready for SQL, and how the audit log shows it.
enum Typed {
    Null,
    Text(String),
    Int(i64),
}

fn typed(ctx: &Ctx, key: &ItemKey, field: &fields::Field, raw: &str) -> Result<(Typed, Option<String>)> {
    let invalid = |why: String| StoreError::Invalid { key: key.to_string(), field: field.name.to_string(), why };
    let v = raw.trim();
    if v.is_empty() {
        if field.required {
            return Err(invalid("cannot be empty".into()));
        }
        return Ok((Typed::Null, None));
    }
    let reference = |want: &[ItemKind]| -> Result<(Typed, Option<String>)> {
        let k = ItemKey::parse(v).map_err(|e| invalid(e.to_string()))?;
        if !want.contains(&k.kind) {
            let names: Vec<&str> = want.iter().map(|w| w.as_str()).collect();
            return Err(invalid(format!("'{k}' is a {}, not a {}", k.kind, names.join(" or "))));
        }
        let id = resolve(ctx.tx, &k)?;
        // Nothing active is given a role, a parent or a place that is retired.
        if let Some((at, why)) = super::upkeep::retired(ctx, id)? {
            let edited_retired = match resolve(ctx.tx, key) {
                Ok(me) => super::upkeep::retired(ctx, me)?.is_some(),
                Err(_) => false,
            };
            if !edited_retired {
                return Err(invalid(format!("{k} is retired (since {at}: {why}); name one in service, or `keel unretire {k}` first")));
            }
        }
        Ok((Typed::Int(id), Some(k.to_string())))
    };
    match field.ty {
        FieldType::Text => {
            text_check::free_text(v).map_err(invalid)?;
            Ok((Typed::Text(v.to_string()), Some(v.to_string())))
        }
        FieldType::Number => {
            let n = Num::parse(v).map_err(|e| invalid(e.to_string()))?;
            Ok((Typed::Text(n.to_string()), Some(n.to_string())))
        }
        FieldType::Person => reference(&[ItemKind::Person]),
        FieldType::Unit => reference(&[ItemKind::Unit]),
        FieldType::Kra => reference(&[ItemKind::Kra]),
        FieldType::Objective => reference(&[ItemKind::Objective]),
        FieldType::Cycle => reference(&[ItemKind::Cycle]),
        FieldType::Node(kind) => reference(&[kind]),
        FieldType::Choice(options) => {
            let t = v.to_ascii_lowercase().replace([' ', '_'], "-");
            match options.iter().find(|o| **o == t) {
                Some(o) => Ok((Typed::Text(o.to_string()), Some(o.to_string()))),
                None => Err(invalid(format!("'{v}' is not one of: {}", options.join(", ")))),
            }
        }
        FieldType::Flag => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "done" => Ok((Typed::Int(1), Some("true".into()))),
            "false" | "no" | "0" => Ok((Typed::Int(0), Some("false".into()))),
            _ => Err(invalid(format!("'{v}' is not true or false"))),
        },
        FieldType::Date => {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| invalid(format!("'{v}' is not a date: use YYYY-MM-DD")))?;
            if d.year_ce().1 < 1900 {
                return Err(invalid(format!("'{v}': dates before 1900 are not accepted")));
            }
            Ok((Typed::Text(d.to_string()), Some(d.to_string())))
        }
    }
}

use chrono::Datelike;

fn old_display(ctx: &Ctx, field: &fields::Field, id: i64, table: &str) -> Result<(Option<String>, i64)> {
    let sql = format!("SELECT {col}, version FROM {table} WHERE id = ?1", col = field.column);
    let (old, version): (Value, i64) = ctx.tx.query_row(&sql, [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let shown = match (old, field.ty) {
        (Value::Null, _) => None,
        (Value::Integer(i), FieldType::Flag) => Some(if i == 1 { "true" } else { "false" }.to_string()),
        (Value::Integer(i), _) => opt_key_of(ctx.tx, Some(i))?,
        (Value::Text(s), _) => Some(s),
        (other, _) => Some(format!("{other:?}")),
    };
    Ok((shown, version))
}

/// Is the new text the same as the old? Numbers are compared as numbers: 22000 and 22000.00
/// are one amount, and writing one over the other changes nothing (no version, no audit row).
pub(crate) fn unchanged(old: Option<&str>, new: Option<&str>, numeric: bool) -> bool {
    match (old, new) {
        (Some(a), Some(b)) if numeric => match (Num::from_stored(a), Num::from_stored(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => old == new,
    }
}

pub(crate) fn set_field(ctx: &mut Ctx, key: &ItemKey, name: &str, raw: &str, if_version: Option<i64>) -> Result<()> {
    let id = resolve(ctx.tx, key)?;
    if fields::is_period_value(key.kind, name, false) {
        return Err(StoreError::Invalid {
            key: key.to_string(),
            field: name.to_string(),
            why: "is a per-period number: give a period, e.g. --period 2026-W47".into(),
        });
    }
    let field = fields::find(key.kind, name).ok_or_else(|| StoreError::UnknownField {
        key: key.to_string(),
        kind: key.kind.to_string(),
        field: name.to_string(),
        choices: fields::choices(key.kind),
    })?;
    let kind_check =
        if key.kind == ItemKind::Person || key.kind == ItemKind::Unit || key.kind == ItemKind::Cycle || key.kind == ItemKind::Kra {
            if ctx.trusted || ctx.actor.pmo_admin {
                Ok(())
            } else {
                Err(StoreError::Permission(format!("{key}: only a PMO administrator may change people, units, cycles and areas")))
            }
        } else {
            may_edit(ctx, key.kind, id, key)
        };
    kind_check?;
    let table = fields::table_of(key.kind);
    if key.kind == ItemKind::Measure {
        let (state, _) = rules::gate_inputs(ctx.tx, id)?;
        if let Some(why) = gates::role_change_refusal(&state, field.name) {
            return Err(StoreError::Invalid { key: key.to_string(), field: field.name.into(), why });
        }
    }
    let (typed_value, shown) = typed(ctx, key, field, raw)?;
    let (old, version) = old_display(ctx, field, id, table)?;
    let row = format!("{table}:{id}");
    check_version(ctx, &row, key, field.name, None, if_version, version)?;
    if unchanged(old.as_deref(), shown.as_deref(), field.ty == FieldType::Number) {
        if field.name == "narrative" && shown.is_some() {
            // Setting the same narrative again confirms it for this period (the narrative rule
            // reads the audit log): logged, but the row itself does not change.
            ctx.log(&key.to_string(), "narrative", old, shown);
        }
        return Ok(());
    }
    if let Typed::Int(target) = typed_value {
        guard_structure(ctx, key, id, field.name, target)?;
    }
    if key.kind == ItemKind::Unit && field.name == "kind" {
        super::structure::guard_unit_kind_change(ctx.tx, key, id, shown.as_deref())?;
    }
    if key.kind == ItemKind::KeyResult && field.name == "objective" {
        // The objective it leaves must keep sound weights too.
        let old: i64 = ctx.tx.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [id], |r| r.get(0))?;
        ctx.touched_objectives.insert(old);
    }
    if key.kind == ItemKind::Measure {
        // Any of its fields may be one its stage stands on (owner, units, potential …).
        ctx.touched_gates.insert(id);
    }
    let sql = format!("UPDATE {table} SET {col} = ?1, version = version + 1 WHERE id = ?2", col = field.column);
    let n = match typed_value {
        Typed::Null => ctx.tx.execute(&sql, params![engine::Null, id])?,
        Typed::Text(s) => ctx.tx.execute(&sql, params![s, id])?,
        Typed::Int(i) => ctx.tx.execute(&sql, params![i, id])?,
    };
    debug_assert_eq!(n, 1);
    ctx.bumped.insert(row);
    ctx.log(&key.to_string(), field.name, old, shown);
    match (key.kind, field.name) {
        (ItemKind::Measure, "package" | "value_type") => {
            ctx.touched_money.insert(id);
            ctx.touched_variance.insert(id);
        }
        (ItemKind::Kpi, "direction" | "target" | "tolerance") => {
            ctx.touched_variance.insert(id);
        }
        // Updates are missed by the cadence: a new one judges the item's signals again.
        (ItemKind::Measure, "cadence") | (ItemKind::Kpi, "frequency") => {
            ctx.touched_variance.insert(id);
        }
        (ItemKind::KeyResult, "kind" | "baseline" | "target" | "objective") => {
            ctx.touched_variance.insert(id);
            ctx.touched_definitions.insert(id);
        }
        (ItemKind::KeyResult, "weight") => {
            let objective: i64 = ctx.tx.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [id], |r| r.get(0))?;
            ctx.touched_objectives.insert(objective);
        }
        (ItemKind::Cycle, "start" | "end") => {
            // The plan line of every key result in the cycle moves with its dates.
            let mut stmt =
                ctx.tx.prepare_cached("SELECT k.id FROM key_results k JOIN objectives o ON o.id = k.objective_id WHERE o.cycle_id = ?1")?;
            let krs: Vec<i64> = stmt.query_map([id], |r| r.get(0))?.collect::<DbResult<_>>()?;
            ctx.touched_variance.extend(krs);
        }
        (ItemKind::Objective | ItemKind::KeyResult, "manual_status") => {
            ctx.effects.push(format!("{key}: status set by hand — explain it if the work underneath is not green"));
        }
        _ => {}
    }
    Ok(())
}

/// Refuse references that would break the structure: an objective aligned to itself or to one
/// of its own descendants, or an objective moved to another cycle's parent.
fn guard_structure(ctx: &Ctx, key: &ItemKey, id: i64, field: &str, target: i64) -> Result<()> {
    if key.kind == ItemKind::Objective && field == "parent" {
        let mut cursor = Some(target);
        let mut steps = 0;
        while let Some(c) = cursor {
            if c == id {
                return Err(StoreError::Invalid {
                    key: key.to_string(),
                    field: field.into(),
                    why: "would make the objective tree a loop (an objective cannot align to itself or its own descendant)".into(),
                });
            }
            cursor = ctx.tx.query_row("SELECT parent_id FROM objectives WHERE id = ?1", [c], |r| r.get(0))?;
            steps += 1;
            if steps > 10_000 {
                break;
            }
        }
        super::structure::guard_objective_depth(ctx.tx, key, id, target)?;
    }
    super::structure::guard_measure_unit(ctx.tx, key, field, target)?;
    Ok(())
}

fn require_kind(key: &ItemKey, kinds: &[ItemKind], what: &str) -> Result<()> {
    if kinds.contains(&key.kind) {
        Ok(())
    } else {
        Err(StoreError::Invalid { key: key.to_string(), field: what.into(), why: format!("is a {}, which cannot be used here", key.kind) })
    }
}

fn gate(ctx: &mut Ctx, key: &ItemKey, action: GateAction, reason: Option<&str>) -> Result<()> {
    require_kind(key, &[ItemKind::Measure], "gate")?;
    let id = resolve(ctx.tx, key)?;
    let (state, facts) = rules::gate_inputs(ctx.tx, id)?;
    let who = Acting { person: ctx.actor.person_id, pmo_admin: ctx.actor.pmo_admin };
    let outcome = gates::decide(&state, &facts, action, who, reason).map_err(|refusal| StoreError::Refused {
        key: key.to_string(),
        action: format!("gate {}", action.as_str()),
        missing: refusal.missing,
        by_role: refusal.by_role,
    })?;
    let from = state.stage.unwrap_or(crate::domain::Stage::Defined);
    rules::write_gate_state(ctx, key, id, &state, &outcome.state)?;
    ctx.validation_voided.clear();
    let kind = match (action, outcome.moved) {
        (_, Some(_)) => "moved",
        (GateAction::Request, None) => "requested",
        (GateAction::Approve, None) => "approved",
        (GateAction::Reject, _) => "rejected",
        (GateAction::Hold, _) => "held",
        (GateAction::Resume, _) => "resumed",
        (GateAction::Cancel, _) => "cancelled",
        (GateAction::Back, None) => "moved",
    };
    ctx.tx.execute(
        "INSERT INTO gate_events (measure_id, at, actor, action, outcome, from_stage, to_stage, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            ctx.clock.stamp(),
            ctx.actor.login,
            action.as_str(),
            kind,
            from.as_str(),
            outcome.moved.map(|(_, t)| t.as_str()).or(outcome.state.pending.map(|p| p.as_str())),
            outcome.summary
        ],
    )?;
    ctx.effects.push(format!("{key}: {}", outcome.summary));
    let to = outcome.moved.map(|(_, t)| t.as_str()).or(outcome.state.pending.map(|p| p.as_str())).unwrap_or("");
    ctx.event(
        super::events::Event::new("gate-decided", &key.to_string())
            .with("action", action.as_str())
            .with("outcome", kind)
            .with("from", from.as_str())
            .with("to", to)
            .with("summary", &outcome.summary),
    );
    ctx.touched_money.insert(id);
    // Cancelling (or any side-state change) decides whether the measure's numbers are judged.
    ctx.touched_variance.insert(id);
    Ok(())
}

fn milestone(ctx: &mut Ctx, key: &ItemKey, action: &MilestoneAction) -> Result<()> {
    require_kind(key, &[ItemKind::Measure], "milestone")?;
    let id = resolve(ctx.tx, key)?;
    may_edit(ctx, key.kind, id, key)?;
    // A reopened milestone voids Implemented; a removed date may void Detailed.
    ctx.touched_gates.insert(id);
    let nth = |ctx: &Ctx, number: usize| -> Result<(i64, String, Option<String>)> {
        let rows: Vec<(i64, String, Option<String>)> = {
            let mut stmt =
                ctx.tx.prepare_cached("SELECT id, title, done_date FROM milestones WHERE measure_id = ?1 ORDER BY due_date, id")?;
            let r = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let count = rows.len();
        rows.into_iter().nth(number.wrapping_sub(1)).ok_or_else(|| StoreError::Invalid {
            key: key.to_string(),
            field: "milestone".into(),
            why: format!("there is no milestone {number} (it has {count})"),
        })
    };
    let dated = |d: NaiveDate| {
        crate::domain::period::check_date(d).map_err(|e| StoreError::Invalid {
            key: key.to_string(),
            field: "milestone".into(),
            why: e.to_string(),
        })
    };
    match action {
        MilestoneAction::Add { title, due } => {
            dated(*due)?;
            if title.trim().is_empty() {
                return Err(StoreError::Invalid { key: key.to_string(), field: "milestone".into(), why: "needs a title".into() });
            }
            let added: i64 = ctx.tx.query_row(
                "INSERT INTO milestones (measure_id, title, due_date) VALUES (?1, ?2, ?3) RETURNING id",
                params![id, title.trim(), due.to_string()],
                |r| r.get(0),
            )?;
            ctx.log(&key.to_string(), "milestone", None, Some(format!("{} due {due}", title.trim())));
            // Its number as `keel show` lists milestones: in due-date order.
            let number: i64 = ctx.tx.query_row(
                "SELECT COUNT(*) FROM milestones WHERE measure_id = ?1 AND (due_date < ?2 OR (due_date = ?2 AND id <= ?3))",
                params![id, due.to_string(), added],
                |r| r.get(0),
            )?;
            ctx.effects.push(format!("{key}: milestone {number} '{}' added, due {due}", title.trim()));
        }
        MilestoneAction::Done { number, on } => {
            let (mid, title, done) = nth(ctx, *number)?;
            let day = dated(on.unwrap_or(ctx.clock.today))?.to_string();
            ctx.tx.execute("UPDATE milestones SET done_date = ?1, version = version + 1 WHERE id = ?2", params![day, mid])?;
            ctx.log(
                &key.to_string(),
                &format!("milestone '{title}'"),
                done.map(|d| format!("done {d}")).or(Some("open".into())),
                Some(format!("done {day}")),
            );
            ctx.effects.push(format!("{key}: milestone {number} '{title}' done {day}"));
        }
        MilestoneAction::Reopen { number } => {
            let (mid, title, done) = nth(ctx, *number)?;
            ctx.tx.execute("UPDATE milestones SET done_date = NULL, version = version + 1 WHERE id = ?1", [mid])?;
            ctx.log(&key.to_string(), &format!("milestone '{title}'"), done.map(|d| format!("done {d}")), Some("open".into()));
            ctx.effects.push(format!("{key}: milestone {number} '{title}' reopened"));
        }
    }
    Ok(())
}

fn link(ctx: &mut Ctx, from: &ItemKey, to: &ItemKey, remove: bool) -> Result<()> {
    let allowed = match from.kind {
        ItemKind::Measure => [ItemKind::KeyResult, ItemKind::Kpi].contains(&to.kind),
        ItemKind::Kpi => [ItemKind::KeyResult, ItemKind::Objective].contains(&to.kind),
        _ => false,
    };
    if !allowed {
        return Err(StoreError::Invalid {
            key: from.to_string(),
            field: "link".into(),
            why: format!(
                "cannot link a {} to a {}: measures link to key results or KPIs; KPIs to key results or objectives",
                from.kind, to.kind
            ),
        });
    }
    let (fid, tid) = (resolve(ctx.tx, from)?, resolve(ctx.tx, to)?);
    may_edit(ctx, from.kind, fid, from)?;
    if from.kind == ItemKind::Measure {
        // Detailed needs a link to a key result or KPI.
        ctx.touched_gates.insert(fid);
    }
    let n = if remove {
        ctx.tx.execute("DELETE FROM links WHERE from_id = ?1 AND to_id = ?2", params![fid, tid])?
    } else {
        ctx.tx.execute("INSERT INTO links (from_id, to_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![fid, tid])?
    };
    if n > 0 {
        let (old, new) = if remove { (Some(to.to_string()), None) } else { (None, Some(to.to_string())) };
        ctx.log(&from.to_string(), "link", old, new);
    }
    Ok(())
}

fn depend(ctx: &mut Ctx, key: &ItemKey, on: &ItemKey, remove: bool) -> Result<()> {
    require_kind(key, &[ItemKind::Measure], "depends_on")?;
    require_kind(on, &[ItemKind::Measure], "depends_on")?;
    let (id, on_id) = (resolve(ctx.tx, key)?, resolve(ctx.tx, on)?);
    may_edit(ctx, key.kind, id, key)?;
    if remove {
        if ctx.tx.execute("DELETE FROM dependencies WHERE measure_id = ?1 AND depends_on_id = ?2", params![id, on_id])? > 0 {
            ctx.log(&key.to_string(), "depends_on", Some(on.to_string()), None);
        }
        return Ok(());
    }
    // Refuse a loop: `on` must not (transitively) depend on `key`.
    if let Some(why) = super::structure::dependency_refusal(ctx.tx, key, id, on, on_id)? {
        return Err(StoreError::Invalid { key: key.to_string(), field: "depends_on".into(), why });
    }
    if ctx.tx.execute("INSERT INTO dependencies (measure_id, depends_on_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![id, on_id])?
        > 0
    {
        ctx.log(&key.to_string(), "depends_on", None, Some(on.to_string()));
    }
    Ok(())
}

fn setting(ctx: &mut Ctx, name: &str, value: &str) -> Result<()> {
    if !(ctx.trusted || ctx.actor.pmo_admin) {
        return Err(StoreError::Permission(format!("only a PMO administrator may change settings (you are {})", ctx.actor.display())));
    }
    let value = value.trim();
    let current: Vec<(String, String)> =
        ctx.tx.prepare("SELECT name, value FROM settings")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<DbResult<_>>()?;
    let pairs = current.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    if let Some(p) = crate::domain::settings::check_change(pairs, [(name, value)]).into_iter().next() {
        return Err(StoreError::Invalid {
            key: format!("setting {}", p.name),
            field: format!("'{}'", crate::domain::num::echo(&p.value)),
            why: p.why,
        });
    }
    let old = current.into_iter().find(|(n, _)| n == name).map(|(_, v)| v);
    if old.as_deref() == Some(value) {
        return Ok(());
    }
    ctx.tx.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = settings.version + 1",
        params![name, value],
    )?;
    ctx.log("settings", name, old, Some(value.to_string()));
    ctx.effects.push(format!("setting {name} = {value}"));
    // Thresholds decide every item's escalation: reassess all of them under the new ones.
    rules::rebuild_all(ctx)
}

/// Record a decision on `key`; its row id.
pub(crate) fn decision(ctx: &mut Ctx, key: &ItemKey, text: &str, owner: Option<&ItemKey>) -> Result<i64> {
    let id = resolve(ctx.tx, key)?;
    super::authority::guard_decision(ctx, key, id)?;
    if text.trim().is_empty() {
        return Err(StoreError::Invalid { key: key.to_string(), field: "decision".into(), why: "needs the text of the decision".into() });
    }
    let owner_id = match owner {
        Some(o) => {
            require_kind(o, &[ItemKind::Person], "decision owner")?;
            Some(resolve(ctx.tx, o)?)
        }
        None => None,
    };
    let decided: i64 = ctx.tx.query_row(
        "INSERT INTO decisions (item_id, text, decided_by, owner_id, at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![id, text.trim(), ctx.actor.login, owner_id, ctx.clock.stamp()],
        |r| r.get(0),
    )?;
    ctx.log(&key.to_string(), "decision", None, Some(text.trim().to_string()));
    Ok(decided)
}
