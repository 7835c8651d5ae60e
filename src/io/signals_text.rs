//! The signals beside an item's numbers in plain text (`keel show`): its confidence trend, its
//! update discipline and its value source. Stored text is printed through `printable`.

use crate::domain::discipline::UpdateState;
use crate::store::read::ValueRow;
use crate::store::signals::ItemSignals;
use std::fmt::Write;

pub fn write(sig: &ItemSignals, s: &mut String) {
    if let Some(t) = &sig.confidence {
        let _ = writeln!(s, "\n[confidence]  {}", t.line(8));
        if let Some(why) = &t.falling {
            let _ = writeln!(s, "  ! {why}");
        }
    }
    if let Some(u) = &sig.updates {
        let _ = writeln!(
            s,
            "\n[updates]  {}: {} on time, {} late, {} missed{}",
            u.cadence.as_str(),
            u.on_time,
            u.late,
            u.missed,
            if u.missed_in_a_row > 0 { format!(" ({} in a row)", u.missed_in_a_row) } else { String::new() }
        );
        let line: Vec<String> = u.recent.iter().map(|e| format!("{} {}", e.period, mark(e.state))).collect();
        let _ = writeln!(s, "  {}", line.join("  "));
    }
    if let Some(src) = &sig.source {
        let synced = src.synced_at.as_deref().map(|a| format!(", last synced {}", a.get(..16).unwrap_or(a))).unwrap_or_default();
        let _ = writeln!(s, "\n[source]  {}{synced}", src.name);
        if let Some(why) = &src.failure {
            let _ = writeln!(s, "  ! failed: {why}");
        }
    }
}

/// How a value came to be, after its row in `[values]`.
pub fn origin(v: &ValueRow) -> String {
    match (&v.source, &v.override_reason) {
        (_, Some(why)) => format!("   override: {why}"),
        (Some(name), None) => format!("   from {name}"),
        _ => String::new(),
    }
}

/// A state as a word, readable without colour.
fn mark(state: UpdateState) -> &'static str {
    match state {
        UpdateState::OnTime => "on-time",
        UpdateState::Late => "LATE",
        UpdateState::Missed => "MISSED",
        UpdateState::Overdue => "overdue",
        UpdateState::Open => "open",
    }
}
