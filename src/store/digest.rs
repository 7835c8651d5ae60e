//! A person's weekly digest (`keel digest`): the updates due from them now, their milestones due
//! by the end of this week (and those already late), their stale items, the open escalations on
//! what they own or assigned to them, and the gate requests waiting for their approval. Every
//! list comes from the read models `keel check`, the weekly update and `keel gate --pending` use.

use super::check::{CheckReport, StaleItem};
use super::read::EscalationRow;
use super::rhythms::DueItem;
use super::{resolve, Result, Store, StoreError};
use crate::domain::{ItemKey, ItemKind, Stage};
use crate::store::engine::{params, DbResult};
use chrono::{Datelike, Duration};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Clone, Debug, Serialize)]
pub struct Recipient {
    pub key: String,
    pub name: String,
    pub login: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MilestoneDue {
    pub key: String,
    pub measure: String,
    pub title: String,
    pub due: String,
    pub late: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Approval {
    pub key: String,
    pub title: String,
    pub stage: Stage,
    pub awaiting: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Digest {
    pub person: Recipient,
    /// The ISO week of today (`2026-W48`) and its Monday and Sunday.
    pub week: String,
    pub week_start: String,
    pub week_end: String,
    pub due_updates: Vec<DueItem>,
    pub milestones: Vec<MilestoneDue>,
    pub stale: Vec<StaleItem>,
    pub escalations_owned: Vec<EscalationRow>,
    pub escalations_assigned: Vec<EscalationRow>,
    pub approvals: Vec<Approval>,
    /// The items whose expected updates they missed this cycle (`keel discipline`).
    pub missed_updates: Vec<super::discipline::DisciplineRow>,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.due_updates.is_empty()
            && self.milestones.is_empty()
            && self.stale.is_empty()
            && self.escalations_owned.is_empty()
            && self.escalations_assigned.is_empty()
            && self.approvals.is_empty()
            && self.missed_updates.is_empty()
    }
}

impl Store {
    /// Every person in the file, by key number.
    pub fn recipients(&self) -> Result<Vec<Recipient>> {
        let mut s =
            self.conn().prepare("SELECT i.key, p.name, p.login, p.email FROM people p JOIN items i ON i.id = p.id ORDER BY i.num")?;
        let r = s.query_map([], |r| Ok(Recipient { key: r.get(0)?, name: r.get(1)?, login: r.get(2)?, email: r.get(3)? }))?;
        Ok(r.collect::<DbResult<_>>()?)
    }

    /// One person's digest. `check` and `open` are `keel check`'s report and the open
    /// escalations, read once for a run over everybody.
    pub fn digest(&self, person: &Recipient, check: &CheckReport, open: &[EscalationRow]) -> Result<Digest> {
        let c = self.conn();
        let key = ItemKey::parse(&person.key).map_err(|e| StoreError::Invalid {
            key: person.key.clone(),
            field: "person".into(),
            why: e.to_string(),
        })?;
        if key.kind != ItemKind::Person {
            return Err(StoreError::Invalid { key: person.key.clone(), field: "--person".into(), why: "is not a person (P-n)".into() });
        }
        let pid = resolve(c, &key)?;
        let today = self.clock().today;
        let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
        let sunday = monday + Duration::days(6);
        let owned: BTreeSet<String> = {
            let mut s = c.prepare_cached(
                "SELECT i.key FROM (
                     SELECT id FROM measures WHERE owner_id = ?1 UNION ALL SELECT id FROM key_results WHERE owner_id = ?1
                     UNION ALL SELECT id FROM kpis WHERE owner_id = ?1 UNION ALL SELECT id FROM objectives WHERE owner_id = ?1
                 ) x JOIN items i ON i.id = x.id AND i.retired_at IS NULL",
            )?;
            let r = s.query_map([pid], |r| r.get(0))?;
            r.collect::<DbResult<_>>()?
        };
        let assigned: BTreeSet<i64> = {
            let mut s = c.prepare_cached("SELECT id FROM escalations WHERE state = 'open' AND assignee_id = ?1")?;
            let r = s.query_map([pid], |r| r.get(0))?;
            r.collect::<DbResult<_>>()?
        };
        let milestones = {
            let mut s = c.prepare_cached(
                "SELECT i.key, m.title, ms.title, ms.due_date FROM milestones ms JOIN measures m ON m.id = ms.measure_id
                 JOIN items i ON i.id = m.id AND i.retired_at IS NULL
                 WHERE m.owner_id = ?1 AND ms.done_date IS NULL AND ms.due_date <= ?2 AND m.side_state IS NULL
                 ORDER BY ms.due_date, i.num",
            )?;
            let today_s = today.to_string();
            let r = s.query_map(params![pid, sunday.to_string()], |r| {
                let due: String = r.get(3)?;
                Ok(MilestoneDue { key: r.get(0)?, measure: r.get(1)?, title: r.get(2)?, late: due < today_s, due })
            })?;
            r.collect::<DbResult<Vec<_>>>()?
        };
        let approvals = self
            .pending_approvals_for(pid, false)?
            .into_iter()
            .map(|(key, title, stage, awaiting)| Approval { key, title, stage, awaiting })
            .collect();
        Ok(Digest {
            person: person.clone(),
            week: today.format("%G-W%V").to_string(),
            week_start: monday.to_string(),
            week_end: sunday.to_string(),
            due_updates: self.due_updates_for(pid)?,
            milestones,
            stale: check.stale.iter().filter(|s| owned.contains(&s.key)).cloned().collect(),
            escalations_owned: open.iter().filter(|e| owned.contains(&e.key)).cloned().collect(),
            escalations_assigned: open.iter().filter(|e| assigned.contains(&e.id)).cloned().collect(),
            approvals,
            missed_updates: self
                .discipline(&super::discipline::DisciplineQuery { person: Some(person.key.clone()), ..Default::default() })?
                .into_iter()
                .filter(|r| r.missed > 0)
                .collect(),
        })
    }
}
