//! Stage gates (Degree of Implementation): who may move a measure, and what must be true first.
//!
//! The rules take the facts about a measure and who is acting, and return the measure's new gate
//! state or the full list of what is missing. The store records the outcome either way.

use super::{Num, SideState, Stage};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateAction {
    Request,
    Approve,
    Reject,
    Back,
    Hold,
    Resume,
    Cancel,
}

impl GateAction {
    pub const ALL: [GateAction; 7] = [
        GateAction::Request,
        GateAction::Approve,
        GateAction::Reject,
        GateAction::Back,
        GateAction::Hold,
        GateAction::Resume,
        GateAction::Cancel,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            GateAction::Request => "request",
            GateAction::Approve => "approve",
            GateAction::Reject => "reject",
            GateAction::Back => "back",
            GateAction::Hold => "hold",
            GateAction::Resume => "resume",
            GateAction::Cancel => "cancel",
        }
    }
    pub fn parse(s: &str) -> Option<GateAction> {
        GateAction::ALL.into_iter().find(|a| a.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// The gate-related state stored on a measure. Person ids are the store's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GateState {
    pub stage: Option<Stage>,
    pub side_state: Option<SideState>,
    pub side_reason: Option<String>,
    /// The stage requested and awaiting approval.
    pub pending: Option<Stage>,
    pub requested_by: Option<i64>,
    pub sponsor_approved_by: Option<i64>,
    pub controller_signed_by: Option<i64>,
    /// The controller who validated the realised value (cleared when a value changes).
    pub validated_by: Option<i64>,
}

/// Facts about a measure that the criteria read.
#[derive(Clone, Debug, Default)]
pub struct MeasureFacts {
    pub owner: Option<i64>,
    pub sponsor: Option<i64>,
    pub controller: Option<i64>,
    pub business_unit_set: bool,
    pub function_set: bool,
    pub potential: Option<Num>,
    pub milestones: usize,
    pub milestones_open: usize,
    pub has_planned_values: bool,
    pub has_actual_values: bool,
    pub linked_to_kr_or_kpi: bool,
}

impl MeasureFacts {
    /// A measure claims financial value when it has a non-zero potential or planned values.
    pub fn claims_value(&self) -> bool {
        self.potential.is_some_and(|p| !p.is_zero()) || self.has_planned_values
    }
}

/// Who is acting, as far as the gates care.
#[derive(Clone, Copy, Debug, Default)]
pub struct Acting {
    pub person: Option<i64>,
    pub pmo_admin: bool,
}

/// Everything that still stands between a measure and `target`.
pub fn missing_for(target: Stage, f: &MeasureFacts) -> Vec<String> {
    let mut missing = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            missing.push(what.to_string());
        }
    };
    if target >= Stage::Identified {
        need(f.owner.is_some(), "an owner (set owner=P-n)");
        need(f.business_unit_set, "a business unit (set business_unit=U-n)");
        need(f.function_set, "a function (set function=U-n)");
        need(f.potential.is_some(), "an estimated potential value (set potential=AMOUNT)");
    }
    if target >= Stage::Detailed {
        need(f.milestones > 0, "milestones with due dates (add at least one)");
        need(f.has_planned_values, "planned values by period (set planned=AMOUNT --period P)");
        need(!f.claims_value() || f.controller.is_some(), "a controller, because value is claimed (set controller=P-n)");
        need(f.linked_to_kr_or_kpi, "a link to at least one key result or KPI (keel link M-n KR-n)");
    }
    if target >= Stage::Decided {
        need(f.sponsor.is_some(), "a sponsor (set sponsor=P-n)");
        need(f.sponsor.is_none() || f.sponsor != f.owner, "a sponsor who is not the owner");
        need(f.controller.is_none() || f.controller != f.owner, "a controller who is not the owner");
    }
    if target == Stage::Implemented {
        need(f.milestones_open == 0, &format!("every milestone done ({} still open)", f.milestones_open));
    }
    if target == Stage::Closed {
        need(f.has_actual_values, "realised (actual) values to validate");
    }
    missing
}

