//! Files on disk: new databases and their -wal/-shm are private (0600); `keel init --shared GROUP`
//! makes a file every member of the group can write (0660, group-owned, setgid folder, and so are
//! the -wal/-shm files SQLite creates later); a database or folder that every user may write draws
//! a warning; `keel backup` makes a consistent copy while another process writes.

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o7777
}

fn sibling(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

/// Keep a connection open with a write done, so the -wal and -shm files exist to be looked at.
fn hold_open(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute_batch("BEGIN IMMEDIATE; UPDATE settings SET value = value WHERE name = 'demo'; COMMIT;").unwrap();
    c
}

#[test]
fn new_databases_and_their_wal_and_shm_files_are_private() {
    let k = Keel::demo();
    assert_eq!(mode(&k.db), 0o600);
    // An edit while another connection keeps the file open leaves -wal and -shm in place.
    let _open = hold_open(&k.db);
    k.run(&["set", "M-5", "narrative=private"]).ok();
    for suffix in ["-wal", "-shm"] {
        assert_eq!(mode(&sibling(&k.db, suffix)), 0o600, "{suffix}");
    }
    // A backup is private too, and nothing half-made is left beside it.
    let dest = k.path("copy.db");
    k.run(&["backup", dest.to_str().unwrap()]).ok();
    assert_eq!(mode(&dest), 0o600);
    let names: Vec<String> =
        std::fs::read_dir(k.dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains(".creating-")), "{names:?}");
}

/// A group this user may give files to: a supplementary group if there is one, else the primary.
fn some_group() -> (String, u32) {
    let out = |args: &[&str]| String::from_utf8(std::process::Command::new("id").args(args).output().unwrap().stdout).unwrap();
    let primary = out(&["-g"]).trim().parse::<u32>().unwrap();
    let uid = out(&["-u"]).trim().parse::<u32>().unwrap();
    let names: Vec<String> = out(&["-Gn"]).split_whitespace().map(str::to_string).collect();
    let gids: Vec<u32> = out(&["-G"]).split_whitespace().map(|g| g.parse().unwrap()).collect();
    if let Some((n, g)) = names.iter().zip(&gids).find(|(_, g)| **g != primary) {
        return (n.clone(), *g);
    }
    // root may give a file to any group: take another one from /etc/group when there is one.
    if uid == 0 {
        if let Some((n, g)) = std::fs::read_to_string("/etc/group").unwrap_or_default().lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let g: u32 = f.get(2)?.parse().ok()?;
            (g != primary).then(|| (f[0].to_string(), g))
        }) {
            return (n, g);
        }
    }
    (names[0].clone(), primary)
}

