//! The variance list as the app holds it: the number of rows, and a window of them around what is
//! on screen, read a page at a time by keyset (`store::escalation_list`). Moving the cursor reads
//! at most a page; nothing here grows with the number of open escalations.

use crate::store::escalation_list::{Rank, Scope};
use crate::store::read::{EscalationFilter, EscalationRow};
use crate::store::{Result, Store};

/// Rows read at a time, and the most the window keeps.
const PAGE: usize = 100;
const KEEP: usize = 4 * PAGE;

#[derive(Default)]
pub struct VarianceList {
    /// Rows that pass the filter, at the last read.
    total: usize,
    /// Position of the window's first row in the whole list.
    start: usize,
    window: Vec<(Rank, EscalationRow)>,
}

impl VarianceList {
    /// Rows in the whole list (not only those read).
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The row at position `at` of the whole list, if it has been read.
    pub fn get(&self, at: usize) -> Option<&EscalationRow> {
        at.checked_sub(self.start).and_then(|i| self.window.get(i)).map(|(_, row)| row)
    }

    /// How many rows are held (never more than a few pages, however long the list).
    pub fn held(&self) -> usize {
        self.window.len()
    }

    /// The rows read, in order.
    pub fn iter(&self) -> impl Iterator<Item = &EscalationRow> {
        self.window.iter().map(|(_, row)| row)
    }

    /// Rows `offset..offset + count` that have been read, with their positions.
    pub fn visible(&self, offset: usize, count: usize) -> impl Iterator<Item = (usize, &EscalationRow)> {
        (offset..offset + count).filter_map(move |i| self.get(i).map(|row| (i, row)))
    }

    /// Forget every row read (the filter changed): the next read starts from the top.
    pub fn reset(&mut self) {
        *self = VarianceList::default();
    }

    /// Read the list again (the file changed), keeping the cursor on the escalation it was on —
    /// where that stands now, as its rank moves with its numbers — or, when it has left the list,
    /// the window where it was.
    pub fn reload(&mut self, store: &Store, filter: &EscalationFilter, cursor: &mut usize) -> Result<()> {
        let keep = self.get(*cursor).map(|row| row.id);
        let anchor = self.window.first().filter(|_| self.start > 0).map(|(rank, _)| rank.clone());
        self.total = store.escalation_count(filter, None)?;
        self.window.clear();
        self.start = 0;
        if let Some(id) = keep {
            if let Some((rank, _)) = store.escalation_page(filter, Scope::Escalation(id))?.into_iter().next() {
                self.start = store.escalation_count(filter, Some(&rank))?;
                self.window = store.escalation_page(filter, Scope::From(rank, PAGE))?;
                *cursor = self.start;
                return Ok(());
            }
        }
        if let Some(rank) = anchor {
            self.window = store.escalation_page(filter, Scope::From(rank.clone(), PAGE))?;
            self.start = store.escalation_count(filter, Some(&rank))?;
        }
        if self.window.is_empty() {
            self.window = store.escalation_page(filter, Scope::First(PAGE))?;
            self.start = 0;
        }
        *cursor = (*cursor).min(self.total.saturating_sub(1));
        Ok(())
    }

    /// Make sure rows `offset..offset + count` are read: a page before or after the window by
    /// keyset, or the first or last page.
    pub fn cover(&mut self, store: &Store, filter: &EscalationFilter, offset: usize, count: usize) -> Result<()> {
        let (want_start, want_end) = (offset.min(self.total), (offset + count).min(self.total));
        let end = self.start + self.window.len();
        if want_start >= want_end || (self.start <= want_start && want_end <= end) {
            return Ok(());
        }
        if want_start == 0 || self.window.is_empty() {
            self.window = store.escalation_page(filter, Scope::First(want_end.max(PAGE)))?;
            self.start = 0;
            // Only when the window was empty and the place deep: walk on from the first page.
            return self.cover_forward(store, filter, want_end);
        }
        if want_end == self.total && want_start > end {
            self.window = store.escalation_page(filter, Scope::Last((want_end - want_start).max(PAGE)))?;
            self.start = self.total.saturating_sub(self.window.len());
            return Ok(());
        }
        if want_start < self.start {
            let first = self.window[0].0.clone();
            let mut before = store.escalation_page(filter, Scope::Before(first, self.start - want_start + PAGE / 2))?;
            self.start = self.start.saturating_sub(before.len());
            before.append(&mut self.window);
            self.window = before;
        }
        self.cover_forward(store, filter, want_end)?;
        self.trim(want_start, want_end);
        Ok(())
    }

    fn cover_forward(&mut self, store: &Store, filter: &EscalationFilter, want_end: usize) -> Result<()> {
        while self.start + self.window.len() < want_end {
            let Some((last, _)) = self.window.last().cloned() else { break };
            let more = store.escalation_page(filter, Scope::After(last, want_end - self.start - self.window.len() + PAGE / 2))?;
            if more.is_empty() {
                // The list is shorter than counted (it changed since): the next reload recounts.
                self.total = self.start + self.window.len();
                break;
            }
            self.window.extend(more);
        }
        Ok(())
    }

    /// Keep at most KEEP rows, around what is wanted.
    fn trim(&mut self, want_start: usize, want_end: usize) {
        if self.window.len() <= KEEP {
            return;
        }
        // Clamped to the window: a list that changed since it was counted can leave it shorter.
        let end = self.start + self.window.len();
        let keep_from = want_start.saturating_sub(PAGE).clamp(self.start, end);
        let keep_to = (want_end + PAGE).clamp(keep_from, end);
        self.window.truncate(keep_to - self.start);
        self.window.drain(..keep_from - self.start);
        self.start = keep_from;
    }
}
