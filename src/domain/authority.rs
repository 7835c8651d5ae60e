//! Who may record what, beyond the stage gates (which live in `gates`).

/// Where the person recording a decision stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecisionStanding {
    /// A role on the item: owner, sponsor or controller of a measure; owner of a key result, KPI,
    /// objective, node or area; for a key result also its objective's owner.
    pub role_on_item: bool,
    /// Facilitates a check-in that is still open.
    pub facilitating: bool,
    pub pmo_admin: bool,
}

/// Why `who` may not record a decision on `key`, or `None` when they may.
pub fn decision_refusal(who: &str, key: &str, s: DecisionStanding) -> Option<String> {
    (!(s.role_on_item || s.facilitating || s.pmo_admin)).then(|| {
        format!(
            "{who} has no role on {key}: a decision on it is recorded by its owner (a measure's sponsor or controller too, a key \
             result's objective owner too), the facilitator of an open check-in, or a PMO administrator"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_one_standing_is_enough() {
        let none = DecisionStanding::default();
        assert!(decision_refusal("olga", "M-1", none).unwrap().contains("olga has no role on M-1"));
        for s in [
            DecisionStanding { role_on_item: true, ..none },
            DecisionStanding { facilitating: true, ..none },
            DecisionStanding { pmo_admin: true, ..none },
        ] {
            assert_eq!(decision_refusal("olga", "M-1", s), None);
        }
    }
}
