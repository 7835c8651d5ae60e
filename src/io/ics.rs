//! `keel export --format ics`: the calendar's dates as an iCalendar file (RFC 5545) that calendar
//! programs import: lines end in CRLF and are folded at 75 octets (never inside a character),
//! text values are escaped, every event has a UID that stays the same from one export to the next
//! and a DTSTAMP. Milestones, decisions due and gate requests are all-day events; check-in
//! meetings carry their times in UTC.

use crate::store::calendar::Calendar;
use chrono::{DateTime, NaiveDate, Utc};

/// TEXT escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded (RFC 5545 3.1): at most 75 octets a line, continuation lines start
/// with a space, and a UTF-8 character is never split.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for ch in line.chars() {
        let n = ch.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(ch);
        used += n;
    }
    out.push_str("\r\n");
    out
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

struct Writer {
    out: String,
    file_id: String,
    dtstamp: String,
}

impl Writer {
    fn line(&mut self, name: &str, value: &str) {
        self.out.push_str(&fold(&format!("{name}:{value}")));
    }

    /// An all-day event on `on`.
    fn all_day(&mut self, uid: &str, on: NaiveDate, summary: &str, description: &str, category: &str) {
        self.line("BEGIN", "VEVENT");
        self.line("UID", &format!("{uid}.{}@keel", self.file_id));
        let stamp = self.dtstamp.clone();
        self.line("DTSTAMP", &stamp);
        self.line("DTSTART;VALUE=DATE", &on.format("%Y%m%d").to_string());
        self.line("DTEND;VALUE=DATE", &on.succ_opt().unwrap_or(on).format("%Y%m%d").to_string());
        self.line("SUMMARY", &escape(summary));
        if !description.is_empty() {
            self.line("DESCRIPTION", &escape(description));
        }
        self.line("CATEGORIES", category);
        self.line("TRANSP", "TRANSPARENT");
        self.line("END", "VEVENT");
    }
}

/// The calendar as an iCalendar file.
pub fn ics(cal: &Calendar, file_name: &str) -> String {
    let mut w = Writer { out: String::new(), file_id: cal.file_id.clone(), dtstamp: stamp(cal.now) };
    w.line("BEGIN", "VCALENDAR");
    w.line("VERSION", "2.0");
    w.line("PRODID", &format!("-//keel//keel {}//EN", env!("CARGO_PKG_VERSION")));
    w.line("CALSCALE", "GREGORIAN");
    w.line("METHOD", "PUBLISH");
    w.line("X-WR-CALNAME", &escape(&format!("keel: {file_name}")));
    for m in &cal.milestones {
        let Some(due) = day(&m.due) else { continue };
        let state = match &m.done {
            Some(d) => format!("done {}", d.get(..10).unwrap_or(d)),
            None => "open".into(),
        };
        let owner = m.owner.as_deref().map(|o| format!("; owner {o}")).unwrap_or_default();
        w.all_day(
            &format!("milestone-{}", m.id),
            due,
            &format!("{} milestone: {}", m.key, m.title),
            &format!("{} {} — milestone due {} ({state}){owner}", m.key, m.measure, m.due),
            "MILESTONE",
        );
    }
    for g in &cal.gates {
        let Some(on) = day(&g.requested) else { continue };
        w.all_day(
            &format!("gate-{}-{}", g.key, g.next_stage),
            on,
            &format!("{} gate decision: {}", g.key, g.next_stage),
            &format!("{} {} — asked to move to {}; awaiting {}", g.key, g.title, g.next_stage, g.awaiting),
            "GATE DECISION",
        );
    }
    for e in &cal.escalations {
        let Some(due) = day(&e.due) else { continue };
        let who = e.assignee.as_deref().map(|a| format!("; assigned to {a}")).unwrap_or_default();
        w.all_day(
            &format!("escalation-{}", e.id),
            due,
            &format!("{} decision due: {}", e.key, crate::io::report::tier_label(e.tier)),
            &format!("{} {} — {}{who}", e.key, e.title, e.reason),
            "DECISION DUE",
        );
    }
    for m in &cal.meetings {
        let Some(start) = instant(&m.started_at) else { continue };
        let end = m.ended_at.as_deref().and_then(instant).filter(|e| *e > start).unwrap_or(start + chrono::Duration::hours(1));
        w.line("BEGIN", "VEVENT");
        w.line("UID", &format!("meeting-{}.{}@keel", m.id, cal.file_id));
        let dtstamp = w.dtstamp.clone();
        w.line("DTSTAMP", &dtstamp);
        w.line("DTSTART", &stamp(start));
        w.line("DTEND", &stamp(end));
        w.line("SUMMARY", "keel check-in meeting");
        w.line("DESCRIPTION", &escape(&format!("facilitated by {}; {} items on the agenda", m.facilitator, m.agenda_items)));
        w.line("CATEGORIES", "CHECK-IN");
        w.line("END", "VEVENT");
    }
    w.line("END", "VCALENDAR");
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let line = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&line);
        for l in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end_matches("\r\n"), line);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a, b; c\\d\nnext"), "a\\, b\\; c\\\\d\\nnext");
    }
}
