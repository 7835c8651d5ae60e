use super::*;
use crate::domain::escalation::Tier;
use crate::domain::{ItemKey, Num, Period};

pub(crate) mod scratch;
pub(crate) mod tls_server;

use scratch::Scratch;

/// A seam test run once on each engine: SQLite in memory, and a fresh PostgreSQL database on
/// the test server when there is one (`pg` says which, for the few lines of DDL that differ).
macro_rules! on_both_engines {
    ($($name:ident)*) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&super::Db::open_in_memory().unwrap(), false);
            }
            #[test]
            fn postgres() {
                if let Some(s) = super::Scratch::new(stringify!($name)) {
                    super::$name(s.db(), true);
                }
            }
        }
    )*};
}

on_both_engines!(
    values_round_trip_and_bad_text_is_an_error
    no_row_is_an_error_that_optional_turns_into_none
    parameters_by_position_and_by_name_and_a_wrong_count_is_refused
    decimals_round_trip_exactly
    returning_id_on_conflict_do_nothing_and_a_unique_violation
    a_write_commits_on_ok_and_leaves_nothing_on_err
    a_trial_keeps_nothing_even_when_it_succeeds
    an_id_list_parameter_selects_those_rows
    an_id_batch_reads_a_dense_batch_as_its_range_and_keeps_only_its_own
    a_row_batch_writes_every_row_as_single_inserts_would
);

fn values_round_trip_and_bad_text_is_an_error(c: &Db, pg: bool) {
    let n = Num::parse("-1200.50").unwrap();
    let p = Period::parse("2026-W48").unwrap();
    let k = ItemKey::parse("KR-12").unwrap();
    let sql = if pg { "SELECT ?1::numeric, ?2::text, ?3::text, ?4::int" } else { "SELECT ?1, ?2, ?3, ?4" };
    let row: (Num, Period, ItemKey, Tier) =
        c.query_row(sql, params![n, p, k, Tier::SponsorAction], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap();
    assert_eq!(row, (n, p, k, Tier::SponsorAction));
    // Money is stored as its canonical text on SQLite, as NUMERIC on PostgreSQL; never a float.
    let (kind_sql, kind) = if pg { ("SELECT pg_typeof(?1::numeric)::text", "numeric") } else { ("SELECT typeof(?1)", "text") };
    assert_eq!(c.query_row(kind_sql, [n], |r| r.get::<_, String>(0)).unwrap(), kind);
    assert!(c.query_row("SELECT 'twelve'", [], |r| r.get::<_, Num>(0)).is_err());
    assert!(c.query_row("SELECT 7", [], |r| r.get::<_, Tier>(0)).is_err());
    assert!(c.query_row("SELECT 'x'", [], |r| r.get::<_, i64>(0)).is_err());
    assert_eq!(c.query_row("SELECT NULL", [], |r| r.get::<_, Option<Num>>(0)).unwrap(), None);
    // Booleans and small integers read as keel's integers on both.
    assert_eq!(c.query_row("SELECT 1 = 1, 2 = 3", [], |r| Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?))).unwrap(), (true, false));
}

fn no_row_is_an_error_that_optional_turns_into_none(c: &Db, _pg: bool) {
    assert_eq!(c.query_row("SELECT 1 WHERE 1 = 0", [], |r| r.get::<_, i64>(0)), Err(Error::NoRows));
    assert_eq!(c.query_row("SELECT 1 WHERE 1 = 0", [], |r| r.get::<_, i64>(0)).optional(), Ok(None));
    assert_eq!(c.query_opt("SELECT 5", [], |r| r.get::<_, i64>(0)), Ok(Some(5)));
}

/// A table `t` with an id the engine assigns and a unique name.
fn table_with_ids(c: &Db, pg: bool) {
    c.batch(if pg {
        "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT UNIQUE)"
    } else {
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"
    })
    .unwrap();
}

