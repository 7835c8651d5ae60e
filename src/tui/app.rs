//! The model: what is on screen and the caches the view draws from. Loading happens here, on
//! selection or data change. While drawing, the view only asks the model for what its visible
//! rows need (`warm_statuses`, `cover_variance`): bounded by the pane's height, and whatever is
//! large goes to the background readers.

use super::background::{Background, Got, Reply, Want};
use super::keymap::Keymap;
use super::theme::Theme;
use super::variance_list::VarianceList;
use crate::domain::ItemKey;
use crate::store::outline::{Filter, OutlineItem, TreeView};
use crate::store::read::{Detail, EscalationFilter, ItemStatus};
use crate::store::Store;
use ratatui_textarea::TextArea;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Tree,
    Detail,
    Variance,
}

impl Pane {
    pub const ORDER: [Pane; 3] = [Pane::Tree, Pane::Detail, Pane::Variance];
}

/// One visible row of the tree.
#[derive(Clone, Debug)]
pub struct Row {
    pub depth: usize,
    pub item: OutlineItem,
    pub expanded: bool,
    /// A group label row (e.g. "input KPIs") has no item behind it.
    pub label: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditTarget {
    /// A per-period number or the comment.
    Value { field: &'static str, period: String, version: i64 },
    /// A field of the item.
    Field { name: &'static str, version: i64 },
    /// A gate move that needs a reason.
    GateReason { action: crate::domain::gates::GateAction },
}

pub struct Editor {
    pub key: ItemKey,
    pub target: EditTarget,
    pub input: TextArea<'static>,
    pub error: Option<String>,
    /// Set when the save failed because someone else changed the row.
    pub conflict: bool,
    /// The value before the edit, for undo.
    pub original: String,
    /// Enter on an empty number keeps the current value instead of clearing it.
    pub keep_if_empty: bool,
}

impl Editor {
    pub fn text(&self) -> String {
        self.input.lines().join("\n")
    }
    pub fn label(&self) -> String {
        match &self.target {
            EditTarget::Value { field, period, .. } => format!("{} {field} for {period}", self.key),
            EditTarget::Field { name, .. } => format!("{} {name}", self.key),
            EditTarget::GateReason { action } => format!("{} gate {}: reason", self.key, action.as_str()),
        }
    }
}

pub enum Mode {
    Normal,
    Edit(Box<Editor>),
    /// Choosing which field to edit.
    FieldPicker {
        key: ItemKey,
        fields: Vec<&'static str>,
        cursor: usize,
    },
    Confirm {
        prompt: String,
        then: super::update::Pending,
    },
    Search(TextArea<'static>),
    Palette {
        input: TextArea<'static>,
        cursor: usize,
    },
    /// A one-line question, e.g. whom to assign the marked escalations to.
    Prompt {
        purpose: Prompt,
        input: TextArea<'static>,
    },
    Weekly(Box<super::weekly::Weekly>),
    Meeting(Box<super::meeting::Meeting>),
    /// A list to read, e.g. what a refused gate still needs.
    Notice {
        title: String,
        lines: Vec<String>,
    },
    Help {
        scroll: u16,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    Assign,
    Snooze,
    Decide,
    Resolve,
    MeetingAgenda,
}

impl Prompt {
    pub fn question(self) -> &'static str {
        match self {
            Prompt::Assign => "assign to whom? (P-n)",
            Prompt::Snooze => "snooze until (YYYY-MM-DD) and why, e.g. 2026-12-04 waiting for the vendor fix",
            Prompt::Decide => "what was decided?",
            Prompt::Resolve => "how was it resolved?",
            Prompt::MeetingAgenda => "agenda: o = objectives in order, e = only escalated, or a unit key (U-n)",
        }
    }
}

/// The inverse of one of my own edits in this session.
#[derive(Clone, Debug)]
pub struct Undo {
    pub label: String,
    pub change: crate::store::Change,
}

pub struct App {
    pub store: Store,
    pub keymap: Keymap,
    pub theme: Theme,
    pub focus: Pane,
    pub view: TreeView,
    pub filter: Option<Filter>,
    pub mode: Mode,
    pub rows: Vec<Row>,
    pub tree_cursor: usize,
    pub tree_offset: usize,
    pub expanded: HashSet<String>,
    pub detail: Option<Detail>,
    pub detail_scroll: u16,
    pub variance: VarianceList,
    pub variance_cursor: usize,
    pub variance_filter: EscalationFilter,
    pub statuses: HashMap<String, ItemStatus>,
    pub message: Option<(String, bool)>,
    pub search_hits: Vec<String>,
    pub search_index: usize,
    pub last_data_version: i64,
    pub last_change_counter: i64,
    pub read_only: Option<String>,
    /// A stored setting that is bad, shown on the message line until someone fixes it.
    pub settings_error: Option<String>,
    pub quit: bool,
    /// Rows that fit in the tree pane at the last draw (for paging).
    pub tree_height: usize,
    pub variance_height: usize,
    /// Escalations marked in the variance list, to act on several at once.
    pub marked: std::collections::BTreeSet<i64>,
    pub undo: Vec<Undo>,
    /// Set when Enter in the variance list jumped to an item, so Esc can go back.
    pub jumped_from_variance: bool,
    /// The item the detail pane is for; `detail` catches up with it when read in the background.
    pub detail_target: Option<ItemKey>,
    /// The readers computing statuses, details and the variance list off the keystroke path
    /// (none: computed on the spot, as tests and small tools want).
    pub background: Option<Background>,
    /// Bumped whenever what was read may be out of date; older answers are ignored.
    pub generation: u64,
    detail_generation: u64,
    /// Statuses asked of the readers in this generation, and those they could not work out.
    requested: HashSet<String>,
    failed: HashSet<String>,
    /// The detail the readers could not read, and why (shown in the pane instead of "reading…").
    pub detail_error: Option<(ItemKey, String)>,
    /// The tree filter's items are being read; say how many when they come.
    pub filter_loading: bool,
    announce_filter: bool,
    /// The search a reader is running, if any (its hits replace the last search's).
    pub searching: Option<String>,
}

impl App {
    /// An app that reads everything on the spot: statuses and details are complete as soon as
    /// an update returns (tests, snapshots).
    pub fn new(store: Store, keymap: Keymap, theme: Theme) -> anyhow::Result<App> {
        App::build(store, keymap, theme, 0)
    }

    /// An app with `readers` background readers: keystrokes never wait for a large subtree.
    pub fn with_readers(store: Store, keymap: Keymap, theme: Theme, readers: usize) -> anyhow::Result<App> {
        App::build(store, keymap, theme, readers)
    }

    fn build(store: Store, keymap: Keymap, theme: Theme, readers: usize) -> anyhow::Result<App> {
        // Without readers (they could not open the file) the app still works, reading on the spot.
        let background = if readers > 0 { Background::start(&store, readers).ok() } else { None };
        let read_only = store.read_only_reason();
        let mut app = App {
            store,
            keymap,
            theme,
            focus: Pane::Tree,
            view: TreeView::Objectives,
            filter: None,
            mode: Mode::Normal,
            rows: Vec::new(),
            tree_cursor: 0,
            tree_offset: 0,
            expanded: HashSet::new(),
            detail: None,
            detail_scroll: 0,
            variance: VarianceList::default(),
            variance_cursor: 0,
            variance_filter: EscalationFilter::default(),
            statuses: HashMap::new(),
            message: None,
            search_hits: Vec::new(),
            search_index: 0,
            last_data_version: 0,
            last_change_counter: 0,
            read_only,
            settings_error: None,
            quit: false,
            tree_height: 20,
            variance_height: 8,
            marked: Default::default(),
            undo: Vec::new(),
            jumped_from_variance: false,
            detail_target: None,
            background,
            generation: 0,
            detail_generation: 0,
            requested: HashSet::new(),
            failed: HashSet::new(),
            detail_error: None,
            filter_loading: false,
            announce_filter: false,
            searching: None,
        };
        // Open the top level so the first screen shows the company objectives and their key results.
        for root in app.store.outline_roots(app.view)? {
            app.expanded.insert(root.key);
        }
        app.reload()?;
        Ok(app)
    }

    pub fn selected_key(&self) -> Option<ItemKey> {
        self.rows.get(self.tree_cursor).filter(|r| r.label.is_none()).and_then(|r| ItemKey::parse(&r.item.key).ok())
    }

    /// Rebuild every cache from the file, keeping the cursor on the same item.
    pub fn reload(&mut self) -> anyhow::Result<()> {
        // Noted first: a commit made while reading below is then noticed by the next check.
        self.last_data_version = self.store.data_version()?;
        self.last_change_counter = self.store.change_counter()?;
        let keep = self.rows.get(self.tree_cursor).map(|r| r.item.key.clone());
        self.forget_statuses();
        self.rebuild_rows()?;
        if let Some(k) = keep {
            if let Some(i) = self.rows.iter().position(|r| r.item.key == k && r.label.is_none()) {
                self.tree_cursor = i;
            }
        }
        self.tree_cursor = self.tree_cursor.min(self.rows.len().saturating_sub(1));
        self.load_variance()?;
        self.load_detail()?;
        self.read_only = self.store.read_only_reason();
        self.settings_error = settings_error(&self.store)?;
        Ok(())
    }

    /// The tree's rows from the file. A filter's items are read by a reader when there is one:
    /// the rows shown stay until they come (a new filter starts from none).
    pub fn rebuild_rows(&mut self) -> anyhow::Result<()> {
        let mut rows = Vec::new();
        if let (Some(f), Some(bg)) = (self.filter, self.background.as_mut()) {
            self.filter_loading = true;
            bg.ask(self.generation, "filter", vec![Want::Filter(f)]);
            return Ok(());
        }
        self.filter_loading = false;
        if let Some(f) = self.filter {
            for item in self.store.outline_filtered(f)? {
                rows.push(Row { depth: 0, item, expanded: false, label: None });
            }
        } else {
            let roots = self.store.outline_roots(self.view)?;
            for item in roots {
                self.push_row(&mut rows, item, 0)?;
            }
        }
        self.rows = rows;
        Ok(())
    }

    /// A row and, when it is expanded, the rows under it, depth first with an explicit stack (an
    /// expanded chain of any depth cannot overflow the stack).
    fn push_row(&mut self, rows: &mut Vec<Row>, item: OutlineItem, depth: usize) -> anyhow::Result<()> {
        let mut stack = vec![(item, depth)];
        while let Some((mut item, depth)) = stack.pop() {
            if item.key.is_empty() {
                let label = std::mem::take(&mut item.title);
                rows.push(Row { depth, item, expanded: false, label: Some(label) });
                continue;
            }
            let expanded = item.has_children && self.expanded.contains(&item.key);
            let key = item.key.clone();
            rows.push(Row { depth, item, expanded, label: None });
            if !expanded {
                continue;
            }
            let children = self.store.outline_children(&ItemKey::parse(&key)?)?;
            // KPIs appear grouped input → process → outcome under a small label: a label travels on
            // the stack as an item with no key, its text in the title.
            let mut group = None;
            let mut under = Vec::with_capacity(children.len());
            for child in children {
                if child.ipo.is_some() && child.ipo != group {
                    group = child.ipo;
                    let label = format!("{} KPIs", child.ipo.map(|c| c.as_str()).unwrap_or(""));
                    under.push((OutlineItem { key: String::new(), title: label, has_children: false, ipo: None }, depth + 1));
                }
                under.push((child, depth + 1));
            }
            stack.extend(under.into_iter().rev());
        }
        Ok(())
    }

    /// The status of a row, computed once per reload and only for rows that are drawn.
    pub fn status_of(&mut self, key: &str) -> Option<ItemStatus> {
        if let Some(s) = self.statuses.get(key) {
            return Some(s.clone());
        }
        let k = ItemKey::parse(key).ok()?;
        let s = self.store.row_status(&k).ok()?;
        self.statuses.insert(key.to_string(), s.clone());
        Some(s)
    }

    /// Forget every status shown (the file or the rows changed): they are read again when drawn.
    pub fn forget_statuses(&mut self) {
        self.statuses.clear();
        self.requested.clear();
        self.failed.clear();
        self.detail_error = None;
        self.generation += 1;
    }

    /// Statuses for the rows about to be drawn (so the view itself never touches the store). With
    /// readers, the missing ones are asked for and arrive through [`App::pump`].
    pub fn warm_statuses(&mut self, first: usize, count: usize) {
        if self.background.is_none() {
            let keys: Vec<String> =
                self.rows.iter().skip(first).take(count).filter(|r| r.label.is_none()).map(|r| r.item.key.clone()).collect();
            for k in keys {
                self.status_of(&k);
            }
            return;
        }
        // Grouped by the root of each row's subtree, so one reader computes a subtree once.
        let mut by_root: Vec<(String, Vec<Want>)> = Vec::new();
        for i in first..(first + count).min(self.rows.len()) {
            let row = &self.rows[i];
            if row.label.is_some() || self.statuses.contains_key(&row.item.key) || self.requested.contains(&row.item.key) {
                continue;
            }
            let Ok(key) = ItemKey::parse(&row.item.key) else { continue };
            self.requested.insert(row.item.key.clone());
            let root = self.root_of(i);
            match by_root.iter_mut().find(|(r, _)| *r == root) {
                Some((_, wants)) => wants.push(Want::Status(key)),
                None => by_root.push((root, vec![Want::Status(key)])),
            }
        }
        if let Some(bg) = self.background.as_mut() {
            for (root, wants) in by_root {
                bg.ask(self.generation, &root, wants);
            }
        }
    }

    /// Has this row's status been asked for and not arrived yet?
    pub fn status_pending(&self, key: &str) -> bool {
        self.requested.contains(key) && !self.statuses.contains_key(key) && !self.failed.contains(key)
    }

    /// The key of the top-level row above row `i` (itself at the top level).
    fn root_of(&self, i: usize) -> String {
        let mut j = i.min(self.rows.len().saturating_sub(1));
        while j > 0 && self.rows[j].depth > 0 {
            j -= 1;
        }
        self.rows.get(j).map(|r| r.item.key.clone()).unwrap_or_default()
    }

    /// Point the detail pane at the selected item (in the focused pane) and read it — on the spot,
    /// or by a reader, showing the previous item until it arrives.
    pub fn load_detail(&mut self) -> anyhow::Result<()> {
        let from_tree = self.focus != Pane::Variance;
        if !from_tree {
            self.cover_variance()?;
        }
        let key = match self.focus {
            Pane::Variance => self.variance.get(self.variance_cursor).and_then(|e| ItemKey::parse(&e.key).ok()),
            _ => self.selected_key(),
        }
        .or_else(|| self.selected_key());
        let Some(key) = key else {
            self.detail_target = None;
            self.detail = None;
            self.detail_scroll = 0;
            return Ok(());
        };
        if self.detail_target.as_ref() != Some(&key) {
            self.detail_scroll = 0;
        }
        self.detail_target = Some(key.clone());
        if self.detail_is_current(&key) {
            return Ok(());
        }
        if self.background.is_none() {
            return self.show_detail(key);
        }
        if self.detail_error.as_ref().is_some_and(|(failed, _)| *failed == key) {
            self.detail_error = None;
        }
        let route = if from_tree { self.root_of(self.tree_cursor) } else { key.to_string() };
        let generation = self.generation;
        if let Some(bg) = self.background.as_mut() {
            bg.ask(generation, &route, vec![Want::Detail(key)]);
        }
        Ok(())
    }

    /// Read `key`'s detail now, on this thread, and show it.
    pub fn show_detail(&mut self, key: ItemKey) -> anyhow::Result<()> {
        let d = self.store.detail(&key)?;
        if self.detail_target.as_ref() != Some(&key) {
            self.detail_scroll = 0;
        }
        self.detail_target = Some(key);
        self.detail = Some(d);
        self.detail_generation = self.generation;
        Ok(())
    }

    /// The detail of the targeted item, read now if the reader has not delivered it yet (for
    /// actions that need its facts, such as the gate prompt).
    pub fn detail_now(&mut self) -> anyhow::Result<Option<&Detail>> {
        let Some(key) = self.detail_target.clone() else { return Ok(None) };
        if !self.detail_is_current(&key) {
            self.show_detail(key)?;
        }
        Ok(self.detail.as_ref())
    }

    /// Is `key`'s detail shown, read since the file last changed?
    fn detail_is_current(&self, key: &ItemKey) -> bool {
        self.detail.as_ref().is_some_and(|d| d.key == key.to_string()) && self.detail_generation == self.generation
    }

    /// Is the detail pane waiting for another item's detail?
    pub fn detail_pending(&self) -> Option<&ItemKey> {
        self.detail_target
            .as_ref()
            .filter(|k| self.detail.as_ref().is_none_or(|d| d.key != k.to_string()))
            .filter(|k| self.detail_error.as_ref().is_none_or(|(failed, _)| failed != *k))
    }

    /// Read the variance list again with the current filter, keeping the cursor on its escalation.
    /// A page read by keyset: cheap enough for the keystroke path at any size.
    pub fn load_variance(&mut self) -> anyhow::Result<()> {
        self.variance.reload(&self.store, &self.variance_filter, &mut self.variance_cursor)?;
        self.cover_variance()
    }

    /// Read the variance rows the pane shows (the cursor is its last row once it has moved
    /// past the first screenful).
    pub fn cover_variance(&mut self) -> anyhow::Result<()> {
        let height = self.variance_height.max(1);
        let offset = self.variance_cursor.saturating_sub(height - 1);
        self.variance.cover(&self.store, &self.variance_filter, offset, height)?;
        // Reading may have found the list shorter than counted (it changed since).
        self.variance_cursor = self.variance_cursor.min(self.variance.len().saturating_sub(1));
        Ok(())
    }

    /// Turn tree filter `f` on or off. With readers, its items come later (see [`App::set_filtered`]).
    pub fn toggle_filter(&mut self, f: Filter) -> anyhow::Result<()> {
        self.filter = if self.filter == Some(f) { None } else { Some(f) };
        self.tree_cursor = 0;
        self.tree_offset = 0;
        self.forget_statuses();
        if self.filter.is_some() && self.background.is_some() {
            self.rows.clear();
            self.announce_filter = true;
        }
        self.rebuild_rows()?;
        self.load_detail()?;
        match self.filter {
            Some(f) if self.filter_loading => self.say(format!("tree filter: {} — reading…", f.label())),
            Some(f) => self.say(format!("tree filter: {} ({} items) — Esc clears", f.label(), self.rows.len())),
            None => self.say("tree filter cleared"),
        }
        Ok(())
    }

    /// A filter's items have come: show them, keeping the cursor on the same item.
    fn set_filtered(&mut self, f: Filter, items: Vec<OutlineItem>) {
        let keep = self.rows.get(self.tree_cursor).map(|r| r.item.key.clone());
        self.rows = items.into_iter().map(|item| Row { depth: 0, item, expanded: false, label: None }).collect();
        self.filter_loading = false;
        if let Some(i) = keep.and_then(|k| self.rows.iter().position(|r| r.item.key == k)) {
            self.tree_cursor = i;
        }
        self.tree_cursor = self.tree_cursor.min(self.rows.len().saturating_sub(1));
        if let Err(e) = self.load_detail() {
            self.warn(format!("{e:#}"));
        }
        if std::mem::take(&mut self.announce_filter) {
            self.say(format!("tree filter: {} ({} items) — Esc clears", f.label(), self.rows.len()));
        }
    }

    /// Search keys and titles for `text` (every title in the file: a reader does it when there is one).
    pub fn search(&mut self, text: String) -> anyhow::Result<()> {
        if self.background.is_none() {
            let hits = self.store.search(&text, super::background::SEARCH_HITS)?.into_iter().map(|i| i.key).collect();
            return self.show_search_hits(&text, hits);
        }
        self.say(format!("searching for '{text}'…"));
        self.searching = Some(text.clone());
        let generation = self.generation;
        if let Some(bg) = self.background.as_mut() {
            bg.ask(generation, "search", vec![Want::Search(text)]);
        }
        Ok(())
    }

    fn show_search_hits(&mut self, text: &str, hits: Vec<String>) -> anyhow::Result<()> {
        self.search_hits = hits;
        self.search_index = 0;
        if self.search_hits.is_empty() {
            self.warn(format!("no item matches '{text}'"));
            Ok(())
        } else {
            self.jump_to_search_hit()
        }
    }

    /// Select the current search hit: in the tree when it has a place there, else in the detail.
    pub fn jump_to_search_hit(&mut self) -> anyhow::Result<()> {
        let Some(hit) = self.search_hits.get(self.search_index).cloned() else { return Ok(()) };
        let key = ItemKey::parse(&hit)?;
        let shown = self.reveal(&key)?;
        self.focus = Pane::Tree;
        self.load_detail()?;
        if !shown {
            self.show_detail(key)?;
        }
        self.say(format!("match {} of {}: {hit}", self.search_index + 1, self.search_hits.len()));
        Ok(())
    }

    /// Take what the readers have delivered. True when the screen should be drawn again.
    pub fn pump(&mut self) -> bool {
        let Some(bg) = self.background.as_mut() else { return false };
        let replies = bg.ready();
        self.apply(replies)
    }

    /// Wait until every question asked of the readers is answered, drawing nothing (benchmarks
    /// and tests; the event loop never waits). Gives up after `limit`.
    pub fn settle(&mut self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let mut changed = false;
        while let Some(bg) = self.background.as_mut() {
            if bg.outstanding == 0 {
                break;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let replies = bg.wait(left);
            changed |= self.apply(replies);
        }
        changed
    }

    /// Are answers still to come?
    pub fn waiting(&self) -> bool {
        self.background.as_ref().is_some_and(|bg| bg.outstanding > 0)
    }

    fn apply(&mut self, replies: Vec<Reply>) -> bool {
        let mut changed = false;
        for Reply { generation, got } in replies {
            // Search hits are keys: still worth showing after the file changed.
            if let Got::Search(text, hits) = got {
                if self.searching.as_ref() == Some(&text) {
                    self.searching = None;
                    changed = true;
                    match hits {
                        // Hits that come while an editor or a prompt is open do not move the
                        // screen under it: `n` goes to the first.
                        Ok(hits) if !matches!(self.mode, Mode::Normal) && !hits.is_empty() => {
                            self.search_index = hits.len() - 1;
                            self.say(format!("{} matches for '{text}' — n goes to the first", hits.len()));
                            self.search_hits = hits;
                        }
                        Ok(hits) => {
                            if let Err(e) = self.show_search_hits(&text, hits) {
                                self.warn(format!("{e:#}"));
                            }
                        }
                        Err(e) => self.warn(format!("search: {e}")),
                    }
                }
                continue;
            }
            if generation != self.generation || matches!(got, Got::Skipped) {
                continue;
            }
            changed = true;
            match got {
                Got::Status(key, Ok(s)) => {
                    self.statuses.insert(key.to_string(), s);
                }
                // Not asked again until the file changes; the row says it has no status.
                Got::Status(key, Err(e)) => {
                    self.failed.insert(key.to_string());
                    self.warn(format!("status of {key}: {e}"));
                }
                Got::Detail(key, Ok(d)) => {
                    if self.detail_target.as_ref() == Some(&key) {
                        self.detail = Some(*d);
                        self.detail_generation = generation;
                        self.detail_error = None;
                    }
                }
                Got::Detail(key, Err(e)) => {
                    if self.detail_target.as_ref() == Some(&key) {
                        self.warn(format!("{key}: {e}"));
                        self.detail_error = Some((key, e));
                    }
                }
                Got::Filter(f, Ok(items)) if self.filter == Some(f) => self.set_filtered(f, items),
                Got::Filter(f, Err(e)) if self.filter == Some(f) => {
                    self.filter_loading = false;
                    self.warn(format!("tree filter {}: {e}", f.label()));
                }
                Got::Filter(..) | Got::Search(..) | Got::Skipped => {}
            }
        }
        changed
    }

    /// The message line when nothing else is said: a bad stored setting stays in view.
    pub fn standing_message(&self) -> Option<(&str, bool)> {
        match (&self.message, &self.settings_error) {
            (Some((text, warn)), _) => Some((text.as_str(), *warn)),
            (None, Some(e)) => Some((e.as_str(), true)),
            (None, None) => None,
        }
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), false));
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), true));
    }

    /// Has another process committed since we last looked? Cheap: one pragma.
    pub fn changed_elsewhere(&self) -> bool {
        self.store.data_version().map(|v| v != self.last_data_version).unwrap_or(false)
    }

    /// Make `key` visible in the tree and select it.
    pub fn reveal(&mut self, key: &ItemKey) -> anyhow::Result<bool> {
        if self.filter.is_some() {
            if let Some(i) = self.rows.iter().position(|r| r.item.key == key.to_string()) {
                self.tree_cursor = i;
                return Ok(true);
            }
            self.filter = None;
        }
        let view = match key.kind {
            crate::domain::ItemKind::Measure if self.view == TreeView::Execution => TreeView::Execution,
            k if k.node().is_some() => TreeView::Execution,
            _ => TreeView::Objectives,
        };
        let mut path = self.store.outline_path(key, view)?;
        if path.is_empty() && key.kind == crate::domain::ItemKind::Measure {
            self.view = TreeView::Execution;
            path = self.store.outline_path(key, TreeView::Execution)?;
        } else {
            self.view = view;
        }
        for p in path {
            self.expanded.insert(p);
        }
        self.rebuild_rows()?;
        match self.rows.iter().position(|r| r.item.key == key.to_string() && r.label.is_none()) {
            Some(i) => {
                self.tree_cursor = i;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// "ERROR setting …" for the first bad stored setting (and how many more), or none.
fn settings_error(store: &Store) -> anyhow::Result<Option<String>> {
    let (_, problems) = store.settings()?;
    Ok(problems.first().map(|p| {
        let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
        format!("ERROR {p}{more}: the default is used; fix it with `keel settings {} VALUE`", p.name)
    }))
}
