//! `--out FILE` of `keel export` and `keel report`: never the database, never an existing file
//! without --force, never through a link planted in the folder, private (or shared like the
//! database), and on a full disk exit 70 with nothing left behind.

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn out_never_writes_over_the_open_database_or_its_wal() {
    let k = Keel::demo();
    let before = std::fs::read(&k.db).unwrap();
    let db = k.db.to_str().unwrap().to_string();
    let link = k.path("link.md");
    std::os::unix::fs::symlink(&k.db, &link).unwrap();
    let hard = k.path("hard.md");
    std::fs::hard_link(&k.db, &hard).unwrap();
    let tries: Vec<(String, &str)> = vec![
        (db.clone(), "is the database"),
        (format!("{db}-wal"), "-wal file"),
        (format!("{db}-shm"), "-shm file"),
        (format!("{db}-journal"), "-journal file"),
        (link.to_str().unwrap().to_string(), "is the database"),
        (hard.to_str().unwrap().to_string(), "is the database"),
        // The same file by another spelling of its folder.
        (format!("{}/../{}/keel.db", k.dir.path().display(), k.dir.path().file_name().unwrap().to_str().unwrap()), "is the database"),
    ];
    for (out, says) in &tries {
        for force in [false, true] {
            let mut args = vec!["report", "--out", out.as_str()];
            if force {
                args.push("--force");
            }
            k.run(&args).code(65).stderr_has(&[says, "Nothing was written"]);
            let mut args = vec!["export", "--out", out.as_str()];
            if force {
                args.push("--force");
            }
            k.run(&args).code(65).stderr_has(&[says]);
        }
    }
    assert!(std::fs::read(&k.db).unwrap() == before, "the database was written over");
    k.run(&["check"]);
    assert!(!names(k.dir.path()).iter().any(|n| n.contains("keel-tmp")), "{:?}", names(k.dir.path()));
}

#[test]
fn out_refuses_an_existing_file_unless_forced() {
    let k = Keel::demo();
    let notes = k.path("notes.md");
    std::fs::write(&notes, "my notes").unwrap();
    k.run(&["report", "--out", notes.to_str().unwrap()]).code(65).stderr_has(&["already exists", "--force"]);
    k.run(&["export", "--out", notes.to_str().unwrap()]).code(65).stderr_has(&["already exists"]);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");
    k.run(&["report", "--out", notes.to_str().unwrap(), "--force"]).ok();
    assert!(std::fs::read_to_string(&notes).unwrap().contains("M-"), "--force replaced it with the report");
    // The workbook, written as it is made, keeps the same rules.
    let book = k.path("book.xlsx");
    std::fs::write(&book, "my book").unwrap();
    k.run(&["report", "--out", book.to_str().unwrap()]).code(65).stderr_has(&["already exists", "--force"]);
    assert_eq!(std::fs::read_to_string(&book).unwrap(), "my book");
    k.run(&["report", "--out", book.to_str().unwrap(), "--force"]).ok();
    assert!(std::fs::read(&book).unwrap().starts_with(b"PK\x03\x04"), "--force replaced it with the workbook");
    // A folder is never replaced.
    let folder = k.path("reports");
    std::fs::create_dir(&folder).unwrap();
    k.run(&["report", "--out", folder.to_str().unwrap(), "--force"]).code(65).stderr_has(&["is a folder"]);
}

/// keel with the umask at 000, as some shared accounts have it.
fn run_with_umask_000(k: &Keel, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.arg("-c").arg("umask 000; exec \"$@\"").arg("sh").arg(env!("CARGO_BIN_EXE_keel")).arg("--db").arg(&k.db);
    cmd.env_remove("KEEL_USER").env_remove("KEEL_DB").env("KEEL_TODAY", TODAY).current_dir(k.dir.path());
    run(cmd, args)
}

#[test]
fn out_files_are_private_or_shared_with_the_databases_group() {
    let k = Keel::demo();
    let (md, csv, xlsx) = (k.path("r.md"), k.path("items.csv"), k.path("r.xlsx"));
    run_with_umask_000(&k, &["report", "--out", md.to_str().unwrap()]).ok();
    run_with_umask_000(&k, &["export", "--format", "csv", "--out", csv.to_str().unwrap()]).ok();
    run_with_umask_000(&k, &["report", "--out", xlsx.to_str().unwrap()]).ok();
    assert_eq!(mode(&md), 0o600);
    assert_eq!(mode(&csv), 0o600);
    assert_eq!(mode(&xlsx), 0o600);

    // A shared database (0660, group-writable): its reports go to the same group, 0660.
    let gid = std::fs::metadata(k.dir.path()).unwrap().gid();
    std::fs::set_permissions(&k.db, std::fs::Permissions::from_mode(0o660)).unwrap();
    let shared = k.path("shared.md");
    run_with_umask_000(&k, &["report", "--out", shared.to_str().unwrap()]).ok();
    assert_eq!(mode(&shared), 0o660);
    assert_eq!(std::fs::metadata(&shared).unwrap().gid(), gid);
}

#[test]
fn out_never_follows_a_link_planted_where_its_temporary_would_go() {
    let k = Keel::demo();
    let victim = k.path("private.db");
    std::fs::write(&victim, "precious").unwrap();
    let out = k.path("report.md");
    // keel used to write `.report.md.keel-PID.tmp` through any link found there. In a new PID
    // namespace keel's pid is known (1), so the links can be planted for it.
    for pid in 1..=3 {
        std::os::unix::fs::symlink(&victim, k.path(&format!(".report.md.keel-{pid}.tmp"))).unwrap();
    }
    let mut cmd = assert_cmd::Command::new("unshare");
    cmd.args(["--pid", "--fork"]).arg(env!("CARGO_BIN_EXE_keel")).arg("--db").arg(&k.db);
    cmd.env_remove("KEEL_USER").env("KEEL_TODAY", TODAY).current_dir(k.dir.path());
    let r = run(cmd, &["report", "--out", out.to_str().unwrap()]);
    if r.code != 0 && r.stderr.contains("unshare") {
        println!("skipped: cannot make a PID namespace ({}); CI runs as root", r.stderr.trim());
        return;
    }
    r.ok();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "the report was written through a planted link");
    assert!(!std::fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&out).unwrap().contains("M-"));
}

#[test]
fn out_on_a_full_disk_exits_70_and_leaves_nothing_behind() {
    let Some(fs) = Tmpfs::mount() else { return };
    let k = Keel::demo();
    fs.fill(0);
    let out: PathBuf = fs.path("plan.json");
    k.run(&["export", "--out", out.to_str().unwrap()]).code(70).stderr_has(&["No space left on device", "Nothing was written"]);
    k.run(&["report", "--format", "html", "--out", fs.path("r.html").to_str().unwrap()]).code(70).stderr_has(&["No space left"]);
    k.run(&["report", "--out", fs.path("r.xlsx").to_str().unwrap()]).code(70).stderr_has(&["No space left", "Nothing was written"]);
    assert!(fs.names().is_empty(), "left behind: {:?}", fs.names());
}