fn parameters_by_position_and_by_name_and_a_wrong_count_is_refused(c: &Db, pg: bool) {
    table_with_ids(c, pg);
    let id: i64 = c.query_row("INSERT INTO t (name) VALUES (?1) RETURNING id", ["a"], |r| r.get(0)).unwrap();
    assert_eq!(id, 1);
    assert!(c.execute("INSERT INTO t (name) VALUES (?1)", params![]).is_err());
    let named: &[(&str, &dyn ToParam)] = &[(":n", &"a")];
    assert_eq!(c.query_row("SELECT id FROM t WHERE name = :n", named, |r| r.get::<_, i64>(0)), Ok(1));
    let unknown: &[(&str, &dyn ToParam)] = &[(":nope", &"a")];
    assert!(c.query_row("SELECT id FROM t WHERE name = :n", unknown, |r| r.get::<_, i64>(0)).is_err());
    // NULL goes in and comes out as NULL; a placeholder inside a literal is text.
    c.execute("INSERT INTO t (name) VALUES (?1)", [Null]).unwrap();
    assert_eq!(c.query_row("SELECT COUNT(*) FROM t WHERE name IS NULL", [], |r| r.get::<_, i64>(0)), Ok(1));
    assert_eq!(c.query_row("SELECT '?1' || ?1", ["x"], |r| r.get::<_, String>(0)), Ok("?1x".to_string()));
    let mut seen = Vec::new();
    c.query_each("SELECT name FROM t WHERE name IS NOT NULL", [], |r| {
        seen.push(r.get::<_, String>(0)?);
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ["a"]);
}

fn decimals_round_trip_exactly(c: &Db, pg: bool) {
    c.batch(if pg { "CREATE TABLE v (k INTEGER, n NUMERIC)" } else { "CREATE TABLE v (k INTEGER, n TEXT)" }).unwrap();
    // A zero keeps its scale ("0.00" is what was typed), as a text column keeps it.
    let values = ["12345678901234567890.123456789", "-0.5", "0", "1200.50", "0.00"];
    for (k, text) in values.iter().enumerate() {
        c.execute("INSERT INTO v (k, n) VALUES (?1, ?2)", params![k, Num::from_stored(text).unwrap()]).unwrap();
    }
    c.execute("INSERT INTO v (k, n) VALUES (?1, ?2)", params![99, None::<Num>]).unwrap();
    let back: Vec<Option<Num>> = c.query_map("SELECT n FROM v ORDER BY k", [], |r| r.get(0)).unwrap();
    let shown: Vec<String> = back.iter().map(|n| n.map_or("NULL".into(), |n| n.to_string())).collect();
    assert_eq!(shown, ["12345678901234567890.123456789", "-0.5", "0", "1200.50", "0.00", "NULL"]);
    // Exact on the engine's side too: a sum of decimals carries no binary rounding.
    if pg {
        let total: Num = c.query_row("SELECT SUM(n) FROM v", [], |r| r.get(0)).unwrap();
        assert_eq!(total.to_string(), "12345678901234569090.123456789");
    }
}

fn returning_id_on_conflict_do_nothing_and_a_unique_violation(c: &Db, pg: bool) {
    table_with_ids(c, pg);
    let first: i64 = c.query_row("INSERT INTO t (name) VALUES (?1) RETURNING id", ["a"], |r| r.get(0)).unwrap();
    let second: i64 = c.query_row("INSERT INTO t (name) VALUES (?1) RETURNING id", ["b"], |r| r.get(0)).unwrap();
    assert_eq!((first, second), (1, 2));
    assert_eq!(c.execute("INSERT INTO t (name) VALUES (?1) ON CONFLICT DO NOTHING", ["a"]), Ok(0));
    let refused = c.execute("INSERT INTO t (name) VALUES (?1)", ["a"]).unwrap_err();
    assert!(matches!(&refused, Error::Other(m) if m.contains("UNIQUE constraint failed")), "{refused:?}");
    assert_eq!(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)), Ok(2));
}

