//! Objectives' statuses: each from its key results and child objectives, children first, with
//! the tree read set-wise (a subtree in two queries, or the whole tree once for `keel check`).

use super::*;

/// What an objective's status needs of its own row and of the tree (see `Engine::tree_facts`).
#[derive(Default)]
pub(super) struct TreeFacts {
    krs: Vec<i64>,
    children: Vec<i64>,
    manual: Option<String>,
    explanation: Option<String>,
}

impl Engine<'_> {
    /// Prepare an objective's whole subtree in a few queries (the whole tree in `all` mode),
    /// then compute it.
    pub fn objective(&mut self, id: i64) -> Result<ObjectiveStatus> {
        if let Some(s) = self.memo.objectives.get(&id) {
            return Ok(s.clone());
        }
        // In `all` mode the whole tree is read once and kept for the next objective asked.
        let mut facts = if self.all && self.memo.all_tree {
            std::mem::take(&mut self.memo.tree_facts)
        } else {
            let facts = self.tree_facts(id)?;
            self.memo.all_tree |= self.all;
            facts
        };
        // (In `all` mode every key result is read at once, whatever the list.)
        let krs: Vec<i64> = if self.all { Vec::new() } else { facts.values().flat_map(|f| f.krs.iter().copied()).collect() };
        self.load_krs(&krs)?;
        if !self.all {
            // The tree's rows show each objective's own escalation too.
            self.prefetch_tiers(&facts.keys().copied().collect::<Vec<_>>())?;
        }
        let status = self.objective_rec(id, &mut facts, &mut HashSet::new());
        if self.all {
            self.memo.tree_facts = facts;
        }
        status
    }

    /// Per objective under `root` (every objective in `all` mode): its live key results and
    /// child objectives, and its manual status — two queries, not three per objective.
    fn tree_facts(&mut self, root: i64) -> Result<HashMap<i64, TreeFacts>> {
        let mut facts: HashMap<i64, TreeFacts> = HashMap::new();
        // A retired objective is no one's child (nor is its subtree walked), as a live one is.
        let objectives = if self.all {
            "SELECT o.id, o.parent_id, i.retired_at IS NULL, o.manual_status, o.status_explanation FROM objectives o JOIN items i ON i.id = o.id ORDER BY o.id"
        } else {
            "WITH RECURSIVE tree(id) AS (SELECT CAST(?1 AS BIGINT) UNION SELECT o.id FROM tree CROSS JOIN objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL WHERE o.parent_id = tree.id)
             SELECT o.id, o.parent_id, i.retired_at IS NULL, o.manual_status, o.status_explanation FROM tree CROSS JOIN objectives o JOIN items i ON i.id = o.id WHERE o.id = tree.id ORDER BY o.id"
        };
        let mut live_children: Vec<(i64, i64)> = Vec::new();
        let mut each = |r: &Row| -> DbResult<()> {
            let id: i64 = r.get(0)?;
            if let (Some(parent), true) = (r.get::<_, Option<i64>>(1)?, r.get::<_, bool>(2)?) {
                live_children.push((parent, id));
            }
            facts.insert(id, TreeFacts { krs: Vec::new(), children: Vec::new(), manual: r.get(3)?, explanation: r.get(4)? });
            Ok(())
        };
        if self.all {
            self.conn.query_each(objectives, [], &mut each)?;
        } else {
            self.conn.query_each(objectives, [root], &mut each)?;
        }
        for (parent, child) in live_children {
            if let Some(f) = facts.get_mut(&parent) {
                f.children.push(child);
            }
        }
        // CROSS JOIN: SQLite walks the subtree first and finds its key results by index (the
        // typed parameter would otherwise let it scan them all).
        let krs = if self.all {
            "SELECT k.objective_id, k.id FROM key_results k JOIN items i ON i.id = k.id AND i.retired_at IS NULL ORDER BY k.id"
        } else {
            "WITH RECURSIVE tree(id) AS (SELECT CAST(?1 AS BIGINT) UNION SELECT o.id FROM objectives o JOIN tree ON o.parent_id = tree.id)
             SELECT k.objective_id, k.id FROM tree CROSS JOIN key_results k JOIN items i ON i.id = k.id AND i.retired_at IS NULL WHERE k.objective_id = tree.id ORDER BY k.id"
        };
        let mut each = |r: &Row| -> DbResult<()> {
            if let Some(f) = facts.get_mut(&r.get(0)?) {
                f.krs.push(r.get(1)?);
            }
            Ok(())
        };
        if self.all {
            self.conn.query_each(krs, [], &mut each)?;
        } else {
            self.conn.query_each(krs, [root], &mut each)?;
        }
        Ok(facts)
    }

    /// The subtree under `root`, children before their parent, with an explicit stack: an
    /// objective chain of any depth cannot overflow the thread's stack. A child already on the
    /// walk (a loop of parent links) is left out of its parent's colour.
    fn objective_rec(&mut self, root: i64, facts: &mut HashMap<i64, TreeFacts>, visiting: &mut HashSet<i64>) -> Result<ObjectiveStatus> {
        enum Step {
            Enter(i64),
            Leave(i64, Option<String>, Option<String>),
        }
        let mut stack = vec![Step::Enter(root)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(id) => {
                    if self.memo.objectives.contains_key(&id) || !visiting.insert(id) {
                        continue;
                    }
                    let TreeFacts { krs, children, manual, explanation } = facts.remove(&id).unwrap_or_default();
                    stack.push(Step::Leave(id, manual, explanation));
                    stack.extend(children.iter().rev().filter(|c| !visiting.contains(c)).map(|c| Step::Enter(*c)));
                    self.memo.tree.insert(id, (krs, children));
                }
                Step::Leave(id, manual, explanation) => {
                    let (krs, children) = &self.memo.tree[&id];
                    let mut grades = Vec::new();
                    let mut kr_colours = Vec::with_capacity(krs.len());
                    for kr in krs {
                        let s = &self.memo.krs[kr];
                        grades.push((s.score.map(|x| x.grade), s.weight));
                        kr_colours.push(s.shown.computed);
                    }
                    let child_colours: Vec<Rag> =
                        children.iter().filter_map(|c| self.memo.objectives.get(c)).map(|s| s.shown.computed).collect();
                    let computed = status::objective_colour(&kr_colours, &child_colours);
                    let shown = status::shown(computed, manual.as_deref().and_then(Rag::parse), explanation.as_deref());
                    let s = ObjectiveStatus { progress: scoring::objective_progress(&grades), shown, key_results: krs.len() };
                    self.memo.objectives.insert(id, s);
                }
            }
        }
        self.memo.objectives.get(&root).cloned().ok_or(StoreError::Database(engine::Error::NoRows))
    }

    /// The bottom-up value of an objective (the domain's `rollup::objective_bottom_up`), from
    /// the statuses already computed for its subtree instead of another walk of the links (a
    /// measure's money is the same figure the write path keeps in `measure_money`).
    pub fn bottom_up(&mut self, id: i64) -> Result<Money> {
        self.objective(id)?;
        // The subtree's objectives and, for each, the measures serving its key results.
        let mut serving: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut stack = vec![id];
        while let Some(o) = stack.pop() {
            if serving.contains_key(&o) {
                continue;
            }
            let Some((krs, children)) = self.memo.tree.get(&o) else { continue };
            let measures = krs.iter().flat_map(|kr| self.memo.serving.get(kr).into_iter().flatten().copied()).collect();
            serving.insert(o, measures);
            stack.extend(children.iter().copied());
        }
        let measures: Vec<i64> = serving.values().flatten().copied().collect();
        self.load_measures(&measures)?;
        let memo = &*self.memo;
        let none: &[i64] = &[];
        rollup::objective_bottom_up(
            id,
            |o| memo.tree.get(&o).map_or(none, |(_, children)| children.as_slice()),
            |o| serving.get(&o).map_or(none, Vec::as_slice),
            |m| memo.measures.get(&m).filter(|ms| ms.side_state != Some(SideState::Cancelled)).map(|ms| ms.money),
        )
        .map_err(|e| StoreError::Invalid { key: "roll-up".into(), field: "sum".into(), why: e.to_string() })
    }
}
