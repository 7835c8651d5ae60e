//! `keel generate`: a deterministic synthetic organisation of any size, for trying keel at scale
//! and for `keel bench`. The same measure count, seed and current week always give the same
//! organisation. It is loaded through keel's own write path (`Store::import_plan`), in chunks of
//! measures so that memory stays flat however large it is.
//!
//! Shape for N measures: one cycle; business units and functions; a person per 100 measures
//! (the first is the PMO administrator, acting as the OS login); objectives on three levels
//! (company → department → team, one company objective per 5,000 measures); key results under
//! every objective; a KPI per 200 measures; portfolio → programme → project → package (50
//! measures a package); each measure with two milestones, links to key results and KPIs, some
//! dependencies, and 10 weekly periods of values. Variance is drawn so that every escalation tier
//! occurs: most measures stay within tolerance, some are off plan once (owner review), some for
//! three periods or more (sponsor action), and a few by 20% or more (steering committee).

use crate::domain::plan::{self as p, Plan};
use crate::domain::{Cadence, Direction, IpoClass, KrKind, Level, NodeKind, Num, Period, SideState, Stage, UnitKind, ValueType};
use chrono::{Duration, NaiveDate};
use std::ops::Range;

/// Weeks of values per measure, key result and KPI.
pub const PERIODS: usize = 10;
/// Measures per import transaction: big enough to amortise a commit, small enough to keep the
/// plan of one chunk (its values) to a few megabytes.
pub const CHUNK: usize = 2_500;
const PER_PACKAGE: usize = 50;

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same organisation.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// An independent stream for one item, so any chunk can be generated on its own.
    pub fn for_item(seed: u64, tag: u64, index: usize) -> Rng {
        let mut r = Rng(seed ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// A float in [0, 1), used only to draw synthetic figures (stored values are integers).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }
}

/// How many of each thing an organisation of N measures has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub measures: usize,
    pub people: usize,
    pub business_units: usize,
    pub functions: usize,
    pub kras: usize,
    pub company: usize,
    /// Children per objective on the next level (department under company, team under department).
    pub fan: usize,
    pub objectives: usize,
    pub key_results: usize,
    pub kpis: usize,
    pub portfolios: usize,
    pub programmes: usize,
    pub projects: usize,
    pub packages: usize,
}

impl Shape {
    pub fn of(n: usize) -> Shape {
        let n = n.max(1);
        let company = (n / 5_000).max(2);
        let fan = if n >= 5_000 { 5 } else { 3 };
        let objectives = company * (1 + fan + fan * fan);
        let key_results = company * 2 + company * fan * 2 + company * fan * fan * 3;
        let packages = n.div_ceil(PER_PACKAGE);
        let projects = packages.div_ceil(10);
        let programmes = projects.div_ceil(10);
        let portfolios = programmes.div_ceil(4);
        Shape {
            measures: n,
            people: (n / 100).max(20),
            business_units: 4 + n / 20_000,
            functions: 4 + n / 25_000,
            kras: 3 + n / 20_000,
            company,
            fan,
            objectives,
            key_results,
            kpis: (n / 200).max(6),
            portfolios,
            programmes,
            projects,
            packages,
        }
    }

