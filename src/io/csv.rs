//! CSV at the edge: the values import (`keel import values.csv`) and the item and value exports
//! (`keel export --format csv`).
//!
//! The import reads every row before anything is applied and reports every problem at once, each
//! with its line and column. The exports are safe to open in a spreadsheet: a text cell that
//! begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` so that it stays
//! text, while number columns are written as plain numbers (`-1200` stays `-1200`).

pub use super::export_out::{items_writer, write_item_row};
use super::spreadsheet::{self, Cell, Decimals};
use crate::domain::{ItemKey, Num, Period};
use crate::store::report::ItemRow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The per-period fields a values file may set, as the write path names them.
pub const VALUE_COLUMNS: &[&str] = &crate::domain::ValueField::NAMES;
/// Columns the values export writes for reading only; the import accepts and ignores them.
pub const INFORMATION_COLUMNS: &[&str] = &["kind", "title", "by", "at"];

/// One problem in a values file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: Option<String>,
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.what),
            None => write!(f, "line {}: {}", self.line, self.what),
        }
    }
}

/// One parsed row: the item, the period and the cells that set something (empty cells leave the
/// stored value as it is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub key: ItemKey,
    pub period: Period,
    /// (field, value) in column order; numbers already checked and written canonically.
    pub cells: Vec<(&'static str, String)>,
}

/// Strip what a spreadsheet export neutralised: `'=x` back to `=x` (only before the characters
/// the export protects, so an ordinary leading apostrophe stays).
fn unneutralise(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

/// Counts lines as the reader moves forward through the text, so that finding a row's line costs
/// only the bytes since the last row (linear in the file, however long). A record may start on
/// the `\n` of the previous line's CRLF, so line ends at the offset are skipped first.
struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl Lines<'_> {
    fn of(&mut self, byte: u64) -> u64 {
        let mut b = (byte as usize).min(self.bytes.len());
        while b < self.bytes.len() && (self.bytes[b] == b'\r' || self.bytes[b] == b'\n') {
            b += 1;
        }
        if b >= self.at {
            self.line += self.bytes[self.at..b].iter().filter(|c| **c == b'\n').count() as u64;
            self.at = b;
        }
        self.line
    }
}

/// Parse a values file. Returns every row, or every problem found (nothing is half-read).
pub fn parse_values(text: &str) -> Result<Vec<Row>, Vec<Problem>> {
    let (rows, problems) = read_values(text);
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// Where a values file came from, for reading its cells and naming them in problems.
#[derive(Clone, Copy, Debug)]
struct Layout {
    decimals: Decimals,
    /// The CSV separator (None for a workbook, whose problems name cells such as C7).
    separator: Option<u8>,
}

impl Layout {
    fn separated(&self) -> String {
        match self.separator {
            Some(s) => format!(" (the columns are separated by '{}')", s as char),
            None => String::new(),
        }
    }
}

/// Read a values file (text already decoded): the rows that parsed and every problem, by line
/// (so that the caller can check the good rows against the database and report everything
/// together). The separator, `,` or `;`, is told from the header.
pub fn read_values(text: &str) -> (Vec<Row>, Vec<Problem>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sep = spreadsheet::separator(text);
    let layout = Layout { decimals: spreadsheet::decimals_for(sep), separator: Some(sep) };
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(sep).from_reader(text.as_bytes());
    let mut lines = Lines { bytes: text.as_bytes(), at: 0, line: 1 };
    let records = reader.records().map(|record| match record {
        Ok(r) => {
            let line = r.position().map(|p| lines.of(p.byte())).unwrap_or(0);
            Ok((line, r.iter().map(|f| Cell::Text(f.to_string())).collect()))
        }
        Err(e) => {
            let line = e.position().map(|p| lines.of(p.byte())).unwrap_or(0);
            Err(Problem { line, column: None, what: format!("cannot be read as CSV: {e}") })
        }
    });
    read_records(records, layout)
}

/// Read a values workbook (`.xlsx`): its first sheet, laid out as a values CSV.
pub fn read_workbook(bytes: &[u8]) -> (Vec<Row>, Vec<Problem>) {
    match spreadsheet::xlsx_rows(bytes) {
        Ok(rows) => read_records(rows.into_iter().map(Ok), Layout { decimals: Decimals::Point, separator: None }),
        Err(p) => (vec![], vec![p]),
    }
}

/// A cell as text: text as it is (not copied), a workbook's number as its exact decimal.
fn cell_text(cell: &Cell) -> Result<std::borrow::Cow<'_, str>, String> {
    match cell {
        Cell::Text(s) => Ok(std::borrow::Cow::Borrowed(s)),
        Cell::Number(x) => spreadsheet::double(*x).map(|n| std::borrow::Cow::Owned(n.to_string())),
        Cell::Other(what) => Err(format!("is {what}")),
    }
}

