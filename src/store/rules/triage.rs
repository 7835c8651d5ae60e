//! Acting on one escalation — acknowledge, assign, decide, resolve, snooze — through the write
//! path, each with its audit row.

use super::*;

pub(crate) fn escalation_action(ctx: &mut Ctx, esc: i64, action: &EscalationAction) -> Result<()> {
    let row: Option<(i64, String, Option<i64>, Option<String>)> = ctx
        .tx
        .query_row("SELECT item_id, state, assignee_id, decision FROM escalations WHERE id = ?1", [esc], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((item, state, assignee_id, decided)) = row else {
        return Err(StoreError::Invalid {
            key: format!("escalation {esc}"),
            field: "id".into(),
            why: "no such escalation: list them with `keel escalations`".into(),
        });
    };
    let key = key_of(ctx.tx, item)?;
    // Undoing a resolution by mistake reopens; every other action needs an open escalation.
    if state != "open" && !matches!(action, EscalationAction::Restore(_)) {
        return Err(StoreError::Invalid {
            key: format!("escalation {esc}"),
            field: "state".into(),
            why: format!("is already closed (on {key})"),
        });
    }
    // PMO administrators triage; the item's owner or sponsor and the assignee may act too.
    // (`IS NOT DISTINCT FROM`, not `=`: a steering committee escalation has no assignee, and NULL
    // is not false.)
    let me = ctx.actor.person_id;
    let involved: bool = match me {
        Some(p) => ctx.tx.query_row(
            "SELECT CAST(?2 AS BIGINT) IS NOT DISTINCT FROM CAST(?3 AS BIGINT) OR EXISTS (SELECT 1 FROM measures WHERE id = ?1 AND (owner_id = ?2 OR sponsor_id = ?2))
                 OR EXISTS (SELECT 1 FROM key_results WHERE id = ?1 AND owner_id = ?2) OR EXISTS (SELECT 1 FROM kpis WHERE id = ?1 AND owner_id = ?2)",
            params![item, p, assignee_id],
            |r| r.get(0),
        )?,
        None => false,
    };
    if !(ctx.trusted || ctx.actor.pmo_admin || involved) {
        return Err(StoreError::Permission(format!(
            "escalation {esc} on {key}: only a PMO administrator, the item's owner or sponsor, or the assignee may act on it"
        )));
    }
    let now = ctx.clock.stamp();
    let login = ctx.actor.login.clone();
    let (event, detail) = match action {
        EscalationAction::Acknowledge => {
            ctx.tx.execute(
                "UPDATE escalations SET acknowledged_by = ?1, acknowledged_at = ?2, version = version + 1 WHERE id = ?3",
                params![login, now, esc],
            )?;
            ("acknowledged", format!("acknowledged by {login}"))
        }
        EscalationAction::Assign(person) => {
            if person.kind != ItemKind::Person {
                return Err(StoreError::Invalid {
                    key: format!("escalation {esc}"),
                    field: "assignee".into(),
                    why: format!("{person} is not a person (P-n)"),
                });
            }
            let pid = resolve(ctx.tx, person)?;
            ctx.tx.execute("UPDATE escalations SET assignee_id = ?1, version = version + 1 WHERE id = ?2", params![pid, esc])?;
            ("assigned", format!("assigned to {person}"))
        }
        EscalationAction::Decide(text) => {
            if text.trim().is_empty() {
                return Err(StoreError::Invalid {
                    key: format!("escalation {esc}"),
                    field: "decision".into(),
                    why: "needs the decision's text".into(),
                });
            }
            ctx.tx.execute("UPDATE escalations SET decision = ?1, version = version + 1 WHERE id = ?2", params![text.trim(), esc])?;
            ctx.tx.execute(
                "INSERT INTO decisions (item_id, text, decided_by, at) VALUES (?1, ?2, ?3, ?4)",
                params![item, text.trim(), login, now],
            )?;
            ("decided", text.trim().to_string())
        }
        EscalationAction::Resolve(text) => {
            if text.trim().is_empty() {
                return Err(StoreError::Invalid {
                    key: format!("escalation {esc}"),
                    field: "resolution".into(),
                    why: "needs a note saying how it was resolved".into(),
                });
            }
            ctx.tx.execute(
                "UPDATE escalations SET state = 'closed', closed_at = ?1, closed_by = ?2, version = version + 1 WHERE id = ?3",
                params![now, login, esc],
            )?;
            ("resolved", text.trim().to_string())
        }
        EscalationAction::Snooze { until, reason } => {
            crate::domain::period::check_date(*until).map_err(|e| StoreError::Invalid {
                key: format!("escalation {esc}"),
                field: "snooze".into(),
                why: e.to_string(),
            })?;
            if reason.trim().is_empty() {
                return Err(StoreError::Invalid { key: format!("escalation {esc}"), field: "snooze".into(), why: "needs a reason".into() });
            }
            ctx.tx.execute(
                "UPDATE escalations SET snoozed_until = ?1, version = version + 1 WHERE id = ?2",
                params![until.to_string(), esc],
            )?;
            ("snoozed", format!("until {until}: {}", reason.trim()))
        }
        EscalationAction::Restore(before) => {
            let reopen = state != "open";
            if reopen {
                let newer: bool = ctx.tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM escalations WHERE item_id = ?1 AND state = 'open' AND id <> ?2)",
                    params![item, esc],
                    |r| r.get(0),
                )?;
                if newer {
                    return Err(StoreError::Invalid {
                        key: format!("escalation {esc}"),
                        field: "state".into(),
                        why: format!("cannot be reopened: a newer escalation is open on {key}"),
                    });
                }
            }
            ctx.tx.execute(
                "UPDATE escalations SET state = 'open', closed_at = NULL, closed_by = NULL, acknowledged_by = ?1, acknowledged_at = ?2,
                 assignee_id = ?3, snoozed_until = ?4, decision = ?5, version = version + 1 WHERE id = ?6",
                params![before.acknowledged_by, before.acknowledged_at, before.assignee_id, before.snoozed_until, before.decision, esc],
            )?;
            // A decision recorded by mistake is withdrawn from the item's decisions (the audit
            // log keeps both the decision and its withdrawal).
            if let Some(text) = decided.filter(|d| before.decision.as_ref() != Some(d)) {
                ctx.tx.execute(
                    "DELETE FROM decisions WHERE id = (SELECT MAX(id) FROM decisions WHERE item_id = ?1 AND text = ?2 AND meeting_id IS NULL)",
                    params![item, text],
                )?;
            }
            ("undone", if reopen { "triage undone: open again".to_string() } else { "triage undone".to_string() })
        }
    };
    ctx.tx.execute(
        "INSERT INTO escalation_events (escalation_id, at, actor, event, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![esc, now, login, event, detail],
    )?;
    ctx.audit.push(Entry {
        item_key: key.clone(),
        field: format!("escalation {esc}"),
        old_value: None,
        new_value: Some(format!("{event}: {detail}")),
        reason: ctx.reason.clone(),
    });
    ctx.effects.push(format!("{key}: escalation {esc} {event}"));
    Ok(())
}
