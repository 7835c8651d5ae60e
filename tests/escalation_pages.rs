//! The variance list read a page at a time by keyset must be the whole list, in the same order,
//! whichever way it is walked, with every filter — and that order must be the exact one:
//! most severe tier, then the largest relative gap (none last), then the largest absolute gap.

use chrono::NaiveDate;
use keel::domain::escalation::Tier;
use keel::domain::ItemKey;
use keel::store::escalation_list::{Rank, Scope};
use keel::store::read::{EscalationFilter, EscalationRow};
use keel::store::Store;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn generated(dir: &tempfile::TempDir) -> Store {
    generated_with(dir, 3_000)
}

fn generated_with(dir: &tempfile::TempDir, measures: usize) -> Store {
    let mut store = Store::create(&dir.path().join("gen.keel"), false).unwrap();
    store.set_clock(today());
    let spec = keel::io::generate::Spec { measures, seed: 11, today: today(), admin_login: store.actor.login.clone() };
    keel::io::generate::load(&mut store, &spec, |_| {}).unwrap();
    store
}

fn ids(rows: &[(Rank, EscalationRow)]) -> Vec<i64> {
    rows.iter().map(|(_, r)| r.id).collect()
}

/// Forward from the first page by `After`, backward from the last by `Before`.
fn walk(store: &Store, filter: &EscalationFilter, page: usize) -> (Vec<i64>, Vec<i64>) {
    let mut forward = store.escalation_page(filter, Scope::First(page)).unwrap();
    let mut all = ids(&forward);
    while let Some((last, _)) = forward.last().cloned() {
        forward = store.escalation_page(filter, Scope::After(last, page)).unwrap();
        assert!(forward.len() <= page);
        all.extend(ids(&forward));
    }
    let mut backward = store.escalation_page(filter, Scope::Last(page)).unwrap();
    let mut back = ids(&backward);
    while let Some((first, _)) = backward.first().cloned() {
        backward = store.escalation_page(filter, Scope::Before(first, page)).unwrap();
        let mut ahead = ids(&backward);
        ahead.extend(back);
        back = ahead;
    }
    (all, back)
}

#[test]
fn pages_walked_either_way_make_the_whole_list_with_every_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = generated(&dir);
    let whole = store.escalations(&EscalationFilter::default()).unwrap();
    assert!(whole.len() > 100, "the generated organisation should have many open escalations, has {}", whole.len());
    for tier in [Tier::OwnerReview, Tier::SponsorAction, Tier::SteeringCommittee] {
        assert!(whole.iter().any(|e| e.tier == tier.number()), "no {tier:?} escalation to page through");
    }
    let some_owner = first_owner_login(&store, &whole);
    assert!(some_owner.is_some(), "no owner login found");
    let some_unit = whole.iter().find_map(|e| e.unit.clone());
    let filters = [
        EscalationFilter::default(),
        EscalationFilter { tier: Some(Tier::SponsorAction), ..Default::default() },
        EscalationFilter { owner_login: some_owner, ..Default::default() },
        EscalationFilter { unit: some_unit, ..Default::default() },
    ];
    for filter in &filters {
        let expected: Vec<i64> = store.escalations(filter).unwrap().iter().map(|e| e.id).collect();
        assert!(!expected.is_empty(), "{filter:?} matches nothing: the test would prove nothing");
        assert_eq!(store.escalation_count(filter, None).unwrap(), expected.len(), "{filter:?}");
        for page in [1, 7, 50, 1000] {
            let (forward, backward) = walk(&store, filter, page);
            assert_eq!(forward, expected, "{filter:?}, forward by {page}");
            assert_eq!(backward, expected, "{filter:?}, backward by {page}");
        }
        // A page from a rank starts at that row, and its position is the count before it.
        let rows = store.escalation_page(filter, Scope::First(expected.len())).unwrap();
        for at in [0, expected.len() / 3, expected.len() - 1] {
            let (rank, row) = rows[at].clone();
            let page = store.escalation_page(filter, Scope::From(rank.clone(), 5)).unwrap();
            assert_eq!(page[0].1.id, row.id);
            assert_eq!(store.escalation_count(filter, Some(&rank)).unwrap(), at);
        }
    }
}

#[test]
fn the_order_is_by_exact_severity() {
    let dir = tempfile::tempdir().unwrap();
    let store = generated(&dir);
    let whole = store.escalations(&EscalationFilter::default()).unwrap();
    let mut exact = whole.clone();
    exact.sort_by(|a, b| {
        b.tier
            .cmp(&a.tier)
            .then_with(|| b.relative.map(|r| r.abs()).cmp(&a.relative.map(|r| r.abs())))
            .then_with(|| b.gap.abs().cmp(&a.gap.abs()))
            .then_with(|| a.id.cmp(&b.id))
    });
    let got: Vec<i64> = whole.iter().map(|e| e.id).collect();
    let want: Vec<i64> = exact.iter().map(|e| e.id).collect();
    assert_eq!(got, want);
}

