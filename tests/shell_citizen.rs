//! keel around the shell: digests as real mail (parsed by Python's `email` package), the
//! calendar export read by an iCalendar parser, manual pages, completion from the file, the
//! keymap listing and its problems, settings from the command line, and `--version`.

mod common;

use common::*;
use std::path::Path;

fn python3() -> Option<&'static str> {
    std::process::Command::new("python3").arg("--version").output().ok().filter(|o| o.status.success()).map(|_| "python3")
}

/// A stand-in for sendmail: each message it is handed lands in its own file in `dir`, with the
/// arguments it was called with beside it.
fn fake_sendmail(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("sendmail");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nn=$(ls {d}/*.eml 2>/dev/null | wc -l)\necho \"$@\" > {d}/$n.args\ncat > {d}/$n.eml\n", d = dir.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// A message as Python's email package reads it (policy=default: RFC 5322 and 2047 decoding).
fn parse_mail(py: &str, file: &Path) -> serde_json::Value {
    let code = r#"
import email, json, sys
from email import policy
with open(sys.argv[1], 'rb') as f:
    m = email.message_from_binary_file(f, policy=policy.strict)
print(json.dumps({
    'defects': [str(d) for d in m.defects] + [str(d) for k in m.keys() for d in m[k].defects],
    'to': [a.addr_spec for a in m['To'].addresses],
    'to_name': [a.display_name for a in m['To'].addresses],
    'from': [a.addr_spec for a in m['From'].addresses],
    'subject': str(m['Subject']),
    'date': m['Date'].datetime.isoformat() if m['Date'].datetime else None,
    'content_type': m.get_content_type(),
    'charset': m.get_content_charset(),
    'body': m.get_content(),
}))
"#;
    let out = std::process::Command::new(py).args(["-c", code]).arg(file).output().expect("python3 runs");
    assert!(out.status.success(), "python's email parser failed on {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn digests_list_what_each_person_owes_and_mail_as_real_messages() {
    let demo = Keel::demo();
    let all = demo.run(&["digest", "--all"]).ok().stdout.clone();
    assert!(all.contains("keel digest for Amara Okafor (P-2), week 2026-W48"), "{all:.400}");
    assert!(all.contains("Escalations on what you own"), "someone owns an escalated item: {all}");
    let one = demo.run(&["digest", "--person", "P-2"]).ok().stdout.clone();
    assert!(one.starts_with("keel digest for Amara Okafor (P-2)") && !one.contains("(P-3)"));
    demo.run(&["digest", "--person", "P-99"]).code(65).stderr_has(&["no person"]);

    // Every owner of an open escalation finds it in their digest.
    for e in demo.escalations() {
        let Some(owner) = e["owner"].as_str() else { continue };
        let block = all.split("keel digest for ").find(|b| b.starts_with(owner)).unwrap_or_else(|| panic!("a digest for {owner}"));
        assert!(block.contains(e["key"].as_str().unwrap()), "{}'s digest names {}", owner, e["key"]);
    }

    let Some(py) = python3() else {
        println!("skipped the mail parser part: no python3 on this machine");
        return;
    };
    demo.run(&["set", "P-2", "name=Zoë Ångström, \"the\" lead"]).ok();
    let dir = demo.path("mail");
    std::fs::create_dir(&dir).unwrap();
    let sendmail = fake_sendmail(&dir);
    let r = demo.run(&["digest", "--all", "--mail", "--sendmail", sendmail.to_str().unwrap(), "--from", "PMO <pmo@northwind.example>"]);
    r.ok().stderr_has(&["sent "]);
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    files.sort();
    assert!(files.len() >= 2, "one message per person with something due: {files:?}");
    let mut saw_zoe = false;
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        assert!(
            raw.windows(2).filter(|w| w == b"\r\n").count() > 5 && !raw.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'),
            "CRLF line ends"
        );
        assert_eq!(std::fs::read_to_string(f.with_extension("args")).unwrap().trim(), "-t -i", "sendmail -t reads the recipients");
        let m = parse_mail(py, f);
        assert_eq!(m["defects"], serde_json::json!([]), "{}: {m}", f.display());
        assert_eq!(m["from"][0], "pmo@northwind.example");
        assert_eq!(m["content_type"], "text/plain");
        assert_eq!(m["charset"], "utf-8");
        assert!(m["date"].is_string(), "a Date header that parses");
        let to = m["to"][0].as_str().unwrap();
        assert!(to.ends_with("@northwind.example"), "{m}");
        assert!(m["body"].as_str().unwrap().starts_with("keel digest for "), "{m}");
        if to == "amara.okafor@northwind.example" {
            saw_zoe = true;
            assert_eq!(m["to_name"][0], "Zoë Ångström, \"the\" lead", "the display name survives encoding");
            assert!(m["subject"].as_str().unwrap().contains("Zoë Ångström"), "{m}");
            assert!(m["body"].as_str().unwrap().contains("Zoë Ångström"), "8bit UTF-8 body");
        }
    }
    assert!(saw_zoe, "P-2 got a digest");
}

#[test]
fn a_missing_sendmail_is_a_clear_error() {
    let demo = Keel::demo();
    demo.run(&["digest", "--person", "P-2", "--mail", "--sendmail", "/nonexistent/sendmail"])
        .code(70)
        .stderr_has(&["cannot run /nonexistent/sendmail", "--sendmail"]);
}

#[test]
fn the_calendar_export_is_icalendar_a_parser_reads() {
    let demo = Keel::demo();
    demo.run(&[
        "milestone",
        "M-2",
        "add",
        "Pilot; phase 2, with a rather long title that will need folding at seventy-five octets ✓",
        "2026-12-03",
    ])
    .ok();
    let r = demo.run(&["export", "--format", "ics"]);
    r.ok();
    let text = r.stdout.clone();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
        assert!(!line.contains('\n'), "bare LF");
    }
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let cal = parser.next().expect("one calendar").expect("it parses");
    assert!(parser.next().is_none());
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_else(|| panic!("{name} missing"))
    };
    let mut uids = std::collections::BTreeSet::new();
    for e in &cal.events {
        assert!(uids.insert(prop(e, "UID")), "UIDs are unique");
        prop(e, "DTSTAMP");
        prop(e, "DTSTART");
    }
    let summaries: Vec<String> = cal.events.iter().map(|e| prop(e, "SUMMARY")).collect();
    assert!(summaries.iter().any(|s| s.starts_with("M-2 milestone: Pilot\\; phase 2\\, with a rather long title")), "{summaries:?}");
    let pilot = cal.events.iter().find(|e| prop(e, "SUMMARY").contains("phase 2")).unwrap();
    assert_eq!(prop(pilot, "DTSTART"), "20261203");
    assert!(prop(pilot, "SUMMARY").ends_with("octets ✓"), "unfolded whole, the character intact");
    assert!(summaries.iter().any(|s| s.contains("decision due")), "open escalations' decisions: {summaries:?}");
    // The same file exports the same UIDs.
    let again = demo.run(&["export", "--format", "ics"]).ok().stdout.clone();
    let uid_lines = |t: &str| t.split("\r\n").filter(|l| l.starts_with("UID:")).map(String::from).collect::<Vec<_>>();
    assert_eq!(uid_lines(&text), uid_lines(&again));
    demo.run(&["export", "--format", "ics", "--what", "values"]).code(65);
}

#[test]
fn man_pages_cover_every_command_and_refer_only_to_pages_that_exist() {
    let k = Keel::blank(None);
    let dir = k.path("man");
    k.run(&["man", "--dir", dir.to_str().unwrap()]).ok().stderr_has(&["manual pages"]);
    let pages: std::collections::BTreeMap<String, String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    for name in ["keel.1", "keel-report.1", "keel-digest.1", "keel-cycle-copy.1", "keel-audit-verify.1", "keel-man.1"] {
        assert!(pages.contains_key(name), "{name} in {:?}", pages.keys());
    }
    assert!(!pages.contains_key("keel-help.1"));
    for (name, text) in &pages {
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES"] {
            assert!(text.contains(section), "{name} lacks {section}");
        }
        for var in ["KEEL_DB", "KEEL_USER", "NO_COLOR", "keymap.toml"] {
            assert!(text.contains(var), "{name} lacks {var}");
        }
        assert!(text.contains(".TP\n.B 77\n"), "{name}: the exit codes are a list");
        // Every page named NAME(1) exists.
        for (i, _) in text.match_indices("(1)") {
            let before = &text[..i];
            let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '\\')).map(|s| s + 1).unwrap_or(0);
            let referred = before[start..].replace("\\-", "-").replace("\\fB", "").replace("\\fR", "");
            let referred = referred.trim_start_matches("fB");
            if referred.starts_with("keel") {
                assert!(pages.contains_key(&format!("{referred}.1")), "{name} refers to {referred}(1), which is not written");
            }
        }
    }
    assert!(pages["keel-report.1"].contains("keel report \\-\\-summary"), "report examples");
    if std::process::Command::new("man").arg("--version").output().is_ok_and(|o| o.status.success()) {
        let out = std::process::Command::new("man").env("MANWIDTH", "80").arg("-l").arg(dir.join("keel-report.1")).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(shown.contains("EXIT STATUS") && shown.contains("--summary"), "{shown}");
    } else {
        println!("man is not installed: the rendering part is skipped");
    }
}

#[test]
fn completion_offers_the_files_keys_people_units_and_cycles() {
    let demo = Keel::demo();
    let complete = |args: &[&str]| -> String {
        let mut c = keel(demo.dir.path());
        c.env("COMPLETE", "fish").arg("--").arg("keel").args(args);
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let db = demo.db.to_str().unwrap();
    let keys = complete(&["--db", db, "show", "M-1"]);
    let values: Vec<&str> = keys.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert!(values.contains(&"M-1") && values.contains(&"M-10"), "{keys}");
    assert!(values.iter().all(|v| v.starts_with("M-1")), "{keys}");
    assert!(keys.lines().any(|l| l.starts_with("M-1\t") && l.len() > 5), "keys come with their titles: {keys}");
    let lower = complete(&["--db", db, "show", "kr-"]);
    assert!(lower.lines().any(|l| l.starts_with("KR-1\t")), "{lower}");
    let owners = complete(&["--db", db, "escalations", "--owner", "am"]);
    assert!(owners.lines().any(|l| l.starts_with("amara")), "{owners}");
    let units = complete(&["--db", db, "report", "--unit", ""]);
    assert!(units.lines().any(|l| l.starts_with("U-1\t")), "{units}");
    let cycles = complete(&["--db", db, "report", "--cycle", "C"]);
    assert!(cycles.lines().any(|l| l.starts_with("C-1\t")), "{cycles}");
    let actions = complete(&["--db", db, "gate", "M-1", "re"]);
    let actions: Vec<&str> = actions.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert!(actions.contains(&"request") && actions.contains(&"reject") && actions.contains(&"resume"), "{actions:?}");
    let tiers = complete(&["--db", db, "escalations", "--tier", "s"]);
    assert!(tiers.contains("sponsor") && tiers.contains("steering"), "{tiers}");
    // With KEEL_DB instead of --db, and never an error for a missing file.
    let mut c = keel(demo.dir.path());
    c.env("COMPLETE", "fish").env("KEEL_DB", &demo.db).args(["--", "keel", "show", "O-"]);
    assert!(String::from_utf8(c.output().unwrap().stdout).unwrap().contains("O-1"));
    let none = complete(&["--db", "/nonexistent.keel", "show", "M-"]);
    assert!(none.trim().is_empty(), "{none}");
    for shell in ["bash", "zsh", "fish"] {
        let script = demo.run(&["completions", shell]).ok().stdout.clone();
        assert!(script.contains("COMPLETE") && script.contains("keel"), "{shell}: {script}");
    }
}

#[test]
fn keys_prints_the_keymap_in_force_and_every_problem_with_its_place() {
    let k = Keel::blank(None);
    let r = k.run(&["keys"]);
    r.ok();
    assert!(r.stdout.contains("[keys]\n") && r.stdout.contains("\"j\" = \"down\"\n"), "{}", r.stdout);
    let parsed: toml::Table = toml::from_str(&r.stdout).expect("the listing is a keymap file");
    assert!(parsed.contains_key("global"));
    let config = k.dir.path().join(".config/keel");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("keymap.toml"),
        "[keys]\n\"x\" = \"quit\"\n\"ctrl-zz\" = \"up\"\n\"y\" = \"fly\"\n[nowhere]\n\"a\" = \"up\"\n",
    )
    .unwrap();
    let r = k.run(&["keys"]);
    r.code(65).stderr_has(&[
        "keymap.toml:3:1: 'ctrl-zz' is not a key name",
        "keymap.toml:4:7: 'fly' is not an action",
        "keymap.toml:5:2: [nowhere] is not a mode",
    ]);
    assert!(r.stdout.contains("\"x\" = \"quit\""), "the good override is in force");
}

#[test]
fn settings_show_the_values_in_force_and_set_name_equals_value_goes_through_the_write_path() {
    let demo = Keel::demo();
    let r = demo.run(&["settings"]);
    r.ok().stdout_has(&["tolerance", "5% (default)", "major", "20% (default)", "timezone"]);
    demo.run(&["settings", "set", "tolerance=0.04"]).ok().stdout_has(&["setting tolerance = 0.04"]);
    demo.run(&["settings", "tolerance"]).ok().stdout_has(&["tolerance = 0.04"]);
    demo.run(&["settings", "set", "tolerance=5 percent"]).code(65).stderr_has(&["is not a share"]);
    demo.run(&["settings", "set", "tolerance"]).code(65).stderr_has(&["NAME=VALUE"]);
    demo.run_as("amara", &["settings", "set", "tolerance=0.03"]).code(77);
    let log = demo.run(&["log", "--format", "json"]).ok().json();
    let rows: Vec<_> = log.as_array().unwrap().iter().filter(|r| r["item_key"] == "settings" && r["field"] == "tolerance").collect();
    assert_eq!(rows.len(), 1, "one audited change: {rows:?}");
    assert_eq!(rows[0]["new_value"], "0.04");
}

#[test]
fn the_version_names_the_commit_and_the_build_date() {
    let k = Keel::blank(None);
    let v = k.run(&["--version"]).ok().stdout.clone();
    assert!(v.starts_with(&format!("keel {} (commit ", env!("CARGO_PKG_VERSION"))), "{v}");
    let date = v.trim().rsplit("built ").next().unwrap().trim_end_matches(')');
    assert!(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(), "{v}");
}
