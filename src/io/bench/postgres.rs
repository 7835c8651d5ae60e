//! `keel bench --db postgres://…`: the same figures as on a file, measured on a PostgreSQL server
//! in databases the bench makes there for itself (and drops, however it ends), against plain
//! `postgres`-crate inserts and the same roll-up query on the same server (`baseline.rs` here).
//! The role in the URL must be allowed to create databases. The values CSV import is a file's
//! figure (it compares a file's CSV path with its JSON path): on a server its keys are `null`.

mod baseline;

use super::sampling::{self, Samples};
use super::{Figures, SETTLE, SHORT_FIGURE_FACTOR};
use crate::io::generate::{self, Spec};
use crate::io::progress;
use crate::location::{PasswordSources, ServerUrl};
use crate::store::Store;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The server the URL names, reached as its role, where the bench's databases are made.
struct Server {
    url: String,
    admin: postgres::Client,
    prefix: String,
}

/// A database of the bench's own, dropped with it.
struct Database<'s> {
    server: &'s std::cell::RefCell<Server>,
    name: String,
    /// The `--db` URL naming it.
    path: PathBuf,
}

fn parse(url: &str) -> Result<ServerUrl> {
    ServerUrl::parse(url, &crate::store::os_login(), &PasswordSources::from_env()).map_err(|e| anyhow::anyhow!("--db {e}"))
}

fn client(url: &str) -> Result<postgres::Client> {
    Ok(crate::store::engine::server_client(&parse(url)?)?)
}

impl Server {
    fn connect(url: &str) -> Result<Server> {
        let admin = client(url).context("keel bench on a server")?;
        Ok(Server { url: url.to_string(), admin, prefix: format!("keel_bench_{}", std::process::id()) })
    }

    /// The URL of database `name` on this server.
    fn url_of(&self, name: &str) -> String {
        format!("{}{}dbname={name}", self.url, if self.url.contains('?') { '&' } else { '?' })
    }
}

impl<'s> Database<'s> {
    /// An empty database sorting text byte by byte, as keel needs.
    fn create(server: &'s std::cell::RefCell<Server>, what: &str) -> Result<Database<'s>> {
        let mut s = server.borrow_mut();
        let name = format!("{}_{what}", s.prefix);
        // One statement each: PostgreSQL runs neither inside a transaction block.
        s.admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
        s.admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'"))
            .with_context(|| format!("keel bench makes its databases on the server (CREATE DATABASE {name})"))?;
        let path = PathBuf::from(s.url_of(&name));
        Ok(Database { server, name, path })
    }

    fn client(&self) -> Result<postgres::Client> {
        client(&self.path.display().to_string())
    }
}

impl Drop for Database<'_> {
    fn drop(&mut self) {
        let _ = self.server.borrow_mut().admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
    }
}

/// Run the whole bench on the server `url` names, as [`super::run`] does on a file.
pub fn run(url: &str, measures: usize, seed: u64, repeat: usize) -> Result<Figures> {
    let repeat = repeat.max(1);
    let server = std::cell::RefCell::new(Server::connect(url)?);
    let spec = {
        let scratch = Database::create(&server, "clock")?;
        let store = Store::create(&scratch.path, false)?;
        Spec { measures, seed, today: store.clock().today, admin_login: store.actor.login.clone() }
    };
    // 1. Loading, through keel's write path and by plain inserts in one transaction, each side
    //    into a fresh database of its own every time.
    let bar = progress::bar((measures * 2 * repeat) as u64, "loading");
    let mut values = 0;
    let mut kept: Option<Database<'_>> = None;
    let loads = sampling::alternate(
        repeat,
        |pair| {
            drop(kept.take());
            let db = Database::create(&server, &format!("keel_{pair}"))?;
            bar.set_message("keel");
            let done = (2 * pair * measures) as u64;
            let mut store = Store::create(&db.path, false)?;
            let spent = generate::load(&mut store, &spec, |n| bar.set_position(done + n as u64))?;
            values = store.value_count()?;
            kept = Some(db);
            Ok(spent)
        },
        |pair| {
            let db = Database::create(&server, &format!("baseline_{pair}"))?;
            bar.set_message("baseline");
            let done = ((2 * pair + 1) * measures) as u64;
            let mut loader = baseline::Loader::create(db.client()?)?;
            loader.insert(&spec.structure())?;
            for chunk in spec.chunks() {
                let end = chunk.end;
                loader.insert(&spec.measures(chunk))?;
                bar.set_position(done + end as u64);
            }
            loader.finish()
        },
    )?;
    bar.finish_and_clear();
    let db = kept.take().context("no database was loaded")?;
    let path: &Path = &db.path;
    // 2. Fresh openings to the first full frame; the last app stays open for the walk and edits.
    let spin = progress::spinner("opening the app");
    let mut openings = Samples::default();
    let mut opened = None;
    for _ in 0..repeat * SHORT_FIGURE_FACTOR {
        drop(opened.take());
        let (mut app, terminal, took) = super::open_to_first_frame(path)?;
        openings.0.push(took);
        app.settle(SETTLE);
        opened = Some((app, terminal));
    }
    let (mut app, mut terminal) = opened.context("no opening of the app")?;
    // 3. Through the tree, then 4. edits through the write path.
    spin.set_message("moving through the tree");
    let frames = super::walk_tree(&mut app, &mut terminal)?;
    app.settle(SETTLE);
    spin.set_message("editing");
    let edits = super::edits(&mut app.store, &spec, seed)?;
    spin.set_message("filtering stale items");
    let filter_stale_ms = super::filter_stale::measure(&mut app, &mut terminal, repeat * SHORT_FIGURE_FACTOR)?;
    drop(app);
    spin.set_message("searching");
    let search_ms = super::search::measure(path)?;
    // 5. keel check against the plain roll-up on the same database, alternating, each on a
    //    connection of its own opened afresh.
    spin.set_message("checking");
    let keel_check = || -> Result<Duration> {
        let t = Instant::now();
        let store = Store::open(path)?;
        let report = store.check()?;
        let took = t.elapsed();
        drop(report);
        Ok(took)
    };
    let baseline_check = || -> Result<Duration> { Ok(baseline::check(&mut db.client()?)?.0) };
    keel_check()?;
    baseline_check()?;
    let checks = sampling::alternate(repeat * SHORT_FIGURE_FACTOR, |_| keel_check(), |_| baseline_check())?;
    // `keel check` as a person runs it, and the app's memory, each in a fresh process.
    spin.set_message("keel check, as run");
    let (cli_times, check_rss) = super::check_cli::measure(path, repeat)?;
    spin.set_message("the app's memory");
    let fresh = (Samples(cli_times).median_s(), check_rss, super::app_rss::measure(path)?);
    let rss = super::peak_rss_mb();
    spin.finish_and_clear();
    // The CSV import's figures are a file's (see the module's note): not measured here.
    let none = sampling::Pairs::default();
    let mut figures = super::figures(measures, values, repeat, rss, [&loads, &checks, &none], &openings, frames, edits, fresh);
    figures.filter_stale_ms = super::round(filter_stale_ms, 1);
    figures.search_ms = super::round(search_ms, 2);
    figures.csv_import_s = f64::NAN;
    figures.csv_import_json_s = f64::NAN;
    figures.csv_import_ratio = f64::NAN;
    figures.csv_import_ratio_spread = f64::NAN;
    Ok(figures)
}
