//! Formats at the edge: the JSON plan, the demo organisation, CSV values and reports.

pub mod demo;
pub mod plan;
pub mod text;
