//! The command line: clap definitions and what each command does. `main.rs` only calls `run`.

use crate::domain::gates::GateAction;
use crate::domain::{ItemKey, Period};
use crate::store::edit::{EscalationAction, MilestoneAction};
use crate::store::{Change, Edit, Store, StoreError};
use anyhow::{anyhow, bail, Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

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
pub use formats::{ExportFormat, ExportWhat, ReportFormat};
pub use import::ImportFormat;
pub use listing::ListFormat;
pub use lists::{CheckFormat, ListKind};

const AFTER_HELP: &str = "\
Items are named by short keys everywhere: O-3 objective, KR-12 key result, K-4 KPI, M-27 measure,
PF-1 portfolio, PG-2 programme, PJ-5 project, MP-9 measure package, KRA-1 key result area,
P-2 person, U-1 unit, C-1 cycle.

The database: --db PATH, else $KEEL_DB, else the default file in your data directory
(shown by `keel where`). `keel demo` uses its own file so it never touches real data.

Exit codes:
  0   success (for `keel check`: no escalation open)
  1   `keel check`: owner-review or sponsor-action escalations are open; `keel sync`: a source failed
  2   `keel check`: a steering-committee escalation is open
  64  the command line is wrong (unknown flag, missing argument)
  65  bad input: a value, period, key, field or file that keel refuses; nothing was changed
  66  the database file does not exist
  69  the file is not a readable keel database (damaged, or not keel's), or is from a newer keel; nothing was changed
  75  conflict: someone else changed the item since you read it, or the file stayed busy; try again
      (also: a revert of an import edited since, a restore while the file is open elsewhere)
  77  not permitted: your role does not allow this, or the file is read-only for you
  78  `keel check`, `keel settings`: a setting stored in the file is bad (named on stderr)
  70  anything else (a bug or an I/O error)";

#[derive(Parser, Debug)]
#[command(
    name = "keel",
    version = build_info::VERSION,
    about = "Governed OKRs, KPIs and measures in one local SQLite file.",
    long_about = "keel connects an organisation's objectives and key results, the KPIs that watch its health and the \
measures (initiatives) that deliver change, in one governed SQLite file. Run without a command to open the terminal \
app; `keel demo` opens a demo organisation to try it safely.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The keel database file (else $KEEL_DB, else the default in your data directory).
    #[arg(long, global = true, env = "KEEL_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Turn on mouse clicks and scrolling in the terminal app (off by default so text stays selectable over SSH).
    #[arg(long, global = true)]
    pub mouse: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the demo organisation (if it is not there yet) and open it.
    Demo {
        /// Recreate the demo file even if it exists.
        #[arg(long)]
        force: bool,
        /// Create it and print a summary instead of opening the terminal app.
        #[arg(long)]
        no_open: bool,
    },
    /// Create an empty keel database (file mode 0600, or 0660 for a group with --shared).
    Init {
        /// Share the file with this group: mode 0660, group-owned, in a setgid folder of the group
        /// (see "Sharing one file on an SSH host" in the README).
        #[arg(long, value_name = "GROUP")]
        shared: Option<String>,
        /// Replace a damaged keel file at the path (one that cannot be read); never a readable one.
        #[arg(long)]
        force: bool,
    },
    /// Import a plan (JSON, as written by `keel export --format json`) or values (a .csv or .xlsx file).
    ///
    /// A values file has a header with `key`, `period` and any of `planned`, `forecast`, `actual`,
    /// `comment` (also `baseline`, `confidence`; names in any case), separated by `,` or `;` (then
    /// decimal commas: 1.234,56). Empty cells leave a value as it is. Every row is checked first
    /// and all problems are reported with their line; then all rows are applied in one
    /// transaction through the rules: all land or none do. FILE `-` reads standard input (JSON
    /// when it starts with `{`, else CSV).
    Import {
        /// The file, or `-` for standard input.
        file: PathBuf,
        /// Check the file and report what would happen, without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// What the file is, whatever its name says (default: from the extension; for `-`, from the content).
        #[arg(long, value_enum)]
        format: Option<ImportFormat>,
        /// Print nothing but errors (no progress, no effects).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Export the plan (JSON, round-trips exactly through `keel import`), or items or values as
    /// CSV that is safe to open in a spreadsheet (or as JSON lists for scripts).
    Export {
        /// json or csv; default: what --out's extension says, else json.
        #[arg(long, value_enum)]
        format: Option<ExportFormat>,
        /// What to export: plan (JSON only; the default for JSON), items (the default for CSV), values.
        #[arg(long, value_enum)]
        what: Option<ExportWhat>,
        /// Write to FILE instead of standard output (mode 0600; an existing FILE only with --force; `-` is standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace FILE if it exists (never the database keel has open).
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// The steering committee report: objectives, key results and measures with both statuses,
    /// escalations by tier, the value funnel, targets, stale items and health warnings.
    Report {
        /// md, html or xlsx; default: what --out's extension says, else md.
        #[arg(long, value_enum)]
        format: Option<ReportFormat>,
        /// Only this cycle (C-n or its name).
        #[arg(long, add = complete::cycles())]
        cycle: Option<String>,
        /// Only this unit and its sub-units (U-n or its name).
        #[arg(long, add = complete::units())]
        unit: Option<String>,
        /// Write to FILE instead of standard output (mode 0600; an existing FILE only with --force; `-` is standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace FILE if it exists (never the database keel has open).
        #[arg(long, requires = "out")]
        force: bool,
        /// The steering pack: summary, escalations, what is at risk, the value funnel and the
        /// measures furthest short of plan (md or html).
        #[arg(long)]
        summary: bool,
        /// How many measures short of plan the pack lists.
        #[arg(long, value_name = "N", default_value_t = 10, requires = "summary")]
        top: usize,
        /// Only items that are escalated, at risk or stale (and the objectives above them).
        #[arg(long, value_enum)]
        only: Option<formats::OnlyArg>,
        /// How deep the tree goes: 1 objectives, 2 with key results, 3 with measures (all).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=3))]
        depth: Option<u8>,
        /// The report as it stood when a past period ended (2026-W47, 2026-11, 2026-Q3),
        /// rebuilt from the audit log.
        #[arg(long, value_name = "PERIOD")]
        as_of: Option<String>,
    },
    /// Show one item: its fields, statuses, links, recent values and history.
    Show {
        #[arg(add = complete::keys())]
        key: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Change fields or this period's numbers of an item, through the same rules as the app.
    ///
    /// Example: keel set M-27 actual=1200 forecast=1500 --period 2026-W47
    Set {
        #[arg(add = complete::keys())]
        key: String,
        /// FIELD=VALUE pairs. Per-period numbers: planned, forecast, actual, baseline, comment.
        #[arg(required = true, value_name = "FIELD=VALUE")]
        assignments: Vec<String>,
        /// The period for per-period numbers (2026-W47, 2026-11, 2026-Q4); default: the current one.
        #[arg(long)]
        period: Option<String>,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
        /// Refuse if the row is no longer at this version (someone else changed it).
        #[arg(long, value_name = "N")]
        if_version: Option<i64>,
    },
    /// Move a measure through the stage gates, or list approvals waiting for you.
    ///
    /// Actions: request (owner asks for the next stage), approve (sponsor / controller), reject,
    /// back, hold, resume, cancel. back, hold, cancel and reject need --reason.
    Gate {
        #[arg(add = complete::keys())]
        key: Option<String>,
        #[arg(add = complete::gate_actions())]
        action: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        /// List the gate requests waiting for your approval.
        #[arg(long)]
        pending: bool,
        /// With --pending: table, csv or json.
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// List open escalations, most severe first.
    Escalations {
        /// Only this tier: owner, sponsor, steering (or 1, 2, 3).
        #[arg(long, add = complete::tiers())]
        tier: Option<String>,
        /// Only items owned by this login.
        #[arg(long, add = complete::logins())]
        owner: Option<String>,
        /// Only measures of this business unit (U-n).
        #[arg(long, add = complete::units())]
        unit: Option<String>,
        /// Include closed escalations.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// List items by what the tree shows: `keel list measures --owner jdoe --status red`.
    List {
        #[arg(value_enum)]
        kind: ListKind,
        /// Only items owned by this login.
        #[arg(long)]
        owner: Option<String>,
        /// Only this unit and its sub-units (U-n or its name): objectives tagged with it, measures of it.
        #[arg(long)]
        unit: Option<String>,
        /// Only measures at this stage (defined, identified, detailed, decided, implemented, closed).
        #[arg(long)]
        stage: Option<String>,
        /// Only items whose status in the tree is this (green, amber, red, stale, no data).
        #[arg(long)]
        status: Option<String>,
        /// Only measures whose implementation status is this (as `keel export --what items` writes it).
        #[arg(long)]
        implementation: Option<String>,
        /// Only measures whose potential (value) status is this.
        #[arg(long)]
        potential: Option<String>,
        /// Only items with an open escalation of this tier: owner, sponsor, steering (or 1, 2, 3).
        #[arg(long)]
        tier: Option<String>,
        /// Only this cycle (C-n or its name): its objectives and key results, and measures serving them.
        #[arg(long)]
        cycle: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
        /// The retired items instead (`all`: of every kind, people, units and cycles too), with when and why.
        #[arg(long)]
        retired: bool,
    },
    /// Act on one escalation: ack, assign P-n, decide TEXT, resolve TEXT, snooze DATE --reason TEXT.
    Escalation {
        id: i64,
        action: String,
        /// The person (assign), decision text (decide), resolution note (resolve) or date (snooze).
        arg: Vec<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Every status, escalation, roll-up and health check. Exit code 0, 1 or 2 (see below).
    Check {
        /// text, json (the whole report) or csv (the open escalations).
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        /// Also recompute all derived state from scratch and compare.
        #[arg(long)]
        deep: bool,
    },
    /// The audit log, oldest first.
    Log {
        #[arg(add = complete::keys())]
        key: Option<String>,
        /// Only changes on or after this day: a date, a period (2026-W47, 2026-11), today, or back from today (7d, 2w).
        #[arg(long)]
        since: Option<String>,
        /// Only changes up to the end of this day (written as --since).
        #[arg(long)]
        until: Option<String>,
        /// Show at most the newest N (0: all); keel says when there were more.
        #[arg(long, default_value_t = 200)]
        limit: i64,
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
        /// The imports instead, each a change set `keel revert IMPORT-n` can undo: id, when, who, file, counts.
        #[arg(long, conflicts_with_all = ["key", "since", "until"])]
        imports: bool,
    },
    /// Verify the audit log's hash chain.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Add a milestone to a measure, or mark one done / open again (numbered as `keel show` lists them).
    Milestone {
        #[arg(add = complete::keys())]
        key: String,
        /// add TITLE DUE | done N [DATE] | reopen N
        action: String,
        args: Vec<String>,
    },
    /// Link a measure to a key result or KPI it serves, or a KPI to a key result or objective it informs.
    Link {
        #[arg(add = complete::keys())]
        from: String,
        #[arg(add = complete::keys())]
        to: String,
        #[arg(long)]
        remove: bool,
    },
    /// Record that a measure waits for another.
    Depend {
        #[arg(add = complete::keys())]
        key: String,
        #[arg(add = complete::keys())]
        on: String,
        #[arg(long)]
        remove: bool,
    },
    /// Record a decision about an item.
    Decide {
        #[arg(add = complete::keys())]
        key: String,
        text: String,
        /// Who carries it out (P-n).
        #[arg(long, add = complete::people())]
        owner: Option<String>,
    },
    /// The organisation's settings with the values in force: list them, show one, or change one
    /// (PMO administrators). Shares are written 0.4 or 40%. Examples: keel settings set
    /// tolerance=0.05, keel settings tolerance 4%
    Settings { name: Option<String>, value: Option<String> },
    /// Copy the database into a new keel file: SQLite's online backup for a file, the whole
    /// database copied table by table from a server (safe while others are writing).
    Backup { dest: PathBuf },
    /// Copy a keel database whole, with its history and audit chain, from a file to a server
    /// (a postgres:// URL) or back, or file to file, server to server. DEST must hold nothing yet:
    /// a path where no file is, or an empty server database (or one `keel init` made, no data).
    Copy {
        /// The database to copy: a keel file's path or a postgres:// URL.
        src: PathBuf,
        /// Where the copy goes: a path where no file is yet, or an empty database's postgres:// URL.
        dest: PathBuf,
    },
    /// Who keel thinks you are, and where the database is.
    Whoami,
    /// Cycles: list them, or start the next one from an old one (objectives and key results
    /// are copied with their alignment, values are not; targets are left for review).
    Cycle {
        #[command(subcommand)]
        action: CycleAction,
    },
    /// Every change since a date (or since the last check-in meeting), grouped by item.
    Changes {
        /// A date, a period (2026-W47), today, or back from today (7d, 2w); default: the start of the last check-in meeting.
        #[arg(long)]
        since: Option<String>,
        /// Only changes up to the end of this day (written as --since).
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Print the default database path.
    Where,
    /// Print the script that sets up completion for a shell (bash, zsh, fish, elvish, powershell):
    /// commands, flags, and the file's item keys, logins, units and cycles.
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), or write one page per command into DIR.
    Man {
        /// Write keel.1, keel-report.1, … (every command and subcommand) into this folder.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the keys in force in the terminal app, with their action names, as a keymap file
    /// (problems in your keymap.toml on stderr, with line and column).
    Keys,
    /// Each person's week: updates due, milestones due, stale items, escalations they own or are
    /// assigned, gate requests awaiting their approval. Yours, unless --person or --all.
    Digest {
        /// This person (P-n or login).
        #[arg(long, value_name = "P-n", conflicts_with = "all", add = complete::people())]
        person: Option<String>,
        /// Everybody in the file (with --mail: those with something in their digest).
        #[arg(long)]
        all: bool,
        /// Send each digest as a mail to the person's address through `sendmail -t`.
        #[arg(long)]
        mail: bool,
        /// The sendmail program (run directly, without a shell).
        #[arg(long, value_name = "PATH", default_value = "/usr/sbin/sendmail", requires = "mail")]
        sendmail: PathBuf,
        /// The From: of the mails (default: keel <your login@this host>).
        #[arg(long, value_name = "ADDRESS", requires = "mail")]
        from: Option<String>,
    },
    /// Value sources: feed an item's actuals from a command, a CSV file or an SQL query.
    Source {
        #[command(subcommand)]
        action: sync::SourceCommand,
    },
    /// Run the value sources that are due (cron runs this), writing their values as you; then
    /// reassess what changes with time (missed updates). Exit 1 when a source failed.
    Sync {
        /// Run the sources and say what they would write; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only these items' sources, due or not.
        keys: Vec<String>,
    },
    /// The update-discipline ledger: each expected update (by cadence) on time, late or missed,
    /// per person and unit over the cycle.
    Discipline {
        /// Only this person (login or P-n).
        #[arg(long, add = complete::people())]
        person: Option<String>,
        /// Only people in this unit and its sub-units (U-n or its name).
        #[arg(long)]
        unit: Option<String>,
        /// Over this cycle (C-n or its name; default: the current one).
        #[arg(long)]
        cycle: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Create a synthetic organisation of N measures (deterministic for a seed and week) in a new file.
    Generate {
        /// How many measures (with 10 weeks of values each).
        #[arg(long, default_value_t = 1000)]
        measures: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print nothing but errors (no progress bar, no summary).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Measure keel on a generated organisation in a temporary file, against plain SQLite.
    Bench {
        #[arg(long, default_value_t = 100_000)]
        measures: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Pairs timed for each ratio (keel and the baseline, alternating) and fresh openings for
        /// the first frame; the figures are their medians.
        #[arg(long, default_value_t = crate::io::bench::REPEAT, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        repeat: usize,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// add, move, retire, unretire, person … reassign, revert, restore, migrate.
    #[command(flatten)]
    Upkeep(upkeep::UpkeepCommand),
    /// Administration of a database on a PostgreSQL server.
    Admin {
        #[command(subcommand)]
        action: server::AdminAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum CycleAction {
    /// List cycles, newest first.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Start a new cycle from FROM (C-n): `keel cycle copy C-1 --name FY27-H1 --start 2027-01-01 --end 2027-06-30`.
    Copy {
        #[arg(add = complete::cycles())]
        from: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Walk the hash chain, check the append-only triggers and the log against the data, and
    /// print the head (row count and last hash) to note somewhere the file's writers cannot reach.
    Verify {
        /// A head noted earlier: fail unless it is the chain's last hash or the hash of an earlier
        /// row (the log grew since). A chain cut back or rewritten before it fails.
        #[arg(long, value_name = "HASH")]
        expect: Option<String>,
    },
}

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
        Some(StoreError::Conflict { .. } | StoreError::Busy | StoreError::Replaced { .. } | StoreError::Changed(_)) => 75,
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
                Format::Text => {
                    if let Some(row) = store.retired_items(None)?.into_iter().find(|r| r.key == d.key) {
                        println!("RETIRED since {}: {}", row.retired_at, crate::domain::text_check::printable(&row.reason));
                    }
                    print!("{}", crate::io::text::detail(&d))
                }
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
            let report = store.check()?;
            let diffs = if deep { store.derived_differences()? } else { vec![] };
            if let Some(note) = if deep { store.search_note()? } else { None } {
                eprintln!("note: {note}");
            }
            // Every read is done: the output goes out in pieces as it is rendered, and a reader
            // that is slow to take it holds no read transaction open.
            let mut out = crate::cli::stdout::Chunked::new();
            match format {
                CheckFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &report)?;
                    std::io::Write::write_all(&mut out, b"\n")?;
                }
                CheckFormat::Csv => std::io::Write::write_all(&mut out, lists::escalations_csv(&report.escalations)?.as_bytes())?,
                CheckFormat::Text => {
                    use std::fmt::Write as _;
                    crate::io::text::write_check(&report, &mut out)?;
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
            }
            std::io::Write::flush(&mut out)?;
            if !diffs.is_empty() {
                eprintln!("derived state differs from a recompute:");
                for d in &diffs {
                    eprintln!("  {d}");
                }
                return Ok(70);
            }
            Ok(report.exit_code)
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
        Some(Command::Bench { measures, seed, repeat, json }) => {
            let figures = crate::io::bench::run(measures, seed, repeat)?;
            if json {
                println!("{}", serde_json::to_string(&figures)?);
            } else {
                print!("{}", figures.table());
            }
            Ok(0)
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
