//! Turns key presses into actions and actions into state changes and store calls. Every save
//! goes through `Store::edit`, the same write path as the CLI.

use super::action::Action;
use super::app::{App, EditTarget, Editor, Mode, Pane, Prompt};
use crate::domain::gates::GateAction;
use crate::domain::{ItemKey, ItemKind};
use crate::store::edit::EscalationAction;
use crate::store::fields;
use crate::store::outline::{Filter, TreeView};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

/// A confirmed action waiting for "y".
#[derive(Clone, Debug)]
pub enum Pending {
    Gate { key: ItemKey, action: GateAction, reason: Option<String> },
}

pub fn single_line(initial: &str, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![initial.to_string()]);
    t.set_placeholder_text(placeholder.to_string());
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

pub fn handle_key(app: &mut App, ev: KeyEvent) -> anyhow::Result<()> {
    if ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL) {
        app.quit = true;
        return Ok(());
    }
    let mode = std::mem::replace(&mut app.mode, Mode::Normal);
    app.mode = match mode {
        Mode::Normal => {
            app.message = None;
            if let Some(a) = app.keymap.action_for(&ev) {
                update(app, a)?;
            }
            return Ok(());
        }
        Mode::Edit(mut ed) => match ev.code {
            KeyCode::Esc => {
                app.say("edit cancelled; nothing was saved");
                Mode::Normal
            }
            KeyCode::Char('r') if ev.modifiers.contains(KeyModifiers::CONTROL) && ed.conflict => {
                app.reload()?;
                super::editor::refresh_editor_version(app, &mut ed);
                ed.conflict = false;
                ed.error = Some("reloaded: the pane shows the current value; Enter saves your text over it".into());
                Mode::Edit(ed)
            }
            KeyCode::Enter => return super::editor::save(app, ed),
            _ => {
                ed.input.input(ev);
                Mode::Edit(ed)
            }
        },
        Mode::FieldPicker { key, fields, mut cursor } => match ev.code {
            KeyCode::Esc => Mode::Normal,
            KeyCode::Up | KeyCode::Char('k') => {
                cursor = cursor.saturating_sub(1);
                Mode::FieldPicker { key, fields, cursor }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                cursor = (cursor + 1).min(fields.len().saturating_sub(1));
                Mode::FieldPicker { key, fields, cursor }
            }
            KeyCode::Enter => {
                let name = fields[cursor];
                super::editor::open_editor(app, &key, name)?;
                return Ok(());
            }
            _ => Mode::FieldPicker { key, fields, cursor },
        },
        Mode::Confirm { prompt, then } => match ev.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                super::editor::run_pending(app, then)?;
                return Ok(());
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                app.say("cancelled");
                Mode::Normal
            }
            _ => Mode::Confirm { prompt, then },
        },
        Mode::Weekly(w) => return super::weekly::handle_key(app, w, ev),
        Mode::Meeting(m) => return super::meeting::handle_key(app, m, ev),
        Mode::Prompt { purpose, mut input } => match ev.code {
            KeyCode::Esc => Mode::Normal,
            KeyCode::Enter => return super::triage::answer_prompt(app, purpose, input.lines().join(" ")),
            _ => {
                input.input(ev);
                Mode::Prompt { purpose, input }
            }
        },
        Mode::Notice { title, lines } => match ev.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Mode::Normal,
            _ => Mode::Notice { title, lines },
        },
        Mode::Search(mut input) => match ev.code {
            KeyCode::Esc => Mode::Normal,
            KeyCode::Enter => {
                app.run_search(input.lines().join(" "))?;
                Mode::Normal
            }
            _ => {
                input.input(ev);
                Mode::Search(input)
            }
        },
        Mode::Palette { mut input, mut cursor } => {
            let matches = palette_matches(&input.lines().join(""));
            match ev.code {
                KeyCode::Esc => Mode::Normal,
                KeyCode::Up => {
                    cursor = cursor.saturating_sub(1);
                    Mode::Palette { input, cursor }
                }
                KeyCode::Down => {
                    cursor = (cursor + 1).min(matches.len().saturating_sub(1));
                    Mode::Palette { input, cursor }
                }
                KeyCode::Tab => {
                    if let Some(a) = matches.get(cursor) {
                        input = single_line(a.name(), "");
                    }
                    Mode::Palette { input, cursor: 0 }
                }
                KeyCode::Enter => {
                    if let Some(a) = matches.get(cursor).copied() {
                        app.mode = Mode::Normal;
                        update(app, a)?;
                        return Ok(());
                    }
                    app.warn("no action by that name; Tab completes, ? lists the keys");
                    Mode::Normal
                }
                _ => {
                    input.input(ev);
                    Mode::Palette { input, cursor: 0 }
                }
            }
        }
        Mode::Help { mut scroll } => match ev.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => Mode::Normal,
            KeyCode::Down | KeyCode::Char('j') => {
                scroll = scroll.saturating_add(1).min(Action::ALL.len() as u16);
                Mode::Help { scroll }
            }
            KeyCode::Up | KeyCode::Char('k') => {
                scroll = scroll.saturating_sub(1);
                Mode::Help { scroll }
            }
            KeyCode::PageDown => Mode::Help { scroll: scroll.saturating_add(10).min(Action::ALL.len() as u16) },
            KeyCode::PageUp => Mode::Help { scroll: scroll.saturating_sub(10) },
            _ => Mode::Help { scroll },
        },
    };
    Ok(())
}

