//! `keel settings`: list the organisation's settings (with any stored value that is bad), or
//! change one through the write path.

use crate::store::{Change, Edit, Store, StoreError};
use anyhow::Result;

/// List every setting, or set NAME to VALUE. Exit 0, or [`crate::store::check::SETTINGS_EXIT`]
/// when listing finds a bad stored setting.
pub fn run(store: &mut Store, name: Option<String>, value: Option<String>) -> Result<i32> {
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
            println!("{name} = {}   {meaning}", stored.as_deref().unwrap_or("(default)"));
            Ok(0)
        }
        (None, _) => {
            let (_, problems) = store.settings()?;
            for (name, meaning) in crate::store::SETTINGS {
                let stored = store.setting(name)?;
                println!("{name:<20} {:<16} {meaning}", stored.as_deref().map(crate::domain::num::echo).unwrap_or("(default)".into()));
            }
            for p in &problems {
                eprintln!("keel: ERROR {p}; the default is used until it is fixed with `keel settings {} VALUE`", p.name);
            }
            Ok(if problems.is_empty() { 0 } else { crate::store::check::SETTINGS_EXIT })
        }
    }
}
