//! Formats at the edge: the JSON plan, the demo organisation, CSV values and reports.

pub mod baseline;
pub mod bench;
pub mod check_out;
pub mod csv;
pub mod demo;
pub mod digest;
pub mod export_out;
pub mod generate;
pub mod ics;
pub mod plan;
pub mod progress;
pub mod report;
pub mod signals_text;
pub mod source_rows;
pub mod sources_config;
pub mod spreadsheet;
pub mod text;
pub mod values_import;
