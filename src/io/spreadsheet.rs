//! Values files as spreadsheets write them: the text encoding (UTF-8 with or without a BOM,
//! UTF-16 with a BOM), the separator (`,` or `;`, told from the header), decimal commas where the
//! separator is `;` (what European Excel writes: `1.234,56`), Old-Mac CR line ends, and `.xlsx`
//! workbooks read directly.
//!
//! Numbers stay exact decimals: a text cell is parsed digit by digit. The one float is a workbook's
//! numeric cell, which *is* a binary double: it is taken as its shortest round-trip decimal, and
//! refused when that needs more than 15 significant digits (beyond what a double holds exactly).

use super::csv::Problem;
use crate::domain::Num;

/// How a file writes the decimal point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decimals {
    /// `1234.56` (a `,`-separated file, a workbook's text cells).
    Point,
    /// `1234,56` or `1.234,56` (a `;`-separated file).
    Comma,
}

/// The separator of a CSV file, told from its header line: `;` when the header has more
/// semicolons than commas outside quotes, else `,`.
pub fn separator(text: &str) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// The decimal style that goes with a separator.
pub fn decimals_for(separator: u8) -> Decimals {
    if separator == b';' {
        Decimals::Comma
    } else {
        Decimals::Point
    }
}

/// The file's bytes as text: UTF-8 (a BOM is dropped) or UTF-16 LE/BE with its BOM. Old-Mac
/// files, whose lines end in a lone CR, get LF line ends so that lines are counted as people see them.
pub fn decode(bytes: &[u8]) -> Result<String, Problem> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, u16::from_be_bytes)?
    } else {
        let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + good.iter().filter(|b| **b == b'\n').count() as u64;
            Problem {
                line,
                column: None,
                what: "is not UTF-8 text: save the file as \"CSV UTF-8\" (or UTF-16 with a byte order mark)".into(),
            }
        })?
    };
    Ok(if text.contains('\r') && !text.contains('\n') { text.replace('\r', "\n") } else { text })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, Problem> {
    let bad = |what: &str| Problem { line: 1, column: None, what: what.into() };
    if !bytes.len().is_multiple_of(2) {
        return Err(bad("is cut short: UTF-16 text needs an even number of bytes"));
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    String::from_utf16(&units).map_err(|_| {
        // Name the line of the first bad unit.
        let good = char::decode_utf16(units.iter().copied()).take_while(Result::is_ok).filter(|c| *c == Ok('\n')).count();
        Problem { line: 1 + good as u64, column: None, what: "is not valid UTF-16 text".into() }
    })
}

/// A number cell of a CSV file, written as the file's separator implies.
pub fn number(cell: &str, decimals: Decimals) -> Result<Num, String> {
    let v = cell.trim();
    match decimals {
        Decimals::Point => Num::parse(v).map_err(|e| {
            if v.contains(',') {
                format!("'{}' is not a number: in a file separated by ',' the decimal point is '.' (1234.56), with no thousands separators", crate::domain::num::echo(v))
            } else {
                e.to_string()
            }
        }),
        Decimals::Comma => Num::parse(&comma_to_point(v).ok_or_else(|| {
            format!(
                "'{}' is not a number: in a file separated by ';' the decimal separator is ',' and '.' groups thousands (1.234,56 or 1234,56)",
                crate::domain::num::echo(v)
            )
        })?)
        .map_err(|e| e.to_string()),
    }
}

/// `-1.234,56` → `-1234.56`; `.` only as a thousands separator in groups of three.
fn comma_to_point(v: &str) -> Option<String> {
    let (sign, body) = match v.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", v.strip_prefix('+').unwrap_or(v)),
    };
    let (int, frac) = match body.split_once(',') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let groups: Vec<&str> = int.split('.').collect();
    let grouped_right = groups.len() == 1 || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped_right || frac.is_some_and(|f| f.contains(['.', ','])) {
        return None;
    }
    let int: String = groups.concat();
    Some(match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    })
}

/// A workbook's numeric cell as the shortest decimal that reads back as the same double, if it
/// has at most 15 significant digits (what a double keeps exactly).
pub fn double(x: f64) -> Result<Num, String> {
    if !x.is_finite() {
        return Err(format!("{x} is not a number keel can store"));
    }
    // Rust prints a double as its shortest round-trip decimal, without an exponent.
    let s = format!("{x}");
    let digits = s.trim_start_matches('-').replace('.', "");
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    if significant > 15 {
        return Err(format!(
            "{s} has {significant} significant digits, more than a spreadsheet's number keeps exactly (15): \
             format the cell as text with the exact value"
        ));
    }
    Num::parse(&s).map_err(|e| e.to_string())
}

