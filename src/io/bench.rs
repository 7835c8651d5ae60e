//! `keel bench`: generate an organisation into a temporary file and measure, in one run on this
//! machine, what a person feels — loading, opening the app, moving through the tree, saving an
//! edit, running `keel check` — each against plain SQLite where a yardstick makes sense.

mod app_rss;
mod check_cli;
mod csv_import;
pub mod curve;
mod filter_stale;
pub mod postgres;
mod sampling;
mod search;

use super::generate::{self, Rng, Spec};
use super::{baseline, progress};
use crate::domain::{ItemKey, ItemKind};
use crate::store::{Change, Edit, Store};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::background::READERS;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;
use anyhow::{Context, Result};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use sampling::{Pairs, Samples};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Edits timed through the write path.
pub const EDITS: usize = 300;
/// Most cursor moves timed (the tree is walked row by row, then page by page).
pub const MAX_MOVES: usize = 4_000;
/// How long the bench waits for the app's readers before going on without them.
const SETTLE: Duration = Duration::from_secs(60);
/// Pairs (keel, then baseline) timed for each ratio, and fresh openings for the first frame,
/// unless `--repeat` says otherwise: the median of three is the fewest that drops an outlier.
pub const REPEAT: usize = 3;
/// The check and the first frame take seconds, not a minute: a disturbance of a few hundred
/// milliseconds is a large share of one, so they are sampled this many times as often as the
/// loads.
pub const SHORT_FIGURE_FACTOR: usize = 3;

/// Everything `keel bench --json` prints, in this order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    pub measures: usize,
    pub values: i64,
    pub load_s: f64,
    pub load_baseline_s: f64,
    pub load_ratio: f64,
    pub open_first_frame_ms: f64,
    pub frame_p50_ms: f64,
    pub frame_p99_ms: f64,
    pub edit_p50_ms: f64,
    pub edit_p99_ms: f64,
    /// The app's `/` search, its first page of hits: the median over a few texts (bench/search.rs).
    pub search_ms: f64,
    pub check_s: f64,
    pub check_baseline_s: f64,
    pub check_ratio: f64,
    pub peak_rss_mb: f64,
    /// How many pairs the load ratio is the median of; the check's pairs and the first frame's
    /// openings are `SHORT_FIGURE_FACTOR` times as many.
    pub repeat: usize,
    /// Largest over smallest of the ratios (or openings) seen: how far to trust the figure.
    pub load_ratio_spread: f64,
    pub open_first_frame_ms_spread: f64,
    pub check_ratio_spread: f64,
    /// A values CSV with every number changed (at most 20,000 measures' values), imported into a
    /// fresh copy of its file, against the same values as a JSON plan loaded into a fresh file.
    pub csv_import_s: f64,
    pub csv_import_json_s: f64,
    pub csv_import_ratio: f64,
    pub csv_import_ratio_spread: f64,
    /// `keel check` (text) as run: the binary in a fresh process, output to /dev/null (median).
    pub check_cli_s: f64,
    /// Peak resident memory of that process (the largest of its runs).
    pub check_peak_rss_mb: f64,
    /// The app's peak resident memory in a fresh process: first settled frame, then the stale filter.
    pub app_rss_mb: f64,
    /// The app's stale filter (`s`), from the key press to the settled frame (median).
    pub filter_stale_ms: f64,
}

/// The targets (figure, limit; lower is better).
pub const TARGETS: &[(&str, f64)] = &[
    ("open_first_frame_ms", 300.0),
    ("frame_p99_ms", 5.0),
    ("edit_p50_ms", 5.0),
    ("edit_p99_ms", 10.0),
    ("search_ms", 100.0),
    ("load_ratio", 2.0),
    ("check_ratio", 3.0),
    ("csv_import_ratio", 1.5),
    ("peak_rss_mb", 250.0),
    ("check_peak_rss_mb", 400.0),
    ("app_rss_mb", 100.0),
    ("filter_stale_ms", 1000.0),
];

impl Figures {
    pub fn get(&self, name: &str) -> Option<f64> {
        serde_json::to_value(self).ok()?.get(name)?.as_f64()
    }

