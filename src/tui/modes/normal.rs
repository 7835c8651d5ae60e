//! The main screen: tree, detail and variance panes. Every action of the `[keys]` section.

use super::super::action::Action;
use super::super::app::{App, EditTarget, Editor, Pane};
use super::super::update::{detail_key, single_line, Pending};
use super::{Mode, Prompt};
use crate::domain::gates::GateAction;
use crate::domain::{ItemKey, ItemKind};
use crate::store::edit::EscalationAction;
use crate::store::fields;
use crate::store::outline::{Filter, TreeView};

pub fn move_cursor(pos: &mut usize, len: usize, delta: isize) {
    if len == 0 {
        *pos = 0;
        return;
    }
    let next = (*pos as isize + delta).clamp(0, len as isize - 1);
    *pos = next as usize;
}

pub fn update(app: &mut App, action: Action) -> anyhow::Result<()> {
    let page = match app.focus {
        Pane::Variance => app.variance.height.max(1) as isize,
        _ => app.tree.height.max(1) as isize,
    };
    match action {
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            let delta = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -page,
                Action::PageDown => page,
                Action::Top => isize::MIN / 2,
                _ => isize::MAX / 2,
            };
            match app.focus {
                Pane::Tree => {
                    let len = app.tree.rows.len();
                    move_cursor(&mut app.tree.cursor, len, delta);
                    app.tree.step_off_heading(delta);
                    app.load_detail()?;
                }
                Pane::Variance => {
                    let len = app.variance.list.len();
                    move_cursor(&mut app.variance.cursor, len, delta);
                    app.load_detail()?;
                }
                Pane::Detail => {
                    let d = delta.clamp(-1000, 1000);
                    app.detail.scroll = (app.detail.scroll as isize + d).clamp(0, 1000) as u16;
                }
            }
        }
        Action::Expand | Action::Collapse | Action::Enter => match app.focus {
            Pane::Tree => tree_expand(app, action)?,
            Pane::Variance if action == Action::Enter => {
                if let Some(e) = app.variance.list.get(app.variance.cursor).cloned() {
                    let key = ItemKey::parse(&e.key)?;
                    app.reveal(&key)?;
                    app.focus = Pane::Tree;
                    app.variance.jumped = true;
                    app.load_detail()?;
                    app.say(format!("{}: {} — Esc goes back to the variance list", e.key, e.tier_label));
                }
            }
            Pane::Detail if action == Action::Enter => update(app, Action::EditField)?,
            _ => {}
        },
        Action::Back => {
            if app.variance.jumped {
                app.variance.jumped = false;
                app.focus = Pane::Variance;
                app.load_detail()?;
            } else if app.tree.filter.is_some() {
                app.toggle_filter(app.tree.filter.unwrap())?;
            } else if app.focus != Pane::Tree {
                app.focus = Pane::Tree;
                app.load_detail()?;
            }
        }
        Action::NextPane | Action::PrevPane => {
            let i = Pane::ORDER.iter().position(|p| *p == app.focus).unwrap_or(0);
            let n = if action == Action::NextPane { (i + 1) % 3 } else { (i + 2) % 3 };
            app.focus = Pane::ORDER[n];
            app.load_detail()?;
        }
        Action::TreePane | Action::DetailPane | Action::VariancePane => {
            app.focus = match action {
                Action::TreePane => Pane::Tree,
                Action::DetailPane => Pane::Detail,
                _ => Pane::Variance,
            };
            app.load_detail()?;
        }
        Action::ToggleView => {
            app.tree.view = if app.tree.view == TreeView::Objectives { TreeView::Execution } else { TreeView::Objectives };
            app.tree.filter = None;
            for root in app.store.outline_roots(app.tree.view)? {
                app.tree.expanded.insert(root.key);
            }
            app.tree.cursor = 0;
            app.tree.offset = 0;
            app.rebuild_rows()?;
            app.load_detail()?;
            app.say(match app.tree.view {
                TreeView::Objectives => "tree: objectives → key results → measures and KPIs",
                TreeView::Execution => "tree: portfolio → programme → project → package → measure",
            });
        }
        Action::FilterMine => app.toggle_filter(Filter::Mine)?,
        Action::FilterUnit => app.toggle_filter(Filter::MyUnit)?,
        Action::FilterStale => app.toggle_filter(Filter::Stale)?,
        Action::FilterEscalated => app.toggle_filter(Filter::Escalated)?,
        Action::FilterRetired => app.toggle_filter(Filter::Retired)?,
        Action::CycleTier => {
            use crate::domain::escalation::Tier;
            app.variance.filter.tier = match app.variance.filter.tier {
                None => Some(Tier::SteeringCommittee),
                Some(Tier::SteeringCommittee) => Some(Tier::SponsorAction),
                Some(Tier::SponsorAction) => Some(Tier::OwnerReview),
                Some(Tier::OwnerReview) => None,
            };
            app.variance.cursor = 0;
            app.variance.list.reset();
            app.reload()?;
            app.say(format!("variance list: {}", app.variance.filter.tier.map(|t| t.label()).unwrap_or("all tiers")));
        }
        Action::VarianceMine => {
            app.variance.filter.owner_login = match app.variance.filter.owner_login {
                Some(_) => None,
                None => Some(app.store.actor.login.clone()),
            };
            app.variance.cursor = 0;
            app.variance.list.reset();
            app.reload()?;
            app.say(if app.variance.filter.owner_login.is_some() {
                "variance list: only items I own"
            } else {
                "variance list: everyone's items"
            });
        }
        Action::EditActual => super::editor::start_value_edit(app, "actual")?,
        Action::EditForecast => super::editor::start_value_edit(app, "forecast")?,
        Action::EditNarrative => {
            if let Some(key) = detail_key(app) {
                match key.kind {
                    ItemKind::Measure => super::editor::open_editor(app, &key, "narrative")?,
                    ItemKind::Objective | ItemKind::KeyResult => super::editor::open_editor(app, &key, "status_explanation")?,
                    _ => super::editor::start_value_edit(app, "comment")?,
                }
            }
        }
        Action::EditField => {
            if let Some(key) = detail_key(app) {
                let mut names: Vec<&'static str> = fields::fields_of(key.kind).iter().map(|f| f.name).collect();
                if key.kind.has_values() {
                    names.splice(0..0, ["actual", "forecast", "planned", "comment"]);
                }
                app.mode = Mode::FieldPicker { key, fields: names, cursor: 0 };
            }
        }
        Action::ReadText => super::reader::open(app)?,
        Action::MarkAll => super::triage::mark_all(app)?,
        Action::VarianceFilter => {
            app.focus = Pane::Variance;
            let now = app.variance.filter.unit.clone().or(app.variance.filter.owner_login.clone()).unwrap_or_default();
            app.mode =
                Mode::Prompt { purpose: Prompt::VarianceFilter, input: single_line(&now, Prompt::VarianceFilter.hint()), error: None };
        }
        Action::GateRequest | Action::GateApprove => {
            let Some(key) = measure_key(app) else { return Ok(()) };
            let gate = app.detail_now()?.and_then(|d| d.gate.clone());
            let (verb, act) =
                if action == Action::GateRequest { ("Request", GateAction::Request) } else { ("Approve", GateAction::Approve) };
            let what = match (&gate, act) {
                (Some(g), GateAction::Request) => {
                    g.next.map(|n| format!("{} → {n}", g.stage)).unwrap_or_else(|| "closed: no next stage".into())
                }
                (Some(g), _) => g.pending.map(|p| format!("the pending move to {p}")).unwrap_or_else(|| "nothing pending".into()),
                _ => String::new(),
            };
            app.mode = Mode::Confirm {
                prompt: format!("{verb} gate for {key} ({what})? y/n"),
                then: Pending::Gate { key, action: act, reason: None },
            };
        }
        Action::GateBack | Action::GateHold => {
            let Some(key) = measure_key(app) else { return Ok(()) };
            let act = if action == Action::GateBack { GateAction::Back } else { GateAction::Hold };
            app.mode = Mode::Edit(Box::new(Editor {
                key,
                target: EditTarget::GateReason { action: act },
                input: single_line("", "why? (required, kept in the audit log)"),
                placeholder: "why? (required, kept in the audit log)".into(),
                note: None,
                error: None,
                conflict: false,
                keep_if_empty: false,
                original: String::new(),
            }));
        }
        Action::Acknowledge => {
            if let Some(why) = super::triage::triage(app, |_| Ok(EscalationAction::Acknowledge))? {
                // Nothing was typed: the same key tries again.
                app.warn(format!("{why} Press {} again.", app.keymap.first_key(Action::Acknowledge)));
            }
        }
        Action::Mark => {
            if app.focus != Pane::Variance {
                app.warn("marking works in the variance list (3)");
            } else if let Some(e) = app.variance.list.get(app.variance.cursor) {
                let (id, key) = (e.id, e.key.clone());
                if app.variance.marked.remove(&id) {
                    app.variance.marked_keys.remove(&id);
                } else {
                    app.variance.marked.insert(id);
                    app.variance.marked_keys.insert(id, key);
                }
                let len = app.variance.list.len();
                move_cursor(&mut app.variance.cursor, len, 1);
                let keys: Vec<String> = [Action::Acknowledge, Action::Assign, Action::Snooze, Action::Decide, Action::Resolve]
                    .iter()
                    .map(|a| format!("{} {}", app.keymap.first_key(*a), a.name()))
                    .collect();
                app.say(format!("{} marked — {} act on all of them", app.variance.marked.len(), keys.join(", ")));
            }
        }
        Action::Assign | Action::Snooze | Action::Decide | Action::Resolve => {
            if super::triage::triage_targets(app).is_empty() {
                app.warn("no escalation selected: focus the variance list (3)");
            } else {
                let purpose = match action {
                    Action::Assign => Prompt::Assign,
                    Action::Snooze => Prompt::Snooze,
                    Action::Decide => Prompt::Decide,
                    _ => Prompt::Resolve,
                };
                app.mode = Mode::Prompt { purpose, input: single_line("", purpose.hint()), error: None };
            }
        }
        Action::StaleList => super::stale::open(app)?,
        Action::WeeklyUpdate => {
            if let Some(why) = &app.read_only {
                app.warn(format!("read-only: {why}"));
            } else if !super::weekly::start(app)? {
                app.say("nothing is due: all your items are up to date for this period");
            }
        }
        Action::Meeting => match app.paused_meeting.take() {
            // A meeting left to look at an item in the tree comes back where it was.
            Some(m) => super::meeting::resume(app, m)?,
            None => {
                app.mode =
                    Mode::Prompt { purpose: Prompt::MeetingAgenda, input: single_line("o", Prompt::MeetingAgenda.hint()), error: None }
            }
        },
        Action::Undo => super::editor::undo(app)?,
        Action::AddItem => super::upkeep::open(app, Prompt::AddItem),
        Action::MoveItem => super::upkeep::open(app, Prompt::MoveItem),
        Action::RetireItem => super::upkeep::open(app, Prompt::RetireItem),
        Action::Search => app.mode = Mode::Prompt { purpose: Prompt::Search, input: single_line("", Prompt::Search.hint()), error: None },
        Action::SearchNext | Action::SearchPrev => {
            if app.search.hits.is_empty() {
                app.warn("no search yet: press / to search");
            } else {
                let n = app.search.hits.len();
                app.search.index = if action == Action::SearchNext { (app.search.index + 1) % n } else { (app.search.index + n - 1) % n };
                app.jump_to_search_hit()?;
            }
        }
        Action::Reload => match app.store.file_replaced() {
            // Reloading a file that is no longer there would read the old one: offer the new.
            Some(why) => app.offer_reopen(&why),
            None => {
                app.reload()?;
                app.say("reloaded");
            }
        },
        Action::Help => app.mode = Mode::Help { scroll: 0, back: Box::new(Mode::Normal) },
        Action::Palette => app.mode = Mode::Palette { input: single_line("", "type an action, Tab completes, Enter runs"), cursor: 0 },
        Action::Quit | Action::ForceQuit => app.quit = true,
        // Handled by the event loop (the terminal itself); nothing to change in the model.
        Action::Suspend | Action::Redraw => {}
        // Actions of the other modes do nothing on the main screen.
        _ => {}
    }
    Ok(())
}

