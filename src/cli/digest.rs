//! `keel digest` and `keel export --format ics`: what keel hands to mail and calendars.

use crate::store::read::EscalationFilter;
use crate::store::StoreError;
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Who gets a digest: one person (P-n or login), everybody, or the person running keel.
pub enum Whom {
    Me,
    Person(String),
    All,
}

pub struct MailOptions<'a> {
    pub sendmail: &'a Path,
    pub from: Option<&'a str>,
}

pub fn run(db: &Path, whom: Whom, mail: Option<MailOptions>) -> Result<i32> {
    let store = super::open(db)?;
    let people = store.recipients()?;
    let chosen: Vec<_> = match &whom {
        Whom::All => people,
        Whom::Me => {
            let Some(me) = store.actor.person_key.clone() else {
                bail!(StoreError::Invalid {
                    key: "digest".into(),
                    field: store.actor.login.clone(),
                    why: "you are not a person in this file: name one with --person P-n, or use --all".into()
                });
            };
            people.into_iter().filter(|p| p.key == me).collect()
        }
        Whom::Person(given) => {
            let found: Vec<_> =
                people.into_iter().filter(|p| p.key.eq_ignore_ascii_case(given) || p.login.as_deref() == Some(given)).collect();
            if found.is_empty() {
                bail!(StoreError::Invalid {
                    key: "--person".into(),
                    field: given.clone(),
                    why: "no person with that key (P-n) or login".into()
                });
            }
            found
        }
    };
    let check = store.check()?;
    let open = store.escalations(&EscalationFilter::default())?;
    let mut digests = Vec::new();
    for p in &chosen {
        digests.push(store.digest(p, &check, &open)?);
    }
    let Some(mail) = mail else {
        for (i, d) in digests.iter().enumerate() {
            if i > 0 {
                println!();
            }
            print!("{}", crate::io::digest::text(d));
        }
        return Ok(0);
    };
    let from = match mail.from {
        Some(f) => f.to_string(),
        None => format!("keel <{}@{}>", store.actor.login, hostname()),
    };
    let now = store.clock().now;
    let (mut sent, mut skipped) = (0, 0);
    for d in &digests {
        let Some(to) = d.person.email.as_deref().filter(|e| valid_address(e)) else {
            eprintln!("keel: {} {} has no usable email address: no digest sent", d.person.key, d.person.name);
            skipped += 1;
            continue;
        };
        if matches!(whom, Whom::All) && d.is_empty() {
            continue;
        }
        send(mail.sendmail, &crate::io::digest::message(d, to, &from, now))
            .with_context(|| format!("sending the digest of {} to {to}", d.person.key))?;
        sent += 1;
    }
    eprintln!("sent {sent} digest{} with {}", if sent == 1 { "" } else { "s" }, mail.sendmail.display());
    Ok(if skipped > 0 && sent == 0 { 65 } else { 0 })
}

/// An address keel will hand to sendmail: one `local@domain`, no spaces, quotes or brackets.
fn valid_address(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c);
    s.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@')) && s.chars().all(ok)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .unwrap_or_else(|| "localhost".into())
}

/// Hand one message to `sendmail -t -i` (recipients from the headers; a line holding one dot is
/// text), run directly, without a shell.
fn send(sendmail: &Path, message: &str) -> Result<()> {
    let mut child = Command::new(sendmail).args(["-t", "-i"]).stdin(Stdio::piped()).spawn().map_err(|e| {
        let why = format!("cannot run {}: {e}; give the path with --sendmail", sendmail.display());
        anyhow!(StoreError::Io(std::io::Error::new(e.kind(), why)))
    })?;
    child.stdin.take().expect("stdin is piped").write_all(message.as_bytes())?;
    let status = child.wait()?;
    if !status.success() {
        let why = format!("{} -t exited with {status}", sendmail.display());
        bail!(StoreError::Io(std::io::Error::other(why)));
    }
    Ok(())
}

/// `keel export --format ics`.
pub fn export_ics(db: &Path, out: Option<&Path>, force: bool) -> Result<i32> {
    let store = super::open(db)?;
    let name = crate::store::server::source_name(db);
    let text = crate::io::ics::ics(&store.calendar()?, &name);
    match out {
        Some(path) => super::out_file::write(path, text.as_bytes(), store.path(), force)?,
        None => super::stdout::write_bytes(text.as_bytes()),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_addresses_reach_sendmail() {
        assert!(valid_address("ana@example.org"));
        for bad in ["", "ana", "ana@", "@x", "a b@x", "a@x\nBcc: y@z", "<a@x>", "a@b@c"] {
            assert!(!valid_address(bad), "{bad:?}");
        }
    }
}
