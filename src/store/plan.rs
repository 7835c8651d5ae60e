//! Loading a plan into the file (through the write path, as one change) and reading it back out.

use super::edit::Ctx;
use super::{rules, Result, Store, StoreError};
use crate::domain::plan::{self as p, Plan};
use crate::domain::{
    Cadence, Direction, IpoClass, ItemKey, ItemKind, KrKind, Level, NodeKind, Num, Period, SideState, Stage, UnitKind, ValueType,
};
use crate::store::engine::{params, Db, DbResult, OptionalExtension, Tx};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

mod export;
pub use export::{PlanRow, ValueOf, EXPORT_PAGE};

/// Collects every problem in a plan so that all are reported at once.
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, at: &str, what: impl std::fmt::Display) {
        self.0.push(format!("{at}: {what}"));
    }
}

thread_local! {
    /// Keys already found during the import running on this thread, with their id and kind. A
    /// plan refers to the same people, packages and key results thousands of times; items are
    /// never removed inside an import, so a key once found stays right until the import ends.
    static FOUND: std::cell::RefCell<HashMap<String, (i64, &'static str)>> = std::cell::RefCell::new(HashMap::new());
}

fn lookup(tx: &Tx, key: &str) -> DbResult<Option<(i64, &'static str)>> {
    if let Some(hit) = FOUND.with(|f| f.borrow().get(key).copied()) {
        return Ok(Some(hit));
    }
    let found: Option<(i64, String)> =
        tx.prepare_cached("SELECT id, kind FROM items WHERE key = ?1")?.query_row([key], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let found = found.map(|(id, kind)| (id, ItemKind::parse(&kind).map(ItemKind::as_str).unwrap_or("unknown item")));
    if let Some(hit) = found {
        FOUND.with(|f| f.borrow_mut().insert(key.to_string(), hit));
    }
    Ok(found)
}

/// A reference already found in this import, written exactly as it was found, of one of `kinds`
/// (the common case, checked without parsing the key again; anything else takes `reference`).
fn known(raw: &str, kinds: &[ItemKind]) -> Option<i64> {
    let (id, kind) = FOUND.with(|f| f.borrow().get(raw).copied())?;
    kinds.iter().any(|k| k.as_str() == kind).then_some(id)
}

/// Resolve a reference in the plan, recording a problem when it is missing or of the wrong kind.
fn reference(tx: &Tx, problems: &mut Problems, at: &str, field: &str, key: Option<&str>, kinds: &[ItemKind]) -> Result<Option<i64>> {
    let Some(raw) = key else { return Ok(None) };
    let parsed = match ItemKey::parse(raw) {
        Ok(k) => k,
        Err(e) => {
            problems.push(at, format!("{field}: {e}"));
            return Ok(None);
        }
    };
    match lookup(tx, &parsed.to_string())? {
        Some((id, kind)) if kinds.iter().any(|k| k.as_str() == kind) => Ok(Some(id)),
        Some((_, kind)) => {
            let want: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            problems.push(at, format!("{field}: {parsed} is a {kind}, expected a {}", want.join(" or ")));
            Ok(None)
        }
        None => {
            problems.push(at, format!("{field}: {parsed} does not exist in the plan or the file"));
            Ok(None)
        }
    }
}

fn register(tx: &Tx, problems: &mut Problems, seen: &mut HashSet<String>, at: &str, key: &str, kind: ItemKind) -> Result<Option<i64>> {
    let parsed = match ItemKey::parse(key) {
        Ok(k) if k.kind == kind => k,
        Ok(k) => {
            problems.push(at, format!("key {k} has the prefix of a {}, but this is a {kind} (use {}-n)", k.kind, kind.prefix()));
            return Ok(None);
        }
        Err(e) => {
            problems.push(at, e);
            return Ok(None);
        }
    };
    let text = parsed.to_string();
    if !seen.insert(text.clone()) {
        problems.push(at, format!("key {text} appears twice in the plan"));
        return Ok(None);
    }
    if lookup(tx, &text)?.is_some() {
        problems.push(at, format!("key {text} already exists in this file; import into an empty file or renumber"));
        return Ok(None);
    }
    let id: i64 = tx.query_row(
        "INSERT INTO items (kind, num, key) VALUES (?1, ?2, ?3) RETURNING id",
        params![kind.as_str(), parsed.number, text],
        |r| r.get(0),
    )?;
    FOUND.with(|f| f.borrow_mut().insert(text, (id, kind.as_str())));
    Ok(Some(id))
}

fn text_ok(problems: &mut Problems, at: &str, field: &str, v: &str) {
    if v.trim().is_empty() {
        problems.push(at, format!("{field} is empty"));
    }
}

fn rag_ok(problems: &mut Problems, at: &str, v: &Option<String>) {
    if let Some(s) = v {
        if !["green", "amber", "red"].contains(&s.as_str()) {
            problems.push(at, format!("manual_status '{s}' is not green, amber or red"));
        }
    }
}

/// A confidence in a plan obeys the rule it obeys when typed into the app.
fn confidence_ok(problems: &mut Problems, at: &str, v: Option<Num>) {
    if let Some(Err(why)) = v.map(crate::domain::text_check::confidence) {
        problems.push(at, format!("confidence: {why}"));
    }
}

fn n(v: &Option<Num>) -> Option<String> {
    v.map(|x| x.to_string())
}

/// Text in a plan meets the limits of text typed into `keel set`: no control characters (a
/// terminal would play them back to every analyst who views the item) and at most 10,000
/// characters in one field. Problems name the section, the item and the field.
fn check_text(plan: &Plan, problems: &mut Problems) {
    for p in crate::domain::text_check::check(plan) {
        problems.push(&p.at, p.what);
    }
}

/// Insert a whole plan. Every problem is collected and reported together; any problem aborts the
/// transaction, so the file is unchanged.
/// The rules a plan's items must meet as much as any edit's: consistent key results, sound
/// weights, stages whose criteria and approvals hold, and no actual for a period not yet begun.
/// Each problem names its item; one problem refuses the whole plan.
fn check_imported_rules(ctx: &Ctx, plan: &Plan, ids: &BTreeMap<String, i64>, problems: &mut Problems) -> Result<()> {
    let mut objectives = BTreeSet::new();
    for (i, k) in plan.key_results.iter().enumerate() {
        let Some(&id) = ids.get(&k.key) else { continue };
        let at = format!("key_results[{i}] ({})", k.key);
        for p in crate::domain::key_result::definition_problems(k.kind, k.baseline, k.target) {
            problems.push(&at, p);
        }
        if let Some(o) = ctx.tx.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [id], |r| r.get::<_, i64>(0)).optional()? {
            objectives.insert(o);
        }
    }
    for o in objectives {
        if let Some(why) = super::invariants::weight_problem(ctx.tx, o)? {
            let key: String = ctx.tx.query_row("SELECT key FROM items WHERE id = ?1", [o], |r| r.get(0))?;
            problems.push(&format!("objective {key}"), why);
        }
    }
    for (i, m) in plan.measures.iter().enumerate() {
        let Some(&id) = ids.get(&m.key) else { continue };
        if m.stage == Stage::Defined && m.pending_stage.is_none() && m.validated_by.is_none() && m.requested_by.is_none() {
            continue;
        }
        let (state, facts) = rules::gate_inputs(ctx.tx, id)?;
        let at = format!("measures[{i}] ({})", m.key);
        for p in crate::domain::gates::imported_stage_problems(&state, &facts) {
            problems.push(&at, format!("stage {}: {p}", m.stage));
        }
    }
    let today = ctx.clock.today;
    for (i, v) in plan.values.iter().enumerate() {
        if let (Some(_), Ok(period)) = (v.actual, Period::parse(&v.period)) {
            if let Some(why) = crate::domain::period::actual_refusal(period, today) {
                problems.push(&format!("values[{i}] ({} {})", v.item, v.period), why);
            }
        }
    }
    Ok(())
}

pub(crate) fn import(ctx: &mut Ctx, plan: &Plan) -> Result<()> {
    import_as(ctx, plan, Origin::Imported)
}

/// Whether a plan comes whole from a file, or is one item added from the command line or the app
/// (`keel add`): the same checks either way; only the words of the audit and the errors differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Imported,
    /// Problems come back one per line, `section[0] (KEY): what`, for the caller to word.
    Added,
}

