//! The demo organisation (`demo-data/plan.json`) is keel's shop window: every screen should have
//! something to show. These tests check that the file parses into a `Plan`, that it hangs together
//! (keys, references, gates, four eyes) and that the engineered cases — escalations at each tier,
//! a stale measure, late milestones, a blocked measure, IPO warnings — are really in the data.

use keel::domain::escalation::{assess, Point, Thresholds, Tier};
use keel::domain::plan::{Measure, Plan, Value};
use keel::domain::status::{implementation, ImplLevel, MilestoneFacts};
use keel::domain::{Direction, IpoClass, ItemKey, ItemKind, KrKind, Level, NodeKind, Period, SideState, Stage, UnitKind};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-data/plan.json");
const WEEKS_OF_VALUES: usize = 12;
const NEWEST_WEEK: &str = "2026-W48";

// ---------------------------------------------------------------------------------------------
// Helpers

fn plan() -> Plan {
    let text = std::fs::read_to_string(DEMO).unwrap_or_else(|e| panic!("cannot read {DEMO}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{DEMO} is not a keel plan: {e}"))
}

/// Fails with every problem listed, one per line.
fn assert_no_problems(what: &str, problems: &[String]) {
    assert!(problems.is_empty(), "{what}: {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
}

fn kind_of(key: &str) -> Option<ItemKind> {
    ItemKey::parse(key).ok().map(|k| k.kind)
}

/// Every key in the plan, with the kind its prefix names.
fn all_keys(p: &Plan) -> HashMap<String, ItemKind> {
    let sections: Vec<Vec<&str>> = vec![
        p.cycles.iter().map(|x| x.key.as_str()).collect(),
        p.units.iter().map(|x| x.key.as_str()).collect(),
        p.people.iter().map(|x| x.key.as_str()).collect(),
        p.kras.iter().map(|x| x.key.as_str()).collect(),
        p.objectives.iter().map(|x| x.key.as_str()).collect(),
        p.key_results.iter().map(|x| x.key.as_str()).collect(),
        p.kpis.iter().map(|x| x.key.as_str()).collect(),
        p.nodes.iter().map(|x| x.key.as_str()).collect(),
        p.measures.iter().map(|x| x.key.as_str()).collect(),
    ];
    sections.into_iter().flatten().filter_map(|k| Some((k.to_string(), kind_of(k)?))).collect()
}

/// Collects reference problems: each check records one unless the key exists and is of a kind
/// the field allows.
struct Refs {
    keys: HashMap<String, ItemKind>,
    problems: Vec<String>,
}

impl Refs {
    fn check(&mut self, from: &str, field: &str, key: Option<&str>, kinds: &[ItemKind]) {
        let Some(key) = key else { return };
        match self.keys.get(key) {
            None => self.problems.push(format!("{from}.{field} = {key}: no such item")),
            Some(k) if !kinds.contains(k) => self.problems.push(format!("{from}.{field} = {key}: a {k}, expected one of {kinds:?}")),
            Some(_) => {}
        }
    }
    fn problem(&mut self, text: String) {
        self.problems.push(text);
    }
}

fn period(s: &str) -> Period {
    Period::parse(s).unwrap_or_else(|e| panic!("bad period {s:?}: {e}"))
}

fn newest() -> Period {
    period(NEWEST_WEEK)
}

/// An item's values, oldest period first.
fn values_of<'a>(p: &'a Plan, item: &str) -> Vec<&'a Value> {
    let mut v: Vec<&Value> = p.values.iter().filter(|v| v.item == item).collect();
    v.sort_by_key(|v| period(&v.period));
    v
}

fn points(values: &[&Value]) -> Vec<Point> {
    values.iter().map(|v| Point { period: period(&v.period), planned: v.planned, actual: v.actual }).collect()
}

/// The escalation tier keel would compute for an item from its values today.
fn tier(p: &Plan, item: &str, direction: Direction, money: bool) -> Option<Tier> {
    let values = values_of(p, item);
    assess(&points(&values), direction, &Thresholds::default(), money).and_then(|a| a.tier)
}

