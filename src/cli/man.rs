//! `keel man`: manual pages from the clap definitions (clap_mangen), one per command and
//! subcommand (`keel.1`, `keel-report.1`, `keel-cycle-copy.1`, …), each with EXIT STATUS,
//! ENVIRONMENT, FILES, EXAMPLES and SEE ALSO sections. Every page a page refers to is written too.

use anyhow::{Context, Result};
use clap::CommandFactory;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Examples per command path (`""` is keel itself), as (command line, what it does).
const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    ("", &[("keel demo", "open a demo organisation to try keel safely"), ("keel --db team.keel", "open the terminal app on a file")]),
    (
        "report",
        &[
            ("keel report --format html --out steering.html", "the steering committee report as one HTML file"),
            ("keel report --format xlsx --out steering.xlsx --unit U-2", "a workbook for one unit and its sub-units"),
            ("keel report --summary --format md", "the short steering pack: summary, escalations, at-risk, funnel"),
        ],
    ),
    (
        "export",
        &[
            ("keel export --out plan.json", "the whole plan, re-importable"),
            ("keel export --format csv --what values --out values.csv", "every value, for a spreadsheet"),
            ("keel export --format ics --out keel.ics", "milestones, gate decisions and check-ins for a calendar"),
        ],
    ),
    ("import", &[("keel import values.csv --dry-run", "show what a values file would change"), ("keel import plan.json", "load a plan")]),
    ("set", &[("keel set M-27 actual=1200 forecast=1500 --period 2026-W47", "record this week's numbers")]),
    ("gate", &[("keel gate M-4 request", "ask for the next stage"), ("keel gate --pending", "gate requests waiting for you")]),
    ("escalations", &[("keel escalations --tier steering", "what the steering committee must decide")]),
    ("check", &[("keel check || mail -s 'keel escalations' pmo@example.org", "a cron line that speaks up when escalations are open")]),
    (
        "digest",
        &[
            ("keel digest", "your own digest for this week"),
            ("keel digest --all --mail", "every person's digest, handed to sendmail -t (a Monday cron line)"),
        ],
    ),
    ("settings", &[("keel settings", "every setting and the value in force"), ("keel settings set tolerance=0.05", "change one")]),
    ("man", &[("keel man --dir ~/.local/share/man/man1", "install these pages for man(1)")]),
    ("completions", &[("keel completions bash > ~/.local/share/bash-completion/completions/keel", "completions for bash")]),
    ("log", &[("keel log M-27 --since 2026-11-01", "what changed on a measure")]),
];

/// Exit codes as (code, meaning), read from the help text's list so both say the same.
pub fn exit_codes() -> Vec<(String, String)> {
    super::args::AFTER_HELP
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes"))
        .skip(1)
        .filter_map(|l| {
            let l = l.trim();
            let (code, rest) = l.split_once(char::is_whitespace)?;
            code.parse::<i32>().ok().map(|_| (code.to_string(), rest.trim().to_string()))
        })
        .collect()
}

/// Text for roff: backslashes and hyphens escaped, and no line starting with `.` or `'`.
fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

fn sections(path: &str, see_also: &[String]) -> String {
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in exit_codes() {
        s.push_str(&format!(".TP\n.B {code}\n{}\n", roff(&meaning)));
    }
    s.push_str(".SH ENVIRONMENT\n");
    for (name, what) in [
        ("KEEL_DB", "The database file when \\-\\-db is not given."),
        ("KEEL_USER", "Who acts, on demo files only: on a real file identity comes from the operating system's user id."),
        ("NO_COLOR", "When set (to anything), the terminal app and the listings use no colour; statuses stay words and symbols."),
    ] {
        s.push_str(&format!(".TP\n.B {name}\n{what}\n"));
    }
    s.push_str(".SH FILES\n");
    // Where the directories crate puts them on Linux; `keel where` prints the one in use.
    s.push_str(".TP\n.I $XDG_DATA_HOME/keel/keel.db\n");
    s.push_str("The default database (~/.local/share/keel/keel.db when XDG_DATA_HOME is not set; keel where prints it); ");
    s.push_str("created by keel init, mode 0600.\n");
    s.push_str(".TP\n.I $XDG_CONFIG_HOME/keel/keymap.toml\n");
    s.push_str("Key overrides for the terminal app (~/.config/keel/keymap.toml when XDG_CONFIG_HOME is not set), merged over ");
    s.push_str("the defaults; keel keys prints the keymap in force.\n");
    let examples = EXAMPLES.iter().find(|(p, _)| *p == path).map(|(_, e)| *e).unwrap_or(&[]);
    s.push_str(".SH EXAMPLES\n");
    if examples.is_empty() {
        let cmd = if path.is_empty() { "keel".to_string() } else { format!("keel {path}") };
        s.push_str(&format!(".TP\n.B {} \\-\\-help\nthe options of this command, briefly\n", roff(&cmd)));
    }
    for (line, what) in examples {
        s.push_str(&format!(".TP\n.B {}\n{}\n", roff(line), roff(what)));
    }
    if !see_also.is_empty() {
        s.push_str(".SH \"SEE ALSO\"\n");
        s.push_str(&see_also.iter().map(|p| format!("\\fB{}\\fR(1)", roff(p))).collect::<Vec<_>>().join(", "));
        s.push('\n');
    }
    s
}

