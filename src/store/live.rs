//! Live changes from a server: a thread of its own listens for every commit (the engine's
//! NOTIFY) and tells whoever holds the [`LiveChanges`] — the app, which refreshes at once instead
//! of polling. When the connection is lost it says so, reconnects by itself, and says that too.
//! A file has no such thing: the app polls SQLite's data version, which costs nothing.

use super::engine::Listener;
use super::{server, Store};
use crate::location::{PasswordSources, ServerUrl};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What the listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// Someone (this app included) committed a write.
    Changed,
    /// The connection to the server was lost (why, in a few words); the listener keeps trying
    /// to reconnect.
    Lost(String),
    /// Connected again after a loss: commits made meanwhile were not heard, so read everything.
    Reconnected,
}

/// How long one wait for a notification lasts: also how soon the thread notices it should stop.
const WAIT: Duration = Duration::from_millis(200);
/// Pauses between attempts to reconnect, growing to the last.
const RETRY: [u64; 5] = [250, 500, 1000, 2000, 4000];

/// The events of a listening thread; dropping it stops the thread.
pub struct LiveChanges {
    events: Receiver<LiveEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LiveChanges {
    /// The next event heard, if any (never waits).
    pub fn next_event(&self) -> Option<LiveEvent> {
        self.events.try_recv().ok()
    }
}

impl Drop for LiveChanges {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Store {
    /// Start listening for commits to this database on a server; `None` on a file (poll
    /// [`Store::data_version`] there). An error when the listener cannot connect at all.
    pub fn live_changes(&self) -> super::Result<Option<LiveChanges>> {
        let Some(url) = server::server_url(&self.path) else { return Ok(None) };
        let server = ServerUrl::parse(url, &super::os_login(), &PasswordSources::from_env())
            .map_err(|e| super::StoreError::Unavailable(format!("--db {e}")))?;
        let listener = Listener::start(&server)?;
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("keel-listen".into())
            .spawn(move || listen(server, listener, &tx, &stopping))
            .map_err(super::StoreError::Io)?;
        Ok(Some(LiveChanges { events, stop, thread: Some(thread) }))
    }
}

fn listen(server: ServerUrl, listener: Listener, tx: &Sender<LiveEvent>, stop: &AtomicBool) {
    let mut listener = Some(listener);
    let mut attempt = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let sent = match listener.as_mut() {
            Some(l) => match l.wait(WAIT) {
                Ok(true) => tx.send(LiveEvent::Changed),
                Ok(false) => Ok(()),
                Err(e) => {
                    listener = None;
                    attempt = 0;
                    tx.send(LiveEvent::Lost(e.to_string()))
                }
            },
            None => {
                // Sleep in short steps, so a stop is not kept waiting for the whole pause.
                let pause = RETRY[attempt.min(RETRY.len() - 1)];
                attempt += 1;
                for _ in 0..pause / 50 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                match Listener::start(&server) {
                    Ok(l) => {
                        listener = Some(l);
                        tx.send(LiveEvent::Reconnected)
                    }
                    Err(_) => Ok(()),
                }
            }
        };
        if sent.is_err() {
            return; // nobody listens to us any more
        }
    }
}