fn tree_expand(app: &mut App, action: Action) -> anyhow::Result<()> {
    let Some(row) = app.tree.rows.get(app.tree.cursor) else { return Ok(()) };
    let (depth, expanded) = (row.depth, row.expanded());
    let Some(item) = row.outline().cloned() else { return Ok(()) };
    match action {
        Action::Collapse => {
            if expanded {
                app.tree.expanded.remove(&item.key);
                app.rebuild_rows()?;
            } else if depth > 0 {
                // Go to the parent row.
                if let Some(i) = app.tree.rows[..app.tree.cursor].iter().rposition(|r| r.depth < depth && !r.is_heading()) {
                    app.tree.cursor = i;
                    app.load_detail()?;
                }
            }
        }
        Action::Expand if item.has_children && !expanded => {
            app.tree.expanded.insert(item.key.clone());
            app.rebuild_rows()?;
        }
        Action::Enter if item.has_children => {
            if expanded {
                app.tree.expanded.remove(&item.key);
            } else {
                app.tree.expanded.insert(item.key.clone());
            }
            app.rebuild_rows()?;
        }
        Action::Enter => {
            app.focus = Pane::Detail;
        }
        _ => {}
    }
    Ok(())
}

fn measure_key(app: &mut App) -> Option<ItemKey> {
    let key = detail_key(app)?;
    if key.kind != ItemKind::Measure {
        app.warn(format!("{key} is not a measure: stage gates apply to measures"));
        return None;
    }
    Some(key)
}
