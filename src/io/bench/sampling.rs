//! How `keel bench` turns repeated timings into figures that hold from run to run: each side of a
//! ratio is measured several times, keel and its baseline alternating, so that whatever the disk
//! or the other core does in those seconds lands on both sides; the figure is the ratio of the
//! two medians, and the spread (largest over smallest ratio seen) says how far to trust it.

use anyhow::Result;
use std::time::Duration;

/// The middle of some samples; for an even count, the mean of the two in the middle. 0 for none.
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// How far apart some positive figures lie: the largest over the smallest (1 = all equal, and
/// for fewer than two samples). Infinite when the smallest is 0 and the largest is not.
pub fn spread(samples: &[f64]) -> f64 {
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    if samples.len() < 2 || max == min {
        1.0
    } else {
        max / min
    }
}

fn seconds(samples: &[Duration]) -> Vec<f64> {
    samples.iter().map(Duration::as_secs_f64).collect()
}

/// Several timings of one thing (fresh openings of the app, say).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    pub fn median_s(&self) -> f64 {
        median(&seconds(&self.0))
    }
    pub fn spread(&self) -> f64 {
        spread(&seconds(&self.0))
    }
}

/// Timings of keel and of its baseline, taken in pairs: `keel[i]` just before `baseline[i]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pairs {
    pub keel: Vec<Duration>,
    pub baseline: Vec<Duration>,
}

impl Pairs {
    pub fn keel_median_s(&self) -> f64 {
        median(&seconds(&self.keel))
    }
    pub fn baseline_median_s(&self) -> f64 {
        median(&seconds(&self.baseline))
    }
    /// The ratio of the medians (not the median of the ratios), so that it is the figure's
    /// median over its baseline's, as the JSON prints them beside it.
    pub fn ratio(&self) -> f64 {
        self.keel_median_s() / self.baseline_median_s().max(1e-9)
    }
    /// The ratio of each pair, in the order measured.
    pub fn ratios(&self) -> Vec<f64> {
        self.keel.iter().zip(&self.baseline).map(|(k, b)| k.as_secs_f64() / b.as_secs_f64().max(1e-9)).collect()
    }
    /// Largest over smallest ratio of a pair.
    pub fn ratio_spread(&self) -> f64 {
        spread(&self.ratios())
    }
}

/// Time keel and its baseline `repeat` times (at least once), alternating — keel, baseline,
/// keel, baseline, … — each told which pair it is in. The first error ends the measuring.
pub fn alternate(
    repeat: usize,
    mut keel: impl FnMut(usize) -> Result<Duration>,
    mut baseline: impl FnMut(usize) -> Result<Duration>,
) -> Result<Pairs> {
    let mut pairs = Pairs::default();
    for pair in 0..repeat.max(1) {
        pairs.keel.push(keel(pair)?);
        pairs.baseline.push(baseline(pair)?);
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn the_median_is_the_middle_sample_or_the_mean_of_the_two_middle_ones() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[4.0]), 4.0);
        assert_eq!(median(&[9.0, 1.0, 5.0]), 5.0, "order does not matter");
        assert_eq!(median(&[9.0, 1.0, 3.0, 5.0]), 4.0);
        assert_eq!(median(&[2.0, 2.0, 100.0]), 2.0, "one outlier does not move it");
    }

    #[test]
    fn the_spread_is_the_largest_over_the_smallest() {
        assert_eq!(spread(&[]), 1.0);
        assert_eq!(spread(&[3.0]), 1.0);
        assert_eq!(spread(&[2.0, 2.0]), 1.0);
        assert_eq!(spread(&[2.0, 3.0, 2.5]), 1.5);
        assert_eq!(spread(&[0.0, 1.0]), f64::INFINITY);
    }

    #[test]
    fn pairs_report_the_ratio_of_the_medians_and_the_spread_of_the_pair_ratios() {
        let pairs = Pairs { keel: vec![ms(200), ms(180), ms(400)], baseline: vec![ms(100), ms(100), ms(100)] };
        assert!((pairs.keel_median_s() - 0.2).abs() < 1e-12);
        assert!((pairs.baseline_median_s() - 0.1).abs() < 1e-12);
        assert!((pairs.ratio() - 2.0).abs() < 1e-9, "the slow outlier does not move the ratio");
        let ratios = pairs.ratios();
        assert_eq!(ratios.len(), 3);
        assert!((ratios[2] - 4.0).abs() < 1e-9);
        assert!((pairs.ratio_spread() - 4.0 / 1.8).abs() < 1e-9, "but it shows in the spread");
    }

    #[test]
    fn samples_give_their_median_and_spread() {
        let s = Samples(vec![ms(300), ms(200), ms(250)]);
        assert!((s.median_s() - 0.25).abs() < 1e-12);
        assert!((s.spread() - 1.5).abs() < 1e-12);
    }

    #[test]
    fn alternate_runs_keel_then_the_baseline_in_each_pair() {
        let order = RefCell::new(Vec::new());
        let pairs = alternate(
            3,
            |i| {
                order.borrow_mut().push(format!("keel {i}"));
                Ok(ms(10 + i as u64))
            },
            |i| {
                order.borrow_mut().push(format!("baseline {i}"));
                Ok(ms(5))
            },
        )
        .unwrap();
        assert_eq!(order.into_inner(), ["keel 0", "baseline 0", "keel 1", "baseline 1", "keel 2", "baseline 2"]);
        assert_eq!(pairs.keel, [ms(10), ms(11), ms(12)]);
        assert_eq!(pairs.baseline, [ms(5); 3]);
    }

    #[test]
    fn alternate_runs_at_least_one_pair_and_stops_at_the_first_error() {
        let mut calls = 0;
        let pairs = alternate(0, |_| Ok(ms(1)), |_| Ok(ms(1))).unwrap();
        assert_eq!((pairs.keel.len(), pairs.baseline.len()), (1, 1));
        let failed = alternate(
            3,
            |_| {
                calls += 1;
                Ok(ms(1))
            },
            |i| if i == 1 { anyhow::bail!("disk full") } else { Ok(ms(1)) },
        );
        assert!(failed.is_err());
        assert_eq!(calls, 2, "no third pair after the error");
    }
}
