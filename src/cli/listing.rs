//! The one way listings are printed (`keel list`, `escalations`, `log`, `changes`, `gate
//! --pending`, `cycle list`): `--format table` for people, `csv` for a spreadsheet (text cells
//! neutralised against formulas as the exports are, numbers left as numbers), `json` for scripts
//! (each command's rows as they serialise).

use crate::io::csv::neutralise;
use crate::tui::view::{fit, width_of};
use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum ListFormat {
    /// Aligned columns for reading (`text` is the same).
    #[default]
    #[value(alias = "text")]
    Table,
    /// One header line, then one line per row; safe to open in a spreadsheet.
    Csv,
    /// A JSON list of rows.
    Json,
}

/// One cell of a listing: text (escaped on screen, neutralised in CSV) or a number (as it is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Number(String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn opt(s: Option<impl Into<String>>) -> Cell {
        Cell::Text(s.map(Into::into).unwrap_or_default())
    }
    pub fn number(n: impl ToString) -> Cell {
        Cell::Number(n.to_string())
    }
    pub fn opt_number(n: Option<impl ToString>) -> Cell {
        Cell::Number(n.map(|n| n.to_string()).unwrap_or_default())
    }
    fn as_str(&self) -> &str {
        match self {
            Cell::Text(s) | Cell::Number(s) => s,
        }
    }
}

/// Rows a listing prints: its column names and each row's cells, in that order.
pub trait Listing: Serialize {
    fn columns() -> &'static [&'static str];
    fn cells(&self) -> Vec<Cell>;
}

/// The rows as aligned columns (numbers to the right), control characters escaped, each cell
/// at most 40 columns wide.
pub fn table<T: Listing>(rows: &[T]) -> String {
    const MAX: usize = 40;
    let cols = T::columns();
    let cells: Vec<Vec<(String, bool)>> = rows
        .iter()
        .map(|r| {
            r.cells()
                .into_iter()
                .map(|c| {
                    let number = matches!(c, Cell::Number(_));
                    (fit(&crate::domain::text_check::printable(c.as_str()), MAX), number)
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..cols.len())
        .map(|i| cells.iter().filter_map(|r| r.get(i)).map(|(s, _)| width_of(s)).max().unwrap_or(0).max(width_of(cols[i])))
        .collect();
    let mut out = String::new();
    let line = |out: &mut String, row: Vec<(String, bool)>| {
        let mut l = String::new();
        for (i, (s, number)) in row.into_iter().enumerate() {
            let pad = widths[i].saturating_sub(width_of(&s));
            if i > 0 {
                l.push_str("  ");
            }
            if number {
                l.push_str(&" ".repeat(pad));
                l.push_str(&s);
            } else {
                l.push_str(&s);
                l.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, cols.iter().map(|c| (c.to_string(), false)).collect());
    for row in cells {
        line(&mut out, row);
    }
    out
}

/// The rows as CSV with a header line (CRLF, as the exports): text cells neutralised.
pub fn csv<T: Listing>(rows: &[T]) -> Result<String> {
    let mut w = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(T::columns())?;
    for r in rows {
        w.write_record(r.cells().iter().map(|c| match c {
            Cell::Text(s) => neutralise(s),
            Cell::Number(s) => s.clone(),
        }))?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("cannot write CSV: {e}"))?;
    Ok(String::from_utf8(bytes)?)
}

/// Print rows in a format. `table` is the listing's own text when it has one people already
/// know (the escalations table), else the generic table; `empty` is said instead of a table
/// with no rows.
pub fn print<T: Listing>(format: ListFormat, rows: &[T], table_text: Option<String>, empty: &str) -> Result<()> {
    match format {
        ListFormat::Json => println!("{}", serde_json::to_string_pretty(rows)?),
        ListFormat::Csv => print!("{}", csv(rows)?),
        ListFormat::Table => match table_text {
            Some(t) => print!("{t}"),
            None if rows.is_empty() => println!("{empty}"),
            None => print!("{}", table(rows)),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct R {
        name: String,
        amount: String,
    }

    impl Listing for R {
        fn columns() -> &'static [&'static str] {
            &["name", "amount"]
        }
        fn cells(&self) -> Vec<Cell> {
            vec![Cell::text(&self.name), Cell::number(&self.amount)]
        }
    }

    fn rows() -> Vec<R> {
        vec![R { name: "=HYPERLINK(\"x\")".into(), amount: "-1200.50".into() }, R { name: "bell\u{7}".into(), amount: "3".into() }]
    }

    #[test]
    fn csv_neutralises_text_but_not_numbers() {
        let text = csv(&rows()).unwrap();
        assert_eq!(text, "name,amount\r\n\"'=HYPERLINK(\"\"x\"\")\",-1200.50\r\nbell\u{7},3\r\n");
    }

    #[test]
    fn the_table_aligns_numbers_right_and_escapes_control_characters() {
        let t = table(&rows());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("name"), "{t}");
        assert!(lines[2].contains("\\u{7}"), "the bell is shown, not rung: {t}");
        assert!(lines[1].ends_with("-1200.50") && lines[2].ends_with("       3"), "{t}");
    }
}