    /// A plain table for people.
    pub fn table(&self) -> String {
        let mut out = format!(
            "keel bench: {} measures, {} values; medians of {} load{} and {} checks and openings (spread: largest over smallest)\n\n",
            self.measures,
            self.values,
            self.repeat,
            if self.repeat == 1 { "" } else { "s" },
            self.repeat * SHORT_FIGURE_FACTOR
        );
        out.push_str(&format!("{:<27} {:>12}  {:>8}\n", "figure", "measured", "target"));
        let value = serde_json::to_value(self).unwrap_or_default();
        for (name, v) in value.as_object().into_iter().flatten() {
            if name == "measures" || name == "values" || name == "repeat" {
                continue;
            }
            let target = TARGETS.iter().find(|(t, _)| t == name);
            let mark = match target {
                Some(_) if v.is_null() => "not measured here".to_string(),
                Some((_, limit)) if v.as_f64().unwrap_or(f64::MAX) <= *limit => format!("≤ {limit} ok"),
                Some((_, limit)) => format!("≤ {limit} MISSED"),
                None => String::new(),
            };
            out.push_str(&format!("{name:<27} {:>12}  {mark}\n", v.as_f64().map(|f| format!("{f:.3}")).unwrap_or_default()));
        }
        out
    }
}

/// A directory removed with everything in it when the bench ends, however it ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("keel-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// The p-th percentile (0–100) of some durations, in milliseconds (nearest rank).
pub fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort();
    let rank = ((p / 100.0) * samples.len() as f64).ceil().max(1.0) as usize;
    ms(samples[rank.min(samples.len()) - 1])
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Run the whole bench with `measures` measures; each ratio is the ratio of the medians of
/// `repeat` alternating pairs (the check's of `repeat × SHORT_FIGURE_FACTOR`), the first frame the
/// median of `repeat × SHORT_FIGURE_FACTOR` fresh openings.
pub fn run(measures: usize, seed: u64, repeat: usize) -> Result<Figures> {
    let repeat = repeat.max(1);
    let dir = TempDir::new()?;
    let spec = spec_for(&dir.0, measures, seed)?;
    let keel_file = |pair: usize| dir.0.join(format!("keel-{pair}.keel"));
    // 1. Loading, through keel's write path and by plain inserts in one transaction, each side
    //    into a fresh file of its own every time, so both start from the same (empty) state.
    let bar = progress::bar((measures * 2 * repeat) as u64, "loading");
    let mut values = 0;
    let loads = sampling::alternate(
        repeat,
        |pair| {
            // Only the last organisation is kept, for what follows.
            if pair > 0 {
                remove_db(&keel_file(pair - 1))?;
            }
            settle_disk(&dir.0)?;
            bar.set_message("keel");
            let done = (2 * pair * measures) as u64;
            let mut store = Store::create(&keel_file(pair), false)?;
            let cpu = cpu_s();
            let spent = generate::load(&mut store, &spec, |n| bar.set_position(done + n as u64))?;
            trace_cpu("keel load", cpu, spent);
            values = store.value_count()?;
            trace_rss("after load");
            Ok(spent)
        },
        |pair| {
            settle_disk(&dir.0)?;
            bar.set_message("baseline");
            let done = ((2 * pair + 1) * measures) as u64;
            let base = dir.0.join(format!("baseline-{pair}.sqlite"));
            let mut loader = baseline::Loader::create(&base)?;
            let cpu = cpu_s();
            loader.insert(&spec.structure())?;
            for chunk in spec.chunks() {
                let end = chunk.end;
                loader.insert(&spec.measures(chunk))?;
                bar.set_position(done + end as u64);
            }
            let spent = loader.finish()?;
            // The baseline's CPU includes making its plans, which its timing leaves out.
            trace_cpu("baseline load (with plan making)", cpu, spent);
            remove_db(&base)?;
            trace_rss("after baseline");
            Ok(spent)
        },
    )?;
    bar.finish_and_clear();
    trace_pairs("load", &loads);
    let path = keel_file(repeat - 1);
    let spin = progress::spinner("opening the app");
    if std::env::var_os("KEEL_BENCH_SLOW").is_some() {
        probe(&path)?;
    }
    // 2. Fresh openings of the file, each to the first full frame. The file is read once first,
    //    so every opening finds it in the page cache (warm), not only the later ones. The last
    //    app stays open for the walk and the edits.
    warm(&path)?;
    let mut openings = Samples::default();
    let mut opened = None;
    for _ in 0..repeat * SHORT_FIGURE_FACTOR {
        // The previous app goes first: its readers are joined before the next opening is timed.
        drop(opened.take());
        let (mut app, terminal, took) = open_to_first_frame(&path)?;
        openings.0.push(took);
        app.settle(SETTLE);
        opened = Some((app, terminal));
    }
    let (mut app, mut terminal) = opened.context("no opening of the app")?;
    trace_rss("after first frame");
    // 3. Move through the whole tree (objectives, then execution), a row and then a page at a time.
    spin.set_message("moving through the tree");
    let frames = walk_tree(&mut app, &mut terminal)?;
    // Let the readers finish what the walk asked for, so they do not share the cores with the edits.
    app.settle(SETTLE);
    trace_rss("after walk");
    // 4. Edits through the write path.
    spin.set_message("editing");
    settle_disk(&dir.0)?;
    let edits = edits(&mut app.store, &spec, seed)?;
    spin.set_message("filtering stale items");
    let filter_stale_ms = filter_stale::measure(&mut app, &mut terminal, repeat * SHORT_FIGURE_FACTOR)?;
    // 5. keel check against plain SQL on the same file after the edits, alternating, each on a
    //    connection of its own opened afresh — keel as `keel check` runs: its own process has
    //    no app open, so the app and what its readers remember are gone first.
    drop(app);
    spin.set_message("searching");
    let search_ms = search::measure(&path)?;
    spin.set_message("checking");
    warm(&path)?;
    let keel_check = || -> Result<Duration> {
        let t = Instant::now();
        let store = Store::open(&path)?;
        let report = store.check()?;
        let took = t.elapsed();
        trace_rss("after check");
        drop(report);
        Ok(took)
    };
    let baseline_check = || -> Result<Duration> { Ok(baseline::check(&baseline::open(&path)?)?.0) };
    // One pair untimed first: the first connection after the edits checkpoints their WAL into
    // the file, which neither side should be charged for.
    keel_check()?;
    baseline_check()?;
    settle_disk(&dir.0)?;
    let checks = sampling::alternate(repeat * SHORT_FIGURE_FACTOR, |_| keel_check(), |_| baseline_check())?;
    trace_pairs("check", &checks);
    // `keel check` as a person runs it, and the app's memory, each in a fresh process.
    spin.set_message("keel check, as run");
    let (cli_times, check_rss) = check_cli::measure(&path, repeat)?;
    spin.set_message("the app's memory");
    let app_rss = app_rss::measure(&path)?;
    let fresh = (Samples(cli_times).median_s(), check_rss, app_rss);
    // What keel itself needed so far: the comparison below holds a whole plan and a whole
    // values file in memory at once, which is the test's own doing.
    let rss = peak_rss_mb();
    // 6. The values CSV import against the same values as a JSON plan.
    let imports = csv_import::measure(&dir.0, &spec, repeat, |what| spin.set_message(what.to_string()))?;
    spin.finish_and_clear();
    trace_pairs("csv import", &imports);
    if std::env::var_os("KEEL_BENCH_SLOW").is_some() {
        eprintln!("openings (ms): {:?}", openings.0.iter().map(|d| round(ms(*d), 1)).collect::<Vec<_>>());
    }
    let mut figures = figures(measures, values, repeat, rss, [&loads, &checks, &imports], &openings, frames, edits, fresh);
    figures.filter_stale_ms = round(filter_stale_ms, 1);
    figures.search_ms = round(search_ms, 2);
    Ok(figures)
}

