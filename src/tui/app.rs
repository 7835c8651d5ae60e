//! The model: what is on screen and the caches the view draws from. Loading happens here, on
//! selection or data change. While drawing, the view only asks the model for what its visible
//! rows need (`warm_statuses`, `cover_variance`): bounded by the pane's height, and whatever is
//! large goes to the background readers.

use super::background::{Background, Want};
use super::keymap::Keymap;
pub use super::modes::editor::{EditTarget, Editor};
pub use super::modes::{Mode, Prompt};
use super::theme::Theme;
use super::variance_list::VarianceList;
use crate::domain::ItemKey;
use crate::store::outline::{Filter, OutlineItem, TreeView};
use crate::store::read::{Detail, EscalationFilter, ItemStatus};
use crate::store::Store;
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

/// What a row of the tree is: an item, or a heading over a group (e.g. "input KPIs") that has
/// no item behind it and is never selected.
#[derive(Clone, Debug)]
pub enum RowKind {
    Item { item: OutlineItem, expanded: bool },
    Heading(String),
}

/// One visible row of the tree.
#[derive(Clone, Debug)]
pub struct Row {
    pub depth: usize,
    pub kind: RowKind,
}

impl Row {
    pub fn item(depth: usize, item: OutlineItem, expanded: bool) -> Row {
        Row { depth, kind: RowKind::Item { item, expanded } }
    }
    /// The item behind the row (none for a heading).
    pub fn outline(&self) -> Option<&OutlineItem> {
        match &self.kind {
            RowKind::Item { item, .. } => Some(item),
            RowKind::Heading(_) => None,
        }
    }
    pub fn key(&self) -> Option<&str> {
        self.outline().map(|i| i.key.as_str())
    }
    pub fn is_heading(&self) -> bool {
        matches!(self.kind, RowKind::Heading(_))
    }
    pub fn expanded(&self) -> bool {
        matches!(self.kind, RowKind::Item { expanded: true, .. })
    }
}

/// The inverse of one of my own edits or triage actions in this session.
#[derive(Clone, Debug)]
pub struct Undo {
    pub label: String,
    pub changes: Vec<crate::store::Change>,
}

/// The tree pane: which hierarchy, which filter, the visible rows and their statuses.
pub struct TreeState {
    pub view: TreeView,
    pub filter: Option<Filter>,
    pub rows: Vec<Row>,
    pub cursor: usize,
    pub offset: usize,
    pub expanded: HashSet<String>,
    /// Rows that fit in the pane at the last frame (for paging).
    pub height: usize,
    pub statuses: HashMap<String, ItemStatus>,
    /// Statuses asked of the readers in this generation, and those they could not work out.
    pub requested: HashSet<String>,
    pub failed: HashSet<String>,
    /// The filter's items are being read; say how many when they come.
    pub filter_loading: bool,
    pub announce_filter: bool,
}

impl TreeState {
    /// Headings are never selected: a cursor that lands on one moves on in the direction it went
    /// (a heading always has an item row below it).
    pub fn step_off_heading(&mut self, delta: isize) {
        while self.rows.get(self.cursor).is_some_and(Row::is_heading) {
            if delta < 0 && self.cursor > 0 && !self.rows[..self.cursor].iter().all(Row::is_heading) {
                self.cursor -= 1;
            } else if self.cursor + 1 < self.rows.len() {
                self.cursor += 1;
            } else {
                break;
            }
        }
    }
}

/// The variance list pane: a window of rows, the filter, the cursor and the marks.
pub struct VarianceState {
    pub list: VarianceList,
    pub cursor: usize,
    pub filter: EscalationFilter,
    pub height: usize,
    /// Escalations marked, to act on several at once, and their items' keys (to name them
    /// once they have left the list).
    pub marked: std::collections::BTreeSet<i64>,
    pub marked_keys: HashMap<i64, String>,
    /// Set when Enter jumped to an item, so Esc can go back.
    pub jumped: bool,
}

/// The detail pane: the item it is for, and its detail once read.
#[derive(Default)]
pub struct DetailState {
    pub shown: Option<Detail>,
    pub scroll: u16,
    /// The item the pane is for; `shown` catches up with it when read in the background.
    pub target: Option<ItemKey>,
    pub generation: u64,
    /// The detail the readers could not read, and why (shown in the pane instead of "reading…").
    pub error: Option<(ItemKey, String)>,
    /// Lines the pane had at the last frame, and its height (scrolling stops at the end).
    pub lines: usize,
    pub height: usize,
}

