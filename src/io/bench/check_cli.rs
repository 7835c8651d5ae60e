//! `keel check` as a person runs it: the real binary (this one, `current_exe`) in a fresh
//! process on the bench's file, its text to a sink (/dev/null). Its wall time end to end (process
//! start, open, every read, the whole rendering and write) and its peak resident memory: the
//! high-water mark of the child's own address space (`VmHWM` in `/proc/PID/status`), read while
//! it runs. Not `wait4`'s `ru_maxrss`: Linux carries into it the memory of the process the child
//! was forked from (the bench itself, hundreds of megabytes) up to its `exec`.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of `keel check` on `path`: its wall time and its peak RSS in MiB.
pub fn run_once(path: &Path) -> Result<(Duration, f64)> {
    let exe = std::env::current_exe().context("cannot find keel's own binary to run `keel check`")?;
    let t = Instant::now();
    let child = Command::new(&exe)
        .arg("check")
        .arg("--db")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {} check", exe.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    let mut peak_kib = 0_u64;
    let waited = loop {
        // Read before each look at whether it ended: the last reading is taken while it still runs.
        peak_kib = peak_kib.max(high_water_kib(pid).unwrap_or(0));
        // SAFETY: waitpid only fills the status; the child is ours and not waited for by
        // anything else (`child` is dropped without waiting).
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if waited != 0 {
            break waited;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = t.elapsed();
    drop(child);
    if waited != pid {
        return Err(std::io::Error::last_os_error()).context("cannot wait for `keel check`");
    }
    // 0, 1 and 2 are what the check found (no, owner or sponsor, steering committee escalations).
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) > 2 {
        bail!("`keel check` on the bench's file failed (wait status {status})");
    }
    Ok((took, peak_kib as f64 / 1024.0))
}

/// The peak resident memory of process `pid`'s own address space, in KiB (`VmHWM`).
fn high_water_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `runs` fresh runs: their wall times, and the largest peak RSS of any.
pub fn measure(path: &Path, runs: usize) -> Result<(Vec<Duration>, f64)> {
    let mut times = Vec::with_capacity(runs);
    let mut peak = 0f64;
    for _ in 0..runs.max(1) {
        let (took, rss) = run_once(path)?;
        times.push(took);
        peak = peak.max(rss);
    }
    Ok((times, peak))
}
