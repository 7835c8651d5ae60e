//! The values import against the plan import: an organisation's values, every number changed,
//! once as a values CSV imported into a fresh copy of the file (what `keel import values.csv`
//! does: read, check, apply through the write path) and once as a JSON plan holding the same
//! values loaded into a fresh file. The CSV path should cost at most 1.5× the plan's.

use super::super::generate::{self, Spec};
use super::super::values_import::{self, Kind};
use super::sampling::{self, Pairs};
use super::{remove_db, settle_disk};
use crate::domain::plan::Plan;
use crate::domain::Num;
use crate::store::Store;
use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, Instant};

/// The most measures the comparison uses: 20,000 measures give about 200,000 value rows, the
/// size of a large organisation's values export.
pub const MEASURES: usize = 20_000;

/// Time `repeat` alternating pairs (CSV into a fresh copy, then the JSON plan into a fresh file).
pub fn measure(dir: &Path, spec: &Spec, repeat: usize, tick: impl Fn(&str)) -> Result<Pairs> {
    let spec = Spec { measures: spec.measures.min(MEASURES), ..spec.clone() };
    let original = dir.join("csv-original.keel");
    {
        let mut store = Store::create(&original, false)?;
        generate::load(&mut store, &spec, |_| {})?;
    }
    let (csv, json, changed) = changed_values(&original)?;
    let pairs = sampling::alternate(
        repeat,
        |pair| {
            tick("importing values CSV");
            let copy = dir.join(format!("csv-{pair}.keel"));
            Store::open(&original)?.backup_to(&copy)?;
            settle_disk(dir)?;
            let took = import_csv(&copy, csv.as_bytes(), changed)?;
            remove_db(&copy)?;
            Ok(took)
        },
        |pair| {
            tick("importing the same plan");
            let fresh = dir.join(format!("json-{pair}.keel"));
            settle_disk(dir)?;
            let t = Instant::now();
            let plan = crate::io::plan::parse(&json, "plan.json")?;
            let mut store = Store::create(&fresh, false)?;
            store.import_plan(plan)?;
            let took = t.elapsed();
            drop(store);
            remove_db(&fresh)?;
            Ok(took)
        },
    )?;
    remove_db(&original)?;
    Ok(pairs)
}

/// What `keel import values.csv` does, timed from the bytes to the commit.
fn import_csv(path: &Path, bytes: &[u8], changed: usize) -> Result<Duration> {
    let t = Instant::now();
    let store_path = path.to_path_buf();
    let (rows, problems) = values_import::read(bytes, Kind::Csv);
    let mut store = Store::open(&store_path)?;
    let mut prepared = values_import::prepare(&store, rows, problems, false, |_| {})?
        .map_err(|p| anyhow::anyhow!("the bench's values CSV was refused: {}", p.first().map(|p| p.to_string()).unwrap_or_default()))?;
    let outcome = store.edit(prepared.edit("values.csv"))?;
    let took = t.elapsed();
    anyhow::ensure!(outcome.values >= changed, "only {} of {changed} values changed", outcome.values);
    Ok(took)
}

/// The file's values with planned, forecast and actual each moved by one: as a values CSV, as
/// the whole plan in JSON, and how many numbers moved.
fn changed_values(path: &Path) -> Result<(String, String, usize)> {
    let store = Store::open(path)?;
    let mut plan: Plan = store.export_plan()?;
    let one = Num::ONE;
    let mut changed = 0;
    let mut bump = |n: &mut Option<Num>| -> Result<()> {
        if let Some(x) = n {
            *x = x.checked_add(one).context("a generated value overflows")?;
            changed += 1;
        }
        Ok(())
    };
    for v in &mut plan.values {
        bump(&mut v.planned)?;
        bump(&mut v.forecast)?;
        bump(&mut v.actual)?;
    }
    let lines = crate::io::csv::value_lines_of(plan.values.clone(), &store.titles()?);
    let csv = crate::io::csv::values_csv(&lines)?;
    let json = crate::io::plan::to_text(&plan)?;
    Ok((csv, json, changed))
}
