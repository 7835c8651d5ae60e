//! The value sources a user has defined, in their own configuration folder
//! (`~/.config/keel/sources.toml`): what `keel sync` runs for them. The shared keel file records
//! only which item a source feeds and the source's name; the command, file or query is here, so a
//! colleague who can write the shared file cannot make you run anything. The file is read only
//! when it and its folder belong to you and nobody else may write them.
//!
//! ```toml
//! [source.renewals]
//! item = "K-1"
//! command = ["/usr/local/bin/renewals", "--weekly"]   # run without a shell
//! timeout = 30                                         # seconds (default 60)
//!
//! [source.churn]
//! item = "K-2"
//! csv = "/srv/exports/churn.csv"
//! map = { period = "week", actual = "churn", forecast = "churn_fc" }
//!
//! [source.nrr]
//! item = "K-3"
//! sql = "/srv/finance.sqlite"            # or postgresql://reader@db.example/finance
//! query = "SELECT period, actual FROM nrr ORDER BY period"
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One source, as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    /// The item it feeds (a key such as K-1).
    pub item: String,
    /// A program and its arguments, run without a shell; its output is CSV or JSON rows of
    /// period, actual and forecast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Run `command` (one string) with `/bin/sh -c` instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shell: bool,
    /// A CSV file with a header, and which of its columns hold period, actual and forecast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<BTreeMap<String, String>>,
    /// A SQLite file (opened read-only) or a PostgreSQL URL, and the query whose columns are
    /// period, actual and (optionally) forecast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Seconds the source may take (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// How often it is due: weekly, biweekly, monthly, quarterly (default: the item's cadence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
}

/// What kind of source a definition is.
#[derive(Debug)]
pub enum Kind<'a> {
    Command { argv: &'a [String], shell: bool },
    Csv { path: &'a str, map: &'a BTreeMap<String, String> },
    Sql { location: &'a str, query: &'a str },
}

impl SourceDef {
    /// The kind, or what is wrong with the definition.
    pub fn kind(&self) -> Result<Kind<'_>, String> {
        match (&self.command, &self.csv, &self.sql) {
            (Some(argv), None, None) if !argv.is_empty() && !argv[0].is_empty() => {
                if self.shell && argv.len() != 1 {
                    return Err("with shell = true, command is one string for /bin/sh -c".into());
                }
                Ok(Kind::Command { argv, shell: self.shell })
            }
            (None, Some(path), None) => match &self.map {
                Some(map) if map.contains_key("period") && map.contains_key("actual") => Ok(Kind::Csv { path, map }),
                _ => Err("a csv source needs map = { period = \"COLUMN\", actual = \"COLUMN\" } (forecast optional)".into()),
            },
            (None, None, Some(location)) => match &self.query {
                Some(q) if !q.trim().is_empty() => Ok(Kind::Sql { location, query: q }),
                _ => Err("an sql source needs a query".into()),
            },
            _ => Err("needs exactly one of command, csv or sql".into()),
        }
    }

    /// A short description for listings.
    pub fn describe(&self) -> String {
        match self.kind() {
            Ok(Kind::Command { argv, shell }) => format!("{}{}", if shell { "sh -c " } else { "" }, argv.join(" ")),
            Ok(Kind::Csv { path, .. }) => format!("csv {path}"),
            Ok(Kind::Sql { location, .. }) => format!("sql {location}"),
            Err(why) => format!("invalid: {why}"),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    source: BTreeMap<String, SourceDef>,
}

/// Where the user's sources live.
pub fn path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keel").map(|d| d.config_dir().join("sources.toml"))
}

/// The user's sources by name (none when the file does not exist).
pub fn load() -> Result<BTreeMap<String, SourceDef>, String> {
    let Some(p) = path() else { return Ok(BTreeMap::new()) };
    if !p.exists() {
        return Ok(BTreeMap::new());
    }
    for check in [Some(p.as_path()), p.parent()].into_iter().flatten() {
        if let Some(why) = crate::hooks::untrusted(check) {
            return Err(format!("{} {why}: no source is run from it", check.display()));
        }
    }
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(file.source)
}

/// Write the user's sources back (private to them; replaced whole, never half-written).
pub fn save(sources: &BTreeMap<String, SourceDef>) -> Result<PathBuf, String> {
    let p = path().ok_or("no configuration folder for this user")?;
    let dir = p.parent().ok_or("no configuration folder")?;
    create_private_dir(dir)?;
    let mut text = String::from(
        "# keel value sources, run by `keel sync` as you. The shared keel file records only which item a\n\
         # source feeds, by name; what runs is defined here, in your own configuration.\n\n",
    );
    text.push_str(&toml::to_string(&File { source: sources.clone() }).map_err(|e| e.to_string())?);
    let mut tmp = tempfile::Builder::new().prefix(".sources").tempfile_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(p)
}

fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definition_has_one_kind_and_what_that_kind_needs() {
        let cmd = SourceDef { item: "K-1".into(), command: Some(vec!["/bin/echo".into(), "x".into()]), ..Default::default() };
        assert!(matches!(cmd.kind(), Ok(Kind::Command { shell: false, .. })));
        let both = SourceDef { csv: Some("a.csv".into()), ..cmd.clone() };
        assert!(both.kind().unwrap_err().contains("exactly one"));
        let csv = SourceDef { item: "K-1".into(), csv: Some("a.csv".into()), ..Default::default() };
        assert!(csv.kind().unwrap_err().contains("map"));
        let sh = SourceDef { shell: true, ..cmd };
        assert!(sh.kind().unwrap_err().contains("one string"));
        let text = "[source.a]\nitem = \"K-1\"\nsql = \"x.db\"\nquery = \"SELECT 1\"\ncolour = \"red\"\n";
        assert!(toml::from_str::<File>(text).is_err(), "a misspelt key is refused, not ignored");
    }
}
