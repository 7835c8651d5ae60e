//! The file under the open app was replaced (a restore, `mv backup.keel keel.keel`) or deleted:
//! edits stop at once, and the app offers to reopen the file that is there now in place — the
//! store, its readers and every cache anew, the selection kept when the item still exists.

use super::app::{App, Mode};
use super::update::Pending;

impl App {
    /// Notice a replaced or deleted file: stop offering edits and ask whether to reopen, once.
    /// Saves are refused by the store either way; this says so before anyone types into a file
    /// that is no longer there. True when it newly noticed.
    pub fn notice_replaced_file(&mut self) -> bool {
        let Some(why) = self.store.file_replaced() else { return false };
        if self.read_only.as_deref().is_some_and(|r| r.starts_with(&why)) {
            return false;
        }
        let reload = self.keymap.first_key(super::action::Action::Reload);
        self.read_only = Some(format!("{why}: nothing more is saved here; {reload} offers to reopen the file there now"));
        self.offer_reopen(&why);
        true
    }

    /// Ask "reopen?" — at once on the main screen; over a form or an editor, what was typed is
    /// kept and the question waits for the main screen's reload key.
    pub fn offer_reopen(&mut self, why: &str) {
        if matches!(self.mode, Mode::Normal) {
            self.mode = Mode::Confirm { prompt: format!("{why}. Reopen the file that is there now? y/n"), then: Pending::Reopen };
        } else {
            let reload = self.keymap.first_key(super::action::Action::Reload);
            self.warn(format!("{why}: nothing more is saved here; on the main screen {reload} offers to reopen it"));
        }
    }

    /// Reopen the file at the same path: a new store and readers, every cache read again, the
    /// selection kept when its item is still there. A path with nothing at it stays read-only.
    pub fn reopen(&mut self) -> anyhow::Result<()> {
        let path = self.store.path().display().to_string();
        let container = if self.store.on_server() { "database" } else { "file" };
        let store = match self.store.reopen() {
            Ok(s) => s,
            Err(e) => {
                // Said once: the banner keeps the reason the refresh compares with, so the
                // question is not asked again on every tick; the reload key asks again.
                let unreachable = if self.store.on_server() { "the server cannot be reached" } else { "the file cannot be opened" };
                let why = self.store.file_replaced().unwrap_or_else(|| unreachable.into());
                let reload = self.keymap.first_key(super::action::Action::Reload);
                self.read_only = Some(format!("{why}: viewing what was read before; {reload} tries to reopen"));
                self.warn(format!("cannot reopen: {e} — staying read-only"));
                return Ok(());
            }
        };
        let keep = self.detail.target.clone();
        let readers = self.background.as_ref().map(|b| b.readers()).unwrap_or(0);
        // The old readers hold the old file: stop them before the new ones start.
        self.background = None;
        self.store = store;
        if readers > 0 {
            self.background = super::background::Background::start(&self.store, readers).ok();
        }
        if let Err(e) = self.store.wait_for_writers(super::APP_WAITS_FOR_WRITERS) {
            self.warn(format!("{e}"));
        }
        self.undo.clear();
        self.variance.marked.clear();
        self.variance.marked_keys.clear();
        self.variance.list.reset();
        self.search = Default::default();
        self.paused_meeting = None;
        self.detail = Default::default();
        self.reload()?;
        let kept = match &keep {
            Some(k) => self.reveal(k)?,
            None => false,
        };
        self.load_detail()?;
        let selection = match (keep, kept) {
            (Some(k), true) => format!("; {k} is still selected"),
            (Some(k), false) => format!("; {k} is not in this {container}"),
            (None, _) => String::new(),
        };
        self.say(format!("reopened {path}{selection}"));
        Ok(())
    }
}
