//! Handing a leaver's roles to someone else (`keel person P-n reassign`): which roles there are,
//! and when four eyes forbid moving a measure's roles to the person named. The store reads the
//! measure and applies the answer; the rule is here only.

use super::gates::{self, GateState, MeasureFacts};

/// The roles a handover moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Owner,
    Sponsor,
    Controller,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Sponsor, Role::Controller];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Sponsor => "sponsor",
            Role::Controller => "controller",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// Why the roles `moving` of a measure may not pass from person `from` to person `to` (named
/// `to_key` in the answer), if they may not: afterwards nobody may own a measure they also
/// sponsor or control, or whose stage they approved, and roles stay frozen while a gate request
/// is pending (see [`gates::role_change_refusal`]).
pub fn refusal(state: &GateState, facts: &MeasureFacts, moving: &[Role], from: i64, to: i64, to_key: &str) -> Option<String> {
    let after = |role: Role, now: Option<i64>| if moving.contains(&role) && now == Some(from) { Some(to) } else { now };
    let owner = after(Role::Owner, facts.owner);
    let sponsor = after(Role::Sponsor, facts.sponsor);
    let controller = after(Role::Controller, facts.controller);
    // Only conflicts the handover makes are the heir's: one that was there before is not.
    let heir = Some(to);
    if owner == heir && sponsor == heir {
        return Some(format!("{to_key} would be both its owner and its sponsor"));
    }
    if owner == heir && controller == heir {
        return Some(format!("{to_key} would be both its owner and its controller"));
    }
    if owner == heir && [state.sponsor_approved_by, state.controller_signed_by, state.validated_by].contains(&owner) {
        return Some(format!("{to_key} would own it and has approved its stage"));
    }
    moving.iter().find_map(|role| gates::role_change_refusal(state, role.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Stage;

    const LEAVER: i64 = 1;
    const HEIR: i64 = 2;
    const OTHER: i64 = 3;
    const FOURTH: i64 = 4;

    fn facts(owner: i64, sponsor: i64, controller: i64) -> MeasureFacts {
        MeasureFacts { owner: Some(owner), sponsor: Some(sponsor), controller: Some(controller), ..Default::default() }
    }

    #[test]
    fn heir_who_sponsors_may_not_take_ownership() {
        let why = refusal(&GateState::default(), &facts(LEAVER, HEIR, OTHER), &[Role::Owner], LEAVER, HEIR, "P-2");
        assert_eq!(why.as_deref(), Some("P-2 would be both its owner and its sponsor"));
    }

    #[test]
    fn heir_who_controls_may_not_take_ownership() {
        let why = refusal(&GateState::default(), &facts(LEAVER, OTHER, HEIR), &[Role::Owner], LEAVER, HEIR, "P-2");
        assert_eq!(why.as_deref(), Some("P-2 would be both its owner and its controller"));
    }

    #[test]
    fn leaver_holding_owner_and_sponsor_moves_both_to_one_heir_is_refused() {
        let why = refusal(&GateState::default(), &facts(LEAVER, LEAVER, OTHER), &[Role::Owner, Role::Sponsor], LEAVER, HEIR, "P-2");
        assert!(why.is_some_and(|w| w.contains("owner and its sponsor")));
    }

    #[test]
    fn heir_who_approved_the_stage_may_not_own_it() {
        let state = GateState { stage: Some(Stage::Decided), sponsor_approved_by: Some(HEIR), ..Default::default() };
        let why = refusal(&state, &facts(LEAVER, OTHER, FOURTH), &[Role::Owner], LEAVER, HEIR, "P-2");
        assert_eq!(why.as_deref(), Some("P-2 would own it and has approved its stage"));
    }

    #[test]
    fn pending_request_freezes_roles() {
        let state = GateState { stage: Some(Stage::Defined), pending: Some(Stage::Decided), ..Default::default() };
        let why = refusal(&state, &facts(OTHER, LEAVER, FOURTH), &[Role::Sponsor], LEAVER, HEIR, "P-2");
        assert!(why.is_some_and(|w| w.contains("cannot change the sponsor")));
    }

    #[test]
    fn a_clean_handover_passes() {
        let state = GateState { stage: Some(Stage::Decided), sponsor_approved_by: Some(OTHER), ..Default::default() };
        assert_eq!(refusal(&state, &facts(LEAVER, OTHER, FOURTH), &[Role::Owner], LEAVER, HEIR, "P-2"), None);
    }

    #[test]
    fn a_conflict_the_heir_does_not_hold_is_not_the_handovers() {
        // The owner also controls the measure already; the leaver only sponsors it.
        assert_eq!(refusal(&GateState::default(), &facts(OTHER, LEAVER, OTHER), &[Role::Sponsor], LEAVER, HEIR, "P-2"), None);
    }

    #[test]
    fn roles_not_moving_stay_with_their_holder() {
        // The leaver is sponsor; only ownership moves, and the heir is not the sponsor.
        assert_eq!(refusal(&GateState::default(), &facts(LEAVER, LEAVER, OTHER), &[Role::Owner], LEAVER, HEIR, "P-2"), None);
    }
}