/// Everything a measure at `stage` lacks of the criteria that must hold for as long as it is
/// there: the facts each stage up to it asked for, the controller's sign-off on the planned value
/// from Decided on (where value is claimed), and the validated realised value at Closed.
pub fn stage_lacks(stage: Stage, state: &GateState, f: &MeasureFacts) -> Vec<String> {
    let mut lacks: Vec<String> = Vec::new();
    for s in Stage::ALL.iter().copied().filter(|s| *s > Stage::Defined && *s <= stage) {
        for m in missing_for(s, f) {
            if !lacks.contains(&m) {
                lacks.push(m);
            }
        }
    }
    if stage >= Stage::Decided && f.claims_value() && state.controller_signed_by.is_none() {
        lacks.push("the controller's sign-off on the planned value".into());
    }
    if stage == Stage::Closed && state.validated_by.is_none() {
        lacks.push("the controller's validation of the realised value".into());
    }
    lacks
}

/// The highest stage, at or below the measure's own, whose criteria all hold — where a measure
/// drops back to when an edit voids what its stage stood on.
pub fn supported_stage(state: &GateState, f: &MeasureFacts) -> Stage {
    let mut stage = state.stage.unwrap_or(Stage::Defined);
    while stage > Stage::Defined && !stage_lacks(stage, state, f).is_empty() {
        stage = stage.prev().unwrap_or(Stage::Defined);
    }
    stage
}

/// The gate state after dropping back to `to`: the pending request and the approvals above `to`
/// are void.
pub fn dropped_to(state: &GateState, to: Stage) -> GateState {
    let mut next = state.clone();
    next.stage = Some(to);
    next.pending = None;
    next.requested_by = None;
    if to < Stage::Decided {
        next.sponsor_approved_by = None;
        next.controller_signed_by = None;
    }
    if to < Stage::Closed {
        next.validated_by = None;
    }
    next
}

/// The role fields (owner, sponsor, controller) stay as they are while a gate request is pending:
/// otherwise an owner could hand the measure to someone else, make themselves sponsor and approve
/// their own request.
pub fn role_change_refusal(state: &GateState, role: &str) -> Option<String> {
    let pending = state.pending?;
    matches!(role, "owner" | "sponsor" | "controller").then(|| {
        format!("cannot change the {role} while the request for '{pending}' is pending: cancel or decide the request first (keel gate KEY reject --reason …)")
    })
}

/// What a measure arriving at `stage` from a plan must show: the stage's criteria (as
/// `stage_lacks`), the approvals that moved it there, and approvals named for the people who
/// hold those roles on the measure.
pub fn imported_stage_problems(state: &GateState, f: &MeasureFacts) -> Vec<String> {
    let stage = state.stage.unwrap_or(Stage::Defined);
    let mut problems = stage_lacks(stage, state, f);
    // A pending request names the stage above; the approvals seen so far belong to it.
    let approved_here = state.pending.is_none();
    if stage >= Stage::Decided && approved_here && state.sponsor_approved_by.is_none() {
        problems.push("the sponsor's approval (sponsor_approved_by) that moved it to decided".into());
    }
    let role = |who: Option<i64>, holder: Option<i64>, field: &str, role: &str, problems: &mut Vec<String>| {
        if who.is_some() && who != holder {
            problems.push(format!("{field} must name the measure's {role}"));
        }
    };
    role(state.sponsor_approved_by, f.sponsor, "sponsor_approved_by", "sponsor", &mut problems);
    role(state.controller_signed_by, f.controller, "controller_signed_by", "controller", &mut problems);
    role(state.validated_by, f.controller, "validated_by", "controller", &mut problems);
    if state.validated_by.is_some() && stage < Stage::Closed && state.pending != Some(Stage::Closed) {
        problems.push(format!("validated_by is set, but the measure is only {stage}"));
    }
    if state.requested_by.is_some() && state.pending.is_none() {
        problems.push("requested_by is set, but no stage is pending".into());
    }
    problems
}

/// The approvals a pending move still waits for, in words.
pub fn awaiting(pending: Stage, s: &GateState, f: &MeasureFacts) -> Vec<&'static str> {
    let mut w = Vec::new();
    match pending {
        Stage::Decided => {
            if s.sponsor_approved_by.is_none() {
                w.push("sponsor approval");
            }
            if f.claims_value() && s.controller_signed_by.is_none() {
                w.push("controller sign-off on the planned value");
            }
        }
        Stage::Implemented if s.sponsor_approved_by.is_none() => w.push("sponsor confirmation"),
        Stage::Closed if s.validated_by.is_none() => w.push("controller validation of the realised value"),
        _ => {}
    }
    w
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateOutcome {
    pub state: GateState,
    /// One line for the user and the gate log, e.g. "moved detailed → decided".
    pub summary: String,
    pub moved: Option<(Stage, Stage)>,
}

