//! `keel bench`: generate an organisation into a temporary file and measure, in one run on this
//! machine, what a person feels — loading, opening the app, moving through the tree, saving an
//! edit, running `keel check` — each against plain SQLite where a yardstick makes sense.

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
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Edits timed through the write path.
pub const EDITS: usize = 300;
/// Most cursor moves timed (the tree is walked row by row, then page by page).
pub const MAX_MOVES: usize = 4_000;
/// How long the bench waits for the app's readers before going on without them.
const SETTLE: Duration = Duration::from_secs(60);

/// Everything `keel bench --json` prints, in this order.
#[derive(Clone, Debug, Serialize)]
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
    pub check_s: f64,
    pub check_baseline_s: f64,
    pub check_ratio: f64,
    pub peak_rss_mb: f64,
}

/// The targets of issue 7 (figure, limit, lower is better).
pub const TARGETS: &[(&str, f64)] = &[
    ("open_first_frame_ms", 300.0),
    ("frame_p99_ms", 5.0),
    ("edit_p50_ms", 5.0),
    ("edit_p99_ms", 10.0),
    ("load_ratio", 2.0),
    ("check_ratio", 3.0),
    ("peak_rss_mb", 250.0),
];

impl Figures {
    pub fn get(&self, name: &str) -> Option<f64> {
        serde_json::to_value(self).ok()?.get(name)?.as_f64()
    }

    /// A plain table for people.
    pub fn table(&self) -> String {
        let mut out = format!("keel bench: {} measures, {} values\n\n", self.measures, self.values);
        out.push_str(&format!("{:<22} {:>12}  {:>8}\n", "figure", "measured", "target"));
        let value = serde_json::to_value(self).unwrap_or_default();
        for (name, v) in value.as_object().into_iter().flatten() {
            if name == "measures" || name == "values" {
                continue;
            }
            let target = TARGETS.iter().find(|(t, _)| t == name);
            let mark = match target {
                Some((_, limit)) if v.as_f64().unwrap_or(f64::MAX) <= *limit => format!("≤ {limit} ok"),
                Some((_, limit)) => format!("≤ {limit} MISSED"),
                None => String::new(),
            };
            out.push_str(&format!("{name:<22} {:>12}  {mark}\n", v.as_f64().map(|f| format!("{f:.3}")).unwrap_or_default()));
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

/// Run the whole bench with `measures` measures.
pub fn run(measures: usize, seed: u64) -> Result<Figures> {
    let dir = TempDir::new()?;
    let path = dir.0.join("bench.keel");
    // 1. Load through keel's write path.
    let mut store = Store::create(&path, false)?;
    let spec = Spec { measures, seed, today: store.clock().today, admin_login: store.actor.login.clone() };
    let bar = progress::bar(measures as u64 * 2, "loading");
    let load = generate::load(&mut store, &spec, |done| bar.set_position(done as u64))?;
    let values: i64 = store.conn().query_row("SELECT COUNT(*) FROM item_values", [], |r| r.get(0))?;
    trace_rss("after load");
    drop(store);
    // 2. The same rows by plain inserts, in one transaction.
    bar.set_message("baseline");
    let load_baseline = {
        let base = dir.0.join("baseline.sqlite");
        let mut loader = baseline::Loader::create(&base)?;
        loader.insert(&spec.structure())?;
        for chunk in spec.chunks() {
            let end = chunk.end;
            loader.insert(&spec.measures(chunk))?;
            bar.set_position((measures + end) as u64);
        }
        let spent = loader.finish()?;
        let _ = std::fs::remove_file(&base);
        spent
    };
    bar.finish_and_clear();
    trace_rss("after baseline");
    let spin = progress::spinner("opening the app");
    if std::env::var_os("KEEL_BENCH_SLOW").is_some() {
        probe(&path)?;
    }
    // 3. Open the file and draw the first full frame: every visible status, the detail and the
    //    variance list in, as the app's readers deliver them (what the user first sees whole).
    let t = Instant::now();
    let mut app = App::with_readers(Store::open(&path)?, Keymap::default_only(), Theme::from_env(), READERS)?;
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
    let first_frame = t.elapsed();
    // 4. Move through the whole tree (objectives, then execution), a row and then a page at a time.
    spin.set_message("moving through the tree");
    trace_rss("after first frame");
    let frames = walk_tree(&mut app, &mut terminal)?;
    // Let the readers finish what the walk asked for, so they do not share the cores with the edits.
    app.settle(SETTLE);
    trace_rss("after walk");
    // 5. Edits through the write path.
    spin.set_message("editing");
    let edits = edits(&mut app.store, &spec, seed)?;
    // 6. keel check against plain SQL, as `keel check` runs: its own process has no app open, so
    //    the app and what its readers remember are gone first.
    drop(app);
    spin.set_message("checking");
    let t = Instant::now();
    let store = Store::open(&path)?;
    let report = store.check()?;
    let check = t.elapsed();
    trace_rss("after check");
    drop(report);
    let (check_baseline, _) = baseline::check(store.conn())?;
    spin.finish_and_clear();
    let (mut frames, mut edits) = (frames, edits);
    Ok(Figures {
        measures,
        values,
        load_s: round(load.as_secs_f64(), 3),
        load_baseline_s: round(load_baseline.as_secs_f64(), 3),
        load_ratio: round(load.as_secs_f64() / load_baseline.as_secs_f64().max(1e-9), 2),
        open_first_frame_ms: round(ms(first_frame), 1),
        frame_p50_ms: round(percentile(&mut frames, 50.0), 2),
        frame_p99_ms: round(percentile(&mut frames, 99.0), 2),
        edit_p50_ms: round(percentile(&mut edits, 50.0), 2),
        edit_p99_ms: round(percentile(&mut edits, 99.0), 2),
        check_s: round(check.as_secs_f64(), 3),
        check_baseline_s: round(check_baseline.as_secs_f64(), 3),
        check_ratio: round(check.as_secs_f64() / check_baseline.as_secs_f64().max(1e-9), 2),
        peak_rss_mb: round(peak_rss_mb(), 1),
    })
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

fn trace_rss(when: &str) {
    if std::env::var_os("KEEL_BENCH_SLOW").is_some() {
        eprintln!("peak rss {when}: {:.1} MB", peak_rss_mb());
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
