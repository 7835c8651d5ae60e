//! The dated things a calendar shows (`keel export --format ics`): milestones, decisions due
//! (gate requests waiting for approval and open escalations), and check-in meetings.

use super::read::EscalationFilter;
use super::{rules, Result, Store};
use crate::domain::gates;
use crate::store::engine::{params, DbResult};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, Serialize)]
pub struct MilestoneDate {
    pub id: i64,
    pub key: String,
    pub measure: String,
    pub title: String,
    pub due: String,
    pub done: Option<String>,
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GateDate {
    pub key: String,
    pub title: String,
    /// When the owner asked for the next stage (the date of the request).
    pub requested: String,
    pub next_stage: String,
    pub awaiting: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct EscalationDate {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub tier: i64,
    pub reason: String,
    pub due: String,
    pub assignee: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MeetingDate {
    pub id: i64,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub facilitator: String,
    pub agenda_items: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Calendar {
    /// A stable identity of this file (from its creation stamp), so event UIDs stay the same
    /// from one export to the next and never collide with another file's.
    pub file_id: String,
    /// The moment of the export, UTC (for DTSTAMP).
    pub now: chrono::DateTime<chrono::Utc>,
    pub milestones: Vec<MilestoneDate>,
    pub gates: Vec<GateDate>,
    pub escalations: Vec<EscalationDate>,
    pub meetings: Vec<MeetingDate>,
}

impl Store {
    pub fn calendar(&self) -> Result<Calendar> {
        let c = self.conn();
        let created: String = c
            .query_row("SELECT value FROM settings WHERE name = 'created_at'", [], |r| r.get(0))
            .unwrap_or_else(|_| self.path().display().to_string());
        let file_id = format!("{:x}", Sha256::digest(created.as_bytes()))[..16].to_string();
        let milestones = {
            let mut s = c.prepare(
                "SELECT ms.id, i.key, m.title, ms.title, ms.due_date, ms.done_date, p.name
                 FROM milestones ms JOIN measures m ON m.id = ms.measure_id JOIN items i ON i.id = m.id
                 LEFT JOIN people p ON p.id = m.owner_id ORDER BY ms.due_date, i.num, ms.id",
            )?;
            let r = s.query_map([], |r| {
                Ok(MilestoneDate {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    measure: r.get(2)?,
                    title: r.get(3)?,
                    due: r.get(4)?,
                    done: r.get(5)?,
                    owner: r.get(6)?,
                })
            })?;
            r.collect::<DbResult<Vec<_>>>()?
        };
        let pending: Vec<(i64, String, String)> = {
            let mut s = c.prepare(
                "SELECT m.id, i.key, m.title FROM measures m JOIN items i ON i.id = m.id WHERE m.pending_stage IS NOT NULL ORDER BY i.num",
            )?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let mut gates_due = Vec::new();
        for (id, key, title) in pending {
            let (state, facts) = rules::gate_inputs(c, id)?;
            let Some(next) = state.pending else { continue };
            let requested: Option<String> = c.query_row(
                "SELECT MAX(at) FROM gate_events WHERE measure_id = ?1 AND action = 'request' AND outcome <> 'refused'",
                params![id],
                |r| r.get(0),
            )?;
            gates_due.push(GateDate {
                key,
                title,
                requested: requested.unwrap_or_else(|| self.clock().today.to_string()),
                next_stage: next.to_string(),
                awaiting: gates::awaiting(next, &state, &facts).join(" and "),
            });
        }
        let escalations = self
            .escalations(&EscalationFilter::default())?
            .into_iter()
            .map(|e| EscalationDate {
                id: e.id,
                key: e.key,
                title: e.title,
                tier: e.tier,
                reason: e.reason,
                due: e.due_at,
                assignee: e.assignee,
            })
            .collect();
        let meetings = {
            let mut s = c.prepare("SELECT id, started_at, ended_at, facilitator, agenda FROM meetings ORDER BY started_at, id")?;
            let r = s.query_map([], |r| {
                let agenda: String = r.get(4)?;
                Ok(MeetingDate {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    ended_at: r.get(2)?,
                    facilitator: r.get(3)?,
                    agenda_items: agenda.split(',').filter(|s| !s.trim().is_empty()).count(),
                })
            })?;
            r.collect::<DbResult<Vec<_>>>()?
        };
        Ok(Calendar { file_id, now: chrono::Utc::now(), milestones, gates: gates_due, escalations, meetings })
    }
}
