//! keel: governed OKRs, KPIs and measures in one local SQLite file.
//!
//! `domain` holds the rules (pure), `store` the only SQL and the one write path, `io` the file
//! formats at the edge, `tui` the terminal app, and `cli` the command line.

pub mod domain;
pub mod store;
pub mod cli;
pub mod io;
pub mod tui;