pub(crate) fn import_as(ctx: &mut Ctx, plan: &Plan, origin: Origin) -> Result<()> {
    FOUND.with(|f| f.borrow_mut().clear());
    let result = import_inner(ctx, plan, origin);
    FOUND.with(|f| f.borrow_mut().clear());
    result
}

fn import_inner(ctx: &mut Ctx, plan: &Plan, origin: Origin) -> Result<()> {
    let tx = ctx.tx;
    // Search's index is filled once at the end, set-based, not row by row (bulk_end below).
    let search_from = super::search::bulk_begin(tx)?;
    let mut problems = Problems(Vec::new());
    check_text(plan, &mut problems);
    if plan.format != p::FORMAT {
        problems.push("format", format!("'{}' is not '{}'", plan.format, p::FORMAT));
    }
    if plan.version > p::FORMAT_VERSION {
        problems.push("version", format!("plan version {} is newer than this keel understands ({})", plan.version, p::FORMAT_VERSION));
    }
    if ctx.loaded_after.is_none() {
        // The new items' kept rows are filled in one pass when the edit ends.
        ctx.loaded_after = Some(super::kept::last_item(tx)?);
    }
    let mut seen = HashSet::new();
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    // 1. Register every key first, so references may point forwards.
    macro_rules! reg {
        ($list:expr, $section:literal, $kind:expr) => {
            for (i, it) in $list.iter().enumerate() {
                let at = format!("{}[{}] ({})", $section, i, it.key);
                if let Some(id) = register(tx, &mut problems, &mut seen, &at, &it.key, $kind)? {
                    ids.insert(it.key.clone(), id);
                }
            }
        };
    }
    reg!(plan.cycles, "cycles", ItemKind::Cycle);
    reg!(plan.units, "units", ItemKind::Unit);
    reg!(plan.people, "people", ItemKind::Person);
    reg!(plan.kras, "kras", ItemKind::Kra);
    reg!(plan.objectives, "objectives", ItemKind::Objective);
    reg!(plan.key_results, "key_results", ItemKind::KeyResult);
    reg!(plan.kpis, "kpis", ItemKind::Kpi);
    for (i, node) in plan.nodes.iter().enumerate() {
        let at = format!("nodes[{i}] ({})", node.key);
        if let Some(id) = register(tx, &mut problems, &mut seen, &at, &node.key, ItemKind::from_node(node.kind))? {
            ids.insert(node.key.clone(), id);
        }
    }
    reg!(plan.measures, "measures", ItemKind::Measure);
    if !problems.0.is_empty() {
        return Err(StoreError::Import(problems.0.join("\n")));
    }
    let id = |k: &str| ids[k];

    // What the file's constraints would refuse is found first and named; the row is still written
    // (in a form the constraints accept) so that references to it resolve, and the import fails.
    let mut cycle_names = HashSet::new();
    for (i, c) in plan.cycles.iter().enumerate() {
        let at = format!("cycles[{i}] ({})", c.key);
        text_ok(&mut problems, &at, "name", &c.name);
        if c.start > c.end {
            problems.push(&at, "start is after end");
        }
        for d in [c.start, c.end] {
            if let Err(e) = crate::domain::period::check_date(d) {
                problems.push(&at, e);
            }
        }
        let mut name = c.name.clone();
        if !cycle_names.insert(c.name.clone()) {
            problems.push(&at, format!("name '{}' belongs to two cycles", c.name));
            name = format!("{} ({})", c.name, c.key);
        } else if tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM cycles WHERE name = ?1)")?
            .query_row([&c.name], |r| r.get::<_, bool>(0))?
        {
            problems.push(&at, format!("name '{}' is already taken in this file", c.name));
            name = format!("{} ({})", c.name, c.key);
        }
        tx.prepare_cached("INSERT INTO cycles (id, name, start_date, end_date) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
            id(&c.key),
            name,
            c.start.to_string(),
            c.end.max(c.start).to_string()
        ])?;
    }
    for u in &plan.units {
        tx.prepare_cached("INSERT INTO units (id, name, kind) VALUES (?1, ?2, ?3)")?.execute(params![
            id(&u.key),
            u.name,
            u.kind.as_str()
        ])?;
    }
    for (i, u) in plan.units.iter().enumerate() {
        let at = format!("units[{i}] ({})", u.key);
        text_ok(&mut problems, &at, "name", &u.name);
        if let Some(parent) = reference(tx, &mut problems, &at, "parent", u.parent.as_deref(), &[ItemKind::Unit])? {
            tx.prepare_cached("UPDATE units SET parent_id = ?1 WHERE id = ?2")?.execute(params![parent, id(&u.key)])?;
        }
    }
    let mut logins = HashSet::new();
    for (i, person) in plan.people.iter().enumerate() {
        let at = format!("people[{i}] ({})", person.key);
        text_ok(&mut problems, &at, "name", &person.name);
        // A login that cannot be written is left out of the row (the import fails anyway), so
        // that references to the person still resolve.
        let mut login = person.login.as_deref();
        if let Some(l) = login {
            if l.trim().is_empty() {
                problems.push(&at, "login is empty: give the person's OS login, or leave login out for someone who does not use keel");
                login = None;
            } else if !logins.insert(l.to_string()) {
                problems.push(&at, format!("login '{l}' belongs to two people"));
                login = None;
            } else if tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM people WHERE login = ?1)")?.query_row([l], |r| r.get::<_, bool>(0))? {
                problems.push(&at, format!("login '{l}' is already taken in this file"));
                login = None;
            }
        }
        let unit = reference(tx, &mut problems, &at, "unit", person.unit.as_deref(), &[ItemKind::Unit])?;
        tx.prepare_cached("INSERT INTO people (id, name, login, email, unit_id, pmo_admin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![id(&person.key), person.name, login, person.email, unit, person.pmo_admin as i64])?;
    }
    for (i, k) in plan.kras.iter().enumerate() {
        let at = format!("kras[{i}] ({})", k.key);
        let owner = reference(tx, &mut problems, &at, "owner", k.owner.as_deref(), &[ItemKind::Person])?;
        tx.prepare_cached("INSERT INTO kras (id, name, owner_id) VALUES (?1, ?2, ?3)")?.execute(params![id(&k.key), k.name, owner])?;
    }
    for (i, o) in plan.objectives.iter().enumerate() {
        let at = format!("objectives[{i}] ({})", o.key);
        text_ok(&mut problems, &at, "title", &o.title);
        rag_ok(&mut problems, &at, &o.manual_status);
        let cycle = reference(tx, &mut problems, &at, "cycle", Some(&o.cycle), &[ItemKind::Cycle])?;
        let owner = reference(tx, &mut problems, &at, "owner", o.owner.as_deref(), &[ItemKind::Person])?;
        let Some(cycle) = cycle else { continue };
        tx.prepare_cached(
            "INSERT INTO objectives (id, cycle_id, title, description, owner_id, level, manual_status, status_explanation, target)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            id(&o.key),
            cycle,
            o.title,
            o.description,
            owner,
            o.level.as_str(),
            o.manual_status,
            o.status_explanation,
            n(&o.target)
        ])?;
        for u in &o.units {
            if let Some(unit) = reference(tx, &mut problems, &at, "units", Some(u), &[ItemKind::Unit])? {
                tx.prepare_cached("INSERT INTO objective_units (objective_id, unit_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
                    .execute(params![id(&o.key), unit])?;
            }
        }
    }
    for (i, o) in plan.objectives.iter().enumerate() {
        let at = format!("objectives[{i}] ({})", o.key);
        if let Some(parent) = reference(tx, &mut problems, &at, "parent", o.parent.as_deref(), &[ItemKind::Objective])? {
            tx.prepare_cached("UPDATE objectives SET parent_id = ?1 WHERE id = ?2")?.execute(params![parent, id(&o.key)])?;
        }
    }
    // The alignment tree must not loop, nor nest deeper than keel's limit.
    let plan_parents: Vec<(String, Option<String>)> = plan.objectives.iter().map(|o| (o.key.clone(), o.parent.clone())).collect();
    let (looped, too_deep) = super::structure::imported_objective_tree(tx, &plan_parents)?;
    if !looped.is_empty() {
        problems.push("objectives", format!("the parent links form a loop through {}", looped.join(", ")));
    }
    for (key, levels) in too_deep {
        let i = plan.objectives.iter().position(|o| o.key == key).unwrap_or_default();
        let why = crate::domain::structure::objective_depth_refusal(levels).unwrap_or_default();
        problems.push(&format!("objectives[{i}] ({key})"), format!("parent: {why}"));
    }
    for (i, k) in plan.key_results.iter().enumerate() {
        let at = format!("key_results[{i}] ({})", k.key);
        text_ok(&mut problems, &at, "title", &k.title);
        rag_ok(&mut problems, &at, &k.manual_status);
        confidence_ok(&mut problems, &at, k.confidence);
        let objective = reference(tx, &mut problems, &at, "objective", Some(&k.objective), &[ItemKind::Objective])?;
        let owner = reference(tx, &mut problems, &at, "owner", k.owner.as_deref(), &[ItemKind::Person])?;
        let Some(objective) = objective else { continue };
        tx.prepare_cached("INSERT INTO key_results (id, objective_id, title, kind, baseline, target, unit, weight, confidence, owner_id, milestone_done, manual_status, status_explanation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")?.execute(params![id(&k.key), objective, k.title, k.kind.as_str(), n(&k.baseline), n(&k.target), k.unit, k.weight.to_string(), n(&k.confidence), owner, k.milestone_done as i64, k.manual_status, k.status_explanation],
        )?;
        if let Some(text) = &k.narrative {
            text_ok(&mut problems, &at, "narrative", text);
            tx.prepare_cached("UPDATE key_results SET narrative = ?1 WHERE id = ?2")?.execute(params![text, id(&k.key)])?;
        }
    }
    for (i, k) in plan.kpis.iter().enumerate() {
        let at = format!("kpis[{i}] ({})", k.key);
        text_ok(&mut problems, &at, "title", &k.title);
        let owner = reference(tx, &mut problems, &at, "owner", k.owner.as_deref(), &[ItemKind::Person])?;
        let kra = reference(tx, &mut problems, &at, "kra", k.kra.as_deref(), &[ItemKind::Kra])?;
        tx.prepare_cached("INSERT INTO kpis (id, title, ipo_class, unit, direction, target, tolerance, timeframe, data_source, frequency, owner_id, kra_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?.execute(params![id(&k.key), k.title, k.ipo_class.as_str(), k.unit, k.direction.as_str(), n(&k.target), n(&k.tolerance), k.timeframe, k.data_source, k.frequency.map(|f| f.as_str()), owner, kra],
        )?;
        if let Some(text) = &k.narrative {
            text_ok(&mut problems, &at, "narrative", text);
            tx.prepare_cached("UPDATE kpis SET narrative = ?1 WHERE id = ?2")?.execute(params![text, id(&k.key)])?;
        }
        for target in &k.informs {
            if let Some(t) = reference(tx, &mut problems, &at, "informs", Some(target), &[ItemKind::KeyResult, ItemKind::Objective])? {
                tx.prepare_cached("INSERT INTO links (from_id, to_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
                    .execute(params![id(&k.key), t])?;
            }
        }
    }
    for node in &plan.nodes {
        tx.prepare_cached("INSERT INTO nodes (id, kind, title, target) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
            id(&node.key),
            node.kind.as_str(),
            node.title,
            n(&node.target)
        ])?;
    }
    for (i, node) in plan.nodes.iter().enumerate() {
        let at = format!("nodes[{i}] ({})", node.key);
        text_ok(&mut problems, &at, "title", &node.title);
        let owner = reference(tx, &mut problems, &at, "owner", node.owner.as_deref(), &[ItemKind::Person])?;
        let parent = match node.kind.parent_kind() {
            Some(pk) => {
                let r = reference(tx, &mut problems, &at, "parent", node.parent.as_deref(), &[ItemKind::from_node(pk)])?;
                if node.parent.is_none() {
                    problems.push(&at, format!("a {} needs a parent {}", node.kind, pk));
                }
                r
            }
            None => {
                if node.parent.is_some() {
                    problems.push(&at, "a portfolio has no parent");
                }
                None
            }
        };
        tx.prepare_cached("UPDATE nodes SET parent_id = ?1, owner_id = ?2 WHERE id = ?3")?.execute(params![
            parent,
            owner,
            id(&node.key)
        ])?;
    }
    // The measures, their milestones and links go to the server in batches (see `RowBatch`).
    let mut new_measures = tx.row_batch(
        "INSERT INTO measures (id, package_id, title, description, owner_id, sponsor_id, controller_id, business_unit_id, function_id, kra_id,
             stage, side_state, side_reason, pending_stage, requested_by, sponsor_approved_by, controller_signed_by, validated_by,
             cadence, value_type, potential, narrative, decision_needed, risk, next_steps)",
        25,
        "",
    );
    let mut new_milestones = tx.row_batch("INSERT INTO milestones (measure_id, title, due_date, done_date)", 4, "");
    let mut new_links = tx.row_batch("INSERT INTO links (from_id, to_id)", 2, "ON CONFLICT DO NOTHING");
    let mut unit_kinds: HashMap<i64, Option<UnitKind>> = HashMap::new();
    for (i, m) in plan.measures.iter().enumerate() {
        let at = format!("measures[{i}] ({})", m.key);
        text_ok(&mut problems, &at, "title", &m.title);
        let person = |problems: &mut Problems, field: &str, v: &Option<String>| {
            reference(tx, problems, &at, field, v.as_deref(), &[ItemKind::Person])
        };
        let owner = person(&mut problems, "owner", &m.owner)?;
        let sponsor = person(&mut problems, "sponsor", &m.sponsor)?;
        let controller = person(&mut problems, "controller", &m.controller)?;
        let requested = person(&mut problems, "requested_by", &m.requested_by)?;
        let approved = person(&mut problems, "sponsor_approved_by", &m.sponsor_approved_by)?;
        let signed = person(&mut problems, "controller_signed_by", &m.controller_signed_by)?;
        let validated = person(&mut problems, "validated_by", &m.validated_by)?;
        let package = reference(tx, &mut problems, &at, "package", m.package.as_deref(), &[ItemKind::Package])?;
        let bu = reference(tx, &mut problems, &at, "business_unit", m.business_unit.as_deref(), &[ItemKind::Unit])?;
        let func = reference(tx, &mut problems, &at, "function", m.function.as_deref(), &[ItemKind::Unit])?;
        let kra = reference(tx, &mut problems, &at, "kra", m.kra.as_deref(), &[ItemKind::Kra])?;
        for (field, unit, named) in [("business_unit", bu, &m.business_unit), ("function", func, &m.function)] {
            if let (Some(unit), Some(named)) = (unit, named) {
                let kind = match unit_kinds.get(&unit) {
                    Some(kind) => *kind,
                    None => *unit_kinds.entry(unit).or_insert(super::structure::unit_kind(tx, unit)?),
                };
                if let Some(why) = kind.and_then(|kind| crate::domain::structure::unit_kind_refusal(field, named, kind)) {
                    problems.push(&at, why);
                }
            }
        }
        if m.pending_stage.is_some_and(|s| !matches!(s, Stage::Decided | Stage::Implemented | Stage::Closed)) {
            problems.push(&at, "pending_stage can only be decided, implemented or closed");
        }
        new_measures.push(params![
            id(&m.key),
            package,
            m.title,
            m.description,
            owner,
            sponsor,
            controller,
            bu,
            func,
            kra,
            m.stage.as_str(),
            m.side_state.map(|s| s.as_str()),
            m.side_reason,
            m.pending_stage.map(|s| s.as_str()).filter(|s| *s != "defined" && *s != "identified" && *s != "detailed"),
            requested,
            approved,
            signed,
            validated,
            m.cadence.as_str(),
            m.value_type.as_str(),
            n(&m.potential),
            m.narrative,
            m.decision_needed,
            m.risk,
            m.next_steps
        ])?;
        for ms in &m.milestones {
            text_ok(&mut problems, &at, "milestone title", &ms.title);
            for d in std::iter::once(ms.due).chain(ms.done) {
                if let Err(e) = crate::domain::period::check_date(d) {
                    problems.push(&at, format!("milestone '{}': {e}", ms.title));
                }
            }
            new_milestones.push(params![id(&m.key), ms.title, ms.due.to_string(), ms.done.map(|d| d.to_string())])?;
        }
        for target in &m.contributes_to {
            if let Some(t) = reference(tx, &mut problems, &at, "contributes_to", Some(target), &[ItemKind::KeyResult, ItemKind::Kpi])? {
                new_links.push(params![id(&m.key), t])?;
            }
        }
    }
    // The milestones and links refer to the measures: these go first.
    new_measures.finish()?;
    new_milestones.finish()?;
    new_links.finish()?;
    for (i, m) in plan.measures.iter().enumerate() {
        let at = format!("measures[{i}] ({})", m.key);
        for dep in &m.depends_on {
            if let Some(d) = reference(tx, &mut problems, &at, "depends_on", Some(dep), &[ItemKind::Measure])? {
                if d == id(&m.key) {
                    problems.push(&at, "a measure cannot depend on itself");
                    continue;
                }
                tx.prepare_cached("INSERT INTO dependencies (measure_id, depends_on_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
                    .execute(params![id(&m.key), d])?;
            }
        }
    }
    // Measures may not wait for each other in a loop, as `keel depend` refuses one.
    if let Some(path) = super::structure::dependency_loop(tx)? {
        let at = match plan.measures.iter().position(|m| m.key == path[0]) {
            Some(i) => format!("measures[{i}] ({})", path[0]),
            None => "measures".to_string(),
        };
        problems.push(&at, format!("depends_on: {} is a loop; a measure cannot wait, through others, for itself", path.join(" → ")));
    }
    // A plan can hold a million values: each is checked and written without building anything
    // it does not need (the place for an error message is made only for an error).
    let mut value_rows = HashSet::new();
    let created: HashSet<i64> = ids.values().copied().collect();
    let mut good_at: Option<&str> = None;
    let stamp = ctx.clock.stamp();
    const VALUED: [ItemKind; 3] = [ItemKind::Measure, ItemKind::KeyResult, ItemKind::Kpi];
    // Nothing reads the new items' values until the loop ends (an existing item's are its own).
    let mut new_values = tx.row_batch(
        "INSERT INTO item_values (item_id, period, period_start, baseline, planned, forecast, actual, comment, reported_by, reported_at, confidence, updated_by, updated_at)",
        13,
        "",
    );
    for (i, v) in plan.values.iter().enumerate() {
        let at = || format!("values[{i}] ({} {})", v.item, v.period);
        let item = match known(&v.item, &VALUED) {
            Some(id) => Some(id),
            None => reference(tx, &mut problems, &at(), "item", Some(&v.item), &VALUED)?,
        };
        let period = match Period::parse(&v.period) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(&at(), e);
                None
            }
        };
        if good_at != Some(v.at.as_str()) {
            if chrono::DateTime::parse_from_rfc3339(&v.at).is_err() {
                problems.push(&at(), format!("at '{}' is not an RFC 3339 time like 2026-11-24T09:15:00Z", v.at));
            } else {
                good_at = Some(&v.at);
            }
        }
        if let Some(c) = v.confidence.filter(|c| crate::domain::text_check::confidence(*c).is_err()) {
            confidence_ok(&mut problems, &at(), Some(c));
        }
        let (Some(item), Some(period)) = (item, period) else { continue };
        if !value_rows.insert((item, period)) {
            problems.push(&at(), "this item and period appear twice");
            continue;
        }
        if !created.contains(&item) {
            value_for_existing(ctx, plan, i, item, period, &mut problems)?;
            continue;
        }
        // The plan's by/at is who reported the value and when; the importer entered it.
        new_values.push(params![
            item,
            period.to_string(),
            period.start().to_string(),
            n(&v.baseline),
            n(&v.planned),
            n(&v.forecast),
            n(&v.actual),
            v.comment,
            v.by,
            v.at,
            n(&v.confidence),
            ctx.actor.login,
            stamp
        ])?;
    }
    new_values.finish()?;
    for (i, d) in plan.decisions.iter().enumerate() {
        let at = format!("decisions[{i}] ({})", d.item);
        text_ok(&mut problems, &at, "text", &d.text);
        let item = reference(tx, &mut problems, &at, "item", Some(&d.item), ItemKind::ALL)?;
        let owner = reference(tx, &mut problems, &at, "owner", d.owner.as_deref(), &[ItemKind::Person])?;
        if let Some(item) = item {
            tx.prepare_cached("INSERT INTO decisions (item_id, text, decided_by, owner_id, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![item, d.text, d.by, owner, d.at])?;
        }
    }
    let current: Vec<(String, String)> =
        tx.prepare("SELECT name, value FROM settings")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<DbResult<_>>()?;
    let bad = crate::domain::settings::check_change(
        current.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        plan.settings.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    );
    for p in &bad {
        problems.push(&format!("settings.{}", p.name), format!("'{}' {}", crate::domain::num::echo(&p.value), p.why));
    }
    for (name, value) in &plan.settings {
        if bad.iter().any(|p| &p.name == name) {
            continue;
        }
        tx.prepare_cached("INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = settings.version + 1")?.execute(params![name, value])?;
        // Logged as `keel settings set` logs it, so the import's change set can put it back.
        let old = current.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        if old.as_deref() != Some(value.as_str()) {
            ctx.log("settings", name, old, Some(value.clone()));
        }
    }
    super::retire::import_retired(ctx, plan, &ids, &mut |at: &str, what: String| problems.push(at, what))?;
    check_imported_rules(ctx, plan, &ids, &mut problems)?;
    if !problems.0.is_empty() {
        let count = problems.0.len();
        if origin == Origin::Added {
            return Err(StoreError::Import(problems.0.join("\n")));
        }
        return Err(StoreError::Import(format!("{count} problem(s) in the plan; nothing was imported:\n  {}", problems.0.join("\n  "))));
    }
    let created = ids.len();
    let word = if origin == Origin::Added { "added" } else { "imported" };
    for key in ids.keys() {
        ctx.log(key, "created", None, Some(word.into()));
    }
    for r in &plan.retired {
        ctx.log(&r.key, "retired", None, Some(r.reason.trim().to_string()));
    }
    // Stages and approvals that arrive with a plan are the plan's word, not a gate decision made
    // here: the audit says so, and names who imported them.
    for m in plan.measures.iter().filter(|m| m.stage > Stage::Defined || m.pending_stage.is_some()) {
        let approvals: Vec<String> = [
            ("sponsor_approved_by", &m.sponsor_approved_by),
            ("controller_signed_by", &m.controller_signed_by),
            ("validated_by", &m.validated_by),
            ("requested_by", &m.requested_by),
        ]
        .iter()
        .filter_map(|(f, v)| v.as_ref().map(|v| format!("{f} {v}")))
        .collect();
        let detail = if approvals.is_empty() { String::new() } else { format!(" with {}", approvals.join(", ")) };
        ctx.log(&m.key, "stage", None, Some(format!("{} imported{detail}", m.stage)));
    }
    if origin == Origin::Imported {
        ctx.effects.push(format!("imported {created} items and {} values", plan.values.len()));
    }
    let measures: Vec<i64> = plan.measures.iter().filter_map(|m| ids.get(&m.key).copied()).collect();
    let valued: std::collections::BTreeSet<i64> = value_rows.iter().map(|(item, _)| *item).collect();
    ctx.valued.extend(valued.iter().copied());
    rules::rebuild_after_import(ctx, &measures, &valued, !plan.settings.is_empty())?;
    super::search::bulk_end(ctx.tx, search_from)?;
    Ok(())
}

