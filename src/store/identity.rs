//! Who runs keel, as the kernel knows it: the real user id and its name in the password database.
//! Environment variables (`$USER`, `$LOGNAME`) are set by whoever starts the process, so on a
//! shared host they prove nothing; keel never reads them to decide who is acting.

use std::ffi::CStr;

/// The prefix of a login made up for a user id the password database does not know. No person
/// record is ever matched to such a login on real data, so that user can only view.
pub const UNNAMED_PREFIX: &str = "uid:";

/// The login of whoever runs keel: the name of the real uid in the password database (local
/// files or a directory service, through NSS), else `uid:N`. Asked once per process.
pub fn os_login() -> String {
    static LOGIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LOGIN
        .get_or_init(|| {
            // SAFETY: getuid cannot fail and has no preconditions.
            let uid = unsafe { libc::getuid() };
            login_of(uid).unwrap_or_else(|| format!("{UNNAMED_PREFIX}{uid}"))
        })
        .clone()
}

/// Whether a login stands for a uid with no name (see [`UNNAMED_PREFIX`]).
pub fn is_unnamed(login: &str) -> bool {
    login.starts_with(UNNAMED_PREFIX)
}

/// The name of `uid` in the password database, through the re-entrant `getpwuid_r`.
pub(crate) fn login_of(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: `pwd` and `result` are valid for writes, `buf` is a writable buffer of the
        // length passed; on success `result` points at `pwd`, whose strings live in `buf`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: pw_name is a NUL-terminated string inside `buf`, which is still alive.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy().trim().to_string();
        return (!name.is_empty()).then_some(name);
    }
}

/// Every home folder in the password database (through `getent`, so directory services count too,
/// else /etc/passwd): `keel init --shared` never turns one, or a folder above one, into a group folder.
pub fn home_folders() -> Vec<std::path::PathBuf> {
    let getent = std::process::Command::new("getent").arg("passwd").output().ok().filter(|o| o.status.success());
    let text = match getent {
        Some(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        None => std::fs::read_to_string("/etc/passwd").unwrap_or_default(),
    };
    text.lines().filter_map(|l| l.split(':').nth(5)).filter(|h| h.starts_with('/')).map(std::path::PathBuf::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_named_and_an_unknown_uid_is_not() {
        assert_eq!(login_of(0).as_deref(), Some("root"));
        assert_eq!(login_of(3_999_999_999), None);
        assert!(is_unnamed("uid:1234") && !is_unnamed("alice"));
    }
}
