//! Update discipline (issue 20): each expected update is on time, late or missed; two missed in a
//! row open an owner review, three a sponsor action; `keel discipline` lists the ledger and the
//! digest names what a person missed.

mod common;

use chrono::NaiveDate;
use common::{os_user, Engine, Keel};
use keel::domain::{ItemKey, Period};
use keel::store::{Change, Edit, Store};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn k1() -> ItemKey {
    ItemKey::parse("K-1").unwrap()
}

/// The demo's K-1 (weekly, Jonas Berg's), as its escalation tier and reason stand on `today`
/// after the sweep `keel sync` runs (signals change with time, not only with edits).
fn after_sweep(path: &std::path::Path, today: &str) -> (Option<String>, Option<String>) {
    let mut s = Store::open(path).unwrap();
    s.set_clock(day(today));
    s.identify(Some(os_user())).unwrap();
    s.edit(Edit::one(Change::Reassess)).unwrap();
    let d = s.detail(&k1()).unwrap();
    (d.escalation.as_ref().map(|e| e.tier_label.to_string()), d.escalation.map(|e| e.reason))
}

fn missed_updates_escalate_to_owner_review_then_sponsor_action_and_an_update_ends_it(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "missed_updates_escalate") else { return };
    // Created on 2026-11-26 (W48): K-1's updates are current.
    assert_eq!(after_sweep(&k.db, "2026-11-26").0, None);
    // W49 missed once W50 is due too (after 2026-12-13); W50 is only overdue: one missed.
    assert_eq!(after_sweep(&k.db, "2026-12-14").0, None);
    let (tier, why) = after_sweep(&k.db, "2026-12-21");
    assert_eq!(tier.as_deref(), Some("owner review"), "{why:?}");
    assert!(why.unwrap().contains("2 updates missed in a row"));
    let (tier, why) = after_sweep(&k.db, "2026-12-28");
    assert_eq!(tier.as_deref(), Some("sponsor action"), "{why:?}");
    assert!(why.unwrap().contains("3 updates missed in a row (the last for 2026-W51)"));

    // Jonas reports for W52: the run of missed updates ends, and the escalation closes.
    // On a server jonas is the role that connects; on a demo file he is named.
    let mut jonas = Store::open(&common::pg::as_role(&k.db, "jonas")).unwrap();
    jonas.set_clock(day("2026-12-28"));
    if engine == Engine::Sqlite {
        jonas.identify(Some("jonas")).unwrap();
    }
    let w52 = Period::parse("2026-W52").unwrap();
    let set = Change::Value { key: k1(), period: w52, field: "actual".into(), value: "86".into(), if_version: None };
    jonas.edit(Edit::one(set)).unwrap();
    let d = jonas.detail(&k1()).unwrap();
    assert!(d.escalation.is_none(), "{:?}", d.escalation.map(|e| e.reason));
    let u = d.signals.updates.unwrap();
    let last: Vec<_> = u.recent.iter().rev().take(5).map(|e| (e.period.to_string(), e.state.label())).collect();
    assert_eq!(
        last,
        [
            ("2026-W53".to_string(), "open"),
            ("2026-W52".to_string(), "late"),
            ("2026-W51".to_string(), "missed"),
            ("2026-W50".to_string(), "missed"),
            ("2026-W49".to_string(), "missed")
        ]
    );
}

fn the_thresholds_for_missed_updates_are_settings(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "the_thresholds_for_missed") else { return };
    let mut admin = Store::open(&k.db).unwrap();
    admin.set_clock(day("2026-12-21"));
    admin.identify(Some(os_user())).unwrap();
    let set = |name: &str, value: &str| Change::Setting { name: name.into(), value: value.into() };
    // Each change is judged with the settings already stored: sponsor action first.
    assert!(admin.edit(Edit::one(set("missed_owner_review", "3"))).is_err(), "3 would not be below the sponsor's 3");
    admin.edit(Edit::one(set("missed_sponsor_action", "4"))).unwrap();
    admin.edit(Edit::one(set("missed_owner_review", "3"))).unwrap();
    assert_eq!(after_sweep(&k.db, "2026-12-21").0, None, "two missed no longer calls for a review");
    assert_eq!(after_sweep(&k.db, "2026-12-28").0.as_deref(), Some("owner review"));
    // Sponsor action at or below owner review is refused, and nothing changes.
    let e = admin.edit(Edit::one(set("missed_sponsor_action", "3"))).unwrap_err();
    assert!(e.to_string().contains("must be more than missed_owner_review"), "{e}");
    assert_eq!(admin.setting("missed_sponsor_action").unwrap().as_deref(), Some("4"));
}

