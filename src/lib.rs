//! keel: governed OKRs, KPIs and measures in one database: a local SQLite file, or a PostgreSQL server.
//!
//! `domain` holds the rules (pure), `store` the only SQL and the one write path, `io` the file
//! formats at the edge, `tui` the terminal app, and `cli` the command line.

// SQL rows are read into tuples, and table-driven tests list their cases as tuples.
#![allow(clippy::type_complexity)]

/// keel's own `print!` and `println!`, which shadow std's in the whole crate: they write through
/// [`cli::stdout`], so a reader that closes the pipe early (`keel show M-7 | head -1`) ends the
/// output quietly instead of panicking, and a command keeps the exit code of what it did.
macro_rules! print {
    ($($arg:tt)*) => { $crate::cli::stdout::print(format_args!($($arg)*)) };
}
macro_rules! println {
    () => { $crate::cli::stdout::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::stdout::print(format_args!("{}\n", format_args!($($arg)*))) };
}

pub mod child;
pub mod cli;
pub mod domain;
pub mod hooks;
pub mod io;
pub mod location;
pub mod store;
pub mod tui;