#[allow(clippy::too_many_arguments)]
fn figures(
    measures: usize,
    values: i64,
    repeat: usize,
    rss: f64,
    [loads, checks, imports]: [&Pairs; 3],
    openings: &Samples,
    mut frames: Vec<Duration>,
    mut edits: Vec<Duration>,
    (check_cli_s, check_peak_rss_mb, app_rss_mb): (f64, f64, f64),
) -> Figures {
    Figures {
        measures,
        values,
        load_s: round(loads.keel_median_s(), 3),
        load_baseline_s: round(loads.baseline_median_s(), 3),
        load_ratio: round(loads.ratio(), 2),
        open_first_frame_ms: round(openings.median_s() * 1000.0, 1),
        frame_p50_ms: round(percentile(&mut frames, 50.0), 2),
        frame_p99_ms: round(percentile(&mut frames, 99.0), 2),
        edit_p50_ms: round(percentile(&mut edits, 50.0), 2),
        edit_p99_ms: round(percentile(&mut edits, 99.0), 2),
        search_ms: 0.0,
        check_s: round(checks.keel_median_s(), 3),
        check_baseline_s: round(checks.baseline_median_s(), 3),
        check_ratio: round(checks.ratio(), 2),
        peak_rss_mb: round(rss, 1),
        repeat,
        load_ratio_spread: round(loads.ratio_spread(), 2),
        open_first_frame_ms_spread: round(openings.spread(), 2),
        check_ratio_spread: round(checks.ratio_spread(), 2),
        csv_import_s: round(imports.keel_median_s(), 3),
        csv_import_json_s: round(imports.baseline_median_s(), 3),
        csv_import_ratio: round(imports.ratio(), 2),
        csv_import_ratio_spread: round(imports.ratio_spread(), 2),
        check_cli_s: round(check_cli_s, 3),
        check_peak_rss_mb: round(check_peak_rss_mb, 1),
        app_rss_mb: round(app_rss_mb, 1),
        filter_stale_ms: 0.0,
    }
}

