//! Reading off the keystroke path. A company objective's status is the worst of every measure
//! under it — thousands of rows at scale — and the stale filter judges every item in the file.
//! Computing those between a key press and the next frame would make the cursor stutter, so the
//! app asks for them here and draws "…" until they arrive.
//!
//! Each reader is a thread with its own read connection to the same file (no read transaction is
//! held between requests, so writers are never blocked and every answer reflects the latest
//! commit). Requests carry the app's generation: after the file changes, the app starts a new one
//! and ignores older answers. A reader serves the newest requests first — what the screen shows
//! now — and never drops one, so nothing the app waits for is lost. Statuses and details are
//! routed to a reader by the root of their subtree, so one reader's remembered statuses serve the
//! whole subtree; with two readers two company subtrees are computed at once.

use crate::domain::ItemKey;
use crate::store::outline::{Filter, OutlineItem};
use crate::store::read::{Detail, ItemStatus};
use crate::store::Store;
use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Readers the app starts: two subtrees computed at once on a two-core host (the keystroke path
/// itself is light: a lookup and a redraw).
pub const READERS: usize = 2;

/// The most search hits kept (n and N cycle through them).
pub const SEARCH_HITS: usize = 500;

/// What the app asks for.
#[derive(Debug, Clone)]
pub enum Want {
    Status(ItemKey),
    Detail(ItemKey),
    /// The items of a tree filter (the stale one judges every item in the file).
    Filter(Filter),
    /// Keys and titles containing the text (every title in the file).
    Search(String),
}

/// What comes back. Errors travel as text: the app shows them and carries on.
pub enum Got {
    Status(ItemKey, Result<ItemStatus, String>),
    Detail(ItemKey, Result<Box<Detail>, String>),
    Filter(Filter, Result<Vec<OutlineItem>, String>),
    Search(String, Result<Vec<String>, String>),
    /// Not computed: its generation is over, or a newer detail was asked for since.
    Skipped,
}

pub struct Reply {
    pub generation: u64,
    pub got: Got,
}

struct Job {
    generation: u64,
    wants: Vec<Want>,
}

/// A want in a reader's queue: its generation, and the reader's count of jobs when it came.
struct Queued {
    generation: u64,
    job: u64,
    want: Want,
}

struct Reader {
    jobs: Sender<Job>,
    thread: Option<JoinHandle<()>>,
}

/// How often the checkpointer folds the write-ahead log into the file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// A thread that folds the write-ahead log into the file, so that no edit of the app's does:
/// SQLite's default has the commit that fills the log past 1,000 pages copy them, and that
/// commit took ten times an edit's usual time (edit p99 10 ms against p50 0.7 ms at 100,000
/// measures; 1 ms with the checkpoints here).
struct Checkpointer {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// On a file the app may write: a connection of its own, checkpointing every half second
    /// without blocking anyone; the app's own connection stops checkpointing once it runs.
    fn start(store: &Store) -> anyhow::Result<Option<Checkpointer>> {
        if store.on_server() || store.read_only_reason().is_some() {
            return Ok(None);
        }
        let own = store.open_reader()?;
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new().name("keel-checkpoint".into()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                // A failed checkpoint is tried again at the next tick; commits never wait on one.
                let _ = own.checkpoint_passive();
            }
        })?;
        store.defer_checkpoints()?;
        Ok(Some(Checkpointer { stop, thread: Some(thread) }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (dead, _) = channel();
        drop(std::mem::replace(&mut self.stop, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The app's readers, or none: tests and small tools compute on the calling thread instead.
pub struct Background {
    readers: Vec<Reader>,
    /// Held for its drop: the checkpointer stops with the readers.
    _checkpointer: Option<Checkpointer>,
    replies: Receiver<Reply>,
    /// Requests sent and not answered yet (any generation).
    pub outstanding: usize,
}

impl Background {
    /// Start `count` readers on the file behind `store` (same clock, same identity).
    /// How many readers run.
    pub fn readers(&self) -> usize {
        self.readers.len()
    }

    pub fn start(store: &Store, count: usize) -> anyhow::Result<Background> {
        let (reply_tx, replies) = channel();
        let mut readers = Vec::new();
        for n in 0..count.max(1) {
            let reader = store.open_reader()?;
            let (jobs, inbox) = channel::<Job>();
            let out = reply_tx.clone();
            let thread = std::thread::Builder::new().name(format!("{READER_THREAD}-{n}")).spawn(move || serve(reader, inbox, out))?;
            readers.push(Reader { jobs, thread: Some(thread) });
        }
        let checkpointer = Checkpointer::start(store)?;
        Ok(Background { readers, _checkpointer: checkpointer, replies, outstanding: 0 })
    }

    /// Send wants to the reader chosen by `route` (the key of the subtree's root, say).
    pub fn ask(&mut self, generation: u64, route: &str, wants: Vec<Want>) {
        if wants.is_empty() || self.readers.is_empty() {
            return;
        }
        let n = route_to(route, self.readers.len());
        let count = wants.len();
        if self.readers[n].jobs.send(Job { generation, wants }).is_ok() {
            self.outstanding += count;
        }
    }

    /// Answers that have arrived, without waiting.
    pub fn ready(&mut self) -> Vec<Reply> {
        let mut out = Vec::new();
        while let Ok(r) = self.replies.try_recv() {
            out.push(r);
        }
        self.outstanding = self.outstanding.saturating_sub(out.len());
        out
    }

    /// Wait up to `limit` for at least one answer (then take whatever else has arrived).
    pub fn wait(&mut self, limit: Duration) -> Vec<Reply> {
        let deadline = Instant::now() + limit;
        let mut out = Vec::new();
        match self.replies.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(r) => out.push(r),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return out,
        }
        self.outstanding = self.outstanding.saturating_sub(1);
        out.extend(self.ready());
        out
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // Nobody will read the answers: a reader stops when it next tries to send one, so quitting
        // waits for at most the computation under way, not for the whole queue.
        let (_, unread) = channel();
        drop(std::mem::replace(&mut self.replies, unread));
        // Closing the job channels ends each idle reader.
        let threads: Vec<JoinHandle<()>> = self
            .readers
            .drain(..)
            .filter_map(|mut r| {
                drop(r.jobs);
                r.thread.take()
            })
            .collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

/// A stable spread of routes over readers (FNV-1a: std's hasher is randomly seeded).
fn route_to(route: &str, readers: usize) -> usize {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in route.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % readers as u64) as usize
}

/// Threads whose panics the app reports on screen instead of ending the session.
pub const READER_THREAD: &str = "keel-reader";

/// Readers yield the CPU to the thread that draws: on a small host the keystroke, not the
/// status of a subtree below the fold, decides how the app feels (and other users of a shared
/// host keep their share). Linux schedules threads one by one, so this touches only the reader.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority have no memory effects; a refusal only leaves the priority be.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// What a reader has been asked, newest first: each new batch goes to the front, in its own order.
#[derive(Default)]
struct Queue {
    wants: VecDeque<Queued>,
    /// The newest generation seen, the jobs taken, and the job of the newest detail asked for.
    generation: u64,
    jobs: u64,
    newest_detail: u64,
}

impl Queue {
    fn take(&mut self, job: Job) {
        self.jobs += 1;
        self.generation = self.generation.max(job.generation);
        if job.wants.iter().any(|w| matches!(w, Want::Detail(_))) {
            self.newest_detail = self.jobs;
        }
        for want in job.wants.into_iter().rev() {
            self.wants.push_front(Queued { generation: job.generation, job: self.jobs, want });
        }
    }

    /// Would this answer be thrown away? Then it is not worth computing. Searches are kept
    /// whatever changed since: their hits are keys.
    fn outdated(&self, q: &Queued) -> bool {
        match q.want {
            Want::Search(_) => false,
            Want::Detail(_) => q.generation < self.generation || q.job < self.newest_detail,
            _ => q.generation < self.generation,
        }
    }
}

fn serve(mut store: Store, inbox: Receiver<Job>, out: Sender<Reply>) {
    lower_priority();
    let mut queue = Queue::default();
    loop {
        if queue.wants.is_empty() {
            match inbox.recv() {
                Ok(job) => queue.take(job),
                Err(_) => return,
            }
        }
        while let Ok(job) = inbox.try_recv() {
            queue.take(job);
        }
        let Some(q) = queue.wants.pop_front() else { continue };
        let generation = q.generation;
        let got = if queue.outdated(&q) {
            Got::Skipped
        } else {
            let want = q.want;
            // A bug in one computation costs that answer, not the session: it comes back as an
            // error, and the reader starts again on a fresh connection with nothing remembered.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(&store, want.clone()))) {
                Ok(got) => got,
                Err(panic) => {
                    let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
                    if let Ok(fresh) = store.open_reader() {
                        store = fresh;
                    }
                    failed(want, format!("internal error: {}", what.unwrap_or_default()))
                }
            }
        };
        if out.send(Reply { generation, got }).is_err() {
            return;
        }
    }
}

fn failed(want: Want, why: String) -> Got {
    match want {
        Want::Status(k) => Got::Status(k, Err(why)),
        Want::Detail(k) => Got::Detail(k, Err(why)),
        Want::Filter(f) => Got::Filter(f, Err(why)),
        Want::Search(text) => Got::Search(text, Err(why)),
    }
}

/// Compute one want on the reader's own store.
fn answer(store: &Store, want: Want) -> Got {
    match want {
        Want::Status(k) => {
            let r = store.row_status(&k).map_err(|e| e.to_string());
            Got::Status(k, r)
        }
        Want::Detail(k) => {
            let r = store.detail(&k).map(Box::new).map_err(|e| e.to_string());
            Got::Detail(k, r)
        }
        Want::Filter(f) => Got::Filter(f, store.outline_filtered(f).map_err(|e| e.to_string())),
        Want::Search(text) => {
            let hits = store.search(&text, SEARCH_HITS).map(|items| items.into_iter().map(|i| i.key).collect());
            Got::Search(text, hits.map_err(|e| e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{route_to, Job, Queue, Want};
    use crate::domain::ItemKey;

    fn key(k: &str) -> ItemKey {
        ItemKey::parse(k).unwrap()
    }

    #[test]
    fn a_reader_serves_the_newest_first_and_skips_what_would_be_thrown_away() {
        let mut q = Queue::default();
        q.take(Job { generation: 1, wants: vec![Want::Status(key("O-1")), Want::Detail(key("O-1")), Want::Search("pricing".into())] });
        q.take(Job { generation: 1, wants: vec![Want::Detail(key("M-5"))] });
        q.take(Job { generation: 2, wants: vec![Want::Status(key("O-2"))] });
        let name = |w: &Want| match w {
            Want::Status(k) => format!("status {k}"),
            Want::Detail(k) => format!("detail {k}"),
            Want::Filter(f) => format!("filter {}", f.label()),
            Want::Search(t) => format!("search {t}"),
        };
        let order: Vec<String> = q.wants.iter().map(|w| name(&w.want)).collect();
        assert_eq!(order, ["status O-2", "detail M-5", "status O-1", "detail O-1", "search pricing"]);
        let outdated: Vec<bool> = q.wants.iter().map(|w| q.outdated(w)).collect();
        // The newest generation's status: computed. M-5's detail: older generation, skipped. O-1's
        // status: older generation. O-1's detail: a newer detail was asked for. The search: kept,
        // whatever changed (its hits are keys).
        assert_eq!(outdated, vec![false, true, true, true, false]);
    }

    #[test]
    fn the_checkpointer_takes_the_write_ahead_log_off_the_apps_commits() {
        use crate::store::{Change, Edit};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.keel");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let mut store = crate::io::demo::create_at(&path, today, "tester").unwrap();
        let autocheckpoint =
            |s: &crate::store::Store| -> i64 { s.conn().query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap() };
        assert_eq!(autocheckpoint(&store), 1000, "SQLite's default, before the app's readers start");
        let background = super::Background::start(&store, 1).unwrap();
        assert_eq!(autocheckpoint(&store), 0, "the app's own commits would still fold the log into the file");
        // In WAL mode only a checkpoint writes the database file itself: after an edit (into the
        // log), the file changes within a few of the checkpointer's ticks.
        let written = || std::fs::metadata(&path).unwrap().modified().unwrap();
        let before = written();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let change = Change::Value {
            key: key("M-1"),
            period: crate::domain::Period::parse("2026-W47").unwrap(),
            field: "actual".into(),
            value: "1234".into(),
            if_version: None,
        };
        store.edit(Edit::one(change)).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while written() == before && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_ne!(written(), before, "nothing folded the edit's log into the file");
        drop(background);
    }

    #[test]
    fn routes_are_stable_and_spread() {
        assert_eq!(route_to("O-1", 2), route_to("O-1", 2));
        let spread: std::collections::HashSet<usize> = (1..20).map(|i| route_to(&format!("O-{i}"), 2)).collect();
        assert_eq!(spread.len(), 2, "twenty roots all went to one reader");
        assert_eq!(route_to("anything", 1), 0);
    }
}
