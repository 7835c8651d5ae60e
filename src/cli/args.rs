//! The command line's shape: clap's definitions of every command, flag and help text. What each
//! command does is in `cli.rs` and its modules.

use super::{build_info, complete, formats, server, sync, upkeep};
use super::{CheckFormat, ExportFormat, ExportWhat, ImportFormat, ListFormat, ListKind, ReportFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub(super) const AFTER_HELP: &str = "\
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
  69  the file is not a readable keel database (damaged, or not keel's), or is from a newer keel, or the
      PostgreSQL server cannot be reached at all (down, wrong URL); nothing was changed
  75  conflict: someone else changed the item since you read it, or the file stayed busy; try again
      (also: a revert of an import edited since, a restore while the file is open elsewhere, and
      the connection to a PostgreSQL server lost mid-command or a server still starting up: the
      message says whether the edit may have been saved)
  77  not permitted: your role does not allow this, or the file is read-only for you
  78  `keel check`, `keel settings`: a setting stored in the file is bad (named on stderr)
  70  anything else (a bug or an I/O error)";

#[derive(Parser, Debug)]
#[command(
    name = "keel",
    version = build_info::VERSION,
    about = "Governed OKRs, KPIs and measures in one database: a local SQLite file, or a PostgreSQL server.",
    long_about = "keel connects an organisation's objectives and key results, the KPIs that watch its health and the \
measures (initiatives) that deliver change, in one governed database: a SQLite file, or a PostgreSQL server (--db postgres://...). Run without a command to open the terminal \
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
    /// Measure keel on a generated organisation in a temporary file, against plain SQLite (with
    /// --db postgres://…, in databases it makes on that server, against the plain driver).
    Bench {
        #[arg(long, default_value_t = 100_000)]
        measures: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Pairs timed for each ratio (keel and the baseline, alternating) and fresh openings for
        /// the first frame; the figures are their medians.
        #[arg(long, default_value_t = crate::io::bench::REPEAT, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        repeat: usize,
        /// Print one JSON object instead of a table (with --curve, an array of them).
        #[arg(long)]
        json: bool,
        /// Run at 10,000, 100,000 and 1,000,000 measures, one row per size (--measures is not used).
        #[arg(long)]
        curve: bool,
        /// With --curve: these sizes instead (comma-separated, e.g. 10000,100000).
        #[arg(long, requires = "curve", value_delimiter = ',', num_args = 1..)]
        sizes: Vec<usize>,
        /// (The bench's own use: the app's memory on this file, in a fresh process.)
        #[arg(long, hide = true)]
        app_rss_probe: Option<PathBuf>,
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