/// A plan value for an item that was in the file before is refused where the period already has
/// one (a plan adds values; `keel import values` changes them); else each of its numbers is set
/// as a typed one is: the same rules (a signed plan changed loses its sign-off) and an audit row
/// per cell, so `keel revert` can take it back. The plan's by/at still say who reported it.
fn value_for_existing(ctx: &mut Ctx, plan: &Plan, i: usize, item: i64, period: Period, problems: &mut Problems) -> Result<()> {
    let v = &plan.values[i];
    let at = format!("values[{i}] ({} {})", v.item, v.period);
    let key = match ItemKey::parse(&v.item) {
        Ok(k) => k,
        Err(e) => {
            problems.push(&at, e);
            return Ok(());
        }
    };
    let taken = ctx
        .tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM item_values WHERE item_id = ?1 AND period = ?2)")?
        .query_row(params![item, period.to_string()], |r| r.get::<_, bool>(0))?;
    if taken {
        problems.push(
            &at,
            format!("{key} already has a value for {period} in this file; a plan adds values, `keel import values` changes them"),
        );
        return Ok(());
    }
    let numbers = [
        ("baseline", &v.baseline),
        ("planned", &v.planned),
        ("forecast", &v.forecast),
        ("actual", &v.actual),
        ("confidence", &v.confidence),
    ];
    let cells = numbers.iter().filter_map(|(f, n)| n.map(|n| (*f, n.to_string()))).chain(v.comment.clone().map(|c| ("comment", c)));
    for (field, text) in cells {
        match super::value_edit::set_values(ctx, &key, period, &[(field, text.as_str())], None, false) {
            Ok(()) => {}
            Err(StoreError::Invalid { why, .. }) => problems.push(&at, format!("{field}: {why}")),
            Err(e) => return Err(e),
        }
    }
    ctx.tx
        .prepare_cached("UPDATE item_values SET reported_by = ?1, reported_at = ?2 WHERE item_id = ?3 AND period = ?4")?
        .execute(params![v.by, v.at, item, period.to_string()])?;
    Ok(())
}

