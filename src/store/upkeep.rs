//! Keeping the organisation current (issue 19): add an item, move it under another parent,
//! retire it and bring it back, hand a leaver's roles to someone else, revert an import. Each is
//! a [`Change::Upkeep`](super::Change) and so takes the one write path: rules, roles, four eyes
//! and audit in one transaction, and nothing changed when it is refused.

use super::edit::{may_edit, Ctx};
use super::plan::{import_as, Origin};
use super::{resolve, Result, StoreError};
use crate::domain::plan_fragment::{self, a, Typed};
use crate::domain::{ItemKey, ItemKind, Level};
use crate::store::engine::{params, OptionalExtension};

pub use crate::domain::handover::Role;

#[derive(Clone, Debug)]
pub enum Upkeep {
    /// A new item of `kind`, validated by the plan import as a one-item plan.
    Add {
        kind: ItemKind,
        title: Option<String>,
        parent: Option<String>,
        owner: Option<String>,
        fields: Vec<(String, String)>,
    },
    /// Put an item under another parent (`None`: no parent, where the kind allows it).
    Move {
        key: ItemKey,
        to: Option<ItemKey>,
    },
    Retire {
        key: ItemKey,
        reason: String,
        with_children: bool,
    },
    Unretire {
        key: ItemKey,
        with_children: bool,
    },
    /// Hand every role of `from` (of the kinds named) to `to`.
    Reassign {
        from: ItemKey,
        to: ItemKey,
        roles: Vec<Role>,
    },
    /// Undo an import recorded as change set `id`.
    Revert {
        id: i64,
    },
    /// Record the import this edit makes as a change set (kind `plan` or `values`, and its file).
    RecordImport {
        kind: &'static str,
        file: String,
        values: i64,
    },
}

impl Upkeep {
    /// The free text this change would store, for the one text rule (a plan's text is checked by
    /// the plan import, which names the field).
    pub(crate) fn texts(&self) -> Vec<(String, &str, &str)> {
        match self {
            Upkeep::Retire { key, reason, .. } => vec![(key.to_string(), "reason", reason.as_str())],
            _ => vec![],
        }
    }
}

pub(crate) fn apply(ctx: &mut Ctx, change: &Upkeep) -> Result<()> {
    match change {
        Upkeep::Add { kind, title, parent, owner, fields } => {
            let typed = Typed { title: title.as_deref(), parent: parent.as_deref(), owner: owner.as_deref(), fields };
            add(ctx, *kind, &typed)
        }
        Upkeep::Move { key, to } => move_item(ctx, key, to.as_ref()),
        Upkeep::Retire { key, reason, with_children } => super::retire::retire(ctx, key, reason, *with_children),
        Upkeep::Unretire { key, with_children } => super::retire::unretire(ctx, key, *with_children),
        Upkeep::Reassign { from, to, roles } => super::reassign::reassign(ctx, from, to, roles),
        Upkeep::Revert { id } => super::change_sets::revert(ctx, *id),
        Upkeep::RecordImport { kind, file, values } => super::change_sets::record(ctx, kind, file, *values),
    }
}

