//! What a value source gives, read strictly: rows of period, actual and (optionally) forecast,
//! from a command's output (CSV with a header, or JSON), a CSV file with a column mapping, or the
//! cells of an SQL query. One bad row refuses them all: a source that prints garbage changes
//! nothing.

use crate::domain::{Num, Period};
use std::collections::BTreeMap;

/// One period's numbers from a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRow {
    pub period: Period,
    pub actual: Option<Num>,
    pub forecast: Option<Num>,
}

/// At most this many rows from one source (a runaway query is not a reporting history).
pub const MAX_ROWS: usize = 10_000;

/// Check one row's cells; `at` names it in the error ("row 3").
pub fn row(at: &str, period: Option<&str>, actual: Option<&str>, forecast: Option<&str>) -> Result<SourceRow, String> {
    let period = period.map(str::trim).filter(|p| !p.is_empty()).ok_or_else(|| format!("{at}: no period"))?;
    let period = Period::parse(period).map_err(|e| format!("{at}: period: {e}"))?;
    let number = |field: &str, v: Option<&str>| -> Result<Option<Num>, String> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => Num::parse(s).map(Some).map_err(|e| format!("{at}: {field}: {e}")),
        }
    };
    let (actual, forecast) = (number("actual", actual)?, number("forecast", forecast)?);
    if actual.is_none() && forecast.is_none() {
        return Err(format!("{at}: neither an actual nor a forecast"));
    }
    Ok(SourceRow { period, actual, forecast })
}

fn finish(rows: Vec<SourceRow>) -> Result<Vec<SourceRow>, String> {
    if rows.is_empty() {
        return Err("gave no rows".into());
    }
    if rows.len() > MAX_ROWS {
        return Err(format!("gave {} rows, more than {MAX_ROWS}", rows.len()));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = rows.iter().find(|r| !seen.insert(r.period)) {
        return Err(format!("gave {} twice", dup.period));
    }
    Ok(rows)
}

/// A command's standard output: JSON (a list of objects with period, actual, forecast, or an
/// object with such a list under "values") or CSV whose header names the columns.
pub fn from_output(bytes: &[u8]) -> Result<Vec<SourceRow>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "printed something that is not UTF-8 text".to_string())?;
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return Err("printed nothing".into());
    }
    if t.starts_with('[') || t.starts_with('{') {
        from_json(t)
    } else {
        let map: BTreeMap<String, String> = ["period", "actual", "forecast"].iter().map(|c| (c.to_string(), c.to_string())).collect();
        from_csv(t.as_bytes(), &map, true)
    }
}

fn from_json(t: &str) -> Result<Vec<SourceRow>, String> {
    let v: serde_json::Value = serde_json::from_str(t).map_err(|e| format!("printed JSON keel cannot read: {e}"))?;
    let list = match &v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(o) => {
            o.get("values").and_then(|v| v.as_array()).ok_or("printed a JSON object without a \"values\" list")?
        }
        _ => return Err("printed JSON that is not a list of rows".into()),
    };
    let cell = |o: &serde_json::Map<String, serde_json::Value>, k: &str| -> Result<Option<String>, String> {
        match o.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!("{k} is {other}, not a number or text")),
        }
    };
    let rows = list
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = format!("row {}", i + 1);
            let o = r.as_object().ok_or_else(|| format!("{at}: not an object"))?;
            let c = |k: &str| cell(o, k).map_err(|e| format!("{at}: {e}"));
            row(&at, c("period")?.as_deref(), c("actual")?.as_deref(), c("forecast")?.as_deref())
        })
        .collect::<Result<Vec<_>, _>>()?;
    finish(rows)
}

