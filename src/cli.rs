//! The command line: what each command does (clap's definitions are in `cli/args.rs`). `main.rs`
//! only calls `run`.

use crate::domain::gates::GateAction;
use crate::domain::{ItemKey, Period};
use crate::store::edit::{EscalationAction, MilestoneAction};
use crate::store::{Change, Edit, Store, StoreError};
use anyhow::{anyhow, bail, Context, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

mod args;
pub mod build_info;
pub mod complete;
mod copy;
mod dates;
mod digest;
mod discipline;
mod formats;
mod import;
mod listing;
mod lists;
mod man;
mod out_file;
mod restore;
mod server;
mod settings;
pub mod stdout;
mod sync;
mod upkeep;
pub use args::{AuditAction, Cli, Command, CycleAction, Format};
pub use formats::{ExportFormat, ExportWhat, ReportFormat};
pub use import::ImportFormat;
pub use listing::ListFormat;
pub use lists::{CheckFormat, ListKind};

/// An error that knows its exit code.
#[derive(Debug)]
pub struct Exit(pub i32);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for Exit {}

/// The exit code for an error, by what went wrong.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if let Some(Exit(code)) = err.downcast_ref::<Exit>() {
        return *code;
    }
    match err.downcast_ref::<StoreError>() {
        Some(StoreError::NotFound { .. } | StoreError::NoSchema { .. }) => 66,
        Some(
            StoreError::NotKeel { .. }
            | StoreError::Damaged { .. }
            | StoreError::Newer { .. }
            | StoreError::OldSqlite { .. }
            | StoreError::InUse { .. }
            | StoreError::Unavailable(_),
        ) => 69,
        Some(
            StoreError::Conflict { .. } | StoreError::Busy | StoreError::Lost(_) | StoreError::Replaced { .. } | StoreError::Changed(_),
        ) => 75,
        Some(StoreError::Permission(_) | StoreError::ReadOnly(_) | StoreError::Refused { by_role: true, .. }) => 77,
        Some(StoreError::Database(_) | StoreError::Io(_)) => 70,
        Some(_) => 65,
        None => 65,
    }
}

pub fn default_db() -> PathBuf {
    directories::ProjectDirs::from("", "", "keel").map(|d| d.data_dir().join("keel.db")).unwrap_or_else(|| PathBuf::from("keel.db"))
}

pub fn default_demo_db() -> PathBuf {
    directories::ProjectDirs::from("", "", "keel").map(|d| d.data_dir().join("demo.db")).unwrap_or_else(|| PathBuf::from("keel-demo.db"))
}

fn key(s: &str) -> Result<ItemKey> {
    ItemKey::parse(s).map_err(|e| anyhow!(StoreError::Invalid { key: s.to_string(), field: "key".into(), why: e.to_string() }))
}

fn period(s: &str) -> Result<Period> {
    Period::parse(s).map_err(|e| anyhow!(StoreError::Invalid { key: "--period".into(), field: s.to_string(), why: e.to_string() }))
}

fn parse_date(s: &str, what: &str) -> Result<NaiveDate> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        anyhow!(StoreError::Invalid { key: what.into(), field: s.to_string(), why: "is not a date: use YYYY-MM-DD".into() })
    })?;
    crate::domain::period::check_date(d)
        .map_err(|e| anyhow!(StoreError::Invalid { key: what.into(), field: s.to_string(), why: e.to_string() }))
}

fn print_effects(outcome: &crate::store::EditOutcome) {
    for e in &outcome.effects {
        println!("{}", crate::domain::text_check::printable(e));
    }
    // A failing hook never undid the edit; say so on stderr, where scripts look for trouble.
    for f in &outcome.hook_failures {
        eprintln!("keel: warning: {}", crate::domain::text_check::printable(f));
    }
}

pub fn open(db: &Path) -> Result<Store> {
    let store = Store::open(db)?;
    for w in store.warnings() {
        eprintln!("keel: warning: {w}");
    }
    Ok(store)
}

