//! The shape of the organisation: how deep objectives may nest, which kind of unit a measure's
//! business unit and function must be, and that measures never wait for each other in a loop.
//! Every walk here is iterative, so no structure in a file can overflow a stack.

use super::UnitKind;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;

/// keel's technical limit on the objective tree: a root objective is level 1, and no objective
/// sits deeper than this. Far above the four levels of the cascade (company → department → team →
/// individual); it only keeps a runaway or hostile plan from making a file unusable.
pub const MAX_OBJECTIVE_LEVELS: usize = 100;

/// Why an objective `levels` deep may not exist, or `None` when it may.
pub fn objective_depth_refusal(levels: usize) -> Option<String> {
    (levels > MAX_OBJECTIVE_LEVELS).then(|| {
        format!("would be {levels} levels deep; objectives nest at most {MAX_OBJECTIVE_LEVELS} levels — align it to an objective higher up")
    })
}

/// The level of each node of a forest given by `parent` links (a root is level 1), and the nodes
/// that lie on a loop of parent links (they have no level). Iterative, linear in the nodes.
pub fn levels<K: Copy + Eq + Hash + Ord>(parent: &HashMap<K, Option<K>>) -> (HashMap<K, usize>, BTreeSet<K>) {
    let mut level: HashMap<K, usize> = HashMap::with_capacity(parent.len());
    let mut members: BTreeSet<K> = BTreeSet::new();
    // On a loop or below one: no level (the loop itself is reported).
    let mut lost: HashSet<K> = HashSet::new();
    for &start in parent.keys() {
        if level.contains_key(&start) || lost.contains(&start) {
            continue;
        }
        // Walk up until a node of known level, a root, or a node already on this path.
        let mut path: Vec<K> = Vec::new();
        let mut on_path: HashMap<K, usize> = HashMap::new();
        let mut cursor = Some(start);
        let mut base = Some(0);
        while let Some(c) = cursor {
            if let Some(&l) = level.get(&c) {
                base = Some(l);
                break;
            }
            if lost.contains(&c) {
                base = None;
                break;
            }
            if let Some(&at) = on_path.get(&c) {
                members.extend(path[at..].iter().copied());
                base = None;
                break;
            }
            on_path.insert(c, path.len());
            path.push(c);
            cursor = parent.get(&c).copied().flatten();
        }
        for (i, n) in path.iter().rev().enumerate() {
            match base {
                Some(b) => {
                    level.insert(*n, b + i + 1);
                }
                None => {
                    lost.insert(*n);
                }
            }
        }
    }
    (level, members)
}

/// A loop among "waits for" links, as the path `a → b → … → a`, or `None`. Iterative depth-first
/// search, linear in nodes and links.
pub fn dependency_loop<K: Copy + Eq + Hash + Ord>(waits_for: &HashMap<K, Vec<K>>) -> Option<Vec<K>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut mark: HashMap<K, Mark> = HashMap::new();
    let mut starts: Vec<K> = waits_for.keys().copied().collect();
    starts.sort();
    for start in starts {
        if mark.contains_key(&start) {
            continue;
        }
        // Each frame: a node and the index of its next link to follow.
        let mut stack: Vec<(K, usize)> = vec![(start, 0)];
        mark.insert(start, Mark::Open);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let links = waits_for.get(&node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(&to) = links.get(*next) {
                *next += 1;
                match mark.get(&to) {
                    Some(Mark::Open) => {
                        let at = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut path: Vec<K> = stack[at..].iter().map(|(n, _)| *n).collect();
                        path.push(to);
                        return Some(path);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        mark.insert(to, Mark::Open);
                        stack.push((to, 0));
                    }
                }
            } else {
                mark.insert(node, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}

/// Why measure `key` may not wait for `on`, or `None`. `on_waits_for_key`: `on` already waits
/// (directly or through others) for `key`.
pub fn dependency_refusal(key: &str, on: &str, on_waits_for_key: bool) -> Option<String> {
    if key == on {
        Some(format!("a measure cannot wait for itself; name another measure that {key} waits for"))
    } else if on_waits_for_key {
        Some(format!("{on} already waits for {key}: that would be a loop"))
    } else {
        None
    }
}

/// The unit a measure field names must be of the field's kind: `business_unit` a business unit,
/// `function` a function. Why not, or `None`; other fields take any unit.
pub fn unit_kind_refusal(field: &str, unit: &str, kind: UnitKind) -> Option<String> {
    let wanted = match field {
        "business_unit" => UnitKind::BusinessUnit,
        "function" => UnitKind::Function,
        _ => return None,
    };
    (kind != wanted).then(|| format!("{unit} is a {kind} unit; {field} must name a unit of kind {wanted}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_a_long_chain_without_recursion() {
        let n = 200_000u32;
        let parent: HashMap<u32, Option<u32>> = (1..=n).map(|i| (i, (i > 1).then(|| i - 1))).collect();
        let (level, looped) = levels(&parent);
        assert_eq!(level[&n], n as usize);
        assert_eq!(level[&1], 1);
        assert!(looped.is_empty());
    }

    #[test]
    fn loop_members_are_named_and_those_below_have_no_level() {
        // 1 → 2 → 3 → 1, and 4 → 3 hangs below the loop; 5 is a root, 6 under it.
        let parent: HashMap<u32, Option<u32>> =
            [(1, Some(2)), (2, Some(3)), (3, Some(1)), (4, Some(3)), (5, None), (6, Some(5))].into_iter().collect();
        let (level, looped) = levels(&parent);
        assert_eq!(looped.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!((level.get(&4), level[&5], level[&6]), (None, 1, 2));
    }

    #[test]
    fn depth_limit() {
        assert!(objective_depth_refusal(MAX_OBJECTIVE_LEVELS).is_none());
        assert!(objective_depth_refusal(MAX_OBJECTIVE_LEVELS + 1).unwrap().contains("at most 100"));
    }

    #[test]
    fn dependency_loops_are_found_with_their_path() {
        let g: HashMap<u32, Vec<u32>> = [(1, vec![2]), (2, vec![3]), (3, vec![1]), (4, vec![1])].into_iter().collect();
        assert_eq!(dependency_loop(&g), Some(vec![1, 2, 3, 1]));
        let g: HashMap<u32, Vec<u32>> = [(1, vec![2, 3]), (2, vec![3]), (3, vec![])].into_iter().collect();
        assert_eq!(dependency_loop(&g), None);
        let chain: HashMap<u32, Vec<u32>> = (1..100_000).map(|i| (i, vec![i + 1])).collect();
        assert_eq!(dependency_loop(&chain), None);
    }

    #[test]
    fn refusals_say_why() {
        assert!(dependency_refusal("M-1", "M-1", true).unwrap().contains("cannot wait for itself"));
        assert!(dependency_refusal("M-1", "M-2", true).unwrap().contains("M-2 already waits for M-1"));
        assert!(dependency_refusal("M-1", "M-2", false).is_none());
        assert!(unit_kind_refusal("business_unit", "U-2", UnitKind::Function).unwrap().contains("U-2 is a function unit"));
        assert!(unit_kind_refusal("function", "U-2", UnitKind::Function).is_none());
    }
}
