//! Identity comes from the kernel: another uid on the host who sets `USER=alice` is not alice.
//! These tests run keel as other uids (setpriv), which needs root; CI runs as root. Elsewhere
//! they say why they did not run and pass.

mod common;

use common::*;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn is_root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn has_passwd_entry(uid: u32) -> bool {
    std::process::Command::new("getent").args(["passwd", &uid.to_string()]).output().map(|o| o.status.success()).unwrap_or(false)
}

/// A keel file with two PMO administrators, the real login and alice, in a folder every uid may
/// use (so another uid's keel really gets to try to write), with a copy of keel they can run.
fn shared_with_everyone() -> (Keel, PathBuf) {
    let k = Keel::init();
    let plan = k.path("plan.json");
    let people = json!({"format": "keel-plan", "version": 1, "people": [
        {"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true},
        {"key": "P-2", "name": "Alice Admin", "login": "alice", "pmo_admin": true}]});
    std::fs::write(&plan, people.to_string()).unwrap();
    k.run(&["import", plan.to_str().unwrap()]).ok();
    let binary = k.path("keel-copy");
    std::fs::copy(env!("CARGO_BIN_EXE_keel"), &binary).unwrap();
    for (p, mode) in [(k.dir.path(), 0o777), (binary.as_path(), 0o755), (k.db.as_path(), 0o666)] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    (k, binary)
}

/// Run the copied keel as `uid` with `USER`/`LOGNAME` forged to alice.
fn as_uid_posing_as_alice(k: &Keel, binary: &Path, uid: u32, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::new("setpriv");
    cmd.args([format!("--reuid={uid}"), format!("--regid={uid}"), "--clear-groups".into()])
        .arg(binary)
        .arg("--db")
        .arg(&k.db)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("USER", "alice")
        .env("LOGNAME", "alice")
        .env("HOME", k.dir.path())
        .current_dir(k.dir.path());
    run(cmd, args)
}

#[test]
fn another_uid_cannot_act_as_alice_by_setting_user() {
    if !is_root() {
        println!("skipped: acting as another uid needs root (setpriv); CI runs as root");
        return;
    }
    let (k, binary) = shared_with_everyone();
    let before = k.export();

    // A uid with no entry in the password database is `uid:N`, no person, viewing only.
    let stranger = (4242..5000).find(|u| !has_passwd_entry(*u)).expect("a free uid");
    let who = as_uid_posing_as_alice(&k, &binary, stranger, &["whoami"]);
    who.ok().stdout_has(&[&format!("login: uid:{stranger}"), "person: none"]);
    assert!(!who.stdout.contains("alice"), "{}", who.stdout);
    as_uid_posing_as_alice(&k, &binary, stranger, &["set", "P-1", "name=Forged"]).code(77).stderr_has(&["viewing only"]);

    // A uid with a name is that name, whatever USER says.
    if has_passwd_entry(65534) {
        let who = as_uid_posing_as_alice(&k, &binary, 65534, &["whoami"]);
        who.ok().stdout_has(&["login: nobody", "person: none"]);
        as_uid_posing_as_alice(&k, &binary, 65534, &["set", "P-1", "name=Forged"]).code(77);
    }
    assert!(k.export() == before, "a refused edit changed the file");
    let forged = k.sql_text("SELECT group_concat(actor) FROM audit WHERE actor = 'alice'");
    assert_eq!(forged, None, "the audit log names the forged login");
}
