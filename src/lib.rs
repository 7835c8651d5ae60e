//! keel: governed OKRs, KPIs and measures in one local SQLite file.
//!
//! `domain` holds the rules (pure), `store` the only SQL and the one write path, `io` the file
//! formats at the edge, `tui` the terminal app, and `cli` the command line.

// SQL rows are read into tuples, and table-driven tests list their cases as tuples.
#![allow(clippy::type_complexity)]

pub mod cli;
pub mod domain;
pub mod io;
pub mod store;
pub mod tui;