fn is_blank(cell: &Cell) -> bool {
    matches!(cell, Cell::Text(s) if s.trim().is_empty())
}

fn read_records(mut records: impl Iterator<Item = Result<(u64, Vec<Cell>), Problem>>, layout: Layout) -> (Vec<Row>, Vec<Problem>) {
    let mut problems = Vec::new();
    let (header_line, header) = match records.next() {
        Some(Ok((line, h))) => (line, h),
        Some(Err(mut p)) => {
            p.what = format!("cannot read the header: {}", p.what);
            return (vec![], vec![p]);
        }
        None => {
            return (
                vec![],
                vec![Problem { line: 1, column: None, what: "the file is empty: it needs a header line such as key,period,actual".into() }],
            )
        }
    };
    // Spreadsheets often carry empty columns after the last one used.
    let used = header.len() - header.iter().rev().take_while(|c| is_blank(c)).count();
    let header: Vec<String> = header[..used].iter().map(|c| cell_text(c).map(|t| t.into_owned()).unwrap_or_default()).collect();
    // Map each column to what it sets.
    enum Col {
        Key,
        Period,
        Value(&'static str),
        Ignored,
    }
    let mut cols = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim().to_ascii_lowercase();
        if let Some(first) = seen.insert(name.clone(), i + 1) {
            problems.push(Problem {
                line: header_line,
                column: Some(crate::domain::num::echo(raw.trim())),
                what: format!("appears twice (columns {first} and {})", i + 1),
            });
        }
        cols.push(match name.as_str() {
            "key" => Col::Key,
            "period" => Col::Period,
            n if INFORMATION_COLUMNS.contains(&n) => Col::Ignored,
            n => match VALUE_COLUMNS.iter().find(|c| **c == n) {
                Some(c) => Col::Value(c),
                None => {
                    problems.push(Problem {
                        line: header_line,
                        column: Some(if raw.trim().is_empty() { format!("{}", i + 1) } else { crate::domain::num::echo(raw.trim()) }),
                        what: format!(
                            "is not a column keel knows{}: use key, period and any of {}",
                            layout.separated(),
                            VALUE_COLUMNS.join(", ")
                        ),
                    });
                    Col::Ignored
                }
            },
        });
    }
    for required in ["key", "period"] {
        if !seen.contains_key(required) {
            problems.push(Problem {
                line: header_line,
                column: None,
                what: format!("the header has no '{required}' column{}", layout.separated()),
            });
        }
    }
    if !cols.iter().any(|c| matches!(c, Col::Value(_))) {
        problems.push(Problem {
            line: header_line,
            column: None,
            what: format!("the header names nothing to set: add any of {}", VALUE_COLUMNS.join(", ")),
        });
    }
    if !problems.is_empty() {
        return (vec![], problems);
    }
    let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    let mut first_line: HashMap<(ItemKey, Period), u64> = HashMap::new();
    for record in records {
        let (line, mut record) = match record {
            Ok(r) => r,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        if record.iter().all(is_blank) {
            continue;
        }
        // Empty cells after the last column are what a spreadsheet leaves; anything else is not.
        while record.len() > cols.len() && record.last().is_some_and(is_blank) {
            record.pop();
        }
        if record.len() != cols.len() {
            problems.push(Problem {
                line,
                column: None,
                what: format!("has {} fields but the header has {}{}", record.len(), cols.len(), layout.separated()),
            });
            continue;
        }
        let before = problems.len();
        let (mut key, mut period, mut cells) = (None, None, Vec::new());
        for (i, ((col, name), cell)) in cols.iter().zip(&names).zip(record.iter()).enumerate() {
            if matches!(col, Col::Ignored) {
                continue;
            }
            // The column's name for a problem, made only when there is one (most cells have none).
            let bad = |what: String| Problem {
                line,
                column: Some(match layout.separator {
                    Some(_) => name.clone(),
                    None => format!("{name} (cell {}{line})", spreadsheet::column_letters(i)),
                }),
                what,
            };
            let v = match cell_text(cell) {
                Ok(v) => v,
                Err(why) => {
                    problems.push(bad(why));
                    continue;
                }
            };
            let v = v.trim();
            match col {
                Col::Key => match ItemKey::parse(v) {
                    Ok(k) if !k.kind.has_values() => {
                        problems.push(bad(format!("{k} ({}) has no values per period: only measures, key results and KPIs do", k.kind)))
                    }
                    Ok(k) => key = Some(k),
                    Err(e) => problems.push(bad(if v.is_empty() { "is empty: every row needs an item key".into() } else { e.to_string() })),
                },
                Col::Period => match Period::parse(v) {
                    Ok(p) => period = Some(p),
                    Err(e) => problems.push(bad(if v.is_empty() { "is empty: every row needs a period".into() } else { e.to_string() })),
                },
                Col::Value(_) if v.is_empty() => {}
                Col::Value("comment") => {
                    let text = unneutralise(v).replace("\r\n", "\n");
                    match crate::domain::text_check::free_text(&text) {
                        Err(why) => problems.push(bad(why)),
                        Ok(()) => cells.push(("comment", text)),
                    }
                }
                Col::Value(field) => {
                    let parsed = match cell {
                        Cell::Number(_) => Num::parse(v).map_err(|e| e.to_string()),
                        _ => spreadsheet::number(v, layout.decimals),
                    };
                    match parsed {
                        Ok(n) if *field == "confidence" && crate::domain::text_check::confidence(n).is_err() => {
                            problems.push(bad(crate::domain::text_check::confidence(n).unwrap_err()))
                        }
                        Ok(n) => cells.push((field, n.to_string())),
                        Err(e) => problems.push(bad(e)),
                    }
                }
                Col::Ignored => {}
            }
        }
        if problems.len() > before {
            continue;
        }
        let (Some(key), Some(period)) = (key, period) else { continue };
        if let Some(first) = first_line.insert((key.clone(), period), line) {
            problems.push(Problem {
                line,
                column: None,
                what: format!("{key} {period} is already set on line {first}: give each item and period once"),
            });
            continue;
        }
        // A row whose value cells are all empty sets nothing (an exported row of cleared values).
        rows.push(Row { line, key, period, cells });
    }
    problems.sort_by_key(|p| p.line);
    (rows, problems)
}

/// Make a text cell safe to open in a spreadsheet (it stays text, never a formula).
pub fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub(crate) fn text(s: Option<&str>) -> String {
    s.map(neutralise).unwrap_or_default()
}

pub(crate) fn number(n: Option<Num>) -> String {
    n.map(|x| x.to_string()).unwrap_or_default()
}

fn finish(w: ::csv::Writer<Vec<u8>>) -> anyhow::Result<String> {
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("cannot write CSV: {e}"))?;
    Ok(String::from_utf8(bytes)?)
}

