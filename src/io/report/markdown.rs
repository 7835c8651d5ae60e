//! The report in Markdown, for wikis, mail and pull requests.

use super::{render, render_summary, Sink};
use crate::store::report::ReportModel;
use std::fmt::Write;

/// Markdown: escapes anything in a title that could start a table column, a link, emphasis or
/// raw HTML.
struct Markdown(String);

fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Sink for Markdown {
    fn heading(&mut self, level: u8, text: &str) {
        let _ = writeln!(self.0, "{} {}\n", "#".repeat(level as usize), md(text));
    }
    fn para(&mut self, text: &str) {
        let _ = writeln!(self.0, "{}\n", md(text));
    }
    fn muted(&mut self, text: &str) {
        let _ = writeln!(self.0, "_{}_\n", md(text));
    }
    fn table(&mut self, header: &[&str], right: &[usize], rows: &[Vec<String>]) {
        let _ = writeln!(self.0, "| {} |", header.iter().map(|h| md(h)).collect::<Vec<_>>().join(" | "));
        let sep: Vec<&str> = (0..header.len()).map(|i| if right.contains(&i) { "---:" } else { "---" }).collect();
        let _ = writeln!(self.0, "|{}|", sep.join("|"));
        for r in rows {
            let _ = writeln!(self.0, "| {} |", r.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | "));
        }
        self.0.push('\n');
    }
    fn bullets(&mut self, items: &[(String, String)]) {
        for (lead, rest) in items {
            let _ = writeln!(self.0, "- **{}**{}", md(lead), if rest.is_empty() { String::new() } else { format!(" — {}", md(rest)) });
        }
        self.0.push('\n');
    }
}

/// The report in Markdown.
pub fn markdown(r: &ReportModel, source: &str) -> String {
    markdown_of(r, source, None)
}

/// The report in Markdown: the whole report, or the steering pack with its top N (`Some(n)`).
pub fn markdown_of(r: &ReportModel, source: &str, pack_top: Option<usize>) -> String {
    let mut sink = Markdown(String::new());
    match pack_top {
        Some(top) => render_summary(r, source, top, &mut sink),
        None => render(r, source, &mut sink),
    }
    let mut s = sink.0;
    while s.ends_with("\n\n") {
        s.pop();
    }
    crate::io::text::printable(s)
}
