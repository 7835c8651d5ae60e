//! `keel bench --curve`: the whole bench at 10,000, 100,000 and 1,000,000 measures, one row per
//! size, so how each figure grows with the file can be read down a column (`--json`: an array of
//! the bench's objects). `--curve-up-to N` stops after the last size not above N.

use super::Figures;
use anyhow::Result;

/// The sizes of the curve.
pub const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

/// The columns of the table: what grows with the file. Figures a build does not have are shown
/// as "—" (the JSON has every figure).
pub const COLUMNS: &[(&str, &str)] = &[
    ("measures", "measures"),
    ("load_ratio", "load×"),
    ("open_first_frame_ms", "1st frame ms"),
    ("frame_p99_ms", "frame p99"),
    ("edit_p99_ms", "edit p99"),
    ("check_s", "check s"),
    ("check_ratio", "check×"),
    ("check_cli_s", "cli check s"),
    ("check_peak_rss_mb", "check MB"),
    ("filter_stale_ms", "stale ms"),
    ("search_ms", "search ms"),
    ("app_rss_mb", "app MB"),
    ("peak_rss_mb", "bench MB"),
];

/// Run the bench at every size (`SIZES` when none are given), printing each row as soon as it is measured.
pub fn run(seed: u64, repeat: usize, sizes: &[usize], json: bool) -> Result<Vec<Figures>> {
    let sizes = if sizes.is_empty() { &SIZES[..] } else { sizes };
    let mut rows = Vec::new();
    if !json {
        print!("{}", header());
    }
    for &size in sizes {
        let f = super::run(size, seed, repeat)?;
        if !json {
            print!("{}", row(&f));
        }
        rows.push(f);
    }
    if json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(rows)
}

pub fn header() -> String {
    let mut s: String = COLUMNS.iter().map(|(_, label)| format!("{label:>13}")).collect();
    s.push('\n');
    s
}

pub fn row(f: &Figures) -> String {
    let mut s: String = COLUMNS
        .iter()
        .map(|(name, _)| match f.get(name) {
            Some(v) if *name == "measures" => format!("{v:>13}"),
            Some(v) => format!("{v:>13.2}"),
            None => format!("{:>13}", "—"),
        })
        .collect();
    s.push('\n');
    s
}

/// `keel bench` with its options: the probe of the app's memory, the curve, or one size.
pub fn command(
    measures: usize,
    seed: u64,
    repeat: usize,
    json: bool,
    curve: bool,
    sizes: &[usize],
    probe: Option<&std::path::Path>,
) -> Result<i32> {
    if let Some(path) = probe {
        println!("{:.1}", super::app_rss::probe(path)?);
        return Ok(0);
    }
    if curve {
        run(seed, repeat, sizes, json)?;
        return Ok(0);
    }
    let figures = super::run(measures, seed, repeat)?;
    if json {
        println!("{}", serde_json::to_string(&figures)?);
    } else {
        print!("{}", figures.table());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_has_a_cell_under_each_column() {
        let f = Figures { measures: 10_000, check_s: 1.5, check_peak_rss_mb: 123.456, ..Figures::default() };
        let row = row(&f);
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), COLUMNS.len(), "{row}");
        assert_eq!(row.chars().count(), header().chars().count());
        assert_eq!(cells[0], "10000");
        let at = |name: &str| COLUMNS.iter().position(|(n, _)| *n == name).unwrap();
        assert_eq!(cells[at("check_s")], "1.50");
        assert_eq!(cells[at("check_peak_rss_mb")], "123.46");
    }
}