/// The items export: one row per objective, key result, KPI, node and measure.
pub fn items_csv(rows: &[ItemRow]) -> anyhow::Result<String> {
    let mut w = items_writer(Vec::new())?;
    for r in rows {
        write_item_row(&mut w, r)?;
    }
    finish(w)
}

/// One row of the values export.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ValueLine {
    pub key: String,
    pub kind: String,
    pub title: String,
    pub period: String,
    pub baseline: Option<Num>,
    pub planned: Option<Num>,
    pub forecast: Option<Num>,
    pub actual: Option<Num>,
    pub confidence: Option<Num>,
    pub comment: Option<String>,
    pub by: String,
    pub at: String,
}

/// Every value of the file, in the plan's order, with each item's kind and title, gathered in
/// memory (`keel export` streams them instead: [`super::export_out`]).
pub fn value_lines(store: &crate::store::Store) -> anyhow::Result<Vec<ValueLine>> {
    let mut out = Vec::new();
    store.export_values_paged(crate::store::plan::EXPORT_PAGE, true, &mut |v| {
        out.push(value_line(v.value, v.title));
        Ok(())
    })?;
    Ok(out)
}

/// The values export's rows for some values of a plan (`titles` by key).
pub fn value_lines_of(values: Vec<crate::domain::plan::Value>, titles: &BTreeMap<String, String>) -> Vec<ValueLine> {
    values
        .into_iter()
        .map(|v| {
            let title = titles.get(&v.item).map(String::as_str).unwrap_or_default();
            value_line(v, title)
        })
        .collect()
}

