//! Search and the readers' answers: search hits, jumping to them, and taking what the
//! background readers deliver into the model.

use super::app::{App, Mode, Pane};
use super::background::{Got, Reply, Want};
use crate::domain::ItemKey;
use crate::store::outline::TreeView;

impl App {
    /// Search keys and titles for `text` (every title in the file: a reader does it when there is one).
    pub fn run_search(&mut self, text: String) -> anyhow::Result<()> {
        if self.background.is_none() {
            let hits = self.store.search(&text, super::background::SEARCH_HITS)?.into_iter().map(|i| i.key).collect();
            return self.show_search_hits(&text, hits);
        }
        self.say(format!("searching for '{text}'…"));
        self.search.running = Some(text.clone());
        let generation = self.generation;
        if let Some(bg) = self.background.as_mut() {
            bg.ask(generation, "search", vec![Want::Search(text)]);
        }
        Ok(())
    }

    fn show_search_hits(&mut self, text: &str, hits: Vec<String>) -> anyhow::Result<()> {
        self.search.hits = hits;
        self.search.index = 0;
        if self.search.hits.is_empty() {
            self.warn(format!("no item matches '{text}'"));
            Ok(())
        } else {
            self.jump_to_search_hit()
        }
    }

    /// Select the current search hit: in the tree when it has a place there, else in the detail.
    pub fn jump_to_search_hit(&mut self) -> anyhow::Result<()> {
        let Some(hit) = self.search.hits.get(self.search.index).cloned() else { return Ok(()) };
        let key = ItemKey::parse(&hit)?;
        let shown = self.reveal(&key)?;
        self.focus = Pane::Tree;
        self.load_detail()?;
        if !shown {
            self.show_detail(key)?;
        }
        self.say(format!("match {} of {}: {hit}", self.search.index + 1, self.search.hits.len()));
        Ok(())
    }

    /// Take what the readers have delivered. True when the screen should be drawn again.
    pub fn pump(&mut self) -> bool {
        // Hooks run after a save on their own thread; a failure is said when it arrives.
        let failed = crate::hooks::finished();
        if !failed.is_empty() {
            self.warn(failed.join("; "));
            return true;
        }
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
                if self.search.running.as_ref() == Some(&text) {
                    self.search.running = None;
                    changed = true;
                    match hits {
                        // Hits that come while an editor or a prompt is open do not move the
                        // screen under it: `n` goes to the first.
                        Ok(hits) if !matches!(self.mode, Mode::Normal) && !hits.is_empty() => {
                            self.search.index = hits.len() - 1;
                            self.say(format!("{} matches for '{text}' — n goes to the first", hits.len()));
                            self.search.hits = hits;
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
                    self.tree.statuses.insert(key.to_string(), s);
                }
                // Not asked again until the file changes; the row says it has no status.
                Got::Status(key, Err(e)) => {
                    self.tree.failed.insert(key.to_string());
                    self.warn(format!("status of {key}: {e}"));
                }
                Got::Detail(key, Ok(d)) => {
                    if self.detail.target.as_ref() == Some(&key) {
                        self.detail.shown = Some(*d);
                        self.detail.generation = generation;
                        self.detail.error = None;
                    }
                }
                Got::Detail(key, Err(e)) => {
                    if self.detail.target.as_ref() == Some(&key) {
                        self.warn(format!("{key}: {e}"));
                        self.detail.error = Some((key, e));
                    }
                }
                Got::Filter(f, Ok(items)) if self.tree.filter == Some(f) => self.set_filtered(f, items),
                Got::Filter(f, Err(e)) if self.tree.filter == Some(f) => {
                    self.tree.filter_loading = false;
                    self.warn(format!("tree filter {}: {e}", f.label()));
                }
                Got::Filter(..) | Got::Search(..) | Got::Skipped => {}
            }
        }
        changed
    }

    /// Make `key` visible in the tree and select it.
    pub fn reveal(&mut self, key: &ItemKey) -> anyhow::Result<bool> {
        if self.tree.filter.is_some() {
            if let Some(i) = self.tree.rows.iter().position(|r| r.key() == Some(key.to_string().as_str())) {
                self.tree.cursor = i;
                return Ok(true);
            }
            self.tree.filter = None;
        }
        let view = match key.kind {
            crate::domain::ItemKind::Measure if self.tree.view == TreeView::Execution => TreeView::Execution,
            k if k.node().is_some() => TreeView::Execution,
            _ => TreeView::Objectives,
        };
        let mut path = self.store.outline_path(key, view)?;
        if path.is_empty() && key.kind == crate::domain::ItemKind::Measure {
            self.tree.view = TreeView::Execution;
            path = self.store.outline_path(key, TreeView::Execution)?;
        } else {
            self.tree.view = view;
        }
        for p in path {
            self.tree.expanded.insert(p);
        }
        self.rebuild_rows()?;
        match self.tree.rows.iter().position(|r| r.key() == Some(key.to_string().as_str())) {
            Some(i) => {
                self.tree.cursor = i;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
