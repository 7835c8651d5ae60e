//! Shell completion that knows the file: item keys, logins, people, units and cycles come from the
//! database (read-only, see [`crate::store::complete`]); gate actions and tiers are fixed lists.
//!
//! The shells call keel back while completing (clap_complete's dynamic engine: `COMPLETE=bash
//! keel -- keel show M-`); `keel completions SHELL` prints the script that sets this up.

use crate::store::complete::{candidates, Want};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, CompletionCandidate};
use std::ffi::OsStr;
use std::path::PathBuf;

/// The database the command line being completed names (`--db PATH` or `--db=PATH`), else
/// $KEEL_DB, else the default file.
fn database() -> PathBuf {
    let args: Vec<String> = std::env::args().collect();
    let mut found = None;
    for (i, a) in args.iter().enumerate() {
        if a == "--db" {
            found = args.get(i + 1).cloned();
        } else if let Some(p) = a.strip_prefix("--db=") {
            found = Some(p.to_string());
        }
    }
    found.map(PathBuf::from).or_else(|| std::env::var_os("KEEL_DB").map(PathBuf::from)).unwrap_or_else(super::default_db)
}

fn from_file(want: Want, current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    candidates(&database(), want, &prefix)
        .into_iter()
        .map(|(value, help)| {
            let help = crate::io::text::printable(help);
            CompletionCandidate::new(value).help((!help.is_empty()).then(|| help.into()))
        })
        .collect()
}

pub fn keys() -> ArgValueCompleter {
    ArgValueCompleter::new(|c: &OsStr| from_file(Want::Key, c))
}

pub fn logins() -> ArgValueCompleter {
    ArgValueCompleter::new(|c: &OsStr| from_file(Want::Login, c))
}

pub fn people() -> ArgValueCompleter {
    ArgValueCompleter::new(|c: &OsStr| from_file(Want::Person, c))
}

pub fn units() -> ArgValueCompleter {
    ArgValueCompleter::new(|c: &OsStr| from_file(Want::Unit, c))
}

pub fn cycles() -> ArgValueCompleter {
    ArgValueCompleter::new(|c: &OsStr| from_file(Want::Cycle, c))
}

fn fixed(list: &'static [(&'static str, &'static str)]) -> ArgValueCandidates {
    ArgValueCandidates::new(move || list.iter().map(|(v, h)| CompletionCandidate::new(*v).help(Some((*h).into()))).collect())
}

pub fn gate_actions() -> ArgValueCandidates {
    fixed(&[
        ("request", "owner asks for the next stage"),
        ("approve", "sponsor or controller approves"),
        ("reject", "refuse the request (needs --reason)"),
        ("back", "move back a stage (needs --reason)"),
        ("hold", "put on hold (needs --reason)"),
        ("resume", "resume from hold"),
        ("cancel", "cancel the measure (needs --reason)"),
    ])
}

pub fn tiers() -> ArgValueCandidates {
    fixed(&[("owner", "tier 1: owner review"), ("sponsor", "tier 2: sponsor action"), ("steering", "tier 3: steering committee")])
}

/// `keel completions SHELL`: the script that makes SHELL ask keel for completions.
pub fn registration(shell: clap_complete::Shell) -> anyhow::Result<Vec<u8>> {
    let name = shell.to_string();
    let shells = clap_complete::env::Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| anyhow::anyhow!("no dynamic completion for {name}: use bash, zsh, fish, elvish or powershell"))?;
    // The shell calls this very binary back, wherever it is installed.
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "keel".into());
    let mut out = Vec::new();
    completer.write_registration("COMPLETE", "keel", "keel", &exe, &mut out)?;
    Ok(out)
}
