//! A workbook cell: what kind of figure it holds, and how that kind is written (number format,
//! exact double or text, the totals row's bold top border).

use super::Xl;
use crate::domain::Num;
use crate::store::Result;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Worksheet};

/// One cell of a sheet.
#[derive(Clone)]
pub(super) enum Cell {
    Text(String),
    /// Money: `#,##0.00`.
    Money(Num),
    /// A metric (key result or KPI value): `#,##0.00##`.
    Metric(Num),
    /// A share shown as a percentage: `0.0#%` (rounded to six decimals; two decimals of a
    /// percentage, so a 19.99% variance does not read as the 20% steering threshold).
    Percent(Num),
    /// A grade 0–1: `0.00` (rounded to six decimals).
    Grade(Num),
    Int(i64),
    /// A calendar date: `yyyy-mm-dd`.
    Date(NaiveDate),
    Empty,
}

use Cell::*;

/// Stored text for a cell, control characters escaped (they would not survive as XML either).
pub(super) fn text(s: impl Into<String>) -> Cell {
    Text(crate::io::text::printable(s.into()))
}

pub(super) fn opt_text(s: Option<&str>) -> Cell {
    s.map(text).unwrap_or(Empty)
}

/// A date cell from stored text (`2026-11-26` or a timestamp starting with one); text otherwise.
pub(super) fn date(s: &str) -> Cell {
    let day = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map(Date).unwrap_or_else(|_| text(s))
}

pub(super) fn opt_date(s: Option<&str>) -> Cell {
    s.map(date).unwrap_or(Empty)
}

pub(super) fn opt(n: Option<Num>, make: fn(Num) -> Cell) -> Cell {
    n.map(make).unwrap_or(Empty)
}

/// The double for a decimal, if it holds the decimal exactly as written (see the module note).
pub fn exact_f64(n: Num) -> Option<f64> {
    let f: f64 = n.to_string().parse().ok()?;
    let back = Num::from_stored(&format!("{f}"))?;
    (f.is_finite() && back == n).then_some(f)
}

pub(super) struct Formats {
    pub(super) header: Format,
    money: Format,
    metric: Format,
    percent: Format,
    grade: Format,
    int: Format,
    date: Format,
    wrap: Format,
    total: Format,
    total_money: Format,
}

impl Formats {
    pub(super) fn new(currency: Option<&str>) -> Formats {
        // The code is three capital letters (checked when set), safe inside a quoted literal.
        let money = match currency {
            Some(c) => format!("#,##0.00 \"{c}\""),
            None => "#,##0.00".to_string(),
        };
        Formats {
            header: Format::new().set_bold().set_background_color("F2F4F7").set_align(FormatAlign::Top).set_text_wrap(),
            money: Format::new().set_num_format(&money),
            metric: Format::new().set_num_format("#,##0.00##"),
            percent: Format::new().set_num_format("0.0#%"),
            grade: Format::new().set_num_format("0.00"),
            int: Format::new().set_num_format("0"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            total: Format::new().set_bold().set_border_top(FormatBorder::Thin),
            total_money: Format::new().set_num_format(&money).set_bold().set_border_top(FormatBorder::Thin),
        }
    }
}

/// Write one cell at row `r`, column `c`; `total` for a totals row (bold, a rule above).
pub(super) fn write_cell(ws: &mut Worksheet, f: &Formats, r: u32, c: u16, cell: &Cell, total: bool) -> Result<()> {
    let number = |n: &Num, fmt: &Format, ws: &mut Worksheet| -> Result<()> {
        match exact_f64(*n) {
            Some(x) => ws.write_number_with_format(r, c, x, fmt).xl().map(|_| ()),
            None => ws.write_string(r, c, n.to_string()).xl().map(|_| ()),
        }
    };
    match cell {
        Text(s) if total => ws.write_string_with_format(r, c, s, &f.total).xl().map(|_| ())?,
        Text(s) if s.len() > 60 => ws.write_string_with_format(r, c, s, &f.wrap).xl().map(|_| ())?,
        Text(s) => ws.write_string(r, c, s).xl().map(|_| ())?,
        Money(n) => number(n, if total { &f.total_money } else { &f.money }, ws)?,
        Metric(n) => number(n, &f.metric, ws)?,
        // Derived ratios (progress, scores, variances) carry up to 28 decimals: six suffice.
        Percent(n) => number(&n.round_dp(6), &f.percent, ws)?,
        Grade(n) => number(&n.round_dp(6), &f.grade, ws)?,
        Int(i) => ws.write_number_with_format(r, c, *i as f64, &f.int).xl().map(|_| ())?,
        Date(d) => {
            let day = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).xl()?;
            ws.write_datetime_with_format(r, c, &day, &f.date).xl().map(|_| ())?
        }
        Empty if total => ws.write_blank(r, c, &f.total).xl().map(|_| ())?,
        Empty => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_go_through_their_text_and_refuse_lossy_doubles() {
        let n = |s: &str| Num::parse(s).unwrap();
        assert_eq!(exact_f64(n("-1200")), Some(-1200.0));
        assert_eq!(exact_f64(n("0.1")), Some(0.1));
        assert_eq!(exact_f64(n("151220.50")), Some(151220.5));
        assert_eq!(exact_f64(n("12345678901234567.89")), None, "beyond a double: written as text");
    }
}
