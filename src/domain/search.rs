//! How search ranks what it found (the same on every engine and path): the item whose key is
//! the text first, then items whose title begins with the text, then the rest — each group in
//! the order the candidates came (the order the items were made in). Case is compared as the
//! database's LIKE compares it: ASCII letters only.

/// One item found: its id (the order it was made in), key and title.
pub type Hit = (i64, String, String);

/// `found` (each id once kept, in the order given) ranked for `text`, at most `limit`.
pub fn rank(text: &str, found: Vec<Hit>, limit: usize) -> Vec<Hit> {
    let mut seen = std::collections::HashSet::new();
    let mut hits: Vec<Hit> = found.into_iter().filter(|(id, ..)| seen.insert(*id)).collect();
    hits.sort_by_key(|(_, key, title)| tier(text, key, title));
    hits.truncate(limit);
    hits
}

fn tier(text: &str, key: &str, title: &str) -> u8 {
    let (t, q) = (title.as_bytes(), text.as_bytes());
    if key.eq_ignore_ascii_case(text) {
        0
    } else if t.len() >= q.len() && t[..q.len()].eq_ignore_ascii_case(q) {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::rank;

    fn hit(id: i64, key: &str, title: &str) -> super::Hit {
        (id, key.into(), title.into())
    }

    #[test]
    fn the_key_then_titles_that_begin_with_the_text_then_the_rest_each_in_the_order_found() {
        let found = vec![
            hit(1, "O-1", "Improve pricing"),
            hit(2, "M-7", "Pricing review"),
            hit(3, "M-8", "pricing two"),
            hit(4, "PRICING", "x"),
            hit(2, "M-7", "Pricing review"),
        ];
        let keys: Vec<String> = rank("pricing", found.clone(), 10).into_iter().map(|h| h.1).collect();
        assert_eq!(keys, ["PRICING", "M-7", "M-8", "O-1"]);
        assert_eq!(rank("pricing", found, 2).len(), 2, "at most the page");
        // Only ASCII folds, as SQLite's LIKE: É is not é.
        let keys: Vec<String> =
            rank("éclair", vec![hit(1, "A-1", "x éclair"), hit(2, "A-2", "Éclair")], 10).into_iter().map(|h| h.1).collect();
        assert_eq!(keys, ["A-1", "A-2"]);
    }
}