fn keel_discipline_lists_the_ledger_per_person_and_the_digest_names_what_was_missed(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "keel_discipline_lists_the_ledger_per_per") else { return };
    // The demo's M-12 (Priya Raman's) missed W44, W45 and W46: sponsor action.
    let rows = k.run(&["discipline", "--person", "priya", "--format", "json"]).ok().json();
    let rows = rows.as_array().unwrap();
    assert!(rows.iter().all(|r| r["login"] == "priya"), "only Priya's items");
    let m12 = rows.iter().find(|r| r["key"] == "M-12").expect("M-12 in Priya's ledger");
    assert_eq!(m12["missed_in_a_row"], 3);
    assert_eq!(m12["missed_periods"], serde_json::json!(["2026-W44", "2026-W45", "2026-W46"]));
    let on_time = m12["on_time"].as_u64().unwrap();
    let late = m12["late"].as_u64().unwrap();
    assert_eq!(on_time + late + 3, m12["expected"].as_u64().unwrap() - 1, "the rest on time or late (W47 still overdue)");
    // The same rows as a table and as CSV, through the listing formatter.
    k.run(&["discipline", "--person", "P-6"]).ok();
    let csv = k.run(&["discipline", "--unit", "Customer Service", "--format", "csv"]);
    csv.ok().stdout_has(&["person,unit,key,title,cadence,expected,on_time,late,missed,missed_in_a_row,missed_periods", "M-12"]);
    let esc = k.show("M-12")["escalation"].clone();
    assert_eq!(esc["tier_label"], "sponsor action");
    assert!(esc["reason"].as_str().unwrap().contains("3 updates missed in a row"));
    k.run(&["digest", "--person", "priya"]).ok().stdout_has(&["Updates missed this cycle", "M-12", "2026-W44, 2026-W45, 2026-W46"]);
    k.run(&["discipline", "--unit", "U-999"]).code(65);
}

fn keel_sync_from_cron_escalates_missed_updates_as_the_calendar_moves(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "keel_sync_from_cron_escalates_missed_upd") else { return };
    let sync_on = |today: &str| {
        let mut c = k.cmd(None);
        c.env("KEEL_TODAY", today);
        common::run(c, &["sync"]).ok();
        let mut c = k.cmd(None);
        c.env("KEEL_TODAY", today);
        common::run(c, &["show", "K-1", "--format", "json"]).ok().json()["escalation"].clone()
    };
    assert!(sync_on("2026-12-14").is_null(), "one missed update is not yet a signal");
    let e = sync_on("2026-12-21");
    assert_eq!(e["tier_label"], "owner review", "{e}");
    assert!(e["reason"].as_str().unwrap().contains("2 updates missed in a row"));
    assert_eq!(sync_on("2026-12-28")["tier_label"], "sponsor action");
}

fn weeks_without_a_sync_are_not_damage_to_keel_check_deep(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "weeks_without_a_sync_are_not_damage_to_k") else { return };
    // Six weeks on, nobody synced: missed updates call for more than is stored, which lags
    // behind the calendar until the next sync or edit; the recompute accepts that.
    let mut c = k.cmd(None);
    c.env("KEEL_TODAY", "2027-01-11");
    let r = common::run(c, &["check", "--deep", "--format", "json"]);
    assert!(!r.stderr.contains("derived state differs"), "{}", r.stderr);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // After a sync the stored tiers are the full verdict again, and still agree.
    let mut c = k.cmd(None);
    c.env("KEEL_TODAY", "2027-01-11");
    common::run(c, &["sync"]).ok();
    let mut c = k.cmd(None);
    c.env("KEEL_TODAY", "2027-01-11");
    let r = common::run(c, &["check", "--deep", "--format", "json"]);
    assert!(!r.stderr.contains("derived state differs"), "{}", r.stderr);
    assert!(r.json()["escalations_by_tier"][1].as_i64().unwrap() > 4, "missed updates now call for sponsor actions");
}

crate::on_both_engines!(
    missed_updates_escalate_to_owner_review_then_sponsor_action_and_an_update_ends_it
    the_thresholds_for_missed_updates_are_settings
    keel_discipline_lists_the_ledger_per_person_and_the_digest_names_what_was_missed
    keel_sync_from_cron_escalates_missed_updates_as_the_calendar_moves
    weeks_without_a_sync_are_not_damage_to_keel_check_deep
);
