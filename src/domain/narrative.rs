//! DOMAIN "Reporting" and the weekly rhythm: an item that is red or escalated must carry a
//! narrative saying why it is off and what happens next — written, or confirmed unchanged, since
//! its current reporting period began. Last month's words do not explain this week's red.

use super::escalation::Tier;
use super::Period;

/// What the narrative rule reads about one item after an edit's rules have run.
#[derive(Clone, Copy, Debug)]
pub struct NarrativeFacts {
    /// The computed status is red (a manual label never excuses the numbers).
    pub red: bool,
    /// The open escalation, if any.
    pub escalation: Option<Tier>,
    /// The narrative is not empty.
    pub written: bool,
    /// It was written or confirmed in the current period (or by this very edit).
    pub current: bool,
}

/// A narrative written (or confirmed) in the current period satisfies the rule whatever the
/// item's status: the store need not work the status out to know the item may stand.
pub fn stands_whatever_the_status(written: bool, current: bool) -> bool {
    written && current
}

/// Why the edit must be refused, or `None` when the item may stand as it is.
pub fn narrative_refusal(f: NarrativeFacts, period: Period) -> Option<String> {
    if (!f.red && f.escalation.is_none()) || stands_whatever_the_status(f.written, f.current) {
        return None;
    }
    let state = match f.escalation {
        Some(t) => format!("escalated ({})", t.label()),
        None => "red".into(),
    };
    if !f.written {
        return Some(format!("is required: the item is {state} — say why it is off and what happens next"));
    }
    if !f.current {
        return Some(format!(
            "was last written before {period} began, and the item is {state}: write this period's (or confirm it by setting the same text again)"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_or_escalated_needs_a_narrative_of_this_period() {
        let p = Period::parse("2026-W48").unwrap();
        let f = |red, escalation, written, current| narrative_refusal(NarrativeFacts { red, escalation, written, current }, p);
        assert_eq!(f(false, None, false, false), None);
        assert!(f(true, None, false, false).unwrap().contains("is required: the item is red"));
        assert!(f(false, Some(Tier::SteeringCommittee), true, false).unwrap().contains("before 2026-W48 began"));
        assert_eq!(f(true, Some(Tier::OwnerReview), true, true), None);
        for (red, escalation) in [(true, None), (false, Some(Tier::SteeringCommittee)), (false, None)] {
            assert!(stands_whatever_the_status(true, true) && f(red, escalation, true, true).is_none());
        }
        assert!(!stands_whatever_the_status(true, false) && !stands_whatever_the_status(false, true));
    }
}