/// What to generate: the organisation as a new file would date it and whom it makes the
/// administrator (a scratch file is created to ask, then removed).
fn spec_for(dir: &Path, measures: usize, seed: u64) -> Result<Spec> {
    let scratch = dir.join("clock.keel");
    let store = Store::create(&scratch, false)?;
    let spec = Spec { measures, seed, today: store.clock().today, admin_login: store.actor.login.clone() };
    drop(store);
    remove_db(&scratch)?;
    Ok(spec)
}

/// Open the file as `keel` does and draw until the first full frame: every visible status, the
/// detail and the variance list in, as the app's readers deliver them (what the user first sees
/// whole). Returns the app, its terminal and the time that took.
fn open_to_first_frame(path: &Path) -> Result<(App, Terminal<TestBackend>, Duration)> {
    let t = Instant::now();
    let mut app = App::with_readers(Store::open(path)?, Keymap::default_only(), Theme::from_env(), READERS)?;
    let mut terminal = Terminal::new(TestBackend::new(200, 50))?;
    loop {
        terminal.draw(|f| {
            crate::tui::frame::render(f, &mut app);
        })?;
        if !app.waiting() {
            break;
        }
        app.settle(SETTLE);
    }
    let took = t.elapsed();
    Ok((app, terminal, took))
}

/// Remove a SQLite file and whatever journal it left beside it.
fn remove_db(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", file.display()))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Put the files created and removed so far in the bench's directory on disk, and whatever else
/// is waiting to be written to that filesystem (syncfs), so that the next side timed pays neither
/// for the last side's journal nor for someone else's. On ext4 an fsync commits the journal, and
/// the commit waits for the dirty data of other files in it: a build that just finished leaves
/// gigabytes to write back in the first minute, and keel's load, which commits once a chunk,
/// would wait on them where the baseline's one commit mostly would not. syncfs needs no
/// privilege and drops nothing from the page cache; it only writes sooner what would be written.
fn settle_disk(dir: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let handle = std::fs::File::open(dir)?;
    handle.sync_all().with_context(|| format!("cannot sync {}", dir.display()))?;
    // SAFETY: syncfs takes an open descriptor, which `handle` keeps open for the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("cannot sync the filesystem of {}", dir.display()));
    }
    Ok(())
}

/// Read a file (and its WAL, if any) once, untimed, so that what is timed next finds it in the
/// page cache whatever happened before: the figures that read the file are warm by design.
fn warm(path: &Path) -> Result<()> {
    for suffix in ["", "-wal"] {
        if let Ok(mut file) = std::fs::File::open(format!("{}{suffix}", path.display())) {
            std::io::copy(&mut file, &mut std::io::sink())?;
        }
    }
    Ok(())
}

/// One step: the action's update and the redraw, timed together (what a keystroke costs); then,
/// as the event loop does, whatever the readers have delivered meanwhile and its redraw — a
/// frame too, and timed as one.
fn step(app: &mut App, terminal: &mut Terminal<TestBackend>, action: Action, samples: &mut Vec<Duration>) -> Result<()> {
    let t = Instant::now();
    if app.pump() {
        terminal.draw(|f| {
            crate::tui::frame::render(f, app);
        })?;
        samples.push(t.elapsed());
    }
    let t = Instant::now();
    crate::tui::update::update(app, action)?;
    let updated = t.elapsed();
    terminal.draw(|f| {
        crate::tui::frame::render(f, app);
    })?;
    let took = t.elapsed();
    samples.push(took);
    // KEEL_BENCH_SLOW=MS names the moves slower than MS milliseconds (update, then draw).
    if let Some(limit) = std::env::var("KEEL_BENCH_SLOW").ok().and_then(|v| v.parse::<f64>().ok()) {
        if ms(took) > limit {
            let row = app.tree.rows.get(app.tree.cursor).and_then(|r| r.key()).unwrap_or_default().to_string();
            eprintln!("slow {action:?} to {row}: update {:.1} ms, draw {:.1} ms", ms(updated), ms(took - updated));
        }
    }
    Ok(())
}