/// The column letters of a 0-based column (0 → A, 27 → AB).
pub fn column_letters(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// One cell of a workbook, as text a values file holds: text exactly, numbers as exact decimals.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// Anything else (a date, a boolean, an error): what it is, for the refusal.
    Other(String),
}

/// The first sheet of a workbook, row by row (1-based row numbers, as the spreadsheet shows them).
pub fn xlsx_rows(bytes: &[u8]) -> Result<Vec<(u64, Vec<Cell>)>, Problem> {
    use calamine::{Data, Reader};
    let bad = |what: String| Problem { line: 1, column: None, what };
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| bad(format!("cannot be read as an .xlsx workbook ({e}): save it again as an Excel workbook, or as CSV")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad("the workbook has no sheet".into()))?
        .map_err(|e| bad(format!("cannot read the first sheet: {e}")))?;
    let first_row = range.start().map(|(r, _)| r as u64).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let mut cells = vec![Cell::Text(String::new()); first_col];
        cells.extend(row.iter().map(|d| match d {
            Data::Empty => Cell::Text(String::new()),
            Data::String(s) => Cell::Text(s.clone()),
            Data::Float(f) => Cell::Number(*f),
            Data::Int(n) => Cell::Text(n.to_string()),
            Data::Bool(b) => Cell::Other(format!("a true/false cell ({b})")),
            Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
                Cell::Other("a date cell: write a period as text, such as 2026-W48, 2026-11 or 2026-Q4".into())
            }
            Data::Error(e) => Cell::Other(format!("an error cell ({e})")),
        }));
        rows.push((first_row + i as u64 + 1, cells));
    }
    Ok(rows)
}

/// Does this look like a workbook (a ZIP file) rather than text?
pub fn is_xlsx_bytes(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_is_told_from_the_header_outside_quotes() {
        assert_eq!(separator("key;period;actual\nM-1;2026-W01;1,5"), b';');
        assert_eq!(separator("key,period,actual\n"), b',');
        assert_eq!(separator("\"a;b;c\",key,period\n"), b',');
        assert_eq!(separator("key;period\rM-1;x,y,z,w"), b';');
    }

    #[test]
    fn decimal_commas_only_with_semicolons() {
        let n = |s: &str, d| number(s, d).map(|n| n.to_string());
        assert_eq!(n("1.234,56", Decimals::Comma).unwrap(), "1234.56");
        assert_eq!(n("-12,5", Decimals::Comma).unwrap(), "-12.5");
        assert_eq!(n("1.234", Decimals::Comma).unwrap(), "1234");
        assert_eq!(n("1.234.567,1", Decimals::Comma).unwrap(), "1234567.1");
        assert!(n("1.5", Decimals::Comma).unwrap_err().contains("separated by ';'"));
        assert!(n("12.34,5", Decimals::Comma).is_err());
        assert!(n("1,2,3", Decimals::Comma).is_err());
        assert!(n("12,5", Decimals::Point).unwrap_err().contains("separated by ','"));
        assert_eq!(n("1200.50", Decimals::Point).unwrap(), "1200.50");
    }

    #[test]
    fn a_double_is_its_shortest_decimal_up_to_15_digits() {
        assert_eq!(double(0.1).unwrap().to_string(), "0.1");
        assert_eq!(double(1200.5).unwrap().to_string(), "1200.5");
        assert_eq!(double(-3.0).unwrap().to_string(), "-3");
        assert_eq!(double(123456789012345.0).unwrap().to_string(), "123456789012345");
        assert!(double(0.1 + 0.2).unwrap_err().contains("17 significant digits"));
        assert!(double(1234567890123456.0).is_err());
        assert!(double(f64::NAN).is_err());
    }

    #[test]
    fn utf16_and_boms_and_old_mac_line_ends() {
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain("key,period\n".encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
        assert_eq!(decode(&le).unwrap(), "key,period\n");
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("k;é\n".encode_utf16().flat_map(|u| u.to_be_bytes())).collect();
        assert_eq!(decode(&be).unwrap(), "k;é\n");
        assert_eq!(decode(b"\xEF\xBB\xBFkey\r\nx").unwrap(), "key\r\nx");
        assert_eq!(decode(b"a\rb\rc").unwrap(), "a\nb\nc");
        assert_eq!(decode(b"a\nb\n\xFF").unwrap_err().line, 3);
        assert!(decode(&[0xFF, 0xFE, 0x41]).is_err());
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}
