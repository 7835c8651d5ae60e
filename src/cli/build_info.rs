//! What `keel --version` says (the version, the commit and the build date, from `build.rs`), and
//! the panic message of a release build, which names source files without the build machine's
//! directories.

/// `0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02)`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KEEL_COMMIT"), ", built ", env!("KEEL_BUILD_DATE"), ")");

/// A source path as a panic names it, without the directories of the machine that built keel:
/// `src/cli.rs` stays as it is, a dependency's
/// `/home/x/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/csv-1.3.1/src/reader.rs`
/// becomes `csv-1.3.1/src/reader.rs`, and any other absolute path keeps its last two parts.
pub fn short_path(file: &str) -> String {
    if !file.starts_with('/') && !file.contains(":\\") {
        return file.to_string();
    }
    let parts: Vec<&str> = file.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    // registry/src/<index>/<crate>/… and git/checkouts/<repo>/<rev>/…
    for (dir, skip) in [("registry", 3), ("git", 2)] {
        if let Some(i) = parts.iter().position(|p| *p == dir).filter(|i| parts.len() > i + skip + 1) {
            return parts[i + skip..].join("/");
        }
    }
    // Our own sources built from an absolute path: from the last `src` on.
    if let Some(i) = parts.iter().rposition(|p| *p == "src") {
        return parts[i..].join("/");
    }
    parts[parts.len().saturating_sub(2)..].join("/")
}

/// In a release build, print panics as `keel panicked at src/x.rs:10:5: message` with the path
/// shortened (see [`short_path`]); debug builds keep Rust's own message.
pub fn install_panic_hook() {
    if cfg!(debug_assertions) {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let at = info.location().map(|l| format!(" at {}:{}:{}", short_path(l.file()), l.line(), l.column())).unwrap_or_default();
        eprintln!("keel panicked{at}: {message}\nThis is a bug in keel: please report it with the command that caused it.");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_paths_lose_the_build_machines_directories() {
        assert_eq!(short_path("src/cli.rs"), "src/cli.rs");
        assert_eq!(
            short_path("/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/csv-1.3.1/src/reader.rs"),
            "csv-1.3.1/src/reader.rs"
        );
        assert_eq!(short_path("/home/ci/.cargo/git/checkouts/ratatui-abc/1234567/src/lib.rs"), "ratatui-abc/1234567/src/lib.rs");
        assert_eq!(short_path("/build/keel/src/store/edit.rs"), "src/store/edit.rs");
        assert_eq!(short_path("/opt/x/y/z.rs"), "y/z.rs");
    }

    #[test]
    fn the_version_names_a_commit_and_a_build_date() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(VERSION.contains("commit "), "{VERSION}");
        let date = VERSION.rsplit("built ").next().unwrap().trim_end_matches(')');
        assert!(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(), "{VERSION}");
    }
}
