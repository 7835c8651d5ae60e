//! DOMAIN "Confidence and update discipline": the confidence an owner gives at each check-in
//! (0–1) is a signal of its own. A drop of `confidence_drop` or more since the last check-in, or
//! `confidence_low_checkins` check-ins in a row below `confidence_low`, opens an owner review
//! ("confidence falling"): confidence warns before the numbers do.

use super::escalation::{Thresholds, Tier};
use super::signals::Signal;
use super::{Num, Period};

/// One check-in's confidence: the period it was given for and the share (0–1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckIn {
    #[serde(serialize_with = "super::signals::ser_period")]
    pub period: Period,
    pub confidence: Num,
}

/// Which way confidence went at the last check-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Rising,
    Steady,
    Falling,
}

impl Direction {
    /// A symbol that survives NO_COLOR and screen sharing.
    pub fn symbol(self) -> &'static str {
        match self {
            Direction::Rising => "↑",
            Direction::Steady => "→",
            Direction::Falling => "↓",
        }
    }
}

/// The confidence history of one item as `keel show`, the detail pane and reports show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Trend {
    /// Oldest first.
    pub history: Vec<CheckIn>,
    pub latest: Option<Num>,
    /// The change at the last check-in (latest − the one before), when there are two.
    pub change: Option<Num>,
    pub direction: Option<Direction>,
    /// Why confidence calls for an owner review now, if it does.
    pub falling: Option<String>,
}

impl Trend {
    /// One line: `0.8 → 0.7 → 0.4 ↓ (-0.3)`, the last `n` check-ins.
    pub fn line(&self, n: usize) -> String {
        let skip = self.history.len().saturating_sub(n);
        let mut s = self.history[skip..].iter().map(|c| c.confidence.to_string()).collect::<Vec<_>>().join(" → ");
        if let (Some(d), Some(c)) = (self.direction, self.change) {
            let sign = if c.is_negative() || c.is_zero() { "" } else { "+" };
            s.push_str(&format!(" {} ({sign}{c})", d.symbol()));
        }
        s
    }
}

/// The trend of a history (oldest first), judged with the organisation's thresholds.
pub fn trend(history: Vec<CheckIn>, t: &Thresholds) -> Trend {
    let latest = history.last().map(|c| c.confidence);
    let change = match history.as_slice() {
        [.., before, last] => last.confidence.checked_sub(before.confidence).ok(),
        _ => None,
    };
    let direction = change.map(|c| {
        if c.is_negative() {
            Direction::Falling
        } else if c.is_zero() {
            Direction::Steady
        } else {
            Direction::Rising
        }
    });
    let falling = confidence_falling(&history, t).map(|s| s.reason);
    Trend { history, latest, change, direction, falling }
}

/// DOMAIN "Confidence and update discipline": a drop of `confidence_drop` or more since the last
/// check-in, or `confidence_low_checkins` check-ins in a row below `confidence_low`, opens an
/// owner review. `history` is oldest first; only the latest check-ins count.
pub fn confidence_falling(history: &[CheckIn], t: &Thresholds) -> Option<Signal> {
    let last = history.last()?;
    let drop = match history {
        [.., before, last] => before.confidence.checked_sub(last.confidence).ok().filter(|d| *d >= t.confidence_drop),
        _ => None,
    };
    let low_run = history.iter().rev().take_while(|c| c.confidence < t.confidence_low).count();
    let reason = if let Some(d) = drop {
        format!("confidence falling: {} → {} (down {d}) in {}", history[history.len() - 2].confidence, last.confidence, last.period)
    } else if low_run as u32 >= t.confidence_low_checkins {
        format!("confidence falling: below {} at {low_run} check-ins in a row ({} in {})", t.confidence_low, last.confidence, last.period)
    } else {
        return None;
    };
    Some(Signal { tier: Tier::OwnerReview, reason, period: last.period })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(values: &[&str]) -> Vec<CheckIn> {
        let mut p = Period::parse("2026-W40").unwrap();
        values
            .iter()
            .map(|v| {
                let c = CheckIn { period: p, confidence: Num::parse(v).unwrap() };
                p = p.next();
                c
            })
            .collect()
    }

    fn falls(values: &[&str]) -> bool {
        confidence_falling(&h(values), &Thresholds::default()).is_some()
    }

    #[test]
    fn a_drop_of_the_threshold_or_more_falls() {
        assert!(falls(&["0.9", "0.7"]), "a drop of exactly 0.2");
        assert!(falls(&["0.9", "0.6"]));
        assert!(!falls(&["0.9", "0.71"]), "a drop of 0.19");
        assert!(!falls(&["0.6", "0.9"]), "a rise");
        assert!(!falls(&["0.9"]), "one check-in has nothing to drop from");
        assert!(!falls(&[]));
        // Only the last step counts: an old drop that recovered is history.
        assert!(!falls(&["0.9", "0.6", "0.7"]));
    }

    #[test]
    fn two_check_ins_in_a_row_below_the_line_fall() {
        assert!(!falls(&["0.45"]), "one low check-in is not yet a run");
        assert!(falls(&["0.45", "0.4"]));
        assert!(falls(&["0.49", "0.45"]), "a small change but both low");
        assert!(!falls(&["0.4", "0.5"]), "0.5 is not below 0.5");
        assert!(!falls(&["0.4", "0.6", "0.45"]), "the run must be unbroken");
    }

    #[test]
    fn thresholds_come_from_the_settings() {
        let t = Thresholds { confidence_drop: Num::parse("0.3").unwrap(), confidence_low_checkins: 3, ..Thresholds::default() };
        assert!(confidence_falling(&h(&["0.9", "0.7"]), &t).is_none());
        assert!(confidence_falling(&h(&["0.4", "0.4"]), &t).is_none());
        assert!(confidence_falling(&h(&["0.4", "0.4", "0.4"]), &t).is_some());
    }

    #[test]
    fn the_trend_says_which_way_and_why() {
        let t = trend(h(&["0.8", "0.7", "0.4"]), &Thresholds::default());
        assert_eq!(t.direction, Some(Direction::Falling));
        assert_eq!(t.change, Num::parse("-0.3").ok());
        assert_eq!(t.line(3), "0.8 → 0.7 → 0.4 ↓ (-0.3)");
        assert_eq!(t.falling.as_deref(), Some("confidence falling: 0.7 → 0.4 (down 0.3) in 2026-W42"));
        let up = trend(h(&["0.5", "0.6"]), &Thresholds::default());
        assert_eq!(up.line(5), "0.5 → 0.6 ↑ (+0.1)");
        assert_eq!(up.falling, None);
    }
}
