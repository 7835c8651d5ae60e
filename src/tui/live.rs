//! Others' edits reaching the open app on a server: the store's listener hears every commit
//! (LISTEN/NOTIFY), and the app refreshes at once, keeping cursor and edit. A lost connection is
//! said on the message line; when the listener is back, the app reconnects its store and reads
//! everything again (what was committed meanwhile was not heard). On a file the event loop
//! polls SQLite's data version instead.

use super::app::App;

/// How long the app waits before trying its store's broken connection again.
const STORE_RETRY: std::time::Duration = std::time::Duration::from_secs(3);

impl App {
    /// Start hearing the server's commits (nothing to do on a file). A listener that cannot
    /// connect is said, and the app falls back to polling.
    pub fn start_listening(&mut self) {
        match self.store.live_changes() {
            Ok(live) => self.live = live,
            Err(e) => {
                self.live = None;
                self.warn(format!("cannot listen for others' edits ({e}); checking for them every second instead"));
            }
        }
    }

    /// Act on what the listener heard since the last call: a refresh when someone committed, a
    /// warning when the connection was lost, a reconnection when it is back. True when the
    /// screen needs drawing again.
    pub fn take_live_events(&mut self) -> anyhow::Result<bool> {
        let Some(live) = &self.live else { return Ok(false) };
        let (mut changed, mut lost, mut back) = (false, None, false);
        while let Some(event) = live.next_event() {
            match event {
                crate::store::live::LiveEvent::Changed => changed = true,
                crate::store::live::LiveEvent::Lost(why) => {
                    lost = Some(why);
                    back = false;
                }
                crate::store::live::LiveEvent::Reconnected => back = true,
            }
        }
        if back {
            self.server_lost = None;
            self.reconnect()?;
            return Ok(true);
        }
        if let Some(why) = lost {
            self.warn(format!("connection to the server lost ({why}): reconnecting by itself, edits wait"));
            self.server_lost = Some(why);
            return Ok(true);
        }
        // The store's own connection can break while the listener's stays (a session ended by an
        // administrator, a pooler or firewall dropping one idle connection): the listener never
        // says so, so the store is asked — it knows without a round trip — and reconnected,
        // at most every few seconds while the server turns it away.
        if self.server_lost.is_none() && self.store.connection_lost() {
            let now = std::time::Instant::now();
            if self.store_retry_at.is_some_and(|at| now < at) {
                return Ok(false);
            }
            self.store_retry_at = Some(now + STORE_RETRY);
            self.reconnect()?;
            if !self.store.connection_lost() {
                self.store_retry_at = None;
            }
            return Ok(true);
        }
        if changed && self.changed_elsewhere() {
            self.reload()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The server is reachable again: a new connection for the store and its readers, and
    /// everything read again, the selection kept.
    fn reconnect(&mut self) -> anyhow::Result<()> {
        self.reopen()?;
        if !self.message.as_ref().is_some_and(|(_, warning)| *warning) {
            self.say("reconnected to the server: everything was read again");
        }
        Ok(())
    }
}
