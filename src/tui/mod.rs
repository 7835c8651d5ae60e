//! The terminal app (placeholder until the TUI lands).
use crate::store::Store;

pub fn run(_store: Store, _mouse: bool) -> anyhow::Result<()> {
    anyhow::bail!("the terminal app is not built yet: use `keel demo --no-open` and the CLI")
}
