//! Hearing other people's commits on a PostgreSQL server as they happen: every committed write
//! sends a notification on [`CHANGES_CHANNEL`] (see the engine's commit), and a [`Listener`] on a
//! connection of its own waits for them, so the app need not ask the server over and over.

use super::Error;
use crate::location::ServerUrl;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use std::time::{Duration, Instant};

/// The channel every committed write notifies.
pub const CHANGES_CHANNEL: &str = "keel_changes";

/// How often a quiet listener checks that its connection is still there (a server that went
/// away without closing the socket is noticed within about this long).
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// A connection listening on [`CHANGES_CHANNEL`].
pub struct Listener {
    client: Client,
    checked: Instant,
}

impl Listener {
    /// Connect to the server and start listening.
    pub fn start(server: &ServerUrl) -> Result<Listener, Error> {
        let mut client = super::tls::connect(server)?;
        client.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))?;
        Ok(Listener { client, checked: Instant::now() })
    }

    /// Wait up to `timeout` for a commit: `Ok(true)` when one (or several, taken together) was
    /// heard, `Ok(false)` when none was; an error (why, in a few words) when the connection is lost.
    pub fn wait(&mut self, timeout: Duration) -> Result<bool, Error> {
        {
            let mut notifications = self.client.notifications();
            let mut heard = notifications.timeout_iter(timeout).next().map_err(|e| lost(&e))?.is_some();
            // Take whatever else is already there without waiting again: one refresh for all.
            while notifications.iter().next().map_err(|e| lost(&e))?.is_some() {
                heard = true;
            }
            if heard {
                return Ok(true);
            }
        }
        if self.client.is_closed() {
            return Err(Error::Other("the server closed the connection".into()));
        }
        if self.checked.elapsed() >= CHECK_EVERY {
            self.checked = Instant::now();
            self.client.is_valid(CHECK_EVERY).map_err(|e| lost(&e))?;
        }
        Ok(false)
    }
}

/// Why the connection went, in the server's words where it gave any ("terminating connection
/// due to administrator command"), for the app's message line.
fn lost(e: &postgres::Error) -> Error {
    Error::Other(match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    })
}