/// Create the demo file if needed; returns its path.
pub fn ensure_demo(db: &Path, force: bool) -> Result<bool> {
    if crate::store::server::server_url(db).is_some() {
        return server::ensure_demo(db);
    }
    if db.exists() {
        // A demo cut off before its plan went in (keel killed right after creating the file) has
        // no history at all: it is made again rather than opened empty.
        let unfinished = Store::open(db).ok().is_some_and(|s| s.demo && s.change_counter().ok() == Some(0));
        if !force && !unfinished {
            return Ok(false);
        }
        // Only ever replace a demo, or a file nobody can read (a demo cut off by a full disk):
        // refuse to delete real data.
        if !crate::store::files::unreadable(db) {
            let existing = Store::open(db).context("--force replaces only a keel demo file")?;
            if !existing.demo {
                bail!(StoreError::Permission(format!("{} is not a demo database: --force refuses to replace real data", db.display())));
            }
        }
        crate::store::files::remove_with_journals(db)?;
    }
    let mut store = Store::create(db, true)?;
    let plan = crate::io::demo::plan(store.clock().today, &crate::store::os_login())?;
    store.import_plan(plan)?;
    Ok(true)
}

pub fn run(cli: Cli) -> Result<i32> {
    if let Some(code) = server::refuse_server_url(&cli) {
        return Ok(code);
    }
    let db = || cli.db.clone().unwrap_or_else(default_db);
    match cli.command {
        None => {
            let store = open(&db())?;
            crate::tui::run(store, cli.mouse)?;
            Ok(0)
        }
        Some(Command::Demo { force, no_open }) => {
            let path = cli.db.clone().unwrap_or_else(default_demo_db);
            let created = ensure_demo(&path, force)?;
            let store = open(&path)?;
            if no_open {
                let report = store.check()?;
                println!("{} demo database: {}", if created { "created" } else { "using the existing" }, path.display());
                println!("you act as: {}", store.actor.display());
                println!(
                    "open escalations: {} steering committee, {} sponsor action, {} owner review; {} stale, {} late milestones",
                    report.escalations_by_tier[2],
                    report.escalations_by_tier[1],
                    report.escalations_by_tier[0],
                    report.stale.len(),
                    report.late_milestones.len()
                );
                println!("open it with: keel --db {}   (or: keel demo)", path.display());
                print!("{}", crate::io::demo::who_is_who(&store.export_plan()?, &path));
                Ok(0)
            } else {
                crate::tui::run(store, cli.mouse)?;
                Ok(0)
            }
        }
        Some(Command::Init { shared, force }) => {
            let path = db();
            if force && path.exists() {
                if !crate::store::files::unreadable(&path) {
                    bail!(StoreError::Exists { path: path.display().to_string() });
                }
                crate::store::files::remove_with_journals(&path)?;
            }
            let store = match &shared {
                Some(group) => Store::create_shared(&path, group)?,
                None => Store::create(&path, false)?,
            };
            match &shared {
                _ if crate::store::server::server_url(&path).is_some() => {
                    println!("created keel's schema in {}; you are {}", path.display(), store.actor.login);
                    server::print_first_grants(&store, &path)?;
                }
                Some(group) => println!("created {} (mode 0660, group {group}); you are {}", path.display(), store.actor.login),
                None => println!("created {} (mode 0600); you are {}", path.display(), store.actor.login),
            }
            println!("next: keel import plan.json --db {}", path.display());
            Ok(0)
        }
        Some(Command::Import { file, dry_run, format, quiet }) => {
            import::run(import::Request { db: &db(), file: &file, format, dry_run, quiet })
        }
        Some(Command::Export { format, what, out, force }) => match (formats::export_format(format, out.as_deref())?, what) {
            (ExportFormat::Ics, Some(w)) => bail!(StoreError::Invalid {
                key: "--what".into(),
                field: format!("{w:?}").to_lowercase(),
                why: "the calendar export has no --what: leave it out".into()
            }),
            (ExportFormat::Ics, None) => digest::export_ics(&db(), formats::out_path(out.as_deref()), force),
            (format, what) => formats::export(&db(), format == ExportFormat::Json, what, out.as_deref(), force),
        },
        Some(Command::Report { format, cycle, unit, out, force, summary, top, only, depth, as_of }) => {
            let format = formats::report_format(format, out.as_deref())?;
            let size = formats::ReportSize { pack_top: summary.then_some(top), only, depth, as_of };
            formats::report(&db(), format, cycle.as_deref(), unit.as_deref(), out.as_deref(), force, size)
        }
        Some(Command::Show { key: k, format }) => {
            let store = open(&db())?;
            let d = store.detail(&key(&k)?)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&d)?),
                Format::Text => print!("{}", crate::io::text::detail(&d)),
            }
            Ok(0)
        }
        Some(Command::Set { key: k, assignments, period: p, reason, if_version }) => {
            let mut store = open(&db())?;
            let item = key(&k)?;
            let mut changes = Vec::new();
            let mut per_period = None;
            for a in &assignments {
                let (field, value) = a.split_once('=').ok_or_else(|| {
                    anyhow!(StoreError::Invalid { key: k.clone(), field: a.clone(), why: "use FIELD=VALUE, e.g. actual=1200".into() })
                })?;
                if crate::store::fields::is_period_value(item.kind, field, p.is_some()) {
                    let pp = match (&per_period, &p) {
                        (Some(pp), _) => *pp,
                        (None, Some(s)) => period(s)?,
                        (None, None) => store.current_period(&item)?,
                    };
                    per_period = Some(pp);
                    changes.push(Change::Value {
                        key: item.clone(),
                        period: pp,
                        field: field.to_string(),
                        value: value.to_string(),
                        if_version,
                    });
                } else {
                    changes.push(Change::Set { key: item.clone(), field: field.to_string(), value: value.to_string(), if_version });
                }
            }
            let outcome = store.edit(Edit { changes, reason })?;
            if outcome.changes == 0 {
                println!("{item}: nothing changed (the values were already so)");
            } else {
                println!("{item}: saved{}", per_period.map(|p| format!(" for {p}")).unwrap_or_default());
            }
            print_effects(&outcome);
            Ok(0)
        }
        Some(Command::Gate { key: k, action, reason, pending, format }) => {
            let mut store = open(&db())?;
            if pending || k.is_none() {
                return lists::gate_pending(&store, format);
            }
            let item = key(k.as_deref().unwrap_or_default())?;
            let action_s = action.ok_or_else(|| {
                anyhow!(StoreError::Invalid {
                    key: item.to_string(),
                    field: "gate".into(),
                    why: "name an action: request, approve, reject, back, hold, resume or cancel".into()
                })
            })?;
            let action = GateAction::parse(&action_s).ok_or_else(|| {
                anyhow!(StoreError::Invalid {
                    key: item.to_string(),
                    field: "gate".into(),
                    why: format!("'{action_s}' is not an action: request, approve, reject, back, hold, resume or cancel")
                })
            })?;
            let outcome = store.edit(Edit::one(Change::Gate { key: item, action, reason: reason.clone() }).with_reason(reason))?;
            print_effects(&outcome);
            Ok(0)
        }
        Some(Command::Escalations { tier, owner, unit, all, format }) => {
            lists::escalations(&open(&db())?, tier.as_deref(), owner, unit, all, format)
        }
        Some(Command::Source { action }) => sync::source(&db(), action),
        Some(Command::Sync { dry_run, keys }) => sync::sync(&db(), &keys, dry_run),
        Some(Command::Discipline { person, unit, cycle, format }) => {
            discipline::run(&open(&db())?, crate::store::discipline::DisciplineQuery { person, unit, cycle }, format)
        }
        Some(Command::List { kind, owner, unit, stage, status, implementation, potential, tier, cycle, format, retired }) => {
            let args = lists::ListArgs { kind, owner, unit, stage, status, implementation, potential, tier, cycle, format, retired };
            lists::list(&open(&db())?, args)
        }
        Some(Command::Escalation { id, action, arg, reason }) => {
            let mut store = open(&db())?;
            let text = arg.join(" ");
            let need = |what: &str| -> Result<String> {
                if text.trim().is_empty() {
                    bail!(StoreError::Invalid { key: format!("escalation {id}"), field: action.clone(), why: format!("needs {what}") })
                }
                Ok(text.clone())
            };
            let act = match action.as_str() {
                "ack" | "acknowledge" => EscalationAction::Acknowledge,
                "assign" => EscalationAction::Assign(key(&need("a person key, e.g. P-3")?)?),
                "decide" => EscalationAction::Decide(need("the decision's text")?),
                "resolve" => EscalationAction::Resolve(need("a note on how it was resolved")?),
                "snooze" => EscalationAction::Snooze {
                    until: parse_date(&need("a date, YYYY-MM-DD")?, "snooze")?,
                    reason: reason.clone().unwrap_or_default(),
                },
                other => bail!(StoreError::Invalid {
                    key: format!("escalation {id}"),
                    field: other.to_string(),
                    why: "is not an action: ack, assign, decide, resolve or snooze".into()
                }),
            };
            let outcome = store.edit(Edit::one(Change::Escalation { id, action: act }).with_reason(reason))?;
            print_effects(&outcome);
            Ok(0)
        }
        Some(Command::Check { format, deep }) => {
            let store = match open(&db()) {
                // Damage in a page keel reads at open: still say what a page check finds.
                Err(e) if deep && matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Damaged { .. })) => {
                    let damage = Store::quick_check_file(&db()).unwrap_or_default();
                    if damage.is_empty() {
                        return Err(e);
                    }
                    let why = format!("PRAGMA quick_check found damage:\n  {}", damage.join("\n  "));
                    bail!(StoreError::Damaged { path: db().display().to_string(), why });
                }
                other => other?,
            };
            // A server checks its own pages (data checksums): there is no file to read here.
            if deep && crate::store::server::server_url(store.path()).is_none() {
                // Pages are checked first: damage can make the checks below fail or, worse, pass.
                // A page check that itself runs into damage has found it too.
                let damage = match store.quick_check() {
                    Err(StoreError::Damaged { why, .. }) => vec![format!("the page check stopped: {why}")],
                    other => other?,
                };
                if !damage.is_empty() {
                    let why = format!("PRAGMA quick_check found damage:\n  {}", damage.join("\n  "));
                    bail!(StoreError::Damaged { path: store.path().display().to_string(), why });
                }
            }
            // Every row is computed and spilled to temporary files (its list's each) first, and
            // every read is done before a byte goes out: a reader that is slow to take the output
            // holds no read transaction open, and the report is never held whole in memory.
            let check = match format {
                CheckFormat::Json => Ok(crate::io::check_out::spill(&store, crate::io::check_out::Format::Json)?),
                CheckFormat::Text => Ok(crate::io::check_out::spill(&store, crate::io::check_out::Format::Text)?),
                CheckFormat::Csv => Err(store.check()?),
            };
            let diffs = if deep { store.derived_differences()? } else { vec![] };
            if let Some(note) = if deep { store.search_note()? } else { None } {
                eprintln!("note: {note}");
            }
            let mut out = crate::cli::stdout::Chunked::new();
            let exit_code = match check {
                Ok(spilled) => {
                    let code = spilled.summary.exit_code;
                    spilled.write_to(&mut out)?;
                    if format == CheckFormat::Text {
                        use std::fmt::Write as _;
                        let leftovers = match crate::store::server::server_url(store.path()) {
                            Some(_) => Vec::new(),
                            None => crate::store::files::stale_leftovers(&crate::store::files::folder_of(store.path())),
                        };
                        if !leftovers.is_empty() {
                            writeln!(
                                out,
                                "\nWARNING: files left by a keel that was killed (safe to remove; the next backup or init here does):"
                            )?;
                            for f in leftovers {
                                writeln!(out, "  {}", f.display())?;
                            }
                        }
                    }
                    code
                }
                // CSV is the escalations alone, which the whole report holds.
                Err(report) => {
                    std::io::Write::write_all(&mut out, lists::escalations_csv(&report.escalations)?.as_bytes())?;
                    report.exit_code
                }
            };
            std::io::Write::flush(&mut out)?;
            if !diffs.is_empty() {
                eprintln!("derived state differs from a recompute:");
                for d in &diffs {
                    eprintln!("  {d}");
                }
                return Ok(70);
            }
            Ok(exit_code)
        }
        Some(Command::Log { imports: true, format, .. }) => upkeep::list_imports(&open(&db())?, format),
        Some(Command::Log { key: k, since, until, limit, format, .. }) => {
            let k = k.map(|k| key(&k)).transpose()?.map(|k| k.to_string());
            lists::log(&open(&db())?, k, since.as_deref(), until.as_deref(), limit, format)
        }
        Some(Command::Admin { action }) => server::admin(&db(), action),
        Some(Command::Audit { action: AuditAction::Verify { expect } }) => {
            let store = open(&db())?;
            audit_verify(&store, expect.as_deref())
        }
        Some(Command::Milestone { key: k, action, args }) => {
            let mut store = open(&db())?;
            let item = key(&k)?;
            let bad = |why: &str| anyhow!(StoreError::Invalid { key: k.clone(), field: "milestone".into(), why: why.into() });
            let number = |s: Option<&String>| -> Result<usize> {
                s.and_then(|s| s.parse().ok()).ok_or_else(|| bad("give the milestone's number as `keel show` lists it"))
            };
            let act = match action.as_str() {
                "add" => {
                    let [title, due] = args.as_slice() else { return Err(bad("use: keel milestone M-n add \"TITLE\" YYYY-MM-DD")) };
                    MilestoneAction::Add { title: title.clone(), due: parse_date(due, "due")? }
                }
                "done" => {
                    MilestoneAction::Done { number: number(args.first())?, on: args.get(1).map(|d| parse_date(d, "done")).transpose()? }
                }
                "reopen" => MilestoneAction::Reopen { number: number(args.first())? },
                _ => return Err(bad("actions are add, done and reopen")),
            };
            print_effects(&store.edit(Edit::one(Change::Milestone { key: item, action: act }))?);
            Ok(0)
        }
        Some(Command::Link { from, to, remove }) => {
            let mut store = open(&db())?;
            print_effects(&store.edit(Edit::one(Change::Link { from: key(&from)?, to: key(&to)?, remove }))?);
            println!("{} {from} → {to}", if remove { "unlinked" } else { "linked" });
            Ok(0)
        }
        Some(Command::Depend { key: k, on, remove }) => {
            let mut store = open(&db())?;
            print_effects(&store.edit(Edit::one(Change::Depend { key: key(&k)?, on: key(&on)?, remove }))?);
            println!("{k} {} {on}", if remove { "no longer waits for" } else { "waits for" });
            Ok(0)
        }
        Some(Command::Decide { key: k, text, owner }) => {
            let mut store = open(&db())?;
            let owner = owner.map(|o| key(&o)).transpose()?;
            print_effects(&store.edit(Edit::one(Change::Decision { key: key(&k)?, text, owner }))?);
            println!("decision recorded on {k}");
            Ok(0)
        }
        Some(Command::Settings { name, value }) => settings::run(&mut open(&db())?, name, value),
        Some(Command::Backup { dest }) => {
            let store = open(&db())?;
            if crate::store::server::server_url(store.path()).is_some() {
                return copy::backup_from_server(&store, &dest);
            }
            store.backup_to(&dest)?;
            println!("backed up {} to {}", store.path().display(), dest.display());
            Ok(0)
        }
        Some(Command::Copy { src, dest }) => copy::run(&src, &dest),
        Some(Command::Whoami) => {
            let path = db();
            let store = open(&path)?;
            println!("login: {}", store.actor.login);
            match &store.actor.person_key {
                Some(k) => println!(
                    "person: {k} {}{}",
                    store.actor.name.clone().unwrap_or_default(),
                    if store.actor.pmo_admin { " (PMO administrator)" } else { "" }
                ),
                None => println!("person: none — you can view but not edit"),
            }
            println!("database: {}{}", path.display(), if store.demo { " (demo)" } else { "" });
            Ok(0)
        }
        Some(Command::Cycle { action: CycleAction::List { format } }) => lists::cycles(&open(&db())?, format),
        Some(Command::Cycle { action: CycleAction::Copy { from, name, start, end } }) => {
            let mut store = open(&db())?;
            let change =
                Change::CopyCycle { from: key(&from)?, name, start: parse_date(&start, "--start")?, end: parse_date(&end, "--end")? };
            print_effects(&store.edit(Edit::one(change))?);
            Ok(0)
        }
        Some(Command::Changes { since, until, format }) => lists::changes(&open(&db())?, since.as_deref(), until.as_deref(), format),
        Some(Command::Where) => {
            println!("{}", db().display());
            Ok(0)
        }
        Some(Command::Completions { shell }) => {
            stdout::write_bytes(&complete::registration(shell)?);
            Ok(0)
        }
        Some(Command::Generate { measures, seed, quiet }) => {
            let path = db();
            let mut store = Store::create(&path, false)?;
            let spec = crate::io::generate::Spec { measures, seed, today: store.clock().today, admin_login: store.actor.login.clone() };
            let bar = if quiet { indicatif::ProgressBar::hidden() } else { crate::io::progress::bar(measures as u64, "generating") };
            let spent = crate::io::generate::load(&mut store, &spec, |done| bar.set_position(done as u64))?;
            bar.finish_and_clear();
            if quiet {
                return Ok(0);
            }
            println!(
                "generated {measures} measures ({} values) into {} in {:.1} s; you are its PMO administrator",
                spec.shape().values(),
                path.display(),
                spent.as_secs_f64()
            );
            Ok(0)
        }
        Some(Command::Bench { measures, seed, repeat, json, curve, sizes, app_rss_probe }) => {
            // On a server (`--db postgres://…`) the bench makes databases of its own there.
            if let Some(url) = cli.db.as_deref().and_then(crate::store::server::server_url) {
                if curve {
                    eprintln!("keel: keel bench --curve runs on files only; on a server run keel bench --measures N for each size");
                    return Ok(64);
                }
                let figures = crate::io::bench::postgres::run(url, measures, seed, repeat)?;
                if json {
                    println!("{}", serde_json::to_string(&figures)?);
                } else {
                    print!("{}", figures.table());
                }
                return Ok(0);
            }
            crate::io::bench::curve::command(measures, seed, repeat, json, curve, &sizes, app_rss_probe.as_deref())
        }
        Some(Command::Man { dir }) => man::run(dir.as_deref()),
        Some(Command::Keys) => man::keys(),
        Some(Command::Upkeep(command)) => upkeep::run(&db(), command),
        Some(Command::Digest { person, all, mail, sendmail, from }) => {
            let whom = match (person, all) {
                (Some(p), _) => digest::Whom::Person(p),
                (None, true) => digest::Whom::All,
                (None, false) => digest::Whom::Me,
            };
            let mail = mail.then_some(digest::MailOptions { sendmail: &sendmail, from: from.as_deref() });
            digest::run(&db(), whom, mail)
        }
    }
}