    /// Values the organisation carries: measures, key results that are not milestones, KPIs.
    pub fn values(&self) -> usize {
        let kr_valued = (0..self.key_results).filter(|i| kr_kind(*i) != KrKind::Milestone).count();
        (self.measures + kr_valued + self.kpis) * PERIODS
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    pub measures: usize,
    pub seed: u64,
    /// The current day: the newest period of values is its ISO week.
    pub today: NaiveDate,
    /// The login that becomes the organisation's PMO administrator (P-1).
    pub admin_login: String,
}

const SYLLABLES: &[&str] = &[
    "ka", "ve", "lo", "ri", "tu", "ma", "no", "si", "be", "da", "fe", "gu", "hi", "jo", "ku", "le", "mi", "pa", "qui", "ro", "sa", "ti",
    "vo", "ze",
];
const GOALS: &[&str] = &[
    "Grow recurring revenue",
    "Cut unit cost",
    "Delight customers",
    "Speed up delivery",
    "Reduce working capital",
    "Raise employee engagement",
    "Shrink energy use",
    "Win new markets",
    "Simplify the product range",
    "Harden operations",
];
const ACTIONS: &[&str] =
    &["Automate", "Renegotiate", "Consolidate", "Digitise", "Standardise", "Outsource", "Redesign", "Retire", "Pilot", "Scale"];
const OBJECTS: &[&str] = &[
    "invoicing",
    "procurement",
    "warehousing",
    "onboarding",
    "field service",
    "pricing",
    "forecasting",
    "support",
    "logistics",
    "billing",
];

/// A made-up word, unique per number, so generated titles do not all look alike.
fn word(mut n: usize) -> String {
    let mut s = String::new();
    for _ in 0..3 {
        s.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

fn kr_kind(i: usize) -> KrKind {
    match i % 10 {
        0..=5 => KrKind::IncreaseTo,
        6 => KrKind::DecreaseTo,
        7 => KrKind::StayAbove,
        8 => KrKind::StayBelow,
        _ => KrKind::Milestone,
    }
}

fn num(v: i64) -> Num {
    Num::from_int(v)
}

/// How a series of values behaves against its plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    OnPlan,
    /// Off plan in the latest period only: owner review.
    OffOnce,
    /// Off plan for the last three or four periods: sponsor action.
    OffRepeatedly,
    /// 20% or more off plan: steering committee.
    Major,
    /// No actuals for the last four weeks: stale.
    Silent,
}

fn profile(r: &mut Rng) -> Profile {
    match r.below(1000) {
        0..=19 => Profile::Major,
        20..=59 => Profile::OffRepeatedly,
        60..=119 => Profile::OffOnce,
        120..=159 => Profile::Silent,
        _ => Profile::OnPlan,
    }
}

/// How far below plan (in the bad direction) each of the periods lands, oldest first.
fn shortfalls(profile: Profile, r: &mut Rng) -> [f64; PERIODS] {
    let mut out = [0.0; PERIODS];
    for s in out.iter_mut() {
        *s = r.unit() * 0.07 - 0.035; // within ±3.5%: inside the 5% tolerance
    }
    match profile {
        Profile::OnPlan | Profile::Silent => {}
        Profile::OffOnce => out[PERIODS - 1] = 0.07 + r.unit() * 0.10,
        Profile::OffRepeatedly => {
            let run = 3 + r.below(2);
            for s in out.iter_mut().skip(PERIODS - run) {
                *s = 0.07 + r.unit() * 0.10;
            }
        }
        Profile::Major => {
            for s in out.iter_mut().skip(PERIODS - 3) {
                *s = 0.22 + r.unit() * 0.25;
            }
        }
    }
    out
}

impl Spec {
    pub fn shape(&self) -> Shape {
        Shape::of(self.measures)
    }

    /// The 10 weeks of values, oldest first; the last is the current week.
    pub fn periods(&self) -> Vec<Period> {
        (0..PERIODS).rev().map(|back| Period::week_of(self.today - Duration::weeks(back as i64))).collect()
    }

    /// The import chunks, as ranges of measure indexes (0-based).
    pub fn chunks(&self) -> Vec<Range<usize>> {
        (0..self.measures).step_by(CHUNK).map(|s| s..(s + CHUNK).min(self.measures)).collect()
    }

    fn stamp(&self, period: Period) -> String {
        let day = (period.start() + Duration::days(4)).min(self.today);
        format!("{day}T09:30:00Z")
    }

    fn person(&self, n: usize) -> String {
        format!("P-{}", 2 + n % (self.shape().people - 1))
    }

    /// Everything but the measures: cycle, units, people, areas, objectives, key results, KPIs
    /// (with their values) and the execution hierarchy.
    pub fn structure(&self) -> Plan {
        let s = self.shape();
        let mut plan = Plan { format: p::FORMAT.into(), version: p::FORMAT_VERSION, ..Default::default() };
        let year = self.today.format("%Y").to_string();
        plan.cycles.push(p::Cycle {
            key: "C-1".into(),
            name: format!("FY{year}"),
            start: self.today - Duration::days(120),
            end: self.today + Duration::days(245),
        });
        for u in 0..s.business_units + s.functions {
            let (kind, name) = if u < s.business_units {
                (UnitKind::BusinessUnit, format!("Business unit {}", word(u + 101)))
            } else {
                (UnitKind::Function, format!("{} function", word(u + 211)))
            };
            plan.units.push(p::Unit { key: format!("U-{}", u + 1), name, kind, parent: None });
        }
        for i in 0..s.people {
            let admin = i == 0;
            plan.people.push(p::Person {
                key: format!("P-{}", i + 1),
                name: format!("{} {}", word(i * 7 + 3), word(i * 13 + 5)),
                login: Some(if admin { self.admin_login.clone() } else { format!("user{}", i + 1) }),
                email: None,
                unit: Some(format!("U-{}", 1 + i % s.business_units)),
                pmo_admin: admin,
            });
        }
        for k in 0..s.kras {
            plan.kras.push(p::Kra { key: format!("KRA-{}", k + 1), name: format!("Area {}", word(k + 17)), owner: Some(self.person(k)) });
        }
        self.objectives(&mut plan);
        self.kpis(&mut plan);
        self.nodes(&mut plan);
        plan
    }

    fn objectives(&self, plan: &mut Plan) {
        let s = self.shape();
        let mut next_kr = 0usize;
        let levels = [(Level::Company, 1usize, 2usize), (Level::Department, s.fan, 2), (Level::Team, s.fan * s.fan, 3)];
        // Objective numbers: company 1..c, then departments, then teams, each level in order.
        let mut first = 1usize;
        for (depth, (level, per_company, krs)) in levels.into_iter().enumerate() {
            let count = s.company * per_company;
            for j in 0..count {
                let n = first + j;
                let mut r = Rng::for_item(self.seed, 1, n);
                let parent = match depth {
                    0 => None,
                    _ => Some(first - s.company * levels[depth - 1].1 + j / s.fan),
                };
                plan.objectives.push(p::Objective {
                    key: format!("O-{n}"),
                    cycle: "C-1".into(),
                    title: format!("{}: {} {}", GOALS[n % GOALS.len()], word(n * 31 + 7), word(n * 57 + 11)),
                    description: None,
                    owner: Some(self.person(n * 3)),
                    parent: parent.map(|p| format!("O-{p}")),
                    level,
                    units: vec![format!("U-{}", 1 + r.below(s.business_units + s.functions))],
                    manual_status: (r.below(50) == 0).then(|| "green".to_string()),
                    status_explanation: None,
                    target: (depth == 0).then(|| num(self.measures as i64 * 40_000 / s.company as i64)),
                });
                for _ in 0..krs {
                    next_kr += 1;
                    self.key_result(plan, next_kr, n);
                }
            }
            first += count;
        }
    }

    fn key_result(&self, plan: &mut Plan, n: usize, objective: usize) {
        let mut r = Rng::for_item(self.seed, 2, n);
        let kind = kr_kind(n - 1);
        let (baseline, target) = match kind {
            KrKind::IncreaseTo | KrKind::StayAbove => (r.between(20, 60), r.between(80, 120)),
            KrKind::DecreaseTo | KrKind::StayBelow => (r.between(80, 120), r.between(20, 60)),
            KrKind::Milestone => (0, 1),
        };
        plan.key_results.push(p::KeyResult {
            key: format!("KR-{n}"),
            objective: format!("O-{objective}"),
            title: format!("{} {} for {}", ACTIONS[n % ACTIONS.len()], OBJECTS[(n / 10) % OBJECTS.len()], word(n * 19 + 3)),
            kind,
            baseline: (kind != KrKind::Milestone).then(|| num(baseline)),
            target: (kind != KrKind::Milestone).then(|| num(target)),
            unit: Some("%".into()),
            weight: num(if n.is_multiple_of(4) { 2 } else { 1 }),
            confidence: None,
            owner: Some(self.person(n * 5)),
            milestone_done: kind == KrKind::Milestone && r.below(3) == 0,
            manual_status: None,
            status_explanation: None,
            // Every numeric key result reports with a note, so an import never leaves one that
            // is off its line without saying why (the narrative rule).
            narrative: (kind != KrKind::Milestone).then(|| "Weekly review with the team; actions agreed where behind.".into()),
        });
        if kind == KrKind::Milestone {
            return;
        }
        // A plan that moves evenly from the baseline to the target over the cycle's weeks.
        let prof = profile(&mut r);
        let short = shortfalls(prof, &mut r);
        for (i, period) in self.periods().into_iter().enumerate() {
            let planned = baseline + (target - baseline) * (i as i64 + 6) / 30;
            let bad = if target >= baseline { 1.0 - short[i] } else { 1.0 + short[i] };
            let actual = ((planned as f64) * bad).round() as i64;
            let silent = prof == Profile::Silent && i >= PERIODS - 4;
            plan.values.push(value(format!("KR-{n}"), period, planned, None, (!silent).then_some(actual), self.stamp(period)));
        }
    }

    fn kpis(&self, plan: &mut Plan) {
        let s = self.shape();
        for k in 1..=s.kpis {
            let mut r = Rng::for_item(self.seed, 3, k);
            let ipo = [IpoClass::Input, IpoClass::Process, IpoClass::Outcome][k % 3];
            let direction = if k % 4 == 0 { Direction::LowerIsBetter } else { Direction::HigherIsBetter };
            let target = r.between(200, 5_000);
            let complete = k % 10 != 0;
            let informs = match r.below(20) {
                0 => vec![],
                1..=3 => vec![format!("O-{}", 1 + r.below(s.objectives))],
                _ => vec![format!("KR-{}", 1 + r.below(s.key_results))],
            };
            plan.kpis.push(p::Kpi {
                key: format!("K-{k}"),
                title: format!("{} {} rate", word(k * 23 + 1), OBJECTS[k % OBJECTS.len()]),
                ipo_class: ipo,
                unit: Some("count".into()),
                direction,
                target: Some(num(target)),
                tolerance: (k % 5 == 0).then(|| Num::parse("0.1").expect("literal")),
                timeframe: complete.then(|| "weekly".into()),
                data_source: complete.then(|| "warehouse".into()),
                frequency: complete.then_some(Cadence::Weekly),
                owner: Some(self.person(k * 11)),
                kra: Some(format!("KRA-{}", 1 + k % s.kras)),
                informs,
                narrative: Some("Reviewed weekly; causes of any gap named with the next step.".into()),
            });
            let prof = profile(&mut r);
            let short = shortfalls(prof, &mut r);
            for (i, period) in self.periods().into_iter().enumerate() {
                let bad = if direction == Direction::HigherIsBetter { 1.0 - short[i] } else { 1.0 + short[i] };
                let actual = ((target as f64) * bad).round() as i64;
                let silent = prof == Profile::Silent && i >= PERIODS - 4;
                plan.values.push(value(format!("K-{k}"), period, target, None, (!silent).then_some(actual), self.stamp(period)));
            }
        }
    }

    fn nodes(&self, plan: &mut Plan) {
        let s = self.shape();
        let levels = [
            (NodeKind::Portfolio, "PF", s.portfolios, 0usize),
            (NodeKind::Programme, "PG", s.programmes, 4),
            (NodeKind::Project, "PJ", s.projects, 10),
            (NodeKind::Package, "MP", s.packages, 10),
        ];
        for (depth, (kind, prefix, count, per_parent)) in levels.into_iter().enumerate() {
            for i in 0..count {
                let parent = (depth > 0).then(|| format!("{}-{}", levels[depth - 1].1, 1 + i / per_parent));
                let target = match kind {
                    NodeKind::Portfolio => Some(num(self.measures as i64 * 40_000 / s.portfolios as i64)),
                    NodeKind::Programme => Some(num(self.measures as i64 * 40_000 / s.programmes as i64)),
                    _ => None,
                };
                plan.nodes.push(p::Node {
                    key: format!("{prefix}-{}", i + 1),
                    kind,
                    title: format!("{} {}", word(i * 29 + depth * 1000 + 5), kind.as_str()),
                    parent,
                    owner: Some(self.person(i * 7 + depth)),
                    target,
                });
            }
        }
    }

    /// The measures with these indexes (0-based), their milestones, links and values.
    pub fn measures(&self, range: Range<usize>) -> Plan {
        let s = self.shape();
        let periods = self.periods();
        let mut plan = Plan { format: p::FORMAT.into(), version: p::FORMAT_VERSION, ..Default::default() };
        plan.measures.reserve(range.len());
        plan.values.reserve(range.len() * PERIODS);
        for i in range {
            let n = i + 1;
            let key = format!("M-{n}");
            let mut r = Rng::for_item(self.seed, 4, n);
            let stage = match r.below(100) {
                0..=9 => Stage::Defined,
                10..=24 => Stage::Identified,
                25..=44 => Stage::Detailed,
                45..=69 => Stage::Decided,
                70..=94 => Stage::Implemented,
                _ => Stage::Closed,
            };
            let side = match r.below(100) {
                0 => Some(SideState::OnHold),
                1 => Some(SideState::Cancelled),
                _ => None,
            };
            let value_type = match r.below(20) {
                0..=13 => ValueType::RecurringBenefit,
                14..=16 => ValueType::OneTimeBenefit,
                17..=18 => ValueType::OneTimeCost,
                _ => ValueType::RecurringCost,
            };
            let owner = self.person(n);
            // Four eyes: the sponsor and the controller are never the owner.
            let other = |k: usize| (k..).map(|k| self.person(k)).find(|p| *p != owner).expect("more than one person");
            let (sponsor, controller) = (other(n * 3 + 1), other(n * 5 + 2));
            let decided = stage.index() >= Stage::Decided.index();
            let mut contributes = Vec::new();
            if r.below(10) < 7 {
                contributes.push(format!("KR-{}", 1 + r.below(s.key_results)));
            }
            if r.below(10) < 4 || contributes.is_empty() {
                contributes.push(format!("K-{}", 1 + r.below(s.kpis)));
            }
            let depends_on = if n > 50 && r.below(100) == 0 { vec![format!("M-{}", n - 1 - r.below(49))] } else { vec![] };
            // Two milestones; a few run late (over 14 days late is critical).
            let late = match r.below(100) {
                0..=1 => Some(r.between(15, 40)),
                2..=6 => Some(r.between(1, 13)),
                _ => None,
            };
            let design_due = self.today - Duration::days(r.between(20, 60));
            let live_due = match late {
                Some(days) => self.today - Duration::days(days),
                None => self.today + Duration::days(r.between(7, 120)),
            };
            // An implemented or closed measure has every milestone done (its stage says so).
            let live_done = (stage >= Stage::Implemented).then(|| live_due.min(self.today));
            let milestones = vec![
                p::Milestone { title: "Design signed off".into(), due: design_due, done: Some(design_due) },
                p::Milestone { title: "Live in production".into(), due: live_due, done: live_done },
            ];
            let prof = profile(&mut r);
            let short = shortfalls(prof, &mut r);
            let weekly = r.between(2, 60) * 1_000;
            let mut plan_total = 0;
            for (w, period) in periods.iter().enumerate() {
                let planned = weekly + (w as i64) * weekly / 20;
                plan_total += planned;
                let bad = if value_type.is_cost() { 1.0 + short[w] } else { 1.0 - short[w] };
                let actual = ((planned as f64) * bad).round() as i64;
                let silent = prof == Profile::Silent && w >= PERIODS - 4;
                let forecast = silent.then(|| planned * 9 / 10);
                plan.values.push(value(key.clone(), *period, planned, forecast, (!silent).then_some(actual), self.stamp(*period)));
            }
            let escalated = matches!(prof, Profile::Major | Profile::OffRepeatedly);
            plan.measures.push(p::Measure {
                key,
                title: format!("{} {} {}", ACTIONS[n % ACTIONS.len()], OBJECTS[(n / 10) % OBJECTS.len()], word(n)),
                package: Some(format!("MP-{}", 1 + i / PER_PACKAGE)),
                description: None,
                owner: Some(owner),
                sponsor: Some(sponsor.clone()),
                controller: Some(controller.clone()),
                business_unit: Some(format!("U-{}", 1 + n % s.business_units)),
                function: Some(format!("U-{}", 1 + s.business_units + n % s.functions)),
                kra: Some(format!("KRA-{}", 1 + n % s.kras)),
                stage,
                side_state: side,
                side_reason: side.map(|_| "waiting for budget".into()),
                pending_stage: None,
                requested_by: None,
                sponsor_approved_by: decided.then(|| sponsor.clone()),
                controller_signed_by: decided.then(|| controller.clone()),
                validated_by: (stage == Stage::Closed).then(|| controller.clone()),
                cadence: if n % 10 == 0 { Cadence::Biweekly } else { Cadence::Weekly },
                value_type,
                potential: Some(num(plan_total * 11 / 10)),
                narrative: Some(if escalated {
                    "Behind plan: supplier delay; recovery plan agreed with the sponsor.".into()
                } else {
                    "On course; next milestone prepared.".into()
                }),
                decision_needed: None,
                risk: (r.below(10) < 6).then(|| "Adoption slower than planned".into()),
                next_steps: None,
                contributes_to: contributes,
                depends_on,
                milestones,
            });
        }
        plan
    }
}

/// Load the organisation into `store` through the write path: the structure, then the measures
/// chunk by chunk, each chunk one `import_plan`. Returns the time spent importing (generating the
/// plans is not counted). `progress` is told the measures loaded so far.
pub fn load(store: &mut crate::store::Store, spec: &Spec, mut progress: impl FnMut(usize)) -> crate::store::Result<std::time::Duration> {
    let mut spent = std::time::Duration::ZERO;
    let structure = spec.structure();
    let t = std::time::Instant::now();
    store.import_plan(structure)?;
    spent += t.elapsed();
    for chunk in spec.chunks() {
        let end = chunk.end;
        let plan = spec.measures(chunk);
        let t = std::time::Instant::now();
        store.import_plan(plan)?;
        spent += t.elapsed();
        progress(end);
    }
    Ok(spent)
}

fn value(item: String, period: Period, planned: i64, forecast: Option<i64>, actual: Option<i64>, at: String) -> p::Value {
    p::Value {
        item,
        period: period.to_string(),
        baseline: None,
        planned: Some(num(planned)),
        forecast: forecast.map(num),
        actual: actual.map(num),
        confidence: None,
        comment: None,
        by: "generator".into(),
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(n: usize) -> Spec {
        Spec { measures: n, seed: 7, today: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(), admin_login: "admin".into() }
    }

    #[test]
    fn the_same_seed_gives_the_same_organisation() {
        let (a, b) = (spec(300), spec(300));
        assert_eq!(a.structure(), b.structure());
        assert_eq!(a.measures(0..300), b.measures(0..300));
        // Chunks are independent: generating a range alone gives the same measures.
        assert_eq!(a.measures(100..200).measures, a.measures(0..300).measures[100..200].to_vec());
        let other = Spec { seed: 8, ..spec(300) };
        assert_ne!(a.measures(0..300), other.measures(0..300));
    }

    #[test]
    fn shape_is_proportionate() {
        let s = Shape::of(100_000);
        assert_eq!((s.company, s.objectives, s.packages, s.kpis), (20, 620, 2_000, 500));
        assert_eq!(spec(100_000).measures(0..10).values.len(), 100);
        let small = spec(300);
        let plan = small.structure();
        assert_eq!(plan.objectives.len(), small.shape().objectives);
        assert_eq!(plan.key_results.len(), small.shape().key_results);
        let values = plan.values.len() + small.measures(0..300).values.len();
        assert_eq!(values, small.shape().values());
    }
}