fn a_write_commits_on_ok_and_leaves_nothing_on_err(c: &Db, _pg: bool) {
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

fn a_trial_keeps_nothing_even_when_it_succeeds(c: &Db, _pg: bool) {
    c.batch("CREATE TABLE t (n INTEGER)").unwrap();
    let seen = c.trial(|tx| {
        tx.execute("INSERT INTO t VALUES (1)", [])?;
        tx.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
    });
    assert_eq!(seen, Ok(1), "the trial sees its own write");
    assert_eq!(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)), Ok(0));
    c.write(|tx| tx.execute("INSERT INTO t VALUES (2)", [])).unwrap();
    assert_eq!(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)), Ok(1));
}

fn an_id_list_parameter_selects_those_rows(c: &Db, pg: bool) {
    table_with_ids(c, pg);
    for name in ["a", "b", "c"] {
        c.execute("INSERT INTO t (name) VALUES (?1)", [name]).unwrap();
    }
    let sql = format!("SELECT name FROM t WHERE {} ORDER BY id", c.in_id_list("id", 1));
    assert_eq!(c.query_map(&sql, ["[1,3]"], |r| r.get::<_, String>(0)).unwrap(), ["a", "c"]);
}

fn an_id_batch_reads_a_dense_batch_as_its_range_and_keeps_only_its_own(c: &Db, pg: bool) {
    table_with_ids(c, pg);
    for i in 1..=1200 {
        c.execute("INSERT INTO t (name) VALUES (?1)", [format!("n{i}")]).unwrap();
    }
    let read = |ids: &[i64]| -> (bool, Vec<i64>) {
        let batch = super::IdBatch::of(ids);
        let sql = format!("SELECT id FROM t WHERE {} ORDER BY id", batch.condition(c, "id", 1));
        let rows = c.query_map(&sql, [batch.param()], |r| r.get::<_, i64>(0)).unwrap();
        (batch.is_range(), rows.into_iter().filter(|id| batch.keeps(*id)).collect())
    };
    // Every other id of 2..=1000, unsorted: dense enough for a range, which also returns the
    // odd ids between them; they are dropped.
    let mut every_other: Vec<i64> = (1..=500).map(|i| i * 2).collect();
    every_other.reverse();
    let (range, got) = read(&every_other);
    assert!(range, "a batch filling half its range is read as the range");
    assert_eq!(got, (1..=500).map(|i| i * 2).collect::<Vec<_>>());
    // Sparse, or short: a list.
    let sparse: Vec<i64> = (1..=300).map(|i| i * 4).collect();
    assert_eq!(read(&sparse), (false, sparse.clone()));
    assert_eq!(read(&[5, 6, 7]), (false, vec![5, 6, 7]));
}

