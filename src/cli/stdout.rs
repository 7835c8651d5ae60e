//! Standard output for every command. keel's `print!`/`println!` (lib.rs) come here instead of to
//! std's, which panic (exit 101) when the reader has gone: `keel show M-7 | head -1`.
//!
//! A closed pipe is not an error of the command: the reader took what it wanted. The rest of the
//! output is dropped quietly and the command runs to its end, so its exit code still says what
//! was done (an import that committed exits 0 even if `head` stopped reading its report).
//! Restoring SIGPIPE's default would instead kill keel mid-way and report a signal for a change
//! that landed. Any other write error (a full disk under `> file`) is said once on stderr, and
//! turns a success into exit 70, as the output a caller relies on is incomplete.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STOPPED: AtomicBool = AtomicBool::new(false);
static FAILED: AtomicBool = AtomicBool::new(false);

pub fn print(args: std::fmt::Arguments) {
    write_with(|out| out.write_fmt(args));
}

pub fn write_bytes(bytes: &[u8]) {
    write_with(|out| out.write_all(bytes));
}

fn write_with(write: impl FnOnce(&mut std::io::StdoutLock) -> std::io::Result<()>) {
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = write(&mut out).and_then(|()| out.flush()) {
        STOPPED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            FAILED.store(true, Ordering::Relaxed);
            eprintln!("keel: cannot write to standard output ({e}); the rest of the output is lost");
        }
    }
}

/// The exit code once a command is done: a success whose output could not be written is 70.
pub fn exit_code(code: i32) -> i32 {
    if code == 0 && FAILED.load(Ordering::Relaxed) {
        70
    } else {
        code
    }
}

/// An `io::Write` for code that wants a writer (completions, the manual page).
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write_bytes(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Standard output for a long rendering: written in pieces of [`CHUNK`] bytes as it is made, so
/// it is never gathered whole, and through [`write_bytes`], so a reader that has gone only stops
/// the output. Flushed when dropped.
pub struct Chunked(std::io::BufWriter<Stdout>);

/// Large enough that a row is rarely split and writes stay few; small enough not to matter.
pub const CHUNK: usize = 64 * 1024;

impl Chunked {
    pub fn new() -> Self {
        Chunked(std::io::BufWriter::with_capacity(CHUNK, Stdout))
    }
}

impl Default for Chunked {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Chunked {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl std::fmt::Write for Chunked {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| std::fmt::Error)
    }
}
