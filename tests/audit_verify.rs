//! `keel audit verify`: the head (rows and last hash) to note elsewhere, `--expect HASH` against
//! a noted head, and what it finds around a chain that verifies by itself: dropped triggers, a
//! tail cut off, a forged row appended with a correct hash.

mod common;

use common::*;
use sha2::{Digest, Sha256};

fn head(r: &Run) -> (String, i64) {
    let line = r.stdout.lines().find(|l| l.starts_with("last hash: ")).expect("a head");
    let hash = line["last hash: ".len()..]["".len()..64].to_string();
    let rows = line.split("(row ").nth(1).and_then(|s| s.trim_end_matches(')').parse().ok()).expect("a row count");
    (hash, rows)
}

/// The chain's hash of one row, as keel computes it (length-prefixed fields): the previous hash,
/// seq, at, actor, item key, field, old and new value, then the reason (none here).
fn row_hash(prev: &str, seq: i64, fields: [&str; 4], old: Option<&str>, new: Option<&str>) -> String {
    let mut h = Sha256::new();
    let [at, actor, key, field] = fields;
    for part in [Some(prev), Some(&seq.to_string()), Some(at), Some(actor), Some(key), Some(field), old, new, None] {
        match part {
            Some(s) => {
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            None => h.update(u64::MAX.to_le_bytes()),
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo with two changes of M-7's actual, and the head noted before the second.
fn demo_with_two_changes() -> (Keel, String, String) {
    let k = Keel::demo();
    k.run(&["set", "M-7", "actual=1234", "--period", "2026-11"]).ok();
    let (noted, _) = head(k.run(&["audit", "verify"]).ok());
    k.run(&["set", "M-7", "actual=1300", "--period", "2026-11"]).ok();
    let r = k.run(&["audit", "verify"]);
    let (last, rows) = head(r.ok());
    assert!(r.stdout.contains(&format!("{rows} rows")));
    (k, noted, last)
}

#[test]
fn expect_accepts_the_head_or_an_earlier_row_and_nothing_else() {
    let (k, noted, last) = demo_with_two_changes();
    k.run(&["audit", "verify", "--expect", &last]).ok().stdout_has(&["it is the last row"]);
    k.run(&["audit", "verify", "--expect", &noted]).ok().stdout_has(&["the log grew by 1 since"]);
    let other = "ab".repeat(32);
    k.run(&["audit", "verify", "--expect", &other]).code(65).stderr_has(&["is not in the chain"]);
}

#[test]
fn dropped_triggers_are_found_though_the_chain_is_whole() {
    let k = Keel::demo();
    k.sql().execute_batch("DROP TRIGGER audit_no_delete").unwrap();
    k.run(&["audit", "verify"]).code(65).stderr_has(&["audit_no_delete is missing"]);
}

#[test]
fn a_tail_cut_off_is_found_even_with_the_trigger_put_back() {
    let (k, noted, _) = demo_with_two_changes();
    let c = k.sql();
    assert!(!noted.is_empty());
    c.execute_batch(
        "DROP TRIGGER audit_no_delete;
         DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit);
         CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be deleted'); END;",
    )
    .unwrap();
    drop(c);
    // The chain that is left is whole, and its last row is the head noted before the cut.
    k.run(&["audit", "verify"]).code(65).stderr_has(&["logs M-7 actual@2026-11 = 1234", "the file holds 1300"]);
}

#[test]
fn a_forged_row_appended_with_a_correct_hash_is_found_when_it_claims_a_value() {
    let (k, _, last) = demo_with_two_changes();
    let c = k.sql();
    let (seq, at): (i64, String) = c.query_row("SELECT MAX(seq), MAX(at) FROM audit", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let (key, field, old, new) = ("M-7", "actual@2026-11", Some("1300"), Some("999999"));
    let hash = row_hash(&last, seq + 1, [&at, "amara", key, field], old, new);
    c.execute(
        "INSERT INTO audit (seq, at, actor, item_key, field, old_value, new_value, reason, prev_hash, hash)
         VALUES (?1, ?2, 'amara', ?3, ?4, ?5, ?6, NULL, ?7, ?8)",
        rusqlite::params![seq + 1, at, key, field, old, new, last, hash],
    )
    .unwrap();
    drop(c);
    k.run(&["audit", "verify"]).code(65).stderr_has(&["logs M-7 actual@2026-11 = 999999", "the file holds 1300"]);
}