fn kr_direction(kind: KrKind) -> Direction {
    match kind {
        KrKind::IncreaseTo | KrKind::StayAbove | KrKind::Milestone => Direction::HigherIsBetter,
        KrKind::DecreaseTo | KrKind::StayBelow => Direction::LowerIsBetter,
    }
}

fn stage_at_least(m: &Measure, s: Stage) -> bool {
    m.stage >= s
}

/// Implementation status of every measure as of the newest week's Monday, dependencies included.
fn implementation_levels(p: &Plan) -> BTreeMap<String, (ImplLevel, Vec<String>)> {
    let today = newest().start();
    let t = Thresholds::default();
    let own: HashMap<&str, ImplLevel> = p
        .measures
        .iter()
        .map(|m| {
            let ms: Vec<MilestoneFacts> =
                m.milestones.iter().map(|x| MilestoneFacts { title: &x.title, due: x.due, done: x.done }).collect();
            (m.key.as_str(), implementation(&ms, &[], today, &t).level)
        })
        .collect();
    p.measures
        .iter()
        .map(|m| {
            let ms: Vec<MilestoneFacts> =
                m.milestones.iter().map(|x| MilestoneFacts { title: &x.title, due: x.due, done: x.done }).collect();
            let deps: Vec<(String, ImplLevel)> = m.depends_on.iter().map(|d| (d.clone(), own[d.as_str()])).collect();
            let i = implementation(&ms, &deps, today, &t);
            (m.key.clone(), (i.level, i.blocked_by))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Shape

#[test]
fn the_demo_is_a_version_1_keel_plan() {
    let p = plan();
    assert_eq!(p.format, keel::domain::plan::FORMAT);
    assert_eq!(p.version, keel::domain::plan::FORMAT_VERSION);
    assert!(p.settings.is_empty(), "the demo uses default thresholds; settings should be empty");
    assert_eq!(p.cycles.len(), 1, "one cycle");
    assert_eq!(p.cycles[0].name, "FY26-H2");
}

#[test]
fn keys_are_unique_contiguous_and_sorted_per_section() {
    let p = plan();
    let mut problems = Vec::new();
    let mut check = |section: &str, keys: Vec<&str>, expect_prefix: Option<&str>| {
        let mut by_prefix: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for k in &keys {
            match ItemKey::parse(k) {
                Ok(key) if key.to_string() == *k => {
                    if let Some(want) = expect_prefix {
                        if key.kind.prefix() != want {
                            problems.push(format!("{section}: {k} should start with {want}-"));
                        }
                    }
                    by_prefix.entry(key.kind.prefix().to_string()).or_default().push(key.number)
                }
                _ => problems.push(format!("{section}: {k:?} is not a canonical key")),
            }
        }
        for (prefix, numbers) in by_prefix {
            let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
            if numbers != expected {
                problems.push(format!("{section}: {prefix}- keys should run 1..{} in order, got {numbers:?}", numbers.len()));
            }
        }
    };
    check("cycles", p.cycles.iter().map(|x| x.key.as_str()).collect(), Some("C"));
    check("units", p.units.iter().map(|x| x.key.as_str()).collect(), Some("U"));
    check("people", p.people.iter().map(|x| x.key.as_str()).collect(), Some("P"));
    check("kras", p.kras.iter().map(|x| x.key.as_str()).collect(), Some("KRA"));
    check("objectives", p.objectives.iter().map(|x| x.key.as_str()).collect(), Some("O"));
    check("key_results", p.key_results.iter().map(|x| x.key.as_str()).collect(), Some("KR"));
    check("kpis", p.kpis.iter().map(|x| x.key.as_str()).collect(), Some("K"));
    check("nodes", p.nodes.iter().map(|x| x.key.as_str()).collect(), None);
    check("measures", p.measures.iter().map(|x| x.key.as_str()).collect(), Some("M"));
    for n in &p.nodes {
        if kind_of(&n.key).and_then(|k| k.node()) != Some(n.kind) {
            problems.push(format!("node {} has kind {} but its prefix says otherwise", n.key, n.kind));
        }
    }
    let mut seen = HashSet::new();
    for k in all_keys(&p).keys() {
        assert!(seen.insert(k.clone()), "duplicate key {k}");
    }
    let logins: Vec<&str> = p.people.iter().filter_map(|x| x.login.as_deref()).collect();
    if logins.iter().collect::<HashSet<_>>().len() != logins.len() {
        problems.push("logins must be unique".into());
    }
    assert_no_problems("keys", &problems);
}

#[test]
fn every_reference_points_at_an_item_of_the_right_kind() {
    use ItemKind::*;
    let p = plan();
    let logins: HashSet<&str> = p.people.iter().filter_map(|x| x.login.as_deref()).collect();
    let mut r = Refs { keys: all_keys(&p), problems: Vec::new() };
    for u in &p.units {
        r.check(&u.key, "parent", u.parent.as_deref(), &[Unit]);
    }
    for x in &p.people {
        r.check(&x.key, "unit", x.unit.as_deref(), &[Unit]);
    }
    for k in &p.kras {
        r.check(&k.key, "owner", k.owner.as_deref(), &[Person]);
    }
    for o in &p.objectives {
        r.check(&o.key, "cycle", Some(&o.cycle), &[Cycle]);
        r.check(&o.key, "owner", o.owner.as_deref(), &[Person]);
        r.check(&o.key, "parent", o.parent.as_deref(), &[Objective]);
        for u in &o.units {
            r.check(&o.key, "units", Some(u), &[Unit]);
        }
    }
    for kr in &p.key_results {
        r.check(&kr.key, "objective", Some(&kr.objective), &[Objective]);
        r.check(&kr.key, "owner", kr.owner.as_deref(), &[Person]);
    }
    for k in &p.kpis {
        r.check(&k.key, "owner", k.owner.as_deref(), &[Person]);
        r.check(&k.key, "kra", k.kra.as_deref(), &[Kra]);
        for i in &k.informs {
            r.check(&k.key, "informs", Some(i), &[KeyResult, Objective]);
        }
    }
    for n in &p.nodes {
        r.check(&n.key, "owner", n.owner.as_deref(), &[Person]);
        match (n.parent.as_deref(), n.kind.parent_kind().map(ItemKind::from_node)) {
            (None, None) => {}
            (Some(parent), Some(kind)) => r.check(&n.key, "parent", Some(parent), &[kind]),
            (None, Some(kind)) => r.problem(format!("{} ({}) needs a parent {kind}", n.key, n.kind)),
            (Some(_), None) => r.problem(format!("{} is a portfolio and cannot have a parent", n.key)),
        }
    }
    let unit_kind: HashMap<&str, UnitKind> = p.units.iter().map(|u| (u.key.as_str(), u.kind)).collect();
    for m in &p.measures {
        r.check(&m.key, "package", m.package.as_deref(), &[Package]);
        for (field, v) in [
            ("owner", &m.owner),
            ("sponsor", &m.sponsor),
            ("controller", &m.controller),
            ("requested_by", &m.requested_by),
            ("sponsor_approved_by", &m.sponsor_approved_by),
            ("controller_signed_by", &m.controller_signed_by),
            ("validated_by", &m.validated_by),
        ] {
            r.check(&m.key, field, v.as_deref(), &[Person]);
        }
        r.check(&m.key, "business_unit", m.business_unit.as_deref(), &[Unit]);
        r.check(&m.key, "function", m.function.as_deref(), &[Unit]);
        r.check(&m.key, "kra", m.kra.as_deref(), &[Kra]);
        for c in &m.contributes_to {
            r.check(&m.key, "contributes_to", Some(c), &[KeyResult, Kpi]);
        }
        for d in &m.depends_on {
            r.check(&m.key, "depends_on", Some(d), &[Measure]);
            if *d == m.key {
                r.problem(format!("{} depends on itself", m.key));
            }
        }
        // A measure's business unit and function are units of the matching kind.
        for (field, unit, want) in
            [("business_unit", &m.business_unit, UnitKind::BusinessUnit), ("function", &m.function, UnitKind::Function)]
        {
            if let Some(u) = unit {
                if unit_kind.get(u.as_str()) != Some(&want) {
                    r.problem(format!("{}.{field} = {u} is not a {want}", m.key));
                }
            }
        }
    }
    for v in &p.values {
        r.check(&format!("value {} {}", v.item, v.period), "item", Some(&v.item), &[KeyResult, Kpi, Measure]);
        if !logins.contains(v.by.as_str()) {
            r.problem(format!("value {} {}: by = {:?} is nobody's login", v.item, v.period, v.by));
        }
    }
    for d in &p.decisions {
        if !r.keys.contains_key(&d.item) {
            r.problem(format!("decision on {}: no such item", d.item));
        }
        r.check(&format!("decision on {}", d.item), "owner", d.owner.as_deref(), &[Person]);
        if !logins.contains(d.by.as_str()) {
            r.problem(format!("decision on {}: by = {:?} is nobody's login", d.item, d.by));
        }
    }
    assert_no_problems("references", &r.problems);
}

#[test]
fn the_first_person_is_the_demo_pmo_administrator() {
    let p = plan();
    let admin = &p.people[0];
    assert_eq!((admin.key.as_str(), admin.login.as_deref()), ("P-1", Some("demo-admin")));
    assert!(admin.pmo_admin, "P-1 must be a PMO administrator");
    assert!(p.people.len() >= 10, "about ten people, got {}", p.people.len());
    let kinds: HashSet<UnitKind> = p.units.iter().map(|u| u.kind).collect();
    assert_eq!(kinds.len(), 2, "both business units and functions");
}

// ---------------------------------------------------------------------------------------------
// OKRs and KPIs

#[test]
fn objectives_cascade_over_three_levels() {
    let p = plan();
    let parent: HashMap<&str, Option<&str>> = p.objectives.iter().map(|o| (o.key.as_str(), o.parent.as_deref())).collect();
    // Levels in the chain from an objective up to its root (1 for a root).
    let depth = |start: &str| {
        let (mut d, mut key) = (1, start);
        while let Some(Some(up)) = parent.get(key) {
            d += 1;
            key = *up;
            assert!(d < 20, "a parent cycle through {start}");
        }
        d
    };
    let deepest = p.objectives.iter().map(|o| depth(&o.key)).max().unwrap_or(0);
    assert!(deepest >= 3, "objective parent chains should be at least 3 deep, deepest is {deepest}");
    let levels: BTreeSet<Level> = p.objectives.iter().map(|o| o.level).collect();
    for l in [Level::Company, Level::Department, Level::Team] {
        assert!(levels.contains(&l), "no {l} objective");
    }
    assert!(p.objectives.iter().any(|o| o.units.len() >= 2), "a cross-functional objective");
    assert!(p.objectives.iter().any(|o| o.target.is_some()), "an objective with a top-down target");
}

#[test]
fn there_is_an_orphan_and_a_likely_duplicate() {
    let p = plan();
    let has_children: HashSet<&str> = p.objectives.iter().filter_map(|o| o.parent.as_deref()).collect();
    let orphans: Vec<&str> = p
        .objectives
        .iter()
        .filter(|o| o.parent.is_none() && !has_children.contains(o.key.as_str()) && o.level != Level::Company)
        .map(|o| o.key.as_str())
        .collect();
    assert!(!orphans.is_empty(), "a non-company objective with no parent and no children");

    let mut duplicates = Vec::new();
    for (i, a) in p.objectives.iter().enumerate() {
        for b in &p.objectives[i + 1..] {
            let share_unit = a.units.iter().any(|u| b.units.contains(u));
            let s = keel::domain::health::title_similarity(&a.title, &b.title);
            if !share_unit && s >= 0.8 {
                duplicates.push(format!("{}/{}", a.key, b.key));
            }
        }
    }
    assert!(!duplicates.is_empty(), "two near-identical objectives in different units");
}

#[test]
fn key_results_cover_every_kind() {
    let p = plan();
    assert!(p.key_results.len() >= 10, "at least 10 key results, got {}", p.key_results.len());
    let kinds: BTreeSet<KrKind> = p.key_results.iter().map(|k| k.kind).collect();
    for k in KrKind::ALL {
        assert!(kinds.contains(k), "no {k} key result");
    }
    assert!(p.key_results.iter().any(|k| k.kind == KrKind::Milestone && k.milestone_done), "a done milestone KR");
    for kr in p.key_results.iter().filter(|k| k.kind != KrKind::Milestone) {
        assert!(kr.target.is_some(), "{} is numeric and needs a target", kr.key);
    }
}

#[test]
fn kpis_cover_every_ipo_class() {
    let p = plan();
    assert!(p.kpis.len() >= 8, "at least 8 KPIs, got {}", p.kpis.len());
    let classes: BTreeSet<String> = p.kpis.iter().map(|k| format!("{:?}", k.ipo_class)).collect();
    assert_eq!(classes.len(), 3, "input, process and outcome KPIs, got {classes:?}");
    let incomplete: Vec<&str> = p
        .kpis
        .iter()
        .filter(|k| {
            !keel::domain::health::kpi_gaps(k.target.is_some(), k.timeframe.is_some(), k.data_source.is_some(), k.frequency.is_some())
                .is_empty()
        })
        .map(|k| k.key.as_str())
        .collect();
    assert_eq!(incomplete.len(), 1, "exactly one incomplete KPI, got {incomplete:?}");
}

#[test]
fn one_kpi_is_isolated() {
    let p = plan();
    let contributed: HashSet<&str> = p.measures.iter().flat_map(|m| m.contributes_to.iter().map(String::as_str)).collect();
    let isolated: Vec<&str> =
        p.kpis.iter().filter(|k| k.informs.is_empty() && !contributed.contains(k.key.as_str())).map(|k| k.key.as_str()).collect();
    assert_eq!(isolated.len(), 1, "exactly one isolated KPI, got {isolated:?}");
}

/// KPI classes watching each objective, directly or through its key results.
fn kpi_classes_by_objective(p: &Plan) -> BTreeMap<String, Vec<IpoClass>> {
    let kr_objective: HashMap<&str, &str> = p.key_results.iter().map(|k| (k.key.as_str(), k.objective.as_str())).collect();
    let mut out: BTreeMap<String, Vec<IpoClass>> = BTreeMap::new();
    for k in &p.kpis {
        for target in &k.informs {
            let objective = kr_objective.get(target.as_str()).copied().unwrap_or(target);
            out.entry(objective.to_string()).or_default().push(k.ipo_class);
        }
    }
    out
}

#[test]
fn one_objective_is_watched_only_by_outcome_kpis() {
    let p = plan();
    let outcome_only: Vec<String> = kpi_classes_by_objective(&p)
        .into_iter()
        .filter(|(_, c)| !c.is_empty() && c.iter().all(|c| *c == IpoClass::Outcome))
        .map(|(o, _)| o)
        .collect();
    assert_eq!(outcome_only.len(), 1, "exactly one outcome-only objective, got {outcome_only:?}");
}

#[test]
fn one_manual_green_hides_red_numbers_without_an_explanation() {
    let p = plan();
    let flagged: Vec<&str> =
        p.objectives
            .iter()
            .filter(|o| o.manual_status.as_deref() == Some("green") && o.status_explanation.is_none())
            .filter(|o| {
                p.key_results.iter().filter(|kr| kr.objective == o.key).any(|kr| {
                    matches!(tier(&p, &kr.key, kr_direction(kr.kind), false), Some(Tier::SponsorAction | Tier::SteeringCommittee))
                })
            })
            .map(|o| o.key.as_str())
            .collect();
    assert_eq!(flagged.len(), 1, "one objective set green by hand over a red key result, got {flagged:?}");
}

// ---------------------------------------------------------------------------------------------
// Measures and gates

#[test]
fn measures_cover_every_stage_and_both_side_states() {
    let p = plan();
    assert!(p.measures.len() >= 30, "at least 30 measures, got {}", p.measures.len());
    let live = |m: &&Measure| m.side_state.is_none();
    let stages: BTreeMap<Stage, usize> = p.measures.iter().filter(live).fold(BTreeMap::new(), |mut acc, m| {
        *acc.entry(m.stage).or_default() += 1;
        acc
    });
    for s in Stage::ALL {
        assert!(stages.get(s).copied().unwrap_or(0) >= 2, "fewer than two live measures at {s}: {stages:?}");
    }
    for side in [SideState::OnHold, SideState::Cancelled] {
        let m = p.measures.iter().find(|m| m.side_state == Some(side));
        let m = m.unwrap_or_else(|| panic!("no {side} measure"));
        assert!(m.side_reason.is_some(), "{} is {side} and needs a reason", m.key);
    }
    let value_types: HashSet<String> = p.measures.iter().map(|m| m.value_type.to_string()).collect();
    assert_eq!(value_types.len(), 4, "every value type is used, got {value_types:?}");
}

#[test]
fn owners_sponsors_and_controllers_are_different_people() {
    let p = plan();
    let mut problems = Vec::new();
    for m in &p.measures {
        if m.owner.is_none() {
            problems.push(format!("{} has no owner", m.key));
        }
        let distinct = |a: &Option<String>, b: &Option<String>, what: &str, problems: &mut Vec<String>| {
            if a.is_some() && a == b {
                problems.push(format!("{}: {what} are the same person ({})", m.key, a.as_deref().unwrap_or("")));
            }
        };
        distinct(&m.owner, &m.sponsor, "owner and sponsor", &mut problems);
        distinct(&m.owner, &m.controller, "owner and controller", &mut problems);
        distinct(&m.sponsor, &m.controller, "sponsor and controller", &mut problems);
    }
    assert_no_problems("four eyes", &problems);
}

#[test]
fn each_measure_meets_the_gates_of_its_stage() {
    let p = plan();
    let with_planned: HashSet<&str> = p.values.iter().filter(|v| v.planned.is_some()).map(|v| v.item.as_str()).collect();
    let mut problems = Vec::new();
    for m in &p.measures {
        let mut need = |ok: bool, what: &str| {
            if !ok {
                problems.push(format!("{} ({}) lacks {what}", m.key, m.stage));
            }
        };
        if stage_at_least(m, Stage::Identified) {
            need(m.owner.is_some(), "an owner");
            need(m.business_unit.is_some(), "a business unit");
            need(m.function.is_some(), "a function");
            need(m.potential.is_some(), "a potential");
        }
        if stage_at_least(m, Stage::Detailed) {
            need(!m.milestones.is_empty(), "milestones");
            need(with_planned.contains(m.key.as_str()), "planned values");
            need(m.controller.is_some(), "a controller");
            need(!m.contributes_to.is_empty(), "a link to a key result or KPI");
        }
        if stage_at_least(m, Stage::Decided) {
            need(m.sponsor.is_some(), "a sponsor");
            need(m.sponsor_approved_by.is_some() && m.sponsor_approved_by == m.sponsor, "the sponsor's approval");
            need(m.controller_signed_by.is_some() && m.controller_signed_by == m.controller, "the controller's sign-off");
        }
        if stage_at_least(m, Stage::Implemented) {
            need(m.milestones.iter().all(|x| x.done.is_some()), "every milestone done");
        }
        if m.stage == Stage::Closed {
            need(m.validated_by.is_some() && m.validated_by == m.controller, "the controller's validation");
        }
        if let Some(pending) = m.pending_stage {
            need(m.stage.next() == Some(pending), "a pending stage one step ahead");
            need(m.requested_by.is_some(), "a requester for the pending stage");
        }
    }
    assert_no_problems("stage gates", &problems);
}

#[test]
fn the_execution_hierarchy_has_two_programmes_with_targets() {
    let p = plan();
    let count = |k: NodeKind| p.nodes.iter().filter(|n| n.kind == k).count();
    assert_eq!(count(NodeKind::Portfolio), 1);
    assert_eq!(count(NodeKind::Programme), 2);
    assert!(count(NodeKind::Project) >= 4);
    assert!(count(NodeKind::Package) >= 2 * count(NodeKind::Project));
    assert!(p.nodes.iter().filter(|n| n.kind == NodeKind::Programme).all(|n| n.target.is_some()));
    assert!(p.measures.iter().all(|m| m.package.is_some()), "every measure sits in a package");
}

// ---------------------------------------------------------------------------------------------
// Values, escalations, freshness, schedule

#[test]
fn values_cover_twelve_iso_weeks_ending_at_the_anchor() {
    let p = plan();
    // Weeks after the anchor hold plans and forecasts only (entered in advance); the twelve
    // weeks of actuals end at the anchor week.
    let mut problems = Vec::new();
    let cycle = &p.cycles[0];
    let mut weeks = BTreeSet::new();
    let mut seen = HashSet::new();
    for v in &p.values {
        let per = match Period::parse(&v.period) {
            Ok(per @ Period::Week { .. }) => per,
            Ok(other) => {
                problems.push(format!("{} {}: not a week ({other})", v.item, v.period));
                continue;
            }
            Err(e) => {
                problems.push(format!("{} {}: {e}", v.item, v.period));
                continue;
            }
        };
        if v.actual.is_some() {
            weeks.insert(per);
        }
        if !seen.insert((v.item.clone(), per)) {
            problems.push(format!("{} {}: two values for one period", v.item, v.period));
        }
        if per.start() < cycle.start || per.end() > cycle.end {
            problems.push(format!("{} {}: outside the cycle", v.item, v.period));
        }
        match chrono::DateTime::parse_from_rfc3339(&v.at) {
            Ok(at) => {
                let day = at.date_naive();
                let planned_ahead = per > newest() && v.actual.is_none();
                if !planned_ahead && (day < per.start() || day > per.end() + chrono::Duration::days(28)) {
                    problems.push(format!("{} {}: entered {} (too far from its week)", v.item, v.period, v.at));
                }
                if day > newest().end() {
                    problems.push(format!("{} {}: entered after the anchor week ({})", v.item, v.period, v.at));
                }
            }
            Err(e) => problems.push(format!("{} {}: at {:?} is not RFC 3339: {e}", v.item, v.period, v.at)),
        }
        if v.planned.is_none() && v.actual.is_none() && v.forecast.is_none() {
            problems.push(format!("{} {}: an empty value", v.item, v.period));
        }
    }
    assert_no_problems("values", &problems);
    assert_eq!(weeks.len(), WEEKS_OF_VALUES, "12 distinct weeks of values");
    assert_eq!(weeks.iter().next_back().copied(), Some(newest()), "the newest week is {NEWEST_WEEK}");
    let first = *weeks.iter().next().unwrap();
    assert_eq!(first.shift_weeks(WEEKS_OF_VALUES as i64 - 1), newest(), "the 12 weeks are contiguous");
}

#[test]
fn every_detailed_measure_has_weekly_money() {
    let p = plan();
    let mut problems = Vec::new();
    for m in p.measures.iter().filter(|m| m.stage >= Stage::Detailed && m.side_state.is_none()) {
        let n = values_of(&p, &m.key).iter().filter(|v| v.planned.is_some() && v.actual.is_some()).count();
        if n < 6 {
            problems.push(format!("{} ({}) has only {n} values with plan and actual", m.key, m.stage));
        }
    }
    for m in p.measures.iter().filter(|m| m.stage < Stage::Detailed) {
        if !values_of(&p, &m.key).is_empty() {
            problems.push(format!("{} is only {} but has values", m.key, m.stage));
        }
    }
    assert_no_problems("measure values", &problems);
}

#[test]
fn the_demo_shows_every_escalation_tier() {
    let p = plan();
    let measure_tiers: BTreeMap<&str, Option<Tier>> = p
        .measures
        .iter()
        .filter(|m| !values_of(&p, &m.key).is_empty())
        .map(|m| (m.key.as_str(), tier(&p, &m.key, m.value_type.direction(), true)))
        .collect();
    let with = |t: Option<Tier>| measure_tiers.iter().filter(|(_, x)| **x == t).map(|(k, _)| *k).collect::<Vec<_>>();
    let calm = with(None);
    assert!(calm.len() * 2 > measure_tiers.len(), "most measures within tolerance: {measure_tiers:?}");
    for t in Tier::ALL {
        assert!(!with(Some(t)).is_empty(), "no measure at {}: {measure_tiers:?}", t.label());
    }
    let cost_over: Vec<&str> = p
        .measures
        .iter()
        .filter(|m| m.value_type.is_cost() && measure_tiers.get(m.key.as_str()).copied().flatten().is_some())
        .map(|m| m.key.as_str())
        .collect();
    assert!(!cost_over.is_empty(), "a cost measure running over plan");

    let kr_tiers: Vec<(&str, Tier)> =
        p.key_results.iter().filter_map(|kr| Some((kr.key.as_str(), tier(&p, &kr.key, kr_direction(kr.kind), false)?))).collect();
    assert!(kr_tiers.iter().any(|(_, t)| *t == Tier::OwnerReview), "a key result just outside tolerance: {kr_tiers:?}");
    assert!(
        p.key_results.iter().any(|kr| kr.kind == KrKind::DecreaseTo && tier(&p, &kr.key, Direction::LowerIsBetter, false).is_some()),
        "a decrease-to key result whose rise is escalated"
    );

    let kpi_tiers: Vec<(&str, Tier)> =
        p.kpis.iter().filter_map(|k| Some((k.key.as_str(), tier(&p, &k.key, k.direction, false)?))).collect();
    assert!(kpi_tiers.iter().any(|(_, t)| *t == Tier::SponsorAction), "a KPI out for 3 weeks: {kpi_tiers:?}");
    for k in &p.kpis {
        for v in values_of(&p, &k.key) {
            assert_eq!(v.planned, k.target, "{} {}: a KPI's plan is its target", k.key, v.period);
        }
    }
}

#[test]
fn one_measure_has_gone_stale() {
    let p = plan();
    let stale: Vec<&str> = p
        .measures
        .iter()
        .filter(|m| m.side_state.is_none())
        .filter(|m| {
            let last = values_of(&p, &m.key).last().map(|v| period(&v.period));
            last.is_some_and(|l| (newest().start() - l.start()).num_days() > m.cadence.stale_after_days())
        })
        .map(|m| m.key.as_str())
        .collect();
    assert_eq!(stale.len(), 1, "exactly one stale measure, got {stale:?}");
}

#[test]
fn late_milestones_and_a_blocked_measure() {
    let p = plan();
    let levels = implementation_levels(&p);
    let at = |l: ImplLevel| levels.iter().filter(|(_, (x, b))| *x == l && b.is_empty()).count();
    assert!(at(ImplLevel::Late) >= 1, "a measure with a late milestone: {levels:?}");
    assert!(at(ImplLevel::Critical) >= 1, "a measure with a badly late milestone: {levels:?}");
    let blocked: Vec<&String> = levels.iter().filter(|(_, (_, b))| !b.is_empty()).map(|(k, _)| k).collect();
    assert!(!blocked.is_empty(), "a measure blocked by a late dependency");
    assert!(p.measures.iter().any(|m| m.milestones.iter().any(|x| x.done.is_some())), "milestones done with dates");
}

#[test]
fn decisions_are_recorded() {
    let p = plan();
    assert!(p.decisions.len() >= 2, "a few decisions");
    for d in &p.decisions {
        assert!(chrono::DateTime::parse_from_rfc3339(&d.at).is_ok(), "decision at {:?}", d.at);
        assert!(!d.text.trim().is_empty());
    }
}