#[test]
fn init_shared_makes_a_file_every_member_of_the_group_can_write() {
    let (group, gid) = some_group();
    let k = Keel::blank(None);
    let folder = k.path("team");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
    let db = folder.join("keel.db");
    let db_s = db.to_str().unwrap();
    run(keel(k.dir.path()), &["--db", db_s, "init", "--shared", &group]).ok().stdout_has(&["0660", &group]);

    assert_eq!(mode(&db), 0o660);
    assert_eq!(std::fs::metadata(&db).unwrap().gid(), gid, "the file belongs to {group}");
    let f = std::fs::metadata(&folder).unwrap();
    assert_eq!(f.gid(), gid, "the folder belongs to {group}");
    assert_eq!(f.mode() & 0o2070, 0o2070, "the folder is setgid and group-writable: {:o}", f.mode());

    // The -wal and -shm files SQLite makes later take the file's mode and the folder's group.
    let _open = hold_open(&db);
    let plan = k.path("plan.json");
    std::fs::write(
        &plan,
        serde_json::json!({"format": "keel-plan", "version": 1,
        "people": [{"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true}]})
        .to_string(),
    )
    .unwrap();
    run(keel(k.dir.path()), &["--db", db_s, "import", plan.to_str().unwrap()]).ok();
    for suffix in ["-wal", "-shm"] {
        let p = sibling(&db, suffix);
        assert_eq!(mode(&p), 0o660, "{suffix}");
        assert_eq!(std::fs::metadata(&p).unwrap().gid(), gid, "{suffix} belongs to {group}");
    }
    // A shared file set up this way draws no warning.
    let r = run(keel(k.dir.path()), &["--db", db_s, "whoami"]);
    r.ok();
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);

    // A group that does not exist is refused before anything is created.
    let other = folder.join("other.db");
    run(keel(k.dir.path()), &["--db", other.to_str().unwrap(), "init", "--shared", "no-such-group-keel"])
        .code(65)
        .stderr_has(&["no such group"]);
    assert!(!other.exists());
}

#[test]
fn a_world_writable_database_or_folder_draws_a_warning() {
    let k = Keel::demo();
    k.run(&["whoami"]).ok();
    assert!(!k.run(&["whoami"]).stderr.contains("warning"));
    std::fs::set_permissions(&k.db, std::fs::Permissions::from_mode(0o666)).unwrap();
    let r = k.run(&["show", "M-1"]);
    r.ok().stderr_has(&["warning", "writable by every user", "chmod o-w"]);
    std::fs::set_permissions(&k.db, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(k.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = k.run(&["show", "M-1"]);
    r.ok().stderr_has(&["warning", "folder", "writable by every user"]);
    // The library reports the same, for the terminal app to show.
    let store = keel::store::Store::open(&k.db).unwrap();
    assert!(store.warnings().iter().any(|w| w.contains("writable by every user")), "{:?}", store.warnings());
    std::fs::set_permissions(k.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(store.warnings().is_empty(), "{:?}", store.warnings());
}

/// The fields the writer sets together, by generation: a backup must never catch half of one.
fn generation_in(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let (n, r): (Option<String>, Option<String>) = c
        .query_row("SELECT narrative, risk FROM measures WHERE id = (SELECT id FROM items WHERE key = 'M-5')", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let a: Option<String> = c
        .query_row(
            "SELECT comment FROM item_values WHERE item_id = (SELECT id FROM items WHERE key = 'M-5') AND period = ?1",
            [WEEK],
            |r| r.get(0),
        )
        .unwrap();
    [n, r, a].into_iter().map(|v| v.unwrap_or_default().rsplit(' ').next().unwrap().to_string()).collect()
}

#[test]
fn a_backup_taken_while_another_process_writes_is_consistent() {
    let k = Keel::demo();
    k.run(&["set", "M-5", "narrative=gen 0", "risk=gen 0", "comment=gen 0", "--period", WEEK]).ok();
    let done = std::sync::atomic::AtomicBool::new(false);
    /// Stops the writer however the backups end (a failed assertion included).
    struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let backups: Vec<PathBuf> = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut g = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                g += 1;
                let (n, r, c) = (format!("narrative=gen {g}"), format!("risk=gen {g}"), format!("comment=gen {g}"));
                k.run(&["set", "M-5", &n, &r, &c, "--period", WEEK]).ok();
            }
            g
        });
        let stop = Stop(&done);
        let copies: Vec<PathBuf> = (0..20)
            .map(|i| {
                let dest = k.path(&format!("backup-{i}.db"));
                k.run(&["backup", dest.to_str().unwrap()]).ok().stdout_has(&["backed up"]);
                dest
            })
            .collect();
        drop(stop);
        let written = writer.join().unwrap();
        eprintln!("20 backups while the writer made {written} edits");
        copies
    });
    let live_rows: i64 = k.sql().query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap();
    for b in &backups {
        // Restore: the copy is a keel file on its own — it opens, verifies and checks.
        let restored = Keel { dir: tempfile::tempdir().unwrap(), db: PathBuf::new(), today: Some(TODAY.into()), server: None };
        let db = restored.dir.path().join("restored.db");
        std::fs::copy(b, &db).unwrap();
        let restored = Keel { db, ..restored };
        restored.run(&["audit", "verify"]).ok().stdout_has(&["intact"]);
        let integrity = restored.sql_text("PRAGMA integrity_check");
        assert_eq!(integrity.as_deref(), Some("ok"), "{}", b.display());
        let g = generation_in(&restored.db);
        assert!(g.iter().all(|x| *x == g[0]), "{}: half an edit in the backup: {g:?}", b.display());
        let rows: i64 = restored.sql().query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap();
        assert!(rows <= live_rows, "{}: more audit rows than the live file", b.display());
        let deep = restored.run(&["check", "--deep"]);
        assert!(!deep.stderr.contains("differs"), "{}", deep.stderr);
        assert!(!sibling(b, "-wal").exists() || std::fs::metadata(sibling(b, "-wal")).unwrap().len() == 0, "a backup is one file");
    }
}

/// What the hash chain does not do, shown rather than claimed: someone who can write the file
/// and rewrites the log from a row to the end, recomputing every hash and putting the trigger
/// back, gets a chain that verifies. Only the head noted outside the file beforehand tells.
#[test]
fn a_chain_rewritten_to_the_end_verifies_but_its_last_hash_differs() {
    use sha2::{Digest, Sha256};
    let demo = Keel::demo();
    let last_hash =
        |r: &Run| r.stdout.lines().find_map(|l| l.strip_prefix("last hash: ")).map(|l| l[..64].to_string()).expect("a last hash");
    let noted = last_hash(demo.run(&["audit", "verify"]).ok());

    let c = demo.sql();
    c.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    c.execute("UPDATE audit SET new_value = 'forged' WHERE seq = 7", []).unwrap();
    type Row = (i64, String, String, String, String, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = {
        let mut st = c
            .prepare("SELECT seq, at, actor, item_key, field, old_value, new_value, reason FROM audit WHERE seq >= 7 ORDER BY seq")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let mut prev: String = c.query_row("SELECT hash FROM audit WHERE seq = 6", [], |r| r.get(0)).unwrap();
    for (seq, at, actor, key, field, old, new, reason) in rows {
        let mut h = Sha256::new();
        for part in [
            Some(prev.as_str()),
            Some(&seq.to_string()),
            Some(&at),
            Some(&actor),
            Some(&key),
            Some(&field),
            old.as_deref(),
            new.as_deref(),
            reason.as_deref(),
        ] {
            match part {
                Some(s) => {
                    h.update((s.len() as u64).to_le_bytes());
                    h.update(s.as_bytes());
                }
                None => h.update(u64::MAX.to_le_bytes()),
            }
        }
        let hash: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        c.execute("UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3", rusqlite::params![prev, hash, seq]).unwrap();
        prev = hash;
    }
    // With the trigger gone, verify says so.
    demo.run(&["audit", "verify"]).code(65).stderr_has(&["audit_no_update is missing"]);
    c.execute_batch(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be changed'); END;",
    )
    .unwrap();
    drop(c);
    let after = demo.run(&["audit", "verify"]);
    assert_ne!(last_hash(after.ok()), noted, "the rewritten chain verifies, but its last hash is not the one noted");
    demo.run(&["audit", "verify", "--expect", &noted]).code(65).stderr_has(&["is not in the chain"]);
}
