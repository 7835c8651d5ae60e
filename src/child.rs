//! Running another program for keel (hooks, value sources): without a shell, in its own process
//! group, with a time limit after which the whole group is killed, its input written and its
//! output read from threads so that no full pipe can block either side.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a program printed (at most `max` bytes of each stream are kept).
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// More than `max` bytes were printed on standard output.
    pub stdout_cut: bool,
}

/// Why a program gave no output to use.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    Start(String),
    TimedOut(Duration),
    Wait(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Start(e) => write!(f, "could not start: {e}"),
            Failure::TimedOut(d) => write!(f, "timed out after {:.1} s and was stopped", d.as_secs_f64()),
            Failure::Wait(e) => write!(f, "could not wait for it: {e}"),
        }
    }
}

/// Read a stream to its end, keeping the first `max` bytes (the rest is read and dropped).
fn drain(mut r: impl Read, max: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut cut = false;
    let mut chunk = [0u8; 8192];
    loop {
        match r.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = max.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
    (kept, cut)
}

/// The process groups started and not yet ended: keel ending on a signal stops them too (a
/// hook on the app's background thread would otherwise run on without its time limit).
static RUNNING: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

struct Running(i32);

impl Running {
    fn register(pgid: i32) -> Running {
        RUNNING.lock().unwrap_or_else(|p| p.into_inner()).push(pgid);
        Running(pgid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.lock().unwrap_or_else(|p| p.into_inner()).retain(|g| *g != self.0);
    }
}

/// Kill every process group still running (keel is about to exit on a signal).
pub fn stop_all() {
    for pgid in RUNNING.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        unsafe { libc::killpg(*pgid, libc::SIGKILL) };
    }
}

/// Run `program` with `args` (no shell), `env` added, `input` on its standard input.
pub fn run(program: &Path, args: &[String], env: &[(&str, &str)], input: &[u8], limit: Duration, max: usize) -> Result<Output, Failure> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| Failure::Start(e.to_string()))?;
    let pgid = child.id() as i32;
    let _running = Running::register(pgid);
    let mut stdin = child.stdin.take();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&data);
        }
    });
    let out = child.stdout.take().map(|o| std::thread::spawn(move || drain(o, max)));
    let err = child.stderr.take().map(|e| std::thread::spawn(move || drain(e, 4096)));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= limit => {
                // The program and everything it started; the readers are left to end with them.
                unsafe { libc::killpg(pgid, libc::SIGKILL) };
                let _ = child.wait();
                return Err(Failure::TimedOut(limit));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(Failure::Wait(e.to_string())),
        }
    };
    // A grandchild left running could hold the pipes open: end the group before reading on.
    unsafe { libc::killpg(pgid, libc::SIGKILL) };
    let _ = writer.join();
    let (stdout, stdout_cut) = out.and_then(|t| t.join().ok()).unwrap_or_default();
    let (stderr, _) = err.and_then(|t| t.join().ok()).unwrap_or_default();
    Ok(Output { status, stdout, stderr, stdout_cut })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_kept_and_a_program_that_outlives_its_limit_is_stopped() {
        let sh = Path::new("/bin/sh");
        let o = run(sh, &["-c".into(), "cat; echo oops >&2; exit 4".into()], &[], b"hello", Duration::from_secs(20), 100).unwrap();
        assert_eq!((o.stdout.as_slice(), o.stderr.as_slice(), o.status.code()), (&b"hello"[..], &b"oops\n"[..], Some(4)));
        let o = run(sh, &["-c".into(), "head -c 5000 /dev/zero".into()], &[], b"", Duration::from_secs(20), 100).unwrap();
        assert_eq!((o.stdout.len(), o.stdout_cut), (100, true));
        let e = run(sh, &["-c".into(), "sleep 30".into()], &[], b"", Duration::from_millis(200), 100).unwrap_err();
        assert_eq!(e, Failure::TimedOut(Duration::from_millis(200)));
        assert!(matches!(run(Path::new("/nonexistent/x"), &[], &[], b"", Duration::from_secs(1), 10), Err(Failure::Start(_))));
    }
}