/// Search: the last hits, where `n` is, and the search a reader is running.
#[derive(Default)]
pub struct SearchState {
    pub hits: Vec<String>,
    pub index: usize,
    pub running: Option<String>,
}

pub struct App {
    pub store: Store,
    pub keymap: Keymap,
    pub theme: Theme,
    pub focus: Pane,
    pub mode: Mode,
    pub tree: TreeState,
    pub variance: VarianceState,
    pub detail: DetailState,
    pub search: SearchState,
    pub message: Option<(String, bool)>,
    /// The terminal's size at the last frame (keys do nothing while it is too small).
    pub size: ratatui::layout::Rect,
    /// The current cycle's name, read on reload (the header draws it).
    pub cycle_name: String,
    pub last_data_version: i64,
    pub last_change_counter: i64,
    pub read_only: Option<String>,
    /// A stored setting that is bad, shown on the message line until someone fixes it.
    pub settings_error: Option<String>,
    pub quit: bool,
    pub undo: Vec<Undo>,
    /// A check-in left to look at an item in the tree; the meeting key comes back to it.
    pub paused_meeting: Option<Box<super::modes::meeting::Meeting>>,
    /// The readers computing statuses, details and the variance list off the keystroke path
    /// (none: computed on the spot, as tests and small tools want).
    pub background: Option<Background>,
    /// Bumped whenever what was read may be out of date; older answers are ignored.
    pub generation: u64,
    /// Others' commits as the server announces them (on a file: none, the data version is polled).
    pub live: Option<crate::store::live::LiveChanges>,
    /// Why the server cannot be reached, while it cannot: the lists on screen are as they were
    /// last read, and must not pass for the current state (an empty variance list is not "0 open").
    pub server_lost: Option<String>,
    /// When the store's own connection may next be tried again after it was found broken while
    /// the listener's stayed (see `take_live_events`).
    pub store_retry_at: Option<std::time::Instant>,
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
            mode: Mode::Normal,
            tree: TreeState {
                view: TreeView::Objectives,
                filter: None,
                rows: Vec::new(),
                cursor: 0,
                offset: 0,
                expanded: HashSet::new(),
                height: 20,
                statuses: HashMap::new(),
                requested: HashSet::new(),
                failed: HashSet::new(),
                filter_loading: false,
                announce_filter: false,
            },
            variance: VarianceState {
                list: VarianceList::default(),
                cursor: 0,
                filter: EscalationFilter::default(),
                height: 8,
                marked: Default::default(),
                marked_keys: HashMap::new(),
                jumped: false,
            },
            detail: DetailState::default(),
            search: SearchState::default(),
            message: None,
            cycle_name: String::new(),
            size: ratatui::layout::Rect::new(0, 0, 120, 40),
            last_data_version: 0,
            last_change_counter: 0,
            read_only,
            settings_error: None,
            quit: false,
            undo: Vec::new(),
            paused_meeting: None,
            background,
            generation: 0,
            live: None,
            server_lost: None,
            store_retry_at: None,
        };
        // Open the top level so the first screen shows the company objectives and their key results.
        for root in app.store.outline_roots(app.tree.view)? {
            app.tree.expanded.insert(root.key);
        }
        app.reload()?;
        app.start_listening();
        Ok(app)
    }

    pub fn selected_key(&self) -> Option<ItemKey> {
        self.tree.rows.get(self.tree.cursor).and_then(Row::key).and_then(|k| ItemKey::parse(k).ok())
    }

    /// Rebuild every cache from the file, keeping the cursor on the same item.
    pub fn reload(&mut self) -> anyhow::Result<()> {
        // Noted first: a commit made while reading below is then noticed by the next check.
        self.last_data_version = self.store.data_version()?;
        self.last_change_counter = self.store.change_counter()?;
        let keep = self.tree.rows.get(self.tree.cursor).and_then(Row::key).map(str::to_string);
        self.forget_statuses();
        self.rebuild_rows()?;
        if let Some(k) = keep {
            if let Some(i) = self.tree.rows.iter().position(|r| r.key() == Some(k.as_str())) {
                self.tree.cursor = i;
            }
        }
        self.tree.cursor = self.tree.cursor.min(self.tree.rows.len().saturating_sub(1));
        self.tree.step_off_heading(1);
        self.load_variance()?;
        let dropped = self.prune_marks()?;
        if !dropped.is_empty() {
            self.say(unmarked_message(&dropped, self.variance.marked.len()));
        }
        self.load_detail()?;
        // A replaced file stays read-only whatever is reloaded (the refresh said so once).
        if self.store.file_replaced().is_none() {
            self.read_only = self.store.read_only_reason();
        }
        self.cycle_name = self.store.current_cycle_name().ok().flatten().unwrap_or_else(|| "no cycle".into());
        self.settings_error = settings_error(&self.store)?;
        Ok(())
    }

    /// The tree's rows from the file. A filter's items are read by a reader when there is one:
    /// the rows shown stay until they come (a new filter starts from none).
    pub fn rebuild_rows(&mut self) -> anyhow::Result<()> {
        let mut rows = Vec::new();
        if let (Some(f), Some(bg)) = (self.tree.filter, self.background.as_mut()) {
            self.tree.filter_loading = true;
            bg.ask(self.generation, "filter", vec![Want::Filter(f)]);
            return Ok(());
        }
        self.tree.filter_loading = false;
        if let Some(f) = self.tree.filter {
            for item in self.store.outline_filtered(f)? {
                rows.push(Row::item(0, item, false));
            }
        } else {
            let roots = self.store.outline_roots(self.tree.view)?;
            for item in roots {
                self.push_row(&mut rows, item, 0)?;
            }
        }
        self.tree.rows = rows;
        Ok(())
    }

    /// A row and, when it is expanded, the rows under it, depth first with an explicit stack (an
    /// expanded chain of any depth cannot overflow the stack).
    fn push_row(&mut self, rows: &mut Vec<Row>, item: OutlineItem, depth: usize) -> anyhow::Result<()> {
        // KPIs appear grouped input → process → outcome under a small heading, which travels on
        // the stack in its place among the children.
        enum Pending {
            Item(OutlineItem, usize),
            Heading(String, usize),
        }
        let mut stack = vec![Pending::Item(item, depth)];
        while let Some(next) = stack.pop() {
            let (item, depth) = match next {
                Pending::Heading(label, depth) => {
                    rows.push(Row { depth, kind: RowKind::Heading(label) });
                    continue;
                }
                Pending::Item(item, depth) => (item, depth),
            };
            let expanded = item.has_children && self.tree.expanded.contains(&item.key);
            let key = item.key.clone();
            rows.push(Row::item(depth, item, expanded));
            if !expanded {
                continue;
            }
            let children = self.store.outline_children(&ItemKey::parse(&key)?)?;
            let mut group = None;
            let mut under = Vec::with_capacity(children.len());
            for child in children {
                if child.ipo.is_some() && child.ipo != group {
                    group = child.ipo;
                    let label = format!("{} KPIs", child.ipo.map(|c| c.as_str()).unwrap_or(""));
                    under.push(Pending::Heading(label, depth + 1));
                }
                under.push(Pending::Item(child, depth + 1));
            }
            stack.extend(under.into_iter().rev());
        }
        Ok(())
    }

    /// The status of a row, computed once per reload and only for rows that are drawn.
    pub fn status_of(&mut self, key: &str) -> Option<ItemStatus> {
        if let Some(s) = self.tree.statuses.get(key) {
            return Some(s.clone());
        }
        let k = ItemKey::parse(key).ok()?;
        let s = self.store.row_status(&k).ok()?;
        self.tree.statuses.insert(key.to_string(), s.clone());
        Some(s)
    }

    /// Forget every status shown (the file or the rows changed): they are read again when drawn.
    pub fn forget_statuses(&mut self) {
        self.tree.statuses.clear();
        self.tree.requested.clear();
        self.tree.failed.clear();
        self.detail.error = None;
        self.generation += 1;
    }

    /// Statuses for the rows about to be drawn (so the view itself never touches the store). With
    /// readers, the missing ones are asked for and arrive through [`App::pump`].
    pub fn warm_statuses(&mut self, first: usize, count: usize) {
        if self.background.is_none() {
            let keys: Vec<String> = self.tree.rows.iter().skip(first).take(count).filter_map(Row::key).map(str::to_string).collect();
            for k in keys {
                self.status_of(&k);
            }
            return;
        }
        // Grouped by the root of each row's subtree, so one reader computes a subtree once.
        let mut by_root: Vec<(String, Vec<Want>)> = Vec::new();
        for i in first..(first + count).min(self.tree.rows.len()) {
            let row = &self.tree.rows[i];
            let Some(k) = row.key() else { continue };
            if self.tree.statuses.contains_key(k) || self.tree.requested.contains(k) {
                continue;
            }
            let Ok(key) = ItemKey::parse(k) else { continue };
            self.tree.requested.insert(k.to_string());
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
        self.tree.requested.contains(key) && !self.tree.statuses.contains_key(key) && !self.tree.failed.contains(key)
    }

    /// The key of the top-level row above row `i` (itself at the top level).
    fn root_of(&self, i: usize) -> String {
        let mut j = i.min(self.tree.rows.len().saturating_sub(1));
        while j > 0 && self.tree.rows[j].depth > 0 {
            j -= 1;
        }
        self.tree.rows.get(j).and_then(Row::key).unwrap_or_default().to_string()
    }

    /// Point the detail pane at the selected item (in the focused pane) and read it — on the spot,
    /// or by a reader, showing the previous item until it arrives.
    pub fn load_detail(&mut self) -> anyhow::Result<()> {
        let from_tree = self.focus != Pane::Variance;
        if !from_tree {
            self.cover_variance()?;
        }
        let key = match self.focus {
            Pane::Variance => self.variance.list.get(self.variance.cursor).and_then(|e| ItemKey::parse(&e.key).ok()),
            _ => self.selected_key(),
        }
        .or_else(|| self.selected_key());
        let Some(key) = key else {
            self.detail.target = None;
            self.detail.shown = None;
            self.detail.scroll = 0;
            return Ok(());
        };
        if self.detail.target.as_ref() != Some(&key) {
            self.detail.scroll = 0;
        }
        self.detail.target = Some(key.clone());
        if self.detail_is_current(&key) {
            return Ok(());
        }
        if self.background.is_none() {
            return self.show_detail(key);
        }
        if self.detail.error.as_ref().is_some_and(|(failed, _)| *failed == key) {
            self.detail.error = None;
        }
        let route = if from_tree { self.root_of(self.tree.cursor) } else { key.to_string() };
        let generation = self.generation;
        if let Some(bg) = self.background.as_mut() {
            bg.ask(generation, &route, vec![Want::Detail(key)]);
        }
        Ok(())
    }

    /// Read `key`'s detail now, on this thread, and show it.
    pub fn show_detail(&mut self, key: ItemKey) -> anyhow::Result<()> {
        let d = self.store.detail(&key)?;
        if self.detail.target.as_ref() != Some(&key) {
            self.detail.scroll = 0;
        }
        self.detail.target = Some(key);
        self.detail.shown = Some(d);
        self.detail.generation = self.generation;
        Ok(())
    }

    /// The detail of the targeted item, read now if the reader has not delivered it yet (for
    /// actions that need its facts, such as the gate prompt).
    pub fn detail_now(&mut self) -> anyhow::Result<Option<&Detail>> {
        let Some(key) = self.detail.target.clone() else { return Ok(None) };
        if !self.detail_is_current(&key) {
            self.show_detail(key)?;
        }
        Ok(self.detail.shown.as_ref())
    }

    /// Is `key`'s detail shown, read since the file last changed?
    fn detail_is_current(&self, key: &ItemKey) -> bool {
        self.detail.shown.as_ref().is_some_and(|d| d.key == key.to_string()) && self.detail.generation == self.generation
    }

    /// Is the detail pane waiting for another item's detail?
    pub fn detail_pending(&self) -> Option<&ItemKey> {
        self.detail
            .target
            .as_ref()
            .filter(|k| self.detail.shown.as_ref().is_none_or(|d| d.key != k.to_string()))
            .filter(|k| self.detail.error.as_ref().is_none_or(|(failed, _)| failed != *k))
    }

    /// Read the variance list again with the current filter, keeping the cursor on its escalation.
    /// A page read by keyset: cheap enough for the keystroke path at any size.
    pub fn load_variance(&mut self) -> anyhow::Result<()> {
        self.variance.list.reload(&self.store, &self.variance.filter, &mut self.variance.cursor)?;
        self.cover_variance()
    }

    /// Read the variance rows the pane shows (the cursor is its last row once it has moved
    /// past the first screenful).
    pub fn cover_variance(&mut self) -> anyhow::Result<()> {
        let height = self.variance.height.max(1);
        let offset = self.variance.cursor.saturating_sub(height - 1);
        self.variance.list.cover(&self.store, &self.variance.filter, offset, height)?;
        // Reading may have found the list shorter than counted (it changed since).
        self.variance.cursor = self.variance.cursor.min(self.variance.list.len().saturating_sub(1));
        Ok(())
    }

    /// Marks follow the list: escalations closed or gone from it since they were marked (by
    /// someone else, or a filter) are unmarked. The keys of those dropped. One lookup a mark.
    pub fn prune_marks(&mut self) -> anyhow::Result<Vec<String>> {
        let mut dropped = Vec::new();
        for id in self.variance.marked.clone() {
            let open = self.store.escalation_page(&self.variance.filter, crate::store::escalation_list::Scope::Escalation(id))?;
            if open.is_empty() {
                self.variance.marked.remove(&id);
                dropped.push(self.variance.marked_keys.remove(&id).unwrap_or_else(|| format!("escalation #{id}")));
            }
        }
        Ok(dropped)
    }

    /// Turn tree filter `f` on or off. With readers, its items come later (see [`App::set_filtered`]).
    pub fn toggle_filter(&mut self, f: Filter) -> anyhow::Result<()> {
        self.tree.filter = if self.tree.filter == Some(f) { None } else { Some(f) };
        self.tree.cursor = 0;
        self.tree.offset = 0;
        self.forget_statuses();
        if self.tree.filter.is_some() && self.background.is_some() {
            self.tree.rows.clear();
            self.tree.announce_filter = true;
        }
        self.rebuild_rows()?;
        self.load_detail()?;
        match self.tree.filter {
            Some(f) if self.tree.filter_loading => self.say(format!("tree filter: {} — reading…", f.label())),
            Some(f) => {
                self.say(format!("tree filter: {} ({}) — Esc clears", f.label(), super::count(self.tree.rows.len(), "item", "items")))
            }
            None => self.say("tree filter cleared"),
        }
        Ok(())
    }

    /// A filter's items have come: show them, keeping the cursor on the same item.
    pub(super) fn set_filtered(&mut self, f: Filter, items: Vec<OutlineItem>) {
        let keep = self.tree.rows.get(self.tree.cursor).and_then(Row::key).map(str::to_string);
        self.tree.rows = items.into_iter().map(|item| Row::item(0, item, false)).collect();
        self.tree.filter_loading = false;
        if let Some(i) = keep.and_then(|k| self.tree.rows.iter().position(|r| r.key() == Some(k.as_str()))) {
            self.tree.cursor = i;
        }
        self.tree.cursor = self.tree.cursor.min(self.tree.rows.len().saturating_sub(1));
        if let Err(e) = self.load_detail() {
            self.warn(format!("{e:#}"));
        }
        if std::mem::take(&mut self.tree.announce_filter) {
            self.say(format!("tree filter: {} ({}) — Esc clears", f.label(), super::count(self.tree.rows.len(), "item", "items")));
        }
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
}

/// "M-3 and M-9 are no longer open: unmarked; 1 still marked".
pub fn unmarked_message(dropped: &[String], left: usize) -> String {
    let (what, verb) = if dropped.len() == 1 { (dropped[0].clone(), "is") } else { (dropped.join(", "), "are") };
    let left = match left {
        0 => "nothing is marked now".to_string(),
        n => format!("{n} still marked"),
    };
    format!("{what} {verb} no longer open (closed or changed elsewhere): unmarked; {left}")
}

/// "ERROR setting …" for the first bad stored setting (and how many more), or none.
fn settings_error(store: &Store) -> anyhow::Result<Option<String>> {
    let (_, problems) = store.settings()?;
    Ok(problems.first().map(|p| {
        let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
        format!("ERROR {p}{more}: the default is used; fix it with `keel settings {} VALUE`", p.name)
    }))
}