fn a_row_batch_writes_every_row_as_single_inserts_would(c: &Db, pg: bool) {
    c.batch(if pg {
        "CREATE TABLE b (n BIGINT PRIMARY KEY, name TEXT, money NUMERIC)"
    } else {
        "CREATE TABLE b (n INTEGER PRIMARY KEY, name TEXT, money TEXT)"
    })
    .unwrap();
    // Sizes that fill no statement, exactly one, and several with an uneven rest.
    let mut written = 0_i64;
    for rows in [0_i64, 1, 3, 512, 1_300] {
        let mut batch = c.row_batch("INSERT INTO b (n, name, money)", 3, "ON CONFLICT DO NOTHING");
        for i in written..written + rows {
            let name = (i % 3 != 0).then(|| format!("row '{i}'"));
            let money = Num::parse(&format!("{i}.{:02}", i % 100)).unwrap();
            batch.push(params![i, name, money]).unwrap();
        }
        // A row already there is skipped by the tail, as one insert would skip it.
        if written > 0 {
            batch.push(params![0_i64, "again", Num::ZERO]).unwrap();
        }
        batch.finish().unwrap();
        written += rows;
        assert_eq!(c.query_row("SELECT COUNT(*) FROM b", [], |r| r.get::<_, i64>(0)), Ok(written));
    }
    let rows: Vec<(i64, Option<String>, Num)> =
        c.query_map("SELECT n, name, money FROM b ORDER BY n", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    for (i, (n, name, money)) in rows.into_iter().enumerate() {
        let i = i as i64;
        assert_eq!((n, name.clone()), (i, (i % 3 != 0).then(|| format!("row '{i}'"))));
        assert_eq!(money.to_string(), format!("{i}.{:02}", i % 100), "row {i} kept its exact money");
    }
}

/// Two connections write, each having read what the other writes: SERIALIZABLE lets one commit
/// and turns the other away as busy (to be retried), not as a failure or a silent overwrite.
#[test]
fn postgres_a_conflicting_serializable_write_is_busy() {
    let Some(s) = Scratch::new("conflict") else { return };
    let (a, b) = (s.db(), s.connect());
    a.batch("CREATE TABLE t (n INTEGER)").unwrap();
    let out: Result<(), Error> = a.write(|tx| {
        let seen: i64 = tx.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?;
        b.write(|other| {
            other.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?;
            other.execute("INSERT INTO t VALUES (2)", [])
        })
        .unwrap();
        tx.execute("INSERT INTO t VALUES (?1)", [seen + 1])?;
        Ok(())
    });
    assert!(matches!(out, Err(Error::Busy(_))), "{out:?}");
    assert_eq!(a.query_map("SELECT n FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), [2]);
}

/// PostgreSQL dooms a transaction once a statement in it fails, and would answer COMMIT with a
/// silent rollback: the seam reports that write as failed even if the error was swallowed.
#[test]
fn postgres_a_write_with_a_failed_statement_is_not_reported_saved() {
    let Some(s) = Scratch::new("doomed") else { return };
    let c = s.db();
    c.batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").unwrap();
    let out: Result<(), Error> = c.write(|tx| {
        tx.execute("INSERT INTO t VALUES (1)", [])?;
        assert!(tx.execute("INSERT INTO t VALUES (1)", []).is_err());
        Ok(())
    });
    assert!(matches!(&out, Err(Error::Other(m)) if m.contains("nothing was saved")), "{out:?}");
    assert_eq!(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)), Ok(0));
}

#[test]
fn postgres_what_only_sqlite_has_is_refused_or_has_an_equivalent() {
    let Some(s) = Scratch::new("sqlite_only") else { return };
    let c = s.db();
    for refused in [c.integrity_check().map(drop), c.quick_check().map(drop), c.checkpoint().map(drop)] {
        assert!(matches!(&refused, Err(Error::Other(m)) if m.contains("not on this engine")), "{refused:?}");
    }
    // The file header's numbers live in keel_meta: none before keel writes them.
    assert_eq!((c.application_id(), c.schema_version(), c.data_version()), (Ok(0), Ok(0), Ok(0)));
    assert_eq!(c.holds_tables(), Ok(false));
    c.write(|tx| {
        tx.set_application_id(7)?;
        tx.set_schema_version(3)
    })
    .unwrap();
    assert_eq!((c.application_id(), c.schema_version(), c.holds_tables()), (Ok(7), Ok(3), Ok(true)));
    // A committed write bumps the data version (the row writers queue on); a trial does not.
    let before = c.data_version().unwrap();
    c.write(|tx| tx.execute("INSERT INTO keel_meta (name, value) VALUES ('x', 1)", [])).unwrap();
    c.trial(|tx| tx.execute("INSERT INTO keel_meta (name, value) VALUES ('y', 1)", [])).unwrap();
    assert_eq!(c.data_version(), Ok(before + 1));
    assert_eq!(c.index_hint("any_index"), "");
    c.configure(std::time::Duration::from_secs(3)).unwrap();
    assert_eq!(c.query_row("SELECT current_setting('lock_timeout')", [], |r| r.get::<_, String>(0)), Ok("3s".to_string()));
    c.batch("CREATE TABLE t (n INTEGER)").unwrap();
    let changed = c.own_changes();
    c.execute("INSERT INTO t VALUES (1), (2)", []).unwrap();
    assert_eq!(c.own_changes() - changed, 2);
    c.query_only().unwrap();
    assert!(matches!(c.execute("INSERT INTO t VALUES (3)", []), Err(Error::ReadOnly(_))));
}

#[test]
fn postgres_a_lost_connection_says_so() {
    let Some(s) = Scratch::new("lost") else { return };
    let c = s.db();
    let pid: i32 = c.query_row("SELECT pg_backend_pid()", [], |r| r.get(0)).unwrap();
    s.connect().query_row("SELECT pg_terminate_backend(?1)", [pid], |r| r.get::<_, bool>(0)).unwrap();
    // The first statement hears why the server ended the session; the next finds it closed.
    for _ in 0..2 {
        let lost = c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).unwrap_err();
        assert!(
            matches!(&lost, Error::Lost(m) if m.contains("connection to the PostgreSQL server was lost") && m.contains("Nothing was saved")),
            "{lost:?}"
        );
    }
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

#[test]
fn postgres_writers_queue_on_keel_writes_and_an_older_database_gets_it() {
    let Some(s) = Scratch::new("write_queue") else { return };
    let c = s.db();
    // A database made before keel_writes: its counter was a row of keel_meta.
    c.batch(
        "CREATE TABLE keel_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
         INSERT INTO keel_meta (name, value) VALUES ('data_version', 41), ('schema_version', 3), ('application_id', 7)",
    )
    .unwrap();
    assert_eq!((c.schema_version(), c.lacks_write_queue()), (Ok(3), Ok(true)));
    // The owner's next write of a fact makes the queue, carrying the counter over.
    c.write(|tx| tx.set_schema_version(3)).unwrap();
    assert_eq!(c.lacks_write_queue(), Ok(false));
    assert_eq!(c.data_version(), Ok(42), "carried over, and bumped by that write");
    let left: i64 = c.query_row("SELECT COUNT(*) FROM keel_meta WHERE name = 'data_version'", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0, "keel_meta keeps only facts nobody but the owner writes");
    c.write(|tx| tx.execute("INSERT INTO keel_meta (name, value) VALUES ('x', 1)", [])).unwrap();
    assert_eq!(c.data_version(), Ok(43));
}

/// What a read snapshot's reads see while another connection commits: the state when it began,
/// every time, and the new state once it has ended; inside a write it is the write's own.
fn a_read_snapshot_sees_one_state_while_others_commit(reader: &Db, writer: &Db) {
    reader.batch("CREATE TABLE s (n INTEGER)").unwrap();
    reader.execute("INSERT INTO s VALUES (1)", []).unwrap();
    let count = || reader.query_row("SELECT COUNT(*) FROM s", [], |r| r.get::<_, i64>(0)).unwrap();
    let seen: Result<Vec<i64>, Error> = reader.read_snapshot(|| {
        let first = count();
        writer.write(|tx| tx.execute("INSERT INTO s VALUES (2)", [])).unwrap();
        Ok(vec![first, count(), reader.read_snapshot(|| Ok::<_, Error>(count()))?])
    });
    assert_eq!(seen.unwrap(), [1, 1, 1], "the snapshot's reads never saw the commit, nested or not");
    assert_eq!(count(), 2, "after the snapshot, the commit is seen");
    let inside_a_write: i64 = reader
        .write(|tx| {
            tx.execute("INSERT INTO s VALUES (3)", [])?;
            tx.read_snapshot(|| tx.query_row("SELECT COUNT(*) FROM s", [], |r| r.get(0)))
        })
        .unwrap();
    assert_eq!(inside_a_write, 3, "inside a write the snapshot is the write's own");
    let failed: Result<i64, Error> = reader.read_snapshot(|| reader.query_row("SELECT nothing FROM s", [], |r| r.get(0)));
    assert!(failed.is_err());
    assert_eq!(count(), 3, "a failed snapshot ends, and the connection goes on");
}

#[test]
fn sqlite_a_read_snapshot_sees_one_state_while_others_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let reader = Db::open_file(&path, FileMode::Create).unwrap();
    reader.batch("PRAGMA journal_mode = WAL").unwrap();
    let writer = Db::open_file(&path, FileMode::ReadWrite).unwrap();
    a_read_snapshot_sees_one_state_while_others_commit(&reader, &writer);
}

#[test]
fn postgres_a_read_snapshot_sees_one_state_while_others_commit() {
    let Some(s) = Scratch::new("snapshot") else { return };
    a_read_snapshot_sees_one_state_while_others_commit(s.db(), &s.connect());
}