/// Is the item retired? Its retirement time and reason.
pub(crate) fn retired(ctx: &Ctx, id: i64) -> Result<Option<(String, String)>> {
    let row: Option<(Option<String>, Option<String>)> =
        ctx.tx.query_row("SELECT retired_at, retired_reason FROM items WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    Ok(row.and_then(|(at, why)| at.map(|at| (at, why.unwrap_or_default()))))
}

fn refuse_retired(ctx: &Ctx, key: &ItemKey, id: i64, role: &str) -> Result<()> {
    if let Some((at, why)) = retired(ctx, id)? {
        return Err(StoreError::Invalid {
            key: key.to_string(),
            field: role.into(),
            why: format!("{key} is retired (since {at}: {why}); `keel unretire {key}` brings it back"),
        });
    }
    Ok(())
}

/// Who may add an item of `kind` under `parent`: a PMO administrator anything; the owner of the
/// parent (or who else may change it) an item under it.
fn may_add(ctx: &Ctx, kind: ItemKind, parent: Option<(&ItemKey, i64)>) -> Result<()> {
    if ctx.trusted || ctx.actor.pmo_admin {
        return Ok(());
    }
    let you = ctx.actor.display();
    // A new file's first person is added by whoever made the file, as a first plan is imported.
    if kind == ItemKind::Person && !ctx.tx.query_row("SELECT EXISTS (SELECT 1 FROM people)", [], |r| r.get::<_, bool>(0))? {
        return Ok(());
    }
    if matches!(kind, ItemKind::Person | ItemKind::Unit | ItemKind::Cycle | ItemKind::Kra) {
        return Err(StoreError::Permission(format!("only a PMO administrator may add {} (you are {you})", a(kind))));
    }
    match parent {
        None => Err(StoreError::Permission(format!(
            "only a PMO administrator may add {} without a parent (you are {you}); give --parent with an item you own",
            a(kind)
        ))),
        Some((pk, pid)) => may_edit(ctx, pk.kind, pid, pk).map_err(|e| match e {
            StoreError::Permission(_) => {
                StoreError::Permission(format!("{pk}: only its owner or a PMO administrator may add {} under it (you are {you})", a(kind)))
            }
            e => e,
        }),
    }
}

/// The defaults a new item gets for fields the person did not type: a measure starts defined,
/// weekly, as a recurring benefit; a key result weighs 1; an objective is in its parent's cycle
/// (else the cycle running today, else the newest) one level below its parent (else company).
fn defaults(ctx: &Ctx, kind: ItemKind, parent: Option<i64>) -> Result<Vec<(&'static str, String)>> {
    let mut d = Vec::new();
    match kind {
        ItemKind::Measure => {
            d.push(("stage", "defined".to_string()));
            d.push(("cadence", "weekly".to_string()));
            d.push(("value_type", "recurring-benefit".to_string()));
        }
        ItemKind::KeyResult => d.push(("weight", "1".to_string())),
        ItemKind::Objective => {
            let of_parent: Option<(String, String)> = match parent {
                Some(p) => ctx
                    .tx
                    .query_row("SELECT i.key, o.level FROM objectives o JOIN items i ON i.id = o.cycle_id WHERE o.id = ?1", [p], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?,
                None => None,
            };
            let cycle = match &of_parent {
                Some((c, _)) => Some(c.clone()),
                None => ctx
                    .tx
                    .query_row(
                        "SELECT i.key FROM cycles c JOIN items i ON i.id = c.id WHERE i.retired_at IS NULL
                         ORDER BY CASE WHEN c.start_date <= ?1 AND c.end_date >= ?1 THEN 0 ELSE 1 END, c.start_date DESC LIMIT 1",
                        [ctx.clock.today.to_string()],
                        |r| r.get(0),
                    )
                    .optional()?,
            };
            if let Some(c) = cycle {
                d.push(("cycle", c));
            }
            let level = match of_parent.as_ref().and_then(|(_, l)| Level::parse(l)) {
                Some(Level::Company) => Level::Department,
                Some(Level::Department) => Level::Team,
                Some(_) => Level::Individual,
                None => Level::Company,
            };
            d.push(("level", level.as_str().to_string()));
        }
        _ => {}
    }
    Ok(d)
}

fn add(ctx: &mut Ctx, kind: ItemKind, typed: &Typed) -> Result<()> {
    let parent = match typed.parent {
        Some(raw) => {
            let pk = ItemKey::parse(raw).map_err(|e| StoreError::Invalid {
                key: format!("new {kind}"),
                field: "--parent".into(),
                why: e.to_string(),
            })?;
            let id = resolve(ctx.tx, &pk).ok();
            if let Some(id) = id {
                refuse_retired(ctx, &pk, id, "--parent")?;
            }
            Some((pk, id))
        }
        None => None,
    };
    may_add(ctx, kind, parent.as_ref().and_then(|(k, id)| id.map(|id| (k, id))))?;
    let number: i64 = ctx.tx.query_row("SELECT COALESCE(MAX(num), 0) + 1 FROM items WHERE kind = ?1", [kind.as_str()], |r| r.get(0))?;
    let key = ItemKey::new(kind, number as u32).to_string();
    let parent_objective = parent.as_ref().filter(|(k, _)| k.kind == ItemKind::Objective).and_then(|(_, id)| *id);
    let defaults = defaults(ctx, kind, parent_objective)?;
    let refuse = |why: String| StoreError::Import(format!("cannot add the {kind} {key}: {why}. Nothing was changed."));
    let plan = plan_fragment::build(kind, &key, typed, &defaults).map_err(refuse)?;
    let (section, _) = plan_fragment::section(kind);
    match import_as(ctx, &plan, Origin::Added) {
        Ok(()) => {}
        Err(StoreError::Import(lines)) => {
            let at = format!("{section}[0] ({key})");
            let why: Vec<String> = lines
                .lines()
                .map(|l| l.strip_prefix(&at).map(|r| r.trim_start_matches([':', ' '])).unwrap_or(l))
                .map(|l| l.replace(" in the plan or the file", " in this file"))
                .collect();
            return Err(refuse(why.join("; ")));
        }
        Err(e) => return Err(e),
    }
    let title = typed.title.map(|t| format!(" '{}'", t.trim())).unwrap_or_default();
    let under = typed.parent.map(|p| format!(" under {}", p.trim())).unwrap_or_default();
    ctx.effects.push(format!("added {kind} {key}{title}{under}"));
    ctx.created.push(key);
    Ok(())
}

/// The field that places an item of `kind` under a parent, and the kinds that parent may be.
fn placement(kind: ItemKind) -> Option<(&'static str, &'static [ItemKind], bool)> {
    // (field, parent kinds, may it have no parent)
    match kind {
        ItemKind::Objective => Some(("parent", &[ItemKind::Objective], true)),
        ItemKind::KeyResult => Some(("objective", &[ItemKind::Objective], false)),
        ItemKind::Measure => Some(("package", &[ItemKind::Package], true)),
        ItemKind::Person => Some(("unit", &[ItemKind::Unit], true)),
        ItemKind::Unit => Some(("parent", &[ItemKind::Unit], true)),
        ItemKind::Programme => Some(("parent", &[ItemKind::Portfolio], false)),
        ItemKind::Project => Some(("parent", &[ItemKind::Programme], false)),
        ItemKind::Package => Some(("parent", &[ItemKind::Project], false)),
        _ => None,
    }
}

fn move_item(ctx: &mut Ctx, key: &ItemKey, to: Option<&ItemKey>) -> Result<()> {
    let id = resolve(ctx.tx, key)?;
    let invalid = |why: String| StoreError::Invalid { key: key.to_string(), field: "move".into(), why };
    let Some((field, kinds, rootless)) = placement(key.kind) else {
        let why = match key.kind {
            ItemKind::Kpi => "a KPI is linked, not placed: `keel link K-n KR-m` (or an objective) says what it informs".to_string(),
            ItemKind::Portfolio => "a portfolio is the top of the execution hierarchy and has no parent".to_string(),
            k => format!("{} has no parent to move to", a(k)),
        };
        return Err(invalid(why));
    };
    let names = || kinds.iter().map(|k| format!("{} ({}-n)", a(*k), k.prefix())).collect::<Vec<_>>().join(" or ");
    refuse_retired(ctx, key, id, "move")?;
    let target = match to {
        Some(t) if !kinds.contains(&t.kind) => {
            return Err(invalid(format!("{} moves under {}, not under {}", a(key.kind), names(), a(t.kind))))
        }
        Some(t) => {
            let tid = resolve(ctx.tx, t)?;
            refuse_retired(ctx, t, tid, "--to")?;
            Some((t, tid))
        }
        None if !rootless => return Err(invalid(format!("{} must stay under {}: give --to", a(key.kind), names()))),
        None => None,
    };
    if key.kind == ItemKind::Objective {
        if let Some((t, tid)) = target {
            let cycles: (i64, i64) = ctx.tx.query_row(
                "SELECT (SELECT cycle_id FROM objectives WHERE id = ?1), (SELECT cycle_id FROM objectives WHERE id = ?2)",
                params![id, tid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if cycles.0 != cycles.1 {
                return Err(invalid(format!("{t} is in another cycle: an objective aligns within its own cycle")));
            }
        }
    }
    let value = target.map(|(t, _)| t.to_string()).unwrap_or_default();
    let logged = ctx.audit.len();
    if key.kind.node().is_some() || key.kind == ItemKind::Unit {
        move_by_parent_column(ctx, key, id, target.map(|(_, tid)| tid), &value)?;
    } else {
        // Everything else is a field the write path already knows how to change, with its rules
        // (loops and depth of the alignment tree, weights of both objectives, money of both packages).
        super::edit::set_field(ctx, key, field, &value, None)?;
    }
    if let (ItemKind::KeyResult, Some((_, objective))) = (key.kind, target) {
        // A key result's sponsor-tier escalation waits on its objective's owner: the new one now.
        ctx.tx.execute(
            "UPDATE escalations SET assignee_id = (SELECT owner_id FROM objectives WHERE id = ?1), version = version + 1
             WHERE item_id = ?2 AND state = 'open' AND assignee_role = 'sponsor'",
            params![objective, id],
        )?;
    }
    let shown = key.to_string();
    if let Some(e) = ctx.audit[logged..].iter().find(|e| e.item_key == shown) {
        let from = e.old_value.clone().unwrap_or_else(|| "no parent".into());
        let to = e.new_value.clone().unwrap_or_else(|| "no parent".into());
        ctx.effects.insert(0, format!("{key}: moved from {from} to {to}"));
    }
    Ok(())
}

/// Nodes and units keep their parent in a column `keel set` does not offer: moved here, with
/// the same permission and loop checks, and the value funnel rebuilt along both paths.
fn move_by_parent_column(ctx: &mut Ctx, key: &ItemKey, id: i64, to: Option<i64>, shown: &str) -> Result<()> {
    let table = if key.kind == ItemKind::Unit { "units" } else { "nodes" };
    if key.kind == ItemKind::Unit && !(ctx.trusted || ctx.actor.pmo_admin) {
        return Err(StoreError::Permission(format!("{key}: only a PMO administrator may move units (you are {})", ctx.actor.display())));
    }
    may_edit(ctx, key.kind, id, key)?;
    let old: Option<i64> = ctx.tx.query_row(&format!("SELECT parent_id FROM {table} WHERE id = ?1"), [id], |r| r.get(0))?;
    if old == to {
        return Ok(());
    }
    if let (ItemKind::Unit, Some(t)) = (key.kind, to) {
        let loops: bool = ctx.tx.query_row(
            "WITH RECURSIVE up(id, d) AS (SELECT CAST(?1 AS BIGINT), 0 UNION ALL SELECT u.parent_id, up.d + 1 FROM units u JOIN up ON u.id = up.id
                 WHERE u.parent_id IS NOT NULL AND up.d < 100000)
             SELECT EXISTS (SELECT 1 FROM up WHERE id = ?2)",
            params![t, id],
            |r| r.get(0),
        )?;
        if loops {
            return Err(StoreError::Invalid {
                key: key.to_string(),
                field: "move".into(),
                why: format!("{shown} is {key} or a unit under it: the unit tree would be a loop"),
            });
        }
    }
    ctx.tx.execute(&format!("UPDATE {table} SET parent_id = ?1, version = version + 1 WHERE id = ?2"), params![to, id])?;
    let old_key = old.map(|o| super::edit::key_of(ctx.tx, o)).transpose()?;
    ctx.log(&key.to_string(), "parent", old_key, (!shown.is_empty()).then(|| shown.to_string()));
    if table == "nodes" {
        // Every measure below now rolls up another path: the funnel is summed again.
        super::rules::rebuild_all(ctx)?;
    }
    Ok(())
}

impl super::Store {
    /// A person named by key (`P-3`) or by login (`ana`), as the commands accept them.
    pub fn person_key(&self, raw: &str) -> Result<Option<ItemKey>> {
        if let Ok(k) = ItemKey::parse(raw) {
            return Ok(Some(k));
        }
        let key: Option<String> =
            self.conn()
                .query_opt("SELECT i.key FROM people p JOIN items i ON i.id = p.id WHERE p.login = ?1", [raw.trim()], |r| r.get(0))?;
        Ok(key.and_then(|k| ItemKey::parse(&k).ok()))
    }
}