/// The login of the owner of the first escalated measure, read from the people's details.
fn first_owner_login(store: &Store, rows: &[EscalationRow]) -> Option<String> {
    let measure = rows.iter().find(|e| e.kind == "measure")?;
    let detail = store.detail(&ItemKey::parse(&measure.key).ok()?).ok()?;
    let owner = detail.fields.iter().find(|f| f.name == "owner")?.value.clone()?;
    let person = store.detail(&ItemKey::parse(owner.split(' ').next()?).ok()?).ok()?;
    person.fields.iter().find(|f| f.name == "login")?.value.clone()
}

/// The app's window on the list, moved as the cursor moves: every row it shows is the row at that
/// place in the whole list, and it never holds more than a few pages.
#[test]
fn the_apps_window_follows_the_cursor_through_the_whole_list() {
    use keel::tui::variance_list::VarianceList;
    let dir = tempfile::tempdir().unwrap();
    let store = generated_with(&dir, 5_000);
    let filter = EscalationFilter::default();
    let whole: Vec<i64> = store.escalations(&filter).unwrap().iter().map(|e| e.id).collect();
    assert!(whole.len() > 500, "too few escalations ({}) to move the window past its limit", whole.len());
    let mut list = VarianceList::default();
    let mut cursor = 0;
    list.reload(&store, &filter, &mut cursor).unwrap();
    assert_eq!(list.len(), whole.len());
    let height = 12;
    let check = |list: &mut VarianceList, cursor: usize| {
        let offset = cursor.saturating_sub(height - 1);
        list.cover(&store, &filter, offset, height).unwrap();
        for (i, row) in list.visible(offset, height) {
            assert_eq!(row.id, whole[i], "row {i}");
        }
        let shown = list.visible(offset, height).count();
        assert_eq!(shown, height.min(whole.len() - offset), "rows missing at cursor {cursor}");
        assert!(list.held() <= 400, "holding {} rows", list.held());
    };
    // Down one at a time, then up by pages, bottom, top, and down by pages.
    for c in 0..whole.len() {
        cursor = c;
        check(&mut list, cursor);
    }
    while cursor > 0 {
        cursor = cursor.saturating_sub(height);
        check(&mut list, cursor);
    }
    cursor = whole.len() - 1;
    check(&mut list, cursor);
    cursor = 0;
    check(&mut list, cursor);
    while cursor + 1 < whole.len() {
        cursor = (cursor + height).min(whole.len() - 1);
        check(&mut list, cursor);
    }
    // Read again deep in the list: the window keeps its place and the cursor its escalation.
    cursor = whole.len() / 2;
    check(&mut list, cursor);
    let id = list.get(cursor).unwrap().id;
    list.reload(&store, &filter, &mut cursor).unwrap();
    assert_eq!(list.get(cursor).map(|r| r.id), Some(id));
}

/// Someone opens an escalation more severe than the one under the cursor: after the reload the
/// cursor is still on the same escalation (a triage key must never act on its neighbour).
#[test]
fn the_cursor_keeps_its_escalation_when_others_open_above_it() {
    use keel::domain::{ItemKind, Period};
    use keel::store::{Change, Edit};
    use keel::tui::variance_list::VarianceList;
    let dir = tempfile::tempdir().unwrap();
    let mut store = generated(&dir);
    let filter = EscalationFilter::default();
    let mut list = VarianceList::default();
    let mut cursor = 0;
    list.reload(&store, &filter, &mut cursor).unwrap();
    cursor = 150;
    list.cover(&store, &filter, cursor - 11, 12).unwrap();
    let under_cursor = list.get(cursor).unwrap().id;
    // A measure with no open escalation falls to nothing this week: a steering-committee gap.
    let open: std::collections::HashSet<String> = store.escalations(&filter).unwrap().into_iter().map(|e| e.key).collect();
    let calm = (1..3_000).map(|n| ItemKey::new(ItemKind::Measure, n)).find(|k| !open.contains(&k.to_string())).unwrap();
    // The generated organisation's newest week is today's.
    let period = Period::week_of(today());
    store
        .edit(Edit::one(Change::Value { key: calm.clone(), period, field: "actual".into(), value: "0".into(), if_version: None }))
        .unwrap();
    let now: Vec<i64> = store.escalations(&filter).unwrap().iter().map(|e| e.id).collect();
    let moved_to = now.iter().position(|id| *id == under_cursor).unwrap();
    assert_eq!(moved_to, 151, "the new escalation should rank above the one under the cursor");
    list.reload(&store, &filter, &mut cursor).unwrap();
    assert_eq!(cursor, 151);
    assert_eq!(list.get(cursor).map(|r| r.id), Some(under_cursor));
    assert_eq!(list.len(), now.len());
}
