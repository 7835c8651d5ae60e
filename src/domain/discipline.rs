//! DOMAIN "Confidence and update discipline": each expected update (by cadence) is on time, late
//! (after its period ended) or missed (not given before the next one was due). Two missed
//! updates in a row open an owner review, three a sponsor action (the organisation's settings).

use super::escalation::{Thresholds, Tier};
use super::signals::Signal;
use super::{Cadence, Period};
use chrono::NaiveDate;

/// Where one expected update stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateState {
    /// Given by the end of its period.
    OnTime,
    /// Given after its period ended, before the next one was due.
    Late,
    /// Not given before the next one was due.
    Missed,
    /// Its period ended without it; there is still time before it counts as missed.
    Overdue,
    /// Its period has not ended yet.
    Open,
}

impl UpdateState {
    pub fn label(self) -> &'static str {
        match self {
            UpdateState::OnTime => "on time",
            UpdateState::Late => "late",
            UpdateState::Missed => "missed",
            UpdateState::Overdue => "overdue",
            UpdateState::Open => "open",
        }
    }
}

/// An actual given for `period`, first given on `on` (the organisation's calendar date).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Given {
    pub period: Period,
    pub on: NaiveDate,
}

/// One expected update: the reporting slot its cadence asks for, when it was due, and its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Expected {
    /// The slot, named by the period it starts with (a biweekly slot by its first week).
    #[serde(serialize_with = "super::signals::ser_period")]
    pub period: Period,
    /// Due by the end of this day.
    pub due: NaiveDate,
    pub given: Option<NaiveDate>,
    pub state: UpdateState,
}

/// The slot of `cadence` that begins with `p`, and the one after it.
fn slot_end(cadence: Cadence, p: Period) -> NaiveDate {
    match cadence {
        Cadence::Biweekly => p.next().end(),
        _ => p.end(),
    }
}

fn next_slot(cadence: Cadence, p: Period) -> Period {
    match cadence {
        Cadence::Biweekly => p.next().next(),
        _ => p.next(),
    }
}

/// DOMAIN "Confidence and update discipline": the expected updates of an item reporting at
/// `cadence`, from the slot holding `first` (its first reported period, or its first period with
/// a number when it never reported) to the slot holding today. An actual counts for every slot
/// its period overlaps, at the date it was first given.
pub fn ledger(cadence: Cadence, first: Period, given: &[Given], today: NaiveDate) -> Vec<Expected> {
    let mut out = Vec::new();
    let mut slot = cadence.period_of(first.start());
    while slot.start() <= today && out.len() < 10_000 {
        let end = slot_end(cadence, slot);
        let next_due = slot_end(cadence, next_slot(cadence, slot));
        let on = given.iter().filter(|g| g.period.start() <= end && g.period.end() >= slot.start()).map(|g| g.on).min();
        let state = match on {
            Some(d) if d <= end => UpdateState::OnTime,
            Some(d) if d <= next_due => UpdateState::Late,
            Some(_) => UpdateState::Missed,
            None if today > next_due => UpdateState::Missed,
            None if today > end => UpdateState::Overdue,
            None => UpdateState::Open,
        };
        out.push(Expected { period: slot, due: end, given: on, state });
        slot = next_slot(cadence, slot);
    }
    out
}

/// Missed updates in a row, ending with the latest decided one (open and overdue slots are not
/// decided yet and are passed over), with the last of them.
pub fn missed_in_a_row(ledger: &[Expected]) -> (u32, Option<Period>) {
    let decided = ledger.iter().rev().skip_while(|e| matches!(e.state, UpdateState::Open | UpdateState::Overdue));
    let run: Vec<&Expected> = decided.take_while(|e| e.state == UpdateState::Missed).collect();
    (run.len() as u32, run.first().map(|e| e.period))
}