impl Store {
    /// Load a plan through the write path. Into a file that has people already, only a PMO
    /// administrator may import; an empty file accepts its first plan from whoever created it.
    pub fn import_plan(&mut self, plan: Plan) -> Result<super::EditOutcome> {
        self.import_plan_or_try(plan, None, false)
    }

    /// Load a plan read from `file`, recorded as a change set (`keel log --imports`) that
    /// `keel revert` can undo.
    pub fn import_plan_from(&mut self, plan: Plan, file: Option<&str>) -> Result<super::EditOutcome> {
        self.import_plan_or_try(plan, file, false)
    }

    /// What [`Store::import_plan`] would do, rolled back: nothing is written.
    pub fn try_import_plan(&mut self, plan: Plan) -> Result<super::EditOutcome> {
        self.import_plan_or_try(plan, None, true)
    }

    fn import_plan_or_try(&mut self, plan: Plan, file: Option<&str>, dry_run: bool) -> Result<super::EditOutcome> {
        let has_people: bool = self.conn().query_row("SELECT EXISTS (SELECT 1 FROM people)", [], |r| r.get(0))?;
        if has_people && !self.actor.pmo_admin {
            return Err(StoreError::Permission(format!(
                "only a PMO administrator may import a plan into a file that has people (you are {})",
                self.actor.display()
            )));
        }
        let mut changes = Vec::new();
        if let Some(file) = file {
            let values = plan.values.len() as i64;
            changes.push(super::Change::Upkeep(super::upkeep::Upkeep::RecordImport { kind: "plan", file: file.to_string(), values }));
        }
        changes.push(super::Change::ImportPlan(Box::new(plan)));
        let edit = super::Edit { changes, reason: None };
        if dry_run {
            return self.edit_trusted_dry_run(edit);
        }
        let outcome = self.edit_trusted(edit)?;
        // People now exist: find out again who the acting login is.
        let login = self.actor.login.clone();
        if self.demo {
            self.identify(Some(&login))?;
        } else {
            self.identify(None)?;
        }
        Ok(outcome)
    }
}
