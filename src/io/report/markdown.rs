//! The report in Markdown, for wikis, mail and pull requests, written as it is made.

use super::{render, render_summary, Measures, Sink};
use crate::store::report::ReportModel;
use crate::store::{Result, StoreError};
use std::fmt::Write as _;
use std::io::Write;

/// Text out as it is made: escaped for printing (`printable`), and the blank lines at its very end
/// cut to one newline.
pub(crate) struct TextOut<'a> {
    w: &'a mut dyn Write,
    newlines: usize,
    /// Keep every newline at the end (else one at most).
    exact: bool,
    error: Option<std::io::Error>,
}

impl<'a> TextOut<'a> {
    pub(crate) fn new(w: &'a mut dyn Write) -> Self {
        TextOut { w, newlines: 0, exact: false, error: None }
    }

    /// Text out with every newline kept.
    pub(crate) fn exact(w: &'a mut dyn Write) -> Self {
        TextOut { w, newlines: 0, exact: true, error: None }
    }

    pub(crate) fn put(&mut self, s: &str) {
        let s = crate::domain::text_check::printable(s);
        let body = s.trim_end_matches('\n');
        let trailing = s.len() - body.len();
        if body.is_empty() {
            self.newlines += trailing;
            return;
        }
        let pending = "\n".repeat(self.newlines);
        if let Err(e) = self.w.write_all(pending.as_bytes()).and_then(|()| self.w.write_all(body.as_bytes())) {
            self.error.get_or_insert(e);
        }
        self.newlines = trailing;
    }

    /// Write what is held back (one newline at most) and say whether every write went through.
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.newlines > 0 {
            let n = if self.exact { self.newlines } else { 1 };
            if let Err(e) = self.w.write_all("\n".repeat(n).as_bytes()) {
                self.error.get_or_insert(e);
            }
        }
        match self.error {
            Some(e) => Err(StoreError::Io(e)),
            None => Ok(()),
        }
    }
}

/// Markdown: escapes anything in a title that could start a table column, a link, emphasis or
/// raw HTML.
struct Markdown<'a> {
    line: String,
    out: TextOut<'a>,
}

impl Markdown<'_> {
    fn flush(&mut self) {
        self.out.put(&self.line);
        self.line.clear();
    }
}

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

impl Sink for Markdown<'_> {
    fn heading(&mut self, level: u8, text: &str) {
        let _ = writeln!(self.line, "{} {}\n", "#".repeat(level as usize), md(text));
        self.flush();
    }
    fn para(&mut self, text: &str) {
        let _ = writeln!(self.line, "{}\n", md(text));
        self.flush();
    }
    fn muted(&mut self, text: &str) {
        let _ = writeln!(self.line, "_{}_\n", md(text));
        self.flush();
    }
    fn table_start(&mut self, header: &[&str], right: &[usize]) {
        let _ = writeln!(self.line, "| {} |", header.iter().map(|h| md(h)).collect::<Vec<_>>().join(" | "));
        let sep: Vec<&str> = (0..header.len()).map(|i| if right.contains(&i) { "---:" } else { "---" }).collect();
        let _ = writeln!(self.line, "|{}|", sep.join("|"));
        self.flush();
    }
    fn table_row(&mut self, _right: &[usize], r: &[String]) {
        let _ = writeln!(self.line, "| {} |", r.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | "));
        self.flush();
    }
    fn table_end(&mut self) {
        self.out.put("\n");
    }
    fn bullets_start(&mut self) {}
    fn bullet(&mut self, lead: &str, rest: &str) {
        let _ = writeln!(self.line, "- **{}**{}", md(lead), if rest.is_empty() { String::new() } else { format!(" — {}", md(rest)) });
        self.flush();
    }
    fn bullets_end(&mut self) {
        self.out.put("\n");
    }
}

/// The report in Markdown.
pub fn markdown(r: &ReportModel, source: &str) -> String {
    markdown_of(r, source, None)
}

/// The report in Markdown: the whole report, or the steering pack with its top N (`Some(n)`).
pub fn markdown_of(r: &ReportModel, source: &str, pack_top: Option<usize>) -> String {
    let mut bytes = Vec::new();
    // The model holds every measure, and a Vec takes every write: nothing can fail.
    let _ = write_markdown(r, source, pack_top, &super::Held, &mut bytes);
    String::from_utf8(bytes).unwrap_or_default()
}

/// The report in Markdown written to `w` as it is made, its measures read from `ms`.
pub fn write_markdown(r: &ReportModel, source: &str, pack_top: Option<usize>, ms: &dyn Measures, w: &mut dyn Write) -> Result<()> {
    let mut sink = Markdown { line: String::new(), out: TextOut::new(w) };
    match pack_top {
        Some(top) => render_summary(r, source, top, ms, &mut sink)?,
        None => render(r, source, ms, &mut sink)?,
    }
    sink.out.finish()
}
