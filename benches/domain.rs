//! Benchmarks of the hot domain functions: the ones `keel check` runs for every item of the
//! file and the write path runs on every edit. Run with `cargo bench --bench domain`.

use chrono::NaiveDate;
use keel::domain::escalation::{self, Point, Thresholds};
use keel::domain::rollup::{self, Money, PeriodMoney};
use keel::domain::scoring::{self, KrNumbers};
use keel::domain::status::{self, MilestoneFacts};
use keel::domain::{Direction, KrKind, Num, Period, ValueType};

fn main() {
    divan::main();
}

fn num(v: i64) -> Num {
    Num::from_int(v)
}

/// Ten weeks of plan and actual, the last three 25% below plan (a steering committee case).
fn points() -> Vec<Point> {
    let start = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
    (0..10)
        .map(|w| {
            let planned = 10_000 + w * 500;
            let actual = if w >= 7 { planned * 3 / 4 } else { planned - 100 };
            Point { period: Period::week_of(start + chrono::Duration::weeks(w)), planned: Some(num(planned)), actual: Some(num(actual)) }
        })
        .collect()
}

fn periods() -> Vec<PeriodMoney> {
    (0..10)
        .map(|w| PeriodMoney {
            planned: Some(num(10_000 + w * 500)),
            forecast: (w >= 8).then(|| num(9_000)),
            actual: (w < 8).then(|| num(9_800 + w * 500)),
        })
        .collect()
}

#[divan::bench]
fn score_key_result(b: divan::Bencher) {
    let actuals: Vec<Num> = (0..10).map(|w| num(40 + w * 4)).collect();
    b.bench(|| {
        scoring::score_key_result(&KrNumbers {
            kind: KrKind::IncreaseTo,
            baseline: Some(num(40)),
            target: Some(num(100)),
            actuals: divan::black_box(&actuals),
            milestone_done: false,
        })
    });
}

#[divan::bench]
fn objective_progress(b: divan::Bencher) {
    let grades: Vec<(Option<Num>, Num)> =
        (0..12).map(|i| (Some(Num::parse(&format!("0.{}", 10 + i * 7)).unwrap()), num(1 + i % 3))).collect();
    b.bench(|| scoring::objective_progress(divan::black_box(&grades)));
}

#[divan::bench]
fn variance_of_one_period(b: divan::Bencher) {
    let p = points()[9];
    let t = Thresholds::default();
    b.bench(|| escalation::variance(divan::black_box(&p), Direction::HigherIsBetter, t.tolerance));
}

#[divan::bench]
fn assess_ten_periods(b: divan::Bencher) {
    let pts = points();
    let t = Thresholds::default();
    b.bench(|| escalation::assess(divan::black_box(&pts), Direction::HigherIsBetter, &t, true));
}

#[divan::bench]
fn measure_money_ten_periods(b: divan::Bencher) {
    let ps = periods();
    b.bench(|| rollup::measure_money(divan::black_box(&ps), ValueType::RecurringBenefit));
}

/// Adding one measure's delta up a four-level ancestor path, as the write path does per edit.
#[divan::bench]
fn roll_up_delta_along_ancestors(b: divan::Bencher) {
    let before = rollup::measure_money(&periods(), ValueType::RecurringBenefit).unwrap();
    let mut changed = periods();
    changed[7].actual = Some(num(1));
    let after = rollup::measure_money(&changed, ValueType::RecurringBenefit).unwrap();
    let nodes = [Money { planned: num(5_000_000), forecast: num(4_900_000), actual: num(3_000_000) }; 4];
    b.bench(|| {
        let delta = after.minus(before).unwrap();
        divan::black_box(nodes).map(|n| n.plus(delta).unwrap())
    });
}

/// Summing a package of 50 measures from scratch (what a full recompute does per package).
#[divan::bench]
fn roll_up_fifty_measures(b: divan::Bencher) {
    let ms: Vec<Money> = (0..50)
        .map(|i| {
            rollup::measure_money(&periods(), ValueType::RecurringBenefit)
                .unwrap()
                .plus(Money { planned: num(i), ..Money::default() })
                .unwrap()
        })
        .collect();
    b.bench(|| divan::black_box(&ms).iter().try_fold(Money::default(), |a, m| a.plus(*m)));
}

#[divan::bench]
fn potential_status(b: divan::Bencher) {
    let t = Thresholds::default();
    b.bench(|| status::potential(divan::black_box(num(105_000)), num(93_000), Direction::HigherIsBetter, &t));
}

#[divan::bench]
fn implementation_status(b: divan::Bencher) {
    let t = Thresholds::default();
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let due = [today - chrono::Duration::days(40), today - chrono::Duration::days(3)];
    let ms: Vec<MilestoneFacts> = vec![
        MilestoneFacts { title: "Design signed off", due: due[0], done: Some(due[0]) },
        MilestoneFacts { title: "Live in production", due: due[1], done: None },
    ];
    b.bench(|| status::implementation(divan::black_box(&ms), &[], today, &t));
}
