//! `search_ms`: the app's `/` search — its first page of hits, as the app's reader asks for it
//! (`Store::search` with the app's page size) — for a few kinds of text on the generated
//! organisation, on a freshly opened store. The figure is the median over every text and round.

use crate::store::Store;
use anyhow::Result;
use std::path::Path;
use std::time::{Duration, Instant};

/// What people type: a word of many titles, a title's first word, a made-up word of a few
/// titles, a key, part of a person's name, text nothing holds, and two letters (shorter than a
/// trigram).
pub const TEXTS: &[&str] = &["pricing", "Automate", "velori", "M-4711", "kaka", "zzqx", "ti"];
const ROUNDS: usize = 5;

/// The median time to the first page, in milliseconds.
pub fn measure(path: &Path) -> Result<f64> {
    let store = Store::open(path)?;
    let page = crate::tui::background::SEARCH_HITS;
    // Once untimed, so every text starts from the same (cached) pages of the index.
    for text in TEXTS {
        store.search(text, page)?;
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(TEXTS.len() * ROUNDS);
    for _ in 0..ROUNDS {
        for text in TEXTS {
            let t = Instant::now();
            let hits = store.search(text, page)?;
            samples.push(t.elapsed());
            std::hint::black_box(hits);
        }
    }
    Ok(super::percentile(&mut samples, 50.0))
}
