//! A page of measures' blocks, read in two queries, names for each measure what its own row and
//! its neighbours' say (owner, sponsor, business unit, what it serves), in the order asked, as
//! one look-up per fact would find them.

use super::measure_blocks;
use crate::store::engine::OptionalExtension;
use crate::store::Store;

fn name(store: &Store, sql: &str, id: i64) -> Option<String> {
    store.conn().query_row(sql, [id], |r| r.get::<_, Option<String>>(0)).optional().unwrap().flatten()
}

#[test]
fn measure_blocks_name_each_measures_people_unit_and_links_in_the_order_asked() {
    let (_dir, store) = crate::io::demo::in_temp_dir();
    // Every measure, newest first: the blocks must keep the order asked, not the table's.
    let ids: Vec<i64> = store.conn().query_map("SELECT id FROM measures ORDER BY id DESC", [], |r| r.get(0)).unwrap();
    let statuses = ids.iter().map(|id| (*id, store.with_statuses(|e| e.measure(*id)).unwrap(), Some(*id % 3))).collect();
    let blocks = measure_blocks(store.conn(), statuses).unwrap();
    assert_eq!(blocks.len(), ids.len());
    let (mut sponsored, mut in_unit, mut serving_two) = (0, 0, 0);
    for (id, b) in ids.iter().zip(&blocks) {
        let key = name(&store, "SELECT key FROM items WHERE id = ?1", *id).unwrap();
        assert_eq!(b.key, key, "order kept");
        assert_eq!(b.tier, Some(*id % 3), "{key}: the tier given");
        let person =
            |column: &str| name(&store, &format!("SELECT p.name FROM measures m JOIN people p ON p.id = m.{column} WHERE m.id = ?1"), *id);
        assert_eq!(b.owner, person("owner_id"), "{key}: owner");
        assert_eq!(b.sponsor, person("sponsor_id"), "{key}: sponsor");
        let unit = name(&store, "SELECT u.name FROM measures m JOIN units u ON u.id = m.business_unit_id WHERE m.id = ?1", *id);
        assert_eq!(b.business_unit, unit, "{key}: business unit");
        let serves: Vec<String> = store
            .conn()
            .query_map(
                "SELECT t.key FROM links l JOIN items t ON t.id = l.to_id AND t.retired_at IS NULL WHERE l.from_id = ?1 ORDER BY t.kind, t.num",
                [*id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b.serves, serves, "{key}: what it serves");
        sponsored += b.sponsor.is_some() as usize;
        in_unit += b.business_unit.is_some() as usize;
        serving_two += (b.serves.len() > 1) as usize;
    }
    assert!(sponsored > 0 && in_unit > 0 && serving_two > 0, "the demo has what is compared: {sponsored} {in_unit} {serving_two}");
}
