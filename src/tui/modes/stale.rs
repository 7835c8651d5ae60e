//! The stale list: who has not updated what, and for how long. Enter jumps to the item.

use super::super::action::Action;
use super::super::app::{App, Pane};
use super::Mode;
use crate::domain::ItemKey;

/// How many rows of the stale list show their update ledger.
const LEDGER_ROWS: usize = 200;

pub struct StaleList {
    pub title: String,
    /// Each item's key and its line.
    pub rows: Vec<(String, String)>,
    pub cursor: usize,
}

/// Read the stale items and open the list.
pub fn open(app: &mut App) -> anyhow::Result<()> {
    // The kept staleness: an index range, not a whole check.
    let stale = app.store.stale_items()?;
    let rows: Vec<(String, String)> = stale
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // The update ledger beside each (the first rows only: a huge file lists thousands).
            let ledger = (i < LEDGER_ROWS)
                .then(|| ItemKey::parse(&s.key).ok().and_then(|k| app.store.updates_of(&k).ok().flatten()))
                .flatten()
                .map(|u| {
                    let run = if u.missed_in_a_row > 1 { format!(", {} in a row", u.missed_in_a_row) } else { String::new() };
                    format!("{} missed{run}, {} late, {} on time — ", u.missed, u.late, u.on_time)
                })
                .unwrap_or_default();
            let days = match s.days_since_update {
                Some(1) => "1 day".to_string(),
                Some(d) => format!("{d} days"),
                None => "never updated".into(),
            };
            (
                s.key.clone(),
                format!(
                    "{:<6} {ledger}{} — {} — last update {} ({days}; {})",
                    s.key,
                    s.title,
                    s.owner.clone().unwrap_or_else(|| "no owner".into()),
                    s.last_update.as_deref().map(|d| &d[..10.min(d.len())]).unwrap_or("never"),
                    s.cadence
                ),
            )
        })
        .collect();
    let title = match rows.len() {
        0 => "stale updates: everyone is up to date".to_string(),
        1 => "stale updates: 1 item to chase".to_string(),
        n => format!("stale updates: {n} items to chase"),
    };
    app.mode = Mode::Stale(StaleList { title, rows, cursor: 0 });
    Ok(())
}

pub fn handle_key(app: &mut App, mut s: StaleList, action: Option<Action>) -> anyhow::Result<()> {
    match action {
        Some(Action::Close) => return Ok(()),
        Some(Action::Help) => {
            super::help::open(app, Mode::Stale(s));
            return Ok(());
        }
        Some(Action::Down) => s.cursor = (s.cursor + 1).min(s.rows.len().saturating_sub(1)),
        Some(Action::Up) => s.cursor = s.cursor.saturating_sub(1),
        Some(Action::Enter) => {
            if let Some((key, _)) = s.rows.get(s.cursor) {
                let key = ItemKey::parse(key)?;
                let shown = app.reveal(&key)?;
                app.focus = Pane::Tree;
                app.load_detail()?;
                if !shown {
                    app.show_detail(key.clone())?;
                }
                app.say(format!("{key}: stale — S opens the list again"));
                return Ok(());
            }
        }
        _ => {}
    }
    app.mode = Mode::Stale(s);
    Ok(())
}