/// `keel audit verify [--expect HASH]`: 0 when the chain, its triggers and the data agree (and
/// the expected head is in the chain), else 65 with every problem on stderr.
fn audit_verify(store: &Store, expect: Option<&str>) -> Result<i32> {
    let v = store.verify_audit()?;
    let mut failed = false;
    if let Some((seq, why)) = &v.first_broken {
        eprintln!("audit log broken at row {seq}: {why}");
        failed = true;
    }
    for p in &v.problems {
        eprintln!("audit log: {p}");
        failed = true;
    }
    if let Some(hash) = expect {
        match store.audit_row_with_hash(hash)? {
            Some(seq) if seq == v.rows && v.last_hash.as_deref() == Some(hash.trim()) => {
                println!("expected head found: it is the last row ({seq})")
            }
            Some(seq) => println!("expected head found at row {seq}: the log grew by {} since", v.rows - seq),
            None => {
                eprintln!(
                    "audit log: the expected head {hash} is not in the chain: the log was cut back or rewritten before it, or it \
                     is another file's"
                );
                failed = true;
            }
        }
    }
    if failed {
        return Ok(65);
    }
    println!("audit log intact: {} rows, hash chain verified, append-only triggers in place", v.rows);
    if let Some(h) = &v.last_hash {
        println!("last hash: {h} (row {})", v.rows);
        println!("note it outside this file: `keel audit verify --expect {h}` later shows whether anything up to it was changed");
    }
    Ok(0)
}