/// The values export's row of one value of an item titled `title`.
pub fn value_line(v: crate::domain::plan::Value, title: &str) -> ValueLine {
    ValueLine {
        kind: ItemKey::parse(&v.item).map(|k| k.kind.as_str().to_string()).unwrap_or_default(),
        title: title.to_string(),
        key: v.item,
        period: v.period,
        baseline: v.baseline,
        planned: v.planned,
        forecast: v.forecast,
        actual: v.actual,
        confidence: v.confidence,
        comment: v.comment,
        by: v.by,
        at: v.at,
    }
}

/// The values export; its columns are the import's, so an edited copy can be imported back.
pub fn values_csv(rows: &[ValueLine]) -> anyhow::Result<String> {
    let mut w = values_writer(Vec::new())?;
    for r in rows {
        write_value_line(&mut w, r)?;
    }
    finish(w)
}

/// A CSV writer for the values export, its header written.
pub fn values_writer<W: std::io::Write>(out: W) -> Result<::csv::Writer<W>, ::csv::Error> {
    let mut w = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(out);
    w.write_record(["key", "period", "planned", "forecast", "actual", "comment", "baseline", "confidence", "kind", "title", "by", "at"])?;
    Ok(w)
}

/// One row of the values export.
pub fn write_value_line<W: std::io::Write>(w: &mut ::csv::Writer<W>, r: &ValueLine) -> Result<(), ::csv::Error> {
    w.write_record([
        r.key.clone(),
        r.period.clone(),
        number(r.planned),
        number(r.forecast),
        number(r.actual),
        text(r.comment.as_deref()),
        number(r.baseline),
        number(r.confidence),
        r.kind.clone(),
        neutralise(&r.title),
        text(Some(&r.by)),
        r.at.clone(),
    ])
}

/// How a value cell reads now, for the import's comparison and the dry run's listing.
pub fn cell_of(v: Option<&crate::domain::plan::Value>, field: &str) -> Option<String> {
    let v = v?;
    match field {
        "planned" => v.planned.map(|n| n.to_string()),
        "forecast" => v.forecast.map(|n| n.to_string()),
        "actual" => v.actual.map(|n| n.to_string()),
        "baseline" => v.baseline.map(|n| n.to_string()),
        "confidence" => v.confidence.map(|n| n.to_string()),
        "comment" => v.comment.clone(),
        _ => None,
    }
}

