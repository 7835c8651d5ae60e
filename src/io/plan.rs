//! Reading and writing the JSON plan file.

use crate::domain::plan::Plan;
use anyhow::{Context, Result};
use std::path::Path;

/// Parse a plan, naming the file, line and column of any problem.
pub fn parse(text: &str, source: &str) -> Result<Plan> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| anyhow::anyhow!("{source}:{}:{}: {e}", e.line(), e.column()))
}

pub fn read(path: &Path) -> Result<Plan> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))?;
    parse(&text, &path.display().to_string())
}

/// The canonical text of a plan: pretty JSON with a final newline, fields in a fixed order.
pub fn to_text(plan: &Plan) -> Result<String> {
    let mut s = serde_json::to_string_pretty(plan)?;
    s.push('\n');
    Ok(s)
}