/// One page: clap_mangen's sections (without its EXTRA, which is the exit list as prose), then
/// keel's own.
fn page(cmd: &clap::Command, path: &str, see_also: &[String]) -> Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone()).date(env!("KEEL_BUILD_DATE")).manual("keel manual");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    out.write_all(sections(path, see_also).as_bytes())?;
    // Subcommands carry no version of their own: every page names the build.
    out.write_all(format!(".SH VERSION\n{}\n", roff(super::build_info::VERSION)).as_bytes())?;
    Ok(ascii_roff(&String::from_utf8_lossy(&out)).into_bytes())
}

/// The page in plain ASCII: every other character as groff's `\[uXXXX]`. groff reads its input
/// as Latin-1 unless a preprocessor converts it (`man` runs preconv, `groff -man` alone does
/// not), so an arrow or a dash in the help text would otherwise print as mojibake there.
fn ascii_roff(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for c in page.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", c as u32));
        }
    }
    out
}

/// Every page as (file name, roff), the main page first.
pub fn pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut root = super::Cli::command().disable_help_subcommand(true);
    root.build();
    let mut out = Vec::new();
    fn walk(cmd: &clap::Command, path: &str, parent: Option<&str>, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
        let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name()).to_string();
        let see_also: Vec<String> = parent.map(|p| vec![p.to_string()]).unwrap_or_default();
        out.push((format!("{name}.1"), page(cmd, path, &see_also)?));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let sub_path = if path.is_empty() { sub.get_name().to_string() } else { format!("{path} {}", sub.get_name()) };
            walk(sub, &sub_path, Some(&name), out)?;
        }
        Ok(())
    }
    walk(&root, "", None, &mut out)?;
    Ok(out)
}

/// `keel man`: the main page on standard output, or every page into DIR.
pub fn run(dir: Option<&Path>) -> Result<i32> {
    let pages = pages()?;
    match dir {
        None => super::stdout::write_bytes(&pages[0].1),
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in &pages {
                let path: PathBuf = dir.join(name);
                std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            }
            eprintln!("wrote {} manual pages to {}", pages.len(), dir.display());
        }
    }
    Ok(0)
}

/// A TOML basic string.
fn toml_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `keel keys`: the keymap in force, as TOML a user can copy into their keymap file; problems
/// in that file on stderr (exit 65 when there are any).
pub fn keys() -> Result<i32> {
    let user = crate::tui::keymap::user_file();
    let (keymap, problems) = crate::tui::keymap::Keymap::load(user.as_deref());
    let mut out = String::new();
    match user.as_deref().filter(|p| p.exists()) {
        Some(p) => out.push_str(&format!("# The keys in force: the built-in keymap with {} merged on top.\n", p.display())),
        None => out.push_str(&format!(
            "# The keys in force: the built-in keymap. Override any line in {}.\n",
            user.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "keymap.toml".into())
        )),
    }
    let mut section = "";
    for (s, key, action) in keymap.listing() {
        if s != section {
            out.push_str(&format!("\n[{s}]\n"));
            section = s;
        }
        out.push_str(&format!("{} = {}\n", toml_quote(&key), toml_quote(action)));
    }
    super::stdout::write_bytes(crate::io::text::printable(out).as_bytes());
    for p in &problems {
        eprintln!("keel: keymap: {p}");
    }
    Ok(if problems.is_empty() { 0 } else { 65 })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_page_is_ascii_with_groff_escapes_for_other_characters() {
        assert_eq!(super::ascii_roff("a \u{2192} b \u{2014} \u{e9}"), "a \\[u2192] b \\[u2014] \\[u00E9]");
        for (name, page) in super::pages().unwrap() {
            assert!(page.is_ascii(), "{name} holds a character groff would misread");
        }
    }
}