/// Would writing `new` leave the cell as it is? Numbers compare by value, text exactly.
pub fn same(field: &str, old: Option<&str>, new: &str) -> bool {
    match old {
        None => false,
        Some(o) if field == "comment" => o == new,
        Some(o) => o == new || matches!((Num::from_stored(o), Num::from_stored(new)), (Some(a), Some(b)) if a == b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bom_crlf_and_any_header_case() {
        let rows =
            parse_values("\u{feff}Key,PERIOD,Actual,Comment\r\nM-1,2026-W48,-1200.50,late invoice\r\n\r\nKR-2,2026-11,,\"a, b\"\r\n")
                .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].cells, vec![("actual", "-1200.50".to_string()), ("comment", "late invoice".to_string())]);
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].cells, vec![("comment", "a, b".to_string())]);
        // A quoted cell over two lines: the next row still has its own line number.
        let rows = parse_values("key,period,comment\r\nM-1,2026-W01,\"two\r\nlines\"\r\nM-2,2026-W01,x\r\n").unwrap();
        assert_eq!((rows[0].line, rows[1].line), (2, 4));
        assert_eq!(rows[0].cells, vec![("comment", "two\nlines".to_string())]);
    }

    #[test]
    fn reports_every_problem_with_line_and_column() {
        let text = "key,period,actual\nM-1,2026-W48,12,5\nM-1,2026-W48,1e3\nX-1,2026-W99,1.2x\nO-1,2026-W01,1\nM-2,2026-W01,\nM-3,2026-W02,1\nM-3,2026-W02,2\n";
        let problems = parse_values(text).unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(shown[0].starts_with("line 2: has 4 fields"), "{shown:?}");
        assert!(shown[1].starts_with("line 3, column actual: '1e3' is not a number"), "{shown:?}");
        assert!(shown.iter().any(|s| s.starts_with("line 4, column key:")), "{shown:?}");
        assert!(shown.iter().any(|s| s.starts_with("line 4, column period:")), "{shown:?}");
        assert!(shown.iter().any(|s| s.starts_with("line 4, column actual:")), "{shown:?}");
        assert!(shown.iter().any(|s| s.starts_with("line 5, column key: O-1 (objective) has no values")), "{shown:?}");
        assert!(!shown.iter().any(|s| s.starts_with("line 6")), "an empty row sets nothing and is no problem: {shown:?}");
        assert!(shown.iter().any(|s| s.starts_with("line 8: M-3 2026-W02 is already set on line 7")), "{shown:?}");
    }

    #[test]
    fn lines_stay_right_over_many_rows_of_every_line_end() {
        // Rows of one line and of three (a quoted comment over two lines), CRLF: the line of each
        // row is counted as the reader goes, never from the start again.
        let mut text = String::from("key,period,actual,comment\r\n");
        let mut expected = Vec::new();
        let mut line = 2;
        for i in 1..=3000u32 {
            expected.push(line);
            if i % 7 == 0 {
                text.push_str(&format!("M-{i},2026-W01,{i},\"two\r\nlines\"\r\n"));
                line += 2;
            } else {
                text.push_str(&format!("M-{i},2026-W01,{i},\r\n"));
                line += 1;
            }
        }
        let rows = parse_values(&text).unwrap();
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), expected);
        let bad = text.replace("M-2999,2026-W01,2999", "M-2999,2026-W01,x");
        assert_eq!(parse_values(&bad).unwrap_err()[0].line, expected[2998]);
    }

    #[test]
    fn a_semicolon_header_makes_decimal_commas_and_trailing_empty_columns_are_dropped() {
        let rows = parse_values("key;period;actual;comment;;\nM-1;2026-W01;1.234,5;a, b;;\n").unwrap();
        assert_eq!(rows[0].cells, vec![("actual", "1234.5".to_string()), ("comment", "a, b".to_string())]);
        let p = parse_values("key;period;actual\nM-1;2026-W01;1;x\n").unwrap_err();
        assert!(p[0].what.contains("separated by ';'"), "{p:?}");
    }

    #[test]
    fn refuses_unknown_or_missing_columns() {
        let p = parse_values("key,when,actuals\n").unwrap_err();
        assert!(p.iter().any(|p| p.column.as_deref() == Some("actuals")));
        assert!(p.iter().any(|p| p.what.contains("no 'period' column")));
        assert!(parse_values("").is_err());
        assert!(parse_values("key,period,actual,actual\n").unwrap_err()[0].what.contains("twice"));
    }

    #[test]
    fn neutralises_text_but_an_import_reads_it_back() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for s in ["+1", "-1", "@a", "\tx", "\rx"] {
            assert!(neutralise(s).starts_with('\''), "{s:?}");
        }
        assert_eq!(neutralise("plain 'quoted'"), "plain 'quoted'");
        let rows = parse_values("key,period,comment\nM-1,2026-W01,'=1+1\nM-1,2026-W02,'ok\n").unwrap();
        assert_eq!(rows[0].cells[0].1, "=1+1");
        assert_eq!(rows[1].cells[0].1, "'ok");
    }
}
