use super::*;
use crate::domain::escalation::Tier;
use crate::domain::{ItemKey, Num, Period};

fn db() -> Db {
    Db::open_in_memory().unwrap()
}

#[test]
fn values_round_trip_and_bad_text_is_an_error() {
    let c = db();
    let n = Num::parse("-1200.50").unwrap();
    let p = Period::parse("2026-W48").unwrap();
    let k = ItemKey::parse("KR-12").unwrap();
    let row: (Num, Period, ItemKey, Tier) = c
        .query_row("SELECT ?1, ?2, ?3, ?4", params![n, p, k, Tier::SponsorAction], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap();
    assert_eq!(row, (n, p, k, Tier::SponsorAction));
    // Money is stored as its canonical text, never a float.
    assert_eq!(c.query_row("SELECT typeof(?1), ?1", [n], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap().0, "text");
    assert!(c.query_row("SELECT 'twelve'", [], |r| r.get::<_, Num>(0)).is_err());
    assert!(c.query_row("SELECT 7", [], |r| r.get::<_, Tier>(0)).is_err());
    assert!(c.query_row("SELECT 'x'", [], |r| r.get::<_, i64>(0)).is_err());
    assert_eq!(c.query_row("SELECT NULL", [], |r| r.get::<_, Option<Num>>(0)).unwrap(), None);
}

#[test]
fn no_row_is_an_error_that_optional_turns_into_none() {
    let c = db();
    assert_eq!(c.query_row("SELECT 1 WHERE 0", [], |r| r.get::<_, i64>(0)), Err(Error::NoRows));
    assert_eq!(c.query_row("SELECT 1 WHERE 0", [], |r| r.get::<_, i64>(0)).optional(), Ok(None));
    assert_eq!(c.query_opt("SELECT 5", [], |r| r.get::<_, i64>(0)), Ok(Some(5)));
}

#[test]
fn parameters_by_position_and_by_name_and_a_wrong_count_is_refused() {
    let c = db();
    c.batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)").unwrap();
    let id: i64 = c.query_row("INSERT INTO t (name) VALUES (?1) RETURNING id", ["a"], |r| r.get(0)).unwrap();
    assert_eq!(id, 1);
    assert!(c.execute("INSERT INTO t (name) VALUES (?1)", params![]).is_err());
    let named: &[(&str, &dyn ToParam)] = &[(":n", &"a")];
    assert_eq!(c.query_row("SELECT id FROM t WHERE name = :n", named, |r| r.get::<_, i64>(0)), Ok(1));
    let mut seen = Vec::new();
    c.query_each("SELECT name FROM t", [], |r| {
        seen.push(r.get::<_, String>(0)?);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ["a"]);
}

#[test]
fn a_write_commits_on_ok_and_leaves_nothing_on_err() {
    let c = db();
    c.batch("CREATE TABLE t (n INTEGER)").unwrap();
    c.write(|tx| tx.execute("INSERT INTO t VALUES (1)", [])).unwrap();
    let refused: Result<(), Error> = c.write(|tx| {
        tx.execute("INSERT INTO t VALUES (2)", [])?;
        Err(Error::Other("refused".into()))
    });
    assert!(refused.is_err());
    assert_eq!(c.query_map("SELECT n FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), [1]);
    // The connection is usable (no transaction left open) after a rollback.
    c.write(|tx| tx.execute("INSERT INTO t VALUES (3)", [])).unwrap();
    assert_eq!(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)), Ok(2));
}

/// Outside the engine module nothing names the SQLite driver, so a second engine can come in
/// under the store without touching a rule or read model. The benchmark's plain-SQLite baseline
/// is the one exception: it measures the driver itself.
#[test]
fn only_the_engine_names_the_driver() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let engine = root.join("store").join("engine");
    let allowed = [root.join("io").join("baseline.rs")];
    let mut offenders = Vec::new();
    let mut scanned = 0;
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != engine {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") && !allowed.contains(&path) {
                scanned += 1;
                if std::fs::read_to_string(&path).unwrap().contains("rusqlite") {
                    offenders.push(path.display().to_string());
                }
            }
        }
    }
    assert!(scanned > 50, "only {scanned} source files found: the scan did not walk src/");
    offenders.sort();
    assert!(offenders.is_empty(), "these files name rusqlite outside src/store/engine/: {offenders:?}");
}