/// CPU time this process has used so far (user and system), in seconds.
fn cpu_s() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// With KEEL_BENCH_SLOW set: how much of a timed side was CPU (the rest waited on the disk or
/// for a core) — what tells a slow disk from a slow processor when a figure moves.
fn trace_cpu(what: &str, cpu_before: f64, wall: Duration) {
    if std::env::var_os("KEEL_BENCH_SLOW").is_some() {
        eprintln!("{what}: wall {:.3} s, cpu {:.3} s", wall.as_secs_f64(), cpu_s() - cpu_before);
    }
}

fn trace_rss(when: &str) {
    if std::env::var_os("KEEL_BENCH_SLOW").is_some() {
        eprintln!("peak rss {when}: {:.1} MB", peak_rss_mb());
    }
}

/// With KEEL_BENCH_SLOW set: each pair's times and ratio, in the order measured.
fn trace_pairs(what: &str, pairs: &Pairs) {
    if std::env::var_os("KEEL_BENCH_SLOW").is_some() {
        for ((keel, base), ratio) in pairs.keel.iter().zip(&pairs.baseline).zip(pairs.ratios()) {
            eprintln!("{what}: keel {:.3} s, baseline {:.3} s, ratio {ratio:.2}", keel.as_secs_f64(), base.as_secs_f64());
        }
    }
}

/// With KEEL_BENCH_SLOW set: what the parts of opening the app cost, on a separate connection.
fn probe(path: &std::path::Path) -> Result<()> {
    let store = Store::open(path)?;
    let time = |what: &str, f: &dyn Fn() -> Result<()>| -> Result<()> {
        let t = Instant::now();
        f()?;
        eprintln!("probe {what}: {:.1} ms", ms(t.elapsed()));
        Ok(())
    };
    time("escalations (all open)", &|| Ok(store.escalations(&Default::default()).map(|_| ())?))?;
    time("roots", &|| Ok(store.outline_roots(crate::store::outline::TreeView::Objectives).map(|_| ())?))?;
    for key in ["O-1", "O-1", "O-2", "KR-1", "K-1"] {
        let k = ItemKey::parse(key)?;
        time(&format!("status {key}"), &|| Ok(store.item_status(&k).map(|_| ())?))?;
        time(&format!("detail {key}"), &|| Ok(store.detail(&k).map(|_| ())?))?;
    }
    Ok(())
}

fn walk_tree(app: &mut App, terminal: &mut Terminal<TestBackend>) -> Result<Vec<Duration>> {
    let mut samples = Vec::new();
    for view in 0..2 {
        if view == 1 {
            step(app, terminal, Action::ToggleView, &mut samples)?;
        }
        let rows = app.tree.rows.len();
        for _ in 1..rows.min(MAX_MOVES / 2) {
            step(app, terminal, Action::Down, &mut samples)?;
        }
        step(app, terminal, Action::Top, &mut samples)?;
        while app.tree.cursor + 1 < app.tree.rows.len() && samples.len() < MAX_MOVES {
            step(app, terminal, Action::PageDown, &mut samples)?;
        }
    }
    Ok(samples)
}

/// "Set this period's actual" on random measures, each through `Store::edit` (synchronous=FULL).
fn edits(store: &mut Store, spec: &Spec, seed: u64) -> Result<Vec<Duration>> {
    let period = *spec.periods().last().context("no periods")?;
    let mut r = Rng::new(seed ^ 0xED17);
    let mut samples = Vec::with_capacity(EDITS);
    for _ in 0..EDITS {
        let key = ItemKey::new(ItemKind::Measure, 1 + r.below(spec.measures) as u32);
        let value = (r.between(1, 80) * 1_000).to_string();
        let change = Change::Value { key, period, field: "actual".into(), value, if_version: None };
        let t = Instant::now();
        store.edit(Edit::one(change))?;
        samples.push(t.elapsed());
    }
    Ok(samples)
}
