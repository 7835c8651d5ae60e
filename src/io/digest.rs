//! A person's digest as plain text, and as an RFC 5322 mail message for `sendmail -t`: CRLF line
//! ends, header values without line breaks, non-ASCII names and subjects as RFC 2047 encoded
//! words, and a UTF-8 text body sent as 8bit.

use crate::store::digest::Digest;
use std::fmt::Write;

/// The digest as text (what `keel digest` prints and the mail's body).
pub fn text(d: &Digest) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "keel digest for {} ({}), week {} ({} to {})", d.person.name, d.person.key, d.week, d.week_start, d.week_end);
    if d.is_empty() {
        let _ = writeln!(s, "\nNothing needs you this week.");
    }
    let section = |s: &mut String, title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            let _ = writeln!(s, "\n{title} ({})", lines.len());
            for l in lines {
                let _ = writeln!(s, "  {l}");
            }
        }
    };
    section(
        &mut s,
        "Updates due",
        d.due_updates
            .iter()
            .map(|u| {
                let last = u.last_update.as_deref().map(|l| l.get(..10).unwrap_or(l)).unwrap_or("never");
                let why = if u.needs_narrative { "; say why and what happens next" } else { "" };
                format!("{} {} — {} (last update {last}){why}", u.key, u.title, u.period)
            })
            .collect(),
    );
    section(
        &mut s,
        "Milestones due by Sunday",
        d.milestones
            .iter()
            .map(|m| format!("{} {} — {} due {}{}", m.key, m.measure, m.title, m.due, if m.late { " (late)" } else { "" }))
            .collect(),
    );
    section(
        &mut s,
        "Stale",
        d.stale
            .iter()
            .map(|x| {
                let last = x.last_update.as_deref().map(|l| l.get(..10).unwrap_or(l)).unwrap_or("never");
                format!("{} {} — {} cadence, last update {last}", x.key, x.title, x.cadence)
            })
            .collect(),
    );
    section(
        &mut s,
        "Updates missed this cycle",
        d.missed_updates
            .iter()
            .map(|m| {
                let run = if m.missed_in_a_row > 1 { format!(", {} in a row", m.missed_in_a_row) } else { String::new() };
                format!("{} {} — {} of {} missed: {}{run}", m.key, m.title, m.missed, m.expected, m.missed_periods.join(", "))
            })
            .collect(),
    );
    let esc = |e: &crate::store::read::EscalationRow| {
        format!(
            "{} {} — {} ({}), due {}{}",
            e.key,
            e.title,
            crate::io::report::tier_label(e.tier),
            e.reason,
            e.due_at.get(..10).unwrap_or(&e.due_at),
            if e.overdue { " (overdue)" } else { "" }
        )
    };
    section(&mut s, "Escalations on what you own", d.escalations_owned.iter().map(esc).collect());
    section(&mut s, "Escalations assigned to you", d.escalations_assigned.iter().map(esc).collect());
    section(
        &mut s,
        "Gate requests awaiting your approval",
        d.approvals.iter().map(|a| format!("{} {} — to {}; awaiting {}", a.key, a.title, a.stage, a.awaiting)).collect(),
    );
    crate::io::text::printable(s)
}

/// A header value on one line: line breaks and other control characters become spaces, so no
/// text from the file can add a header.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A header phrase: as it is when plain ASCII, else RFC 2047 encoded words (B encoding), each
/// short enough for a header line and never splitting a character.
pub fn encode_words(s: &str) -> String {
    let s = one_line(s);
    if s.is_ascii() {
        return s;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for ch in s.chars() {
        if chunk.len() + ch.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(ch);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

/// A display name for an address: a quoted string when ASCII, else encoded words.
fn display_name(name: &str) -> String {
    let name = one_line(name);
    if name.is_ascii() {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        encode_words(&name)
    }
}

/// The digest as an RFC 5322 message to the person's address, from `from`.
pub fn message(d: &Digest, to: &str, from: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let body = text(d);
    let mut m = String::new();
    let mut header = |name: &str, value: &str| {
        m.push_str(name);
        m.push_str(": ");
        m.push_str(value);
        m.push_str("\r\n");
    };
    header("From", from);
    header("To", &format!("{} <{}>", display_name(&d.person.name), one_line(to)));
    header("Subject", &encode_words(&format!("keel digest {}: {}", d.week, d.person.name)));
    header("Date", &now.to_rfc2822());
    header("Message-ID", &format!("<keel-digest.{}.{}.{}@keel>", d.person.key, d.week, now.timestamp()));
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "8bit");
    header("Auto-Submitted", "auto-generated");
    m.push_str("\r\n");
    for line in body.lines() {
        m.push_str(line);
        m.push_str("\r\n");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64("Zoë".as_bytes()), "Wm/Dqw==");
    }

    #[test]
    fn header_text_stays_on_its_line() {
        assert_eq!(encode_words("a\r\nBcc: x@y"), "a  Bcc: x@y");
        assert!(encode_words("Zoë").starts_with("=?UTF-8?B?"));
    }
}
