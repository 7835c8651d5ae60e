//! A keel killed while it made a backup (or a new file) leaves `.NAME.creating-PID` and its
//! `-journal` behind. `keel check` names them; the next backup or init in that folder removes
//! those whose process is gone, and never one whose process still runs.

mod common;

use common::*;

/// A process id no process can have: above the kernel's highest.
fn dead_pid() -> u64 {
    let max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap().trim().parse().unwrap();
    max + 1
}

#[test]
fn leftovers_of_killed_keels_are_named_and_removed_by_the_next_backup() {
    let k = Keel::demo();
    let dead = dead_pid();
    let stale =
        [format!(".copy.db.creating-{dead}"), format!(".copy.db.creating-{dead}-journal"), format!(".old.db.creating-{}-wal", dead + 1)];
    let running = format!(".busy.db.creating-{}", std::process::id());
    for name in stale.iter().chain([&running]) {
        std::fs::write(k.path(name), vec![7u8; 4096]).unwrap();
    }
    let r = k.run(&["check"]);
    for name in &stale {
        assert!(r.stdout.contains(name.as_str()), "check names {name}:\n{}", r.stdout);
    }
    assert!(!r.stdout.contains(&running), "a running keel's file is not a leftover:\n{}", r.stdout);

    k.run(&["backup", k.path("copy.db").to_str().unwrap()]).ok();
    for name in &stale {
        assert!(!k.path(name).exists(), "{name} was removed");
    }
    assert!(k.path(&running).exists(), "a running keel's file is kept");
    assert!(!k.run(&["check"]).stdout.contains("WARNING: files left"));
}
