//! Signals beside the numbers: confidence falling, updates missed, a source failing. Each can
//! call for an escalation tier of its own; an item has one escalation, at the highest tier any
//! of them (or its variance) calls for, with every reason that applies.

use super::escalation::{Assessment, Tier};
use super::{Num, Period};

/// A tier called for by something other than the variance, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    pub tier: Tier,
    pub reason: String,
    /// The period the signal is about (the last check-in, the last missed update).
    pub period: Period,
}

/// What an item's escalation row holds: the tier called for (if any), why, and the figures of
/// the latest variance where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub tier: Option<Tier>,
    pub reason: String,
    pub period: Period,
    pub relative: Option<Num>,
    /// The signed gap of the latest variance; 0 when only a signal calls.
    pub gap: Num,
    pub periods_out: u32,
}

pub(crate) fn ser_period<S: serde::Serializer>(p: &Period, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

/// The item's escalation: the highest tier its variance or any signal calls for. The variance's
/// reason comes first when it calls for that tier; the signals' reasons follow. With no signal
/// this is the variance assessment unchanged.
pub fn verdict(variance: Option<Assessment>, signals: &[Signal]) -> Option<Verdict> {
    let strongest = signals.iter().map(|s| s.tier).max();
    let base = variance.map(|a| Verdict {
        tier: a.tier,
        reason: a.reason,
        period: a.latest.period,
        relative: a.latest.relative,
        gap: a.latest.signed_gap,
        periods_out: a.periods_out,
    });
    let Some(top) = strongest else { return base };
    let lead = signals.iter().filter(|s| s.tier == top).max_by_key(|s| s.period).expect("a signal of the top tier");
    let mut reasons: Vec<String> = Vec::new();
    let variance_leads = base.as_ref().is_some_and(|b| b.tier >= Some(top));
    if let Some(b) = base.as_ref().filter(|b| b.tier.is_some()) {
        reasons.push(b.reason.clone());
    }
    let mut others: Vec<&Signal> = signals.iter().collect();
    others.sort_by_key(|s| std::cmp::Reverse(s.tier));
    let signal_reasons: Vec<String> = others.iter().map(|s| s.reason.clone()).collect();
    if variance_leads {
        reasons.extend(signal_reasons);
    } else {
        let mut r = vec![lead.reason.clone()];
        r.extend(signal_reasons.into_iter().filter(|s| *s != lead.reason));
        r.extend(reasons);
        reasons = r;
    }
    let reason = reasons.join("; ");
    Some(match base {
        Some(b) if variance_leads => Verdict { reason, ..b },
        Some(b) => Verdict { tier: Some(top), reason, period: lead.period, ..b },
        None => Verdict { tier: Some(top), reason, period: lead.period, relative: None, gap: Num::ZERO, periods_out: 0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::escalation::{assess, Point, Thresholds};
    use crate::domain::Direction;

    fn period(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn variance(plan: &str, actual: &str) -> Option<Assessment> {
        let p = Point { period: period("2026-W40"), planned: Num::parse(plan).ok(), actual: Num::parse(actual).ok() };
        assess(&[p], Direction::HigherIsBetter, &Thresholds::default(), false)
    }

    fn signal(tier: Tier, why: &str) -> Signal {
        Signal { tier, reason: why.into(), period: period("2026-W41") }
    }

    #[test]
    fn without_signals_the_variance_decides_alone() {
        let v = verdict(variance("100", "90"), &[]).unwrap();
        assert_eq!(v.tier, Some(Tier::OwnerReview));
        assert_eq!(v.reason, "10% below plan in 2026-W40");
        assert_eq!(verdict(None, &[]), None);
    }

    #[test]
    fn a_signal_opens_what_the_numbers_do_not() {
        let v = verdict(variance("100", "100"), &[signal(Tier::OwnerReview, "confidence falling")]).unwrap();
        assert_eq!(v.tier, Some(Tier::OwnerReview));
        assert_eq!(v.reason, "confidence falling");
        assert_eq!(v.period, period("2026-W41"));
        let v = verdict(None, &[signal(Tier::SponsorAction, "3 updates missed")]).unwrap();
        assert_eq!((v.tier, v.gap), (Some(Tier::SponsorAction), Num::ZERO));
    }

    #[test]
    fn the_highest_tier_wins_and_every_reason_is_kept() {
        let v = verdict(variance("100", "90"), &[signal(Tier::SponsorAction, "3 updates missed")]).unwrap();
        assert_eq!(v.tier, Some(Tier::SponsorAction));
        assert_eq!(v.reason, "3 updates missed; 10% below plan in 2026-W40");
        let v = verdict(variance("100", "50"), &[signal(Tier::OwnerReview, "confidence falling")]).unwrap();
        assert_eq!(v.tier, Some(Tier::SteeringCommittee));
        assert_eq!(v.reason, "50% below plan in 2026-W40; confidence falling");
        assert_eq!(v.period, period("2026-W40"), "the variance's figures stay when it leads");
    }
}