/// CSV with a header; `map` names the columns (by header, any case, or by number from 1) that
/// hold period, actual and forecast. `optional_actual`: the actual column may be missing when a
/// forecast is given (a command's output names its own columns).
pub fn from_csv(bytes: &[u8], map: &BTreeMap<String, String>, optional_actual: bool) -> Result<Vec<SourceRow>, String> {
    let mut r = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let header: Vec<String> =
        r.headers().map_err(|e| format!("its header cannot be read: {e}"))?.iter().map(|h| h.trim().to_lowercase()).collect();
    for k in map.keys() {
        if !matches!(k.as_str(), "period" | "actual" | "forecast") {
            return Err(format!("the mapping names '{k}': use period, actual and forecast"));
        }
    }
    let column = |field: &str, required: bool| -> Result<Option<usize>, String> {
        let Some(name) = map.get(field) else { return Ok(None) };
        let wanted = name.trim().to_lowercase();
        let found = header
            .iter()
            .position(|h| *h == wanted)
            .or_else(|| wanted.parse::<usize>().ok().filter(|n| *n >= 1 && *n <= header.len()).map(|n| n - 1));
        match found {
            Some(i) => Ok(Some(i)),
            None if !required => Ok(None),
            None => Err(format!("has no column '{name}' for {field} (its header: {})", header.join(", "))),
        }
    };
    let period = column("period", true)?.expect("period is mapped");
    let actual = column("actual", !optional_actual)?;
    let forecast = column("forecast", false)?;
    if actual.is_none() && forecast.is_none() {
        return Err(format!("has neither an actual nor a forecast column (its header: {})", header.join(", ")));
    }
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let at = format!("row {}", i + 2);
        let rec = rec.map_err(|e| format!("{at}: {e}"))?;
        rows.push(row(&at, rec.get(period), actual.and_then(|c| rec.get(c)), forecast.and_then(|c| rec.get(c)))?);
        if rows.len() > MAX_ROWS {
            break;
        }
    }
    finish(rows)
}

/// The cells of an SQL query: period, actual and (when there is a third column) forecast.
pub fn from_cells(cells: Vec<Vec<Option<String>>>) -> Result<Vec<SourceRow>, String> {
    let rows = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let get = |n: usize| c.get(n).cloned().flatten();
            row(&format!("row {}", i + 1), get(0).as_deref(), get(1).as_deref(), get(2).as_deref())
        })
        .collect::<Result<Vec<_>, _>>()?;
    finish(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_output_read_alike() {
        let csv = from_output(b"period,actual,forecast\n2026-W46,84.5,85\n2026-W47,83,\n").unwrap();
        let json = from_output(br#"[{"period":"2026-W46","actual":84.5,"forecast":"85"},{"period":"2026-W47","actual":"83"}]"#).unwrap();
        assert_eq!(csv, json);
        assert_eq!(csv[1].forecast, None);
        assert_eq!(csv[0].actual, Num::parse("84.5").ok());
        assert_eq!(from_output(br#"{"values":[{"period":"2026-11","forecast":1}]}"#).unwrap().len(), 1);
    }

    #[test]
    fn garbage_is_refused_whole() {
        for (bad, why) in [
            (&b"hello world"[..], "no column"),
            (b"period,actual\n2026-W46,lots\n", "row 2: actual"),
            (b"period,actual\n2026-W99,1\n", "row 2: period"),
            (b"period,actual\n", "no rows"),
            (b"", "printed nothing"),
            (b"\xff\xfe", "not UTF-8"),
            (b"[{\"period\":\"2026-W46\",\"actual\":[1]}]", "not a number"),
            (b"[1,2]", "not an object"),
            (b"{\"a\":1}", "values"),
            (b"period,actual\n2026-W46,1\n2026-W46,2\n", "twice"),
            (b"period,actual\n2026-W46,1,9\n", "row"),
        ] {
            let e = from_output(bad).unwrap_err();
            assert!(e.contains(why), "{:?}: {e}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_csv_file_is_read_through_its_mapping() {
        let map: BTreeMap<String, String> =
            [("period", "Week"), ("actual", "Renewals"), ("forecast", "4")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let rows = from_csv(b"Week,Region,Renewals,Outlook\n2026-W46,EU,84,85\n", &map, false).unwrap();
        assert_eq!(rows[0].forecast, Num::parse("85").ok());
        let map: BTreeMap<String, String> =
            [("period", "Week"), ("actual", "Nope")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert!(from_csv(b"Week,Renewals\n2026-W46,84\n", &map, false).unwrap_err().contains("no column 'Nope'"));
    }
}
