//! Value parsing: numbers, periods and item keys as typed or read from a file. Whatever the
//! input: no panic; whatever parses prints back to something that parses to the same value; and
//! the arithmetic and display the rules use on parsed numbers never panic.

#![no_main]

use keel::domain::escalation::{assess, Point, Thresholds};
use keel::domain::{Direction, ItemKey, Num, Period};
use libfuzzer_sys::fuzz_target;

fn num(s: &str) -> Option<Num> {
    let n = Num::parse(s).ok()?;
    let shown = n.to_string();
    assert_eq!(Num::parse(&shown).ok(), Some(n), "{s:?} → {shown:?} does not parse back");
    let _ = (n.grouped(), n.percent(), n.round_dp(2), n.abs(), n.negated(), n.clamp01());
    Some(n)
}

fn period(s: &str) -> Option<Period> {
    let p = Period::parse(s).ok()?;
    let shown = p.to_string();
    assert_eq!(Period::parse(&shown).ok(), Some(p), "{s:?} → {shown:?} does not parse back");
    assert!(p.start() <= p.end(), "{p} ends before it starts");
    assert_eq!(p.next().prev(), p, "{p}: next then prev");
    Some(p)
}

fn key(s: &str) {
    if let Ok(k) = ItemKey::parse(s) {
        let shown = k.to_string();
        assert_eq!(ItemKey::parse(&shown).ok(), Some(k), "{s:?} → {shown:?} does not parse back");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Up to four fields, as a CSV row or a `keel set` line would give them.
    let parts: Vec<&str> = text.split(['|', ',', '\n']).take(4).collect();
    let nums: Vec<Option<Num>> = parts.iter().map(|p| num(p)).collect();
    let periods: Vec<Option<Period>> = parts.iter().map(|p| period(p)).collect();
    parts.iter().for_each(|p| key(p));
    if let (Some(Some(a)), Some(Some(b))) = (nums.first(), nums.get(1)) {
        let _ = (a.checked_add(*b), a.checked_sub(*b), a.checked_mul(*b));
        if let Some(r) = a.ratio(*b) {
            let _ = (r.percent(), r.grouped(), r.round_dp(4));
        }
        // The variance rules on a run of periods, as `keel set` would trigger them.
        let start = periods.iter().flatten().next().copied().unwrap_or(Period::Week { year: 2026, week: 1 });
        let points: Vec<Point> = (0..4)
            .scan(start, |p, i| {
                let here = *p;
                *p = p.next();
                Some(Point { period: here, planned: Some(*b), actual: Some(if i % 2 == 0 { *a } else { *b }) })
            })
            .collect();
        let t = Thresholds::default();
        for d in [Direction::HigherIsBetter, Direction::LowerIsBetter] {
            let _ = assess(&points, d, &t, true);
            let _ = assess(&points, d, &t, false);
        }
    }
});