/// Actions whose name contains the typed text, in keymap order.
pub fn palette_matches(text: &str) -> Vec<Action> {
    let t = text.trim().to_ascii_lowercase();
    Action::ALL.iter().copied().filter(|a| t.is_empty() || a.name().contains(&t) || a.help().contains(&t)).collect()
}

fn move_cursor(pos: &mut usize, len: usize, delta: isize) {
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
                error: None,
                conflict: false,
                keep_if_empty: false,
                original: String::new(),
            }));
        }
        Action::Acknowledge => super::triage::triage(app, |_| Ok(EscalationAction::Acknowledge))?,
        Action::Mark => {
            if app.focus != Pane::Variance {
                app.warn("marking works in the variance list (3)");
            } else if let Some(e) = app.variance.list.get(app.variance.cursor) {
                let id = e.id;
                if !app.variance.marked.remove(&id) {
                    app.variance.marked.insert(id);
                }
                let len = app.variance.list.len();
                move_cursor(&mut app.variance.cursor, len, 1);
                app.say(format!(
                    "{} marked — K ack, o assign, z snooze, D decide, R resolve act on all of them",
                    app.variance.marked.len()
                ));
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
                app.mode = Mode::Prompt { purpose, input: single_line("", purpose.question()) };
            }
        }
        Action::StaleList => {
            let report = app.store.check()?;
            let lines: Vec<String> = report
                .stale
                .iter()
                .map(|s| {
                    format!(
                        "{:<6} {} — {} — last update {} ({} days; {})",
                        s.key,
                        s.title,
                        s.owner.clone().unwrap_or_else(|| "no owner".into()),
                        s.last_update.as_deref().map(|d| &d[..10.min(d.len())]).unwrap_or("never"),
                        s.days_since_update.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                        s.cadence
                    )
                })
                .collect();
            let title = format!("stale updates: {} items to chase", lines.len());
            app.mode = Mode::Notice { title, lines: if lines.is_empty() { vec!["everyone is up to date".into()] } else { lines } };
        }
        Action::WeeklyUpdate => {
            if let Some(why) = &app.read_only {
                app.warn(format!("read-only: {why}"));
            } else if !super::weekly::start(app)? {
                app.say("nothing is due: all your items are up to date for this period");
            }
        }
        Action::Meeting => {
            app.mode = Mode::Prompt { purpose: Prompt::MeetingAgenda, input: single_line("o", Prompt::MeetingAgenda.question()) }
        }
        Action::Undo => super::editor::undo(app)?,
        Action::Search => app.mode = Mode::Search(single_line("", "key or words of a title, Enter to search")),
        Action::SearchNext | Action::SearchPrev => {
            if app.search.hits.is_empty() {
                app.warn("no search yet: press / to search");
            } else {
                let n = app.search.hits.len();
                app.search.index = if action == Action::SearchNext { (app.search.index + 1) % n } else { (app.search.index + n - 1) % n };
                app.jump_to_search_hit()?;
            }
        }
        Action::Reload => {
            app.reload()?;
            app.say("reloaded");
        }
        Action::Help => app.mode = Mode::Help { scroll: 0 },
        Action::Palette => app.mode = Mode::Palette { input: single_line("", "type an action, Tab completes, Enter runs"), cursor: 0 },
        Action::Quit | Action::ForceQuit => app.quit = true,
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

pub fn detail_key(app: &mut App) -> Option<ItemKey> {
    let key = app.detail.target.clone();
    if key.is_none() {
        app.warn("select an item first");
    }
    key
}

fn measure_key(app: &mut App) -> Option<ItemKey> {
    let key = detail_key(app)?;
    if key.kind != ItemKind::Measure {
        app.warn(format!("{key} is not a measure: stage gates apply to measures"));
        return None;
    }
    Some(key)
}