/// DOMAIN "Confidence and update discipline": `missed_owner_review` missed updates in a row open
/// an owner review, `missed_sponsor_action` a sponsor action.
pub fn missed_updates(ledger: &[Expected], t: &Thresholds) -> Option<Signal> {
    let (run, last) = missed_in_a_row(ledger);
    let tier = if run >= t.missed_sponsor_action {
        Tier::SponsorAction
    } else if run >= t.missed_owner_review {
        Tier::OwnerReview
    } else {
        return None;
    };
    let last = last?;
    Some(Signal { tier, reason: format!("{run} updates missed in a row (the last for {last})"), period: last })
}

/// Counts of a ledger by state: on time, late, missed.
pub fn tally(ledger: &[Expected]) -> (usize, usize, usize) {
    let n = |s: UpdateState| ledger.iter().filter(|e| e.state == s).count();
    (n(UpdateState::OnTime), n(UpdateState::Late), n(UpdateState::Missed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }
    fn states(l: &[Expected]) -> Vec<UpdateState> {
        l.iter().map(|e| e.state).collect()
    }

    #[test]
    fn each_week_is_on_time_late_missed_overdue_or_open() {
        use UpdateState::*;
        // W45 is 2026-11-02..08; W46 ..15; W47 ..22; W48 ..29; W49 from 2026-11-30.
        let given = [
            Given { period: p("2026-W45"), on: d("2026-11-08") }, // on the last day: on time
            Given { period: p("2026-W46"), on: d("2026-11-20") }, // during W47: late
            Given { period: p("2026-W47"), on: d("2026-12-01") }, // after W48 ended: missed
        ];
        let l = ledger(Cadence::Weekly, p("2026-W45"), &given, d("2026-12-01"));
        assert_eq!(states(&l), vec![OnTime, Late, Missed, Overdue, Open]);
        assert_eq!(l[0].due, d("2026-11-08"));
        assert_eq!(tally(&l), (1, 1, 1));
    }

    #[test]
    fn missed_updates_escalate_by_the_settings() {
        let t = Thresholds::default();
        let first = p("2026-W40");
        let on_time = [Given { period: first, on: first.end() }];
        // W40 given; W41..W45 never: on 2026-11-10 (W46), W41..W44 are missed, W45 overdue.
        let l = ledger(Cadence::Weekly, first, &on_time, d("2026-11-10"));
        assert_eq!(missed_in_a_row(&l), (4, Some(p("2026-W44"))));
        assert_eq!(missed_updates(&l, &t).map(|s| s.tier), Some(Tier::SponsorAction));
        // One missed is nothing yet; two is an owner review; three a sponsor action.
        let tier_on = |today: &str| missed_updates(&ledger(Cadence::Weekly, first, &on_time, d(today)), &t).map(|s| s.tier);
        assert_eq!(tier_on("2026-10-13"), None, "W41 is only overdue");
        assert_eq!(tier_on("2026-10-19"), None, "W41 missed, W42 overdue");
        assert_eq!(tier_on("2026-10-26"), Some(Tier::OwnerReview));
        assert_eq!(tier_on("2026-11-02"), Some(Tier::SponsorAction));
        let s = missed_updates(&ledger(Cadence::Weekly, first, &on_time, d("2026-10-26")), &t).unwrap();
        assert_eq!(s.reason, "2 updates missed in a row (the last for 2026-W42)");
        // An update given ends the run.
        let back = [on_time[0], Given { period: p("2026-W43"), on: d("2026-10-25") }];
        assert_eq!(missed_updates(&ledger(Cadence::Weekly, first, &back, d("2026-10-27")), &t), None);
    }

    #[test]
    fn monthly_and_biweekly_slots() {
        use UpdateState::*;
        let given = [Given { period: p("2026-09"), on: d("2026-09-30") }];
        let l = ledger(Cadence::Monthly, p("2026-09"), &given, d("2026-12-02"));
        assert_eq!(states(&l), vec![OnTime, Missed, Overdue, Open]);
        // A weekly actual counts for the biweekly slot it falls in.
        let given = [Given { period: p("2026-W42"), on: d("2026-10-16") }];
        let l = ledger(Cadence::Biweekly, p("2026-W41"), &given, d("2026-10-20"));
        assert_eq!(l[0].period, p("2026-W41"));
        assert_eq!(states(&l), vec![OnTime, Open]);
    }
}
