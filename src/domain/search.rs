//! How search ranks what it found (the same on every engine and path): the item whose key is
//! the text first, then items whose title begins with the text, then the rest — each group in
//! the order the candidates came (the order the items were made in). Case is folded letter by
//! letter, every alphabet's ([`fold`]): `école` finds `École`, `жук` finds `ЖУК`.

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

/// Text with each letter lower-cased on its own (Unicode's simple mapping, as a database's
/// `lower()` does it): what search compares. A file's search calls it from SQL (`keel_fold`);
/// a server's `lower()` does the same where its collation knows the letters (UTF-8 locales).
pub fn fold(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii() { c.to_ascii_lowercase() } else { simple_lower(c) }).collect()
}

/// A letter's lower case, one letter for one: where Unicode lowers to two (`İ` to `i` and a
/// combining dot) the first, as the C library's `towlower` gives it.
fn simple_lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn tier(text: &str, key: &str, title: &str) -> u8 {
    let q = fold(text);
    if fold(key) == q {
        0
    } else if fold(title).starts_with(&q) {
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
        // Every alphabet folds: É is é, Ж is ж.
        let keys: Vec<String> =
            rank("éclair", vec![hit(1, "A-1", "x éclair"), hit(2, "A-2", "Éclair")], 10).into_iter().map(|h| h.1).collect();
        assert_eq!(keys, ["A-2", "A-1"]);
    }

    #[test]
    fn folding_lowers_each_letter_of_any_alphabet_and_keeps_the_length_in_letters() {
        assert_eq!(super::fold("École ÄRGER Жук ΣΟΦΙΑ M-12"), "école ärger жук σοφια m-12");
        // One letter for one: İ lowers to i (not i and a combining dot); ß stays.
        assert_eq!(super::fold("İstanbul STRAßE"), "istanbul straße");
        for s in ["École", "İİ", "ẞ", "ǅ"] {
            assert_eq!(super::fold(s).chars().count(), s.chars().count(), "{s}");
        }
    }
}