fn needs_reason(reason: Option<&str>, action: GateAction) -> Result<String, Vec<String>> {
    match reason.map(str::trim) {
        Some(r) if !r.is_empty() => Ok(r.to_string()),
        _ => Err(vec![format!("a reason: '{}' needs --reason TEXT", action.as_str())]),
    }
}

/// Why a gate action is refused: what is missing, and whether it is who is acting (a role the
/// person does not hold) rather than something about the measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub missing: Vec<String>,
    pub by_role: bool,
}

impl Refusal {
    fn role(what: impl Into<String>) -> Refusal {
        Refusal { missing: vec![what.into()], by_role: true }
    }
}

impl From<Vec<String>> for Refusal {
    fn from(missing: Vec<String>) -> Refusal {
        Refusal { missing, by_role: false }
    }
}

impl std::ops::Deref for Refusal {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.missing
    }
}

/// Apply a gate action. `Err` lists every reason it is refused.
pub fn decide(
    state: &GateState,
    facts: &MeasureFacts,
    action: GateAction,
    who: Acting,
    reason: Option<&str>,
) -> Result<GateOutcome, Refusal> {
    let stage = state.stage.unwrap_or(Stage::Defined);
    let mut next = state.clone();
    let is_owner = who.person.is_some() && who.person == facts.owner;
    let is_sponsor = who.person.is_some() && who.person == facts.sponsor;
    let is_controller = who.person.is_some() && who.person == facts.controller;
    if who.person.is_none() {
        return Err(Refusal::role("a person record for you: ask a PMO administrator to add your login"));
    }
    // Withdraw the pending request and the approvals it had collected; those of the stages
    // already reached stay.
    let clear_approvals = |s: &mut GateState| {
        match s.pending {
            Some(Stage::Decided) => {
                s.sponsor_approved_by = None;
                s.controller_signed_by = None;
            }
            Some(Stage::Implemented) => s.sponsor_approved_by = None,
            Some(Stage::Closed) => s.validated_by = None,
            _ => {}
        }
        s.pending = None;
        s.requested_by = None;
    };
    let blocked_by_side = |s: &GateState| -> Result<(), Refusal> {
        match s.side_state {
            Some(side) => Err(vec![format!("the measure is {side}: resume it first")].into()),
            None => Ok(()),
        }
    };
    match action {
        GateAction::Request => {
            blocked_by_side(state)?;
            if !(is_owner || who.pmo_admin) {
                return Err(Refusal::role("the measure's owner (or a PMO administrator) to request the next gate"));
            }
            if let Some(p) = state.pending {
                return Err(vec![format!("no pending request: '{p}' is already awaiting approval")].into());
            }
            let target = stage.next().ok_or_else(|| vec!["a next stage: the measure is closed".to_string()])?;
            let missing = missing_for(target, facts);
            if !missing.is_empty() {
                return Err(missing.into());
            }
            match target {
                Stage::Identified | Stage::Detailed => {
                    next.stage = Some(target);
                    Ok(GateOutcome { state: next, summary: format!("moved {stage} → {target}"), moved: Some((stage, target)) })
                }
                _ => {
                    next.pending = Some(target);
                    next.requested_by = who.person;
                    // Each request collects its own approvals; the controller's sign-off on the
                    // plan stays, since the stages above Decided stand on it.
                    match target {
                        Stage::Decided => {
                            next.sponsor_approved_by = None;
                            next.controller_signed_by = None;
                        }
                        Stage::Implemented => next.sponsor_approved_by = None,
                        _ => next.validated_by = None,
                    }
                    let wait = awaiting(target, &next, facts).join(" and ");
                    Ok(GateOutcome { state: next, summary: format!("requested {target}; awaiting {wait}"), moved: None })
                }
            }
        }
        GateAction::Approve => {
            blocked_by_side(state)?;
            let target = state.pending.ok_or_else(|| vec!["a pending request to approve".to_string()])?;
            let mut refusals = Vec::new();
            if is_owner || who.person == state.requested_by {
                refusals.push("a different approver: nobody approves their own measure or request (four eyes)".to_string());
            }
            let may_sponsor = is_sponsor && matches!(target, Stage::Decided | Stage::Implemented);
            let may_control = is_controller && matches!(target, Stage::Decided | Stage::Closed);
            if !may_sponsor && !may_control {
                refusals.push(match target {
                    Stage::Decided => "the sponsor's approval or the controller's sign-off".to_string(),
                    Stage::Implemented => "the sponsor's confirmation".to_string(),
                    _ => "the controller's validation".to_string(),
                });
            }
            if !refusals.is_empty() {
                return Err(Refusal { missing: refusals, by_role: true });
            }
            if may_sponsor {
                next.sponsor_approved_by = who.person;
            }
            if may_control {
                if target == Stage::Closed {
                    next.validated_by = who.person;
                } else {
                    next.controller_signed_by = who.person;
                }
            }
            let remaining = awaiting(target, &next, facts);
            if remaining.is_empty() {
                // The last approval moves the measure: its criteria must hold now, not only when
                // the request was made.
                let mut arrived = next.clone();
                arrived.stage = Some(target);
                let lacks = stage_lacks(target, &arrived, facts);
                if !lacks.is_empty() {
                    return Err(lacks.into());
                }
                // The approvals stay on the record; a new request clears them.
                next.pending = None;
                next.requested_by = None;
                next.stage = Some(target);
                Ok(GateOutcome { state: next, summary: format!("approved: moved {stage} → {target}"), moved: Some((stage, target)) })
            } else {
                let summary = format!("approved; {target} still awaits {}", remaining.join(" and "));
                Ok(GateOutcome { state: next, summary, moved: None })
            }
        }
        GateAction::Reject => {
            let reason = needs_reason(reason, action)?;
            let target = state.pending.ok_or_else(|| vec!["a pending request to reject".to_string()])?;
            if !(is_sponsor || is_controller || who.pmo_admin) || is_owner {
                return Err(Refusal::role("the sponsor, the controller or a PMO administrator (not the owner) to reject"));
            }
            clear_approvals(&mut next);
            Ok(GateOutcome { state: next, summary: format!("rejected the request for {target}: {reason}"), moved: None })
        }
        GateAction::Back => {
            let reason = needs_reason(reason, action)?;
            if !(is_owner || is_sponsor || who.pmo_admin) {
                return Err(Refusal::role("the owner, the sponsor or a PMO administrator to move a measure back"));
            }
            let to = stage.prev().ok_or_else(|| vec!["an earlier stage: the measure is at 'defined'".to_string()])?;
            next = dropped_to(state, to);
            Ok(GateOutcome { state: next, summary: format!("moved back {stage} → {to}: {reason}"), moved: Some((stage, to)) })
        }
        GateAction::Hold | GateAction::Cancel => {
            let reason = needs_reason(reason, action)?;
            if !(is_owner || is_sponsor || who.pmo_admin) {
                return Err(Refusal::role(format!("the owner, the sponsor or a PMO administrator to {} a measure", action.as_str())));
            }
            if state.side_state == Some(SideState::Cancelled) {
                return Err(vec!["a live measure: this one is cancelled".to_string()].into());
            }
            let side = if action == GateAction::Hold { SideState::OnHold } else { SideState::Cancelled };
            next.side_state = Some(side);
            next.side_reason = Some(reason.clone());
            clear_approvals(&mut next);
            Ok(GateOutcome { state: next, summary: format!("{side} at {stage}: {reason}"), moved: None })
        }
        GateAction::Resume => {
            if state.side_state != Some(SideState::OnHold) {
                return Err(vec!["a measure on hold to resume".to_string()].into());
            }
            if !(is_owner || is_sponsor || who.pmo_admin) {
                return Err(Refusal::role("the owner, the sponsor or a PMO administrator to resume a measure"));
            }
            next.side_state = None;
            next.side_reason = None;
            Ok(GateOutcome { state: next, summary: format!("resumed at {stage}"), moved: None })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: i64 = 1;
    const SPONSOR: i64 = 2;
    const CONTROLLER: i64 = 3;
    const OTHER: i64 = 4;

    fn ready() -> MeasureFacts {
        MeasureFacts {
            owner: Some(OWNER),
            sponsor: Some(SPONSOR),
            controller: Some(CONTROLLER),
            business_unit_set: true,
            function_set: true,
            potential: Some(Num::from_int(1000)),
            milestones: 2,
            milestones_open: 0,
            has_planned_values: true,
            has_actual_values: true,
            linked_to_kr_or_kpi: true,
        }
    }
    fn at(stage: Stage) -> GateState {
        GateState { stage: Some(stage), ..Default::default() }
    }
    fn by(p: i64) -> Acting {
        Acting { person: Some(p), pmo_admin: false }
    }

    #[test]
    fn a_refused_request_lists_everything_missing() {
        let facts = MeasureFacts { owner: Some(OWNER), ..Default::default() };
        let err = decide(&at(Stage::Identified), &facts, GateAction::Request, by(OWNER), None).unwrap_err();
        assert_eq!(err.len(), 6, "{err:?}");
        assert!(err.iter().any(|e| e.contains("business unit")));
        assert!(err.iter().any(|e| e.contains("milestones")));
        assert!(err.iter().any(|e| e.contains("link")));
    }

    #[test]
    fn a_refusal_says_whether_it_is_about_who_acts() {
        // Something missing on the measure: not a question of role.
        let facts = MeasureFacts { owner: Some(OWNER), ..Default::default() };
        assert!(!decide(&at(Stage::Identified), &facts, GateAction::Request, by(OWNER), None).unwrap_err().by_role);
        // Someone who is not the owner asks; the owner approves their own request.
        assert!(decide(&at(Stage::Defined), &ready(), GateAction::Request, by(OTHER), None).unwrap_err().by_role);
        let pending = GateState { pending: Some(Stage::Decided), requested_by: Some(OWNER), ..at(Stage::Detailed) };
        assert!(decide(&pending, &ready(), GateAction::Approve, by(OWNER), None).unwrap_err().by_role);
        // Nothing pending to approve: about the measure, whoever asks.
        assert!(!decide(&at(Stage::Detailed), &ready(), GateAction::Approve, by(SPONSOR), None).unwrap_err().by_role);
    }

    #[test]
    fn owner_moves_early_stages_directly() {
        let o = decide(&at(Stage::Defined), &ready(), GateAction::Request, by(OWNER), None).unwrap();
        assert_eq!(o.state.stage, Some(Stage::Identified));
        assert!(decide(&at(Stage::Defined), &ready(), GateAction::Request, by(OTHER), None).is_err());
    }

    #[test]
    fn decided_needs_sponsor_and_controller_and_four_eyes() {
        let f = ready();
        let req = decide(&at(Stage::Detailed), &f, GateAction::Request, by(OWNER), None).unwrap();
        assert_eq!(req.state.pending, Some(Stage::Decided));
        assert!(req.summary.contains("sponsor approval and controller sign-off"));
        // The owner cannot approve their own request.
        assert!(decide(&req.state, &f, GateAction::Approve, by(OWNER), None).is_err());
        // A stranger cannot approve either.
        assert!(decide(&req.state, &f, GateAction::Approve, by(OTHER), None).is_err());
        let half = decide(&req.state, &f, GateAction::Approve, by(SPONSOR), None).unwrap();
        assert_eq!(half.state.stage, Some(Stage::Detailed));
        let full = decide(&half.state, &f, GateAction::Approve, by(CONTROLLER), None).unwrap();
        assert_eq!(full.state.stage, Some(Stage::Decided));
        assert_eq!(full.state.pending, None);
        assert_eq!(full.moved, Some((Stage::Detailed, Stage::Decided)));
    }

    #[test]
    fn sponsor_who_is_owner_is_refused_at_decided() {
        let f = MeasureFacts { sponsor: Some(OWNER), ..ready() };
        let err = decide(&at(Stage::Detailed), &f, GateAction::Request, by(OWNER), None).unwrap_err();
        assert!(err.iter().any(|e| e.contains("not the owner")));
    }

    #[test]
    fn implemented_needs_every_milestone_and_closed_needs_validation() {
        let open = MeasureFacts { milestones_open: 1, ..ready() };
        assert!(decide(&at(Stage::Decided), &open, GateAction::Request, by(OWNER), None).unwrap_err()[0].contains("1 still open"));
        let req = decide(&signed(Stage::Implemented), &ready(), GateAction::Request, by(OWNER), None).unwrap();
        assert!(decide(&req.state, &ready(), GateAction::Approve, by(SPONSOR), None).is_err());
        let done = decide(&req.state, &ready(), GateAction::Approve, by(CONTROLLER), None).unwrap();
        assert_eq!(done.state.stage, Some(Stage::Closed));
        assert_eq!(done.state.validated_by, Some(CONTROLLER));
    }

    fn signed(stage: Stage) -> GateState {
        GateState { stage: Some(stage), sponsor_approved_by: Some(SPONSOR), controller_signed_by: Some(CONTROLLER), ..Default::default() }
    }

    #[test]
    fn a_stage_drops_back_to_where_its_criteria_hold() {
        // The plan changed after sign-off: Decided money nobody checked falls back to Detailed.
        let unsigned = GateState { controller_signed_by: None, ..signed(Stage::Implemented) };
        assert_eq!(supported_stage(&unsigned, &ready()), Stage::Detailed);
        assert!(stage_lacks(Stage::Implemented, &unsigned, &ready()).iter().any(|l| l.contains("sign-off")));
        // A validated actual changed: Closed falls back to Implemented.
        assert_eq!(supported_stage(&signed(Stage::Closed), &ready()), Stage::Implemented);
        // A milestone reopened: Implemented falls back to Decided.
        let reopened = MeasureFacts { milestones_open: 1, ..ready() };
        assert_eq!(supported_stage(&signed(Stage::Implemented), &reopened), Stage::Decided);
        assert_eq!(supported_stage(&signed(Stage::Implemented), &ready()), Stage::Implemented);
        let dropped = dropped_to(&signed(Stage::Implemented), Stage::Detailed);
        assert_eq!((dropped.sponsor_approved_by, dropped.controller_signed_by), (None, None));
    }

    #[test]
    fn the_last_approval_rechecks_the_criteria() {
        let req = decide(&signed(Stage::Decided), &ready(), GateAction::Request, by(OWNER), None).unwrap();
        // A milestone was reopened while the request waited.
        let reopened = MeasureFacts { milestones_open: 1, ..ready() };
        let err = decide(&req.state, &reopened, GateAction::Approve, by(SPONSOR), None).unwrap_err();
        assert!(err.iter().any(|e| e.contains("1 still open")), "{err:?}");
        // The request for Implemented kept the controller's sign-off on the plan.
        assert_eq!(req.state.controller_signed_by, Some(CONTROLLER));
    }

    #[test]
    fn roles_stay_put_under_a_pending_request() {
        let pending = GateState { pending: Some(Stage::Decided), requested_by: Some(OWNER), ..at(Stage::Detailed) };
        for role in ["owner", "sponsor", "controller"] {
            assert!(role_change_refusal(&pending, role).unwrap().contains("pending"));
        }
        assert_eq!(role_change_refusal(&pending, "title"), None);
        assert_eq!(role_change_refusal(&at(Stage::Detailed), "owner"), None);
    }

    #[test]
    fn imported_stages_need_their_approvals_by_the_role_holders() {
        assert!(imported_stage_problems(&signed(Stage::Decided), &ready()).is_empty());
        let bare = at(Stage::Closed);
        let problems = imported_stage_problems(&bare, &ready()).join("; ");
        assert!(problems.contains("validation") && problems.contains("sign-off") && problems.contains("sponsor's approval"), "{problems}");
        let forged = GateState { sponsor_approved_by: Some(OTHER), ..signed(Stage::Decided) };
        assert!(imported_stage_problems(&forged, &ready()).iter().any(|p| p.contains("must name the measure's sponsor")));
    }

    #[test]
    fn back_hold_cancel_need_reasons() {
        for a in [GateAction::Back, GateAction::Hold, GateAction::Cancel] {
            assert!(decide(&at(Stage::Detailed), &ready(), a, by(OWNER), None).is_err());
            assert!(decide(&at(Stage::Detailed), &ready(), a, by(OWNER), Some("scope changed")).is_ok());
        }
        let held = decide(&at(Stage::Detailed), &ready(), GateAction::Hold, by(OWNER), Some("budget freeze")).unwrap();
        assert!(decide(&held.state, &ready(), GateAction::Request, by(OWNER), None).is_err());
        let resumed = decide(&held.state, &ready(), GateAction::Resume, by(OWNER), None).unwrap();
        assert_eq!(resumed.state.side_state, None);
        let back = decide(&at(Stage::Closed), &ready(), GateAction::Back, by(SPONSOR), Some("value not realised")).unwrap();
        assert_eq!(back.state.stage, Some(Stage::Implemented));
    }
}
