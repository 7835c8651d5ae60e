//! `keel settings`: list the organisation's settings with the values in force (with any stored
//! value that is bad), or change one through the write path.

use crate::domain::settings::in_force;
use crate::store::{Change, Edit, Store, StoreError};
use anyhow::Result;

/// `keel settings set NAME=VALUE`, `keel settings NAME=VALUE` and `keel settings NAME VALUE` all
/// change one setting; `keel settings NAME` shows one; `keel settings` lists them all.
fn assignment(name: Option<String>, value: Option<String>) -> Result<(Option<String>, Option<String>)> {
    let split = |s: &str| s.split_once('=').map(|(n, v)| (Some(n.trim().to_string()), Some(v.trim().to_string())));
    Ok(match (name, value) {
        (Some(verb), Some(pair)) if verb == "set" => split(&pair).ok_or_else(|| StoreError::Invalid {
            key: "settings set".into(),
            field: pair.clone(),
            why: "write it as NAME=VALUE, e.g. keel settings set tolerance=0.05".into(),
        })?,
        (Some(verb), None) if verb == "set" => {
            return Err(StoreError::Invalid {
                key: "settings set".into(),
                field: String::new(),
                why: "name the setting and its value: keel settings set tolerance=0.05".into(),
            }
            .into())
        }
        (Some(pair), None) if pair.contains('=') => split(&pair).expect("holds '='"),
        other => other,
    })
}

/// List every setting, or set NAME to VALUE. Exit 0, or [`crate::store::check::SETTINGS_EXIT`]
/// when listing finds a bad stored setting.
pub fn run(store: &mut Store, name: Option<String>, value: Option<String>) -> Result<i32> {
    let (name, value) = assignment(name, value)?;
    match (name, value) {
        (Some(name), Some(value)) => {
            let outcome = store.edit(Edit::one(Change::Setting { name, value }))?;
            for e in &outcome.effects {
                println!("{e}");
            }
            Ok(0)
        }
        (Some(name), None) => {
            let Some((_, meaning)) = crate::store::SETTINGS.iter().find(|(n, _)| *n == name) else {
                let e = crate::domain::settings::check_one(&name, "").unwrap_err();
                return Err(StoreError::Invalid { key: "setting".into(), field: name, why: e }.into());
            };
            let stored = store.setting(&name)?;
            let (settings, _) = store.settings()?;
            println!("{name} = {}   {meaning}", shown(stored.as_deref(), in_force(&settings, &name)));
            Ok(0)
        }
        (None, _) => {
            let (settings, problems) = store.settings()?;
            for (name, meaning) in crate::store::SETTINGS {
                let stored = store.setting(name)?;
                println!("{name:<20} {:<24} {meaning}", shown(stored.as_deref(), in_force(&settings, name)));
            }
            for p in &problems {
                eprintln!("keel: ERROR {p}; the default is used until it is fixed with `keel settings {} VALUE`", p.name);
            }
            Ok(if problems.is_empty() { 0 } else { crate::store::check::SETTINGS_EXIT })
        }
    }
}

/// The value as written when one is stored (a bad one is named on stderr); else the default in force.
fn shown(stored: Option<&str>, in_force: Option<String>) -> String {
    match (stored, in_force) {
        (Some(s), _) => crate::domain::num::echo(s),
        (None, Some(f)) => format!("{f} (default)"),
        (None, None) => "(not set)".into(),
    }
}
