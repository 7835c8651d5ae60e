//! Health checks: alignment (cascade share, orphans, cross-functional, likely duplicates),
//! IPO checks (outcome-only objectives, isolated KPIs), KPI completeness and executability.

use super::{IpoClass, Num};
use std::collections::BTreeSet;

/// What the checks need to know about an objective.
#[derive(Clone, Debug, Default)]
pub struct ObjectiveFacts {
    pub key: String,
    pub title: String,
    pub has_parent: bool,
    pub has_children: bool,
    pub units: Vec<String>,
    pub kpi_classes: Vec<IpoClass>,
    pub measures: usize,
    pub measure_owners_missing: usize,
    pub milestones: usize,
    pub risks_written: usize,
    pub dependencies: usize,
    pub money_values: usize,
    pub cadence_set: bool,
    pub key_results: usize,
}

/// An objective watched only by outcome KPIs cannot tell its team what to act on.
pub fn outcome_only(o: &ObjectiveFacts) -> bool {
    !o.kpi_classes.is_empty() && o.kpi_classes.iter().all(|c| *c == IpoClass::Outcome)
}

/// An objective is executable when it maps to KPIs, measures, owners, milestones, risks,
/// dependencies, financial values and a cadence. Returns what is missing.
pub fn executability_gaps(o: &ObjectiveFacts) -> Vec<&'static str> {
    let mut gaps = Vec::new();
    if o.key_results == 0 {
        gaps.push("key results");
    }
    if o.kpi_classes.is_empty() {
        gaps.push("KPIs");
    }
    if o.measures == 0 {
        gaps.push("measures");
    }
    if o.measures > 0 && o.measure_owners_missing > 0 {
        gaps.push("measure owners");
    }
    if o.milestones == 0 {
        gaps.push("milestones");
    }
    if o.risks_written == 0 {
        gaps.push("risks");
    }
    if o.dependencies == 0 {
        gaps.push("dependencies");
    }
    if o.money_values == 0 {
        gaps.push("financial values");
    }
    if !o.cadence_set {
        gaps.push("reporting cadence");
    }
    gaps
}

/// An orphan has no parent, no children and no key results linked to anything.
pub fn is_orphan(o: &ObjectiveFacts) -> bool {
    !o.has_parent && !o.has_children && o.measures == 0 && o.kpi_classes.is_empty()
}

/// Share of objectives cascaded from a parent (0–1); `None` with no objectives.
pub fn cascade_share(objectives: &[ObjectiveFacts]) -> Option<Num> {
    let cascaded = objectives.iter().filter(|o| o.has_parent).count() as i64;
    Num::from_int(cascaded).ratio(Num::from_int(objectives.len() as i64))
}

/// The parts of a complete KPI that are missing: target, timeframe, data source, frequency.
pub fn kpi_gaps(target: bool, timeframe: bool, data_source: bool, frequency: bool) -> Vec<&'static str> {
    [(target, "target"), (timeframe, "timeframe"), (data_source, "data source"), (frequency, "frequency")]
        .into_iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, w)| w)
        .collect()
}

const STOP_WORDS: &[&str] = &["the", "a", "an", "and", "of", "to", "for", "in", "on", "our", "by", "with", "at"];

fn words(title: &str) -> BTreeSet<String> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .map(|w| w.to_lowercase())
        .filter(|w| w.len() > 2 && !STOP_WORDS.contains(&w.as_str()))
        .map(|w| w.trim_end_matches('s').to_string())
        .collect()
}

/// Word-overlap similarity of two titles (Jaccard, 0–1), ignoring small words and plurals.
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let common = wa.intersection(&wb).count() as f64;
    common / (wa.union(&wb).count() as f64)
}

/// Pairs of objectives in different units whose titles look alike: possible duplicates.
pub fn likely_duplicates(objectives: &[ObjectiveFacts], threshold: f64) -> Vec<(String, String, f64)> {
    // Each title's words once, not once per pair: the same figures as `title_similarity`.
    let sets: Vec<BTreeSet<String>> = objectives.iter().map(|o| words(&o.title)).collect();
    // Titles with no word in common have similarity 0: compare only pairs that share a word (in
    // the order of the pairs), so thousands of unlike titles are not compared pairwise.
    let mut by_word: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, set) in sets.iter().enumerate() {
        for w in set {
            by_word.entry(w.as_str()).or_default().push(i);
        }
    }
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    if threshold <= 0.0 {
        pairs.extend((0..objectives.len()).flat_map(|i| (i + 1..objectives.len()).map(move |j| (i, j))));
    }
    for list in by_word.values() {
        for (n, &i) in list.iter().enumerate() {
            pairs.extend(list[n + 1..].iter().map(|&j| (i, j)));
        }
    }
    let mut out = Vec::new();
    for (i, j) in pairs {
        let (a, b) = (&objectives[i], &objectives[j]);
        {
            let share_unit = a.units.iter().any(|u| b.units.contains(u));
            if share_unit {
                continue;
            }
            let (wa, wb) = (&sets[i], &sets[j]);
            let s = if wa.is_empty() || wb.is_empty() { 0.0 } else { wa.intersection(wb).count() as f64 / (wa.union(wb).count() as f64) };
            if s >= threshold {
                out.push((a.key.clone(), b.key.clone(), s));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(key: &str, title: &str, unit: &str) -> ObjectiveFacts {
        ObjectiveFacts { key: key.into(), title: title.into(), units: vec![unit.into()], ..Default::default() }
    }

    #[test]
    fn outcome_only_needs_kpis_all_outcome() {
        let mut o = obj("O-1", "x", "U-1");
        assert!(!outcome_only(&o));
        o.kpi_classes = vec![IpoClass::Outcome, IpoClass::Outcome];
        assert!(outcome_only(&o));
        o.kpi_classes.push(IpoClass::Process);
        assert!(!outcome_only(&o));
    }

    #[test]
    fn duplicates_across_units_only() {
        let os = vec![
            obj("O-1", "Improve enterprise customer retention", "U-1"),
            obj("O-2", "Improve customer retention for enterprises", "U-2"),
            obj("O-3", "Improve customer retention for enterprises", "U-1"),
            obj("O-4", "Cut procurement cost", "U-3"),
        ];
        let d = likely_duplicates(&os, 0.6);
        assert_eq!(d.iter().map(|(a, b, _)| format!("{a}/{b}")).collect::<Vec<_>>(), ["O-1/O-2", "O-2/O-3"]);
    }

    #[test]
    fn executability_lists_missing_links() {
        let o = ObjectiveFacts { key_results: 1, measures: 2, milestones: 3, cadence_set: true, ..Default::default() };
        assert_eq!(executability_gaps(&o), ["KPIs", "risks", "dependencies", "financial values"]);
        assert_eq!(kpi_gaps(true, false, true, false), ["timeframe", "frequency"]);
    }

    #[test]
    fn cascade_share_counts_parents() {
        let mut os = vec![obj("O-1", "a", "U"), obj("O-2", "b", "U")];
        os[1].has_parent = true;
        assert_eq!(cascade_share(&os).unwrap().inner().normalize().to_string(), "0.5");
    }
}
