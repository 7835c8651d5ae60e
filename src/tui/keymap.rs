//! The keymap is data: a TOML compiled in, with the user's file merged on top, one section per
//! screen mode (`[keys]` is the main screen, `[global]` works everywhere). Help, the palette
//! and the key bar are built from it by reverse lookup, so they always show the keys that work.

use super::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use toml::Spanned;

const DEFAULT: &str = include_str!("keymap.toml");

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: String,
    ctrl: bool,
    alt: bool,
}

/// The screen modes, each with its own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyMode {
    Global,
    Normal,
    Editor,
    Picker,
    Prompt,
    Confirm,
    Palette,
    Weekly,
    Meeting,
    Stale,
    Notice,
    Reader,
    Help,
}

impl KeyMode {
    pub const ALL: [KeyMode; 13] = [
        KeyMode::Normal,
        KeyMode::Global,
        KeyMode::Editor,
        KeyMode::Picker,
        KeyMode::Prompt,
        KeyMode::Confirm,
        KeyMode::Palette,
        KeyMode::Weekly,
        KeyMode::Meeting,
        KeyMode::Stale,
        KeyMode::Notice,
        KeyMode::Reader,
        KeyMode::Help,
    ];
    /// The section of the keymap file.
    pub fn section(self) -> &'static str {
        match self {
            KeyMode::Global => "global",
            KeyMode::Normal => "keys",
            KeyMode::Editor => "editor",
            KeyMode::Picker => "picker",
            KeyMode::Prompt => "prompt",
            KeyMode::Confirm => "confirm",
            KeyMode::Palette => "palette",
            KeyMode::Weekly => "weekly",
            KeyMode::Meeting => "meeting",
            KeyMode::Stale => "stale",
            KeyMode::Notice => "notice",
            KeyMode::Reader => "reader",
            KeyMode::Help => "help",
        }
    }
    /// What help calls it.
    pub fn title(self) -> &'static str {
        match self {
            KeyMode::Global => "everywhere",
            KeyMode::Normal => "main screen",
            KeyMode::Editor => "editing a field",
            KeyMode::Picker => "choosing a field",
            KeyMode::Prompt => "a question on the bottom line (assign, snooze, decide, resolve, search, agenda)",
            KeyMode::Confirm => "a confirmation",
            KeyMode::Palette => "command palette",
            KeyMode::Weekly => "weekly update form",
            KeyMode::Meeting => "check-in meeting",
            KeyMode::Stale => "stale list",
            KeyMode::Notice => "a notice",
            KeyMode::Reader => "reading an item's text",
            KeyMode::Help => "this help",
        }
    }
    fn from_section(s: &str) -> Option<KeyMode> {
        if s == "normal" {
            return Some(KeyMode::Normal);
        }
        KeyMode::ALL.into_iter().find(|m| m.section() == s)
    }
}

#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: BTreeMap<(KeyMode, Key), Action>,
    /// Spelling of each key as written in the file, for help.
    spelling: BTreeMap<Key, String>,
}

type File = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>;

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

fn parse_key(spec: &str) -> Option<Key> {
    let mut rest = spec;
    let (mut ctrl, mut alt, mut shift) = (false, false, false);
    loop {
        if let Some(r) = rest.strip_prefix("ctrl-") {
            ctrl = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("alt-") {
            alt = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("shift-") {
            shift = true;
            rest = r;
        } else {
            break;
        }
    }
    let named = [
        "enter",
        "esc",
        "tab",
        "backtab",
        "up",
        "down",
        "left",
        "right",
        "home",
        "end",
        "pgup",
        "pgdn",
        "space",
        "backspace",
        "delete",
        "f1",
    ];
    let code = if named.contains(&rest) {
        if shift && rest == "tab" {
            "backtab".to_string()
        } else {
            rest.to_string()
        }
    } else if rest.chars().count() == 1 {
        let c = rest.chars().next()?;
        if shift {
            c.to_uppercase().to_string()
        } else {
            c.to_string()
        }
    } else {
        return None;
    };
    Some(Key { code, ctrl, alt })
}

fn key_of_event(ev: &KeyEvent) -> Option<Key> {
    let code = match ev.code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::PageUp => "pgup".into(),
        KeyCode::PageDown => "pgdn".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::Delete => "delete".into(),
        KeyCode::F(1) => "f1".into(),
        _ => return None,
    };
    Some(Key { code, ctrl: ev.modifiers.contains(KeyModifiers::CONTROL), alt: ev.modifiers.contains(KeyModifiers::ALT) })
}

impl Keymap {
    /// The compiled-in keys, with the user's file (if any) merged on top. Problems in the user
    /// file are returned as warnings rather than stopping the app.
    pub fn load(user_file: Option<&std::path::Path>) -> (Keymap, Vec<String>) {
        let mut km = Keymap { bindings: BTreeMap::new(), spelling: BTreeMap::new() };
        let mut warnings = Vec::new();
        km.merge(DEFAULT, "built-in keymap", &mut warnings);
        if let Some(path) = user_file {
            match std::fs::read_to_string(path) {
                Ok(text) => km.merge(&text, &path.display().to_string(), &mut warnings),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => warnings.push(format!("{}: cannot be read ({e}); the built-in keys are used", path.display())),
            }
        }
        (km, warnings)
    }

    /// Every binding in force as (section, key as written, action name), section by section in
    /// the order of [`KeyMode::ALL`] (what `keel keys` prints).
    pub fn listing(&self) -> Vec<(&'static str, String, &'static str)> {
        let mut out = Vec::new();
        for mode in KeyMode::ALL {
            for ((m, k), a) in &self.bindings {
                if *m == mode {
                    out.push((mode.section(), self.spelling[k].clone(), a.name()));
                }
            }
        }
        out
    }

    pub fn default_only() -> Keymap {
        Keymap::load(None).0
    }

    /// Merge a keymap file; every problem is one warning `FILE:LINE:COLUMN: what`, and the
    /// good lines of a file with bad ones still count.
    fn merge(&mut self, text: &str, source: &str, warnings: &mut Vec<String>) {
        let at = |span: std::ops::Range<usize>| {
            let (line, column) = line_column(text, span.start);
            format!("{source}:{line}:{column}")
        };
        let file: File = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                let place = e.span().map(&at).unwrap_or_else(|| source.to_string());
                warnings.push(format!("{place}: {}", e.message().trim()));
                return;
            }
        };
        for (section, keys) in file {
            let Some(mode) = KeyMode::from_section(section.get_ref()) else {
                warnings.push(format!("{}: [{}] is not a mode (one of: {})", at(section.span()), section.get_ref(), sections()));
                continue;
            };
            for (spec, name) in keys {
                match (parse_key(spec.get_ref()), Action::from_name(name.get_ref())) {
                    (Some(k), Some(a)) => {
                        self.spelling.insert(k.clone(), spec.into_inner());
                        self.bindings.insert((mode, k), a);
                    }
                    (None, _) => warnings.push(format!(
                        "{}: '{}' is not a key name (a character, ctrl-/alt-/shift- with one, or enter, esc, tab, up, pgdn, f1, …)",
                        at(spec.span()),
                        spec.get_ref()
                    )),
                    (_, None) => {
                        warnings.push(format!("{}: '{}' is not an action (`keel keys` lists them)", at(name.span()), name.get_ref()))
                    }
                }
            }
        }
    }

    /// The main screen's action for a key.
    pub fn action_for(&self, ev: &KeyEvent) -> Option<Action> {
        self.action_in(KeyMode::Normal, ev)
    }

    /// The action a key has in `mode` (without the global keys).
    pub fn action_in(&self, mode: KeyMode, ev: &KeyEvent) -> Option<Action> {
        let k = key_of_event(ev)?;
        // Shifted letters arrive already upper-cased, so SHIFT itself is not part of the key.
        self.bindings.get(&(mode, k)).copied()
    }

    /// The keys bound to an action on the main screen, as spelled in the keymap ("j", "down").
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        self.keys_in(KeyMode::Normal, action)
    }

    /// The keys bound to an action in `mode`.
    pub fn keys_in(&self, mode: KeyMode, action: Action) -> Vec<String> {
        let mut keys: Vec<String> =
            self.bindings.iter().filter(|((m, _), a)| *m == mode && **a == action).map(|((_, k), _)| self.spelling[k].clone()).collect();
        keys.sort_by_key(|k| (k.len() > 1, k.clone()));
        keys
    }

    /// The actions bound in `mode`, in the order of [`Action::ALL`].
    pub fn actions_in(&self, mode: KeyMode) -> Vec<Action> {
        let mut out: Vec<Action> = self.bindings.iter().filter(|((m, _), _)| *m == mode).map(|(_, a)| *a).collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn first_key(&self, action: Action) -> String {
        self.first_key_in(KeyMode::Normal, action)
    }

    pub fn first_key_in(&self, mode: KeyMode, action: Action) -> String {
        self.keys_in(mode, action).into_iter().next().unwrap_or_else(|| format!(":{}", action.name()))
    }
}

fn sections() -> String {
    KeyMode::ALL.iter().map(|m| m.section()).collect::<Vec<_>>().join(", ")
}

/// Where a user's keymap lives: `$XDG_CONFIG_HOME/keel/keymap.toml`.
pub fn user_file() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("", "", "keel").map(|d| d.config_dir().join("keymap.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn default_keys_resolve() {
        let km = Keymap::default_only();
        assert_eq!(km.action_for(&ev(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down));
        assert_eq!(km.action_for(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Action::Bottom));
        assert_eq!(km.action_in(KeyMode::Global, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::ForceQuit));
        assert_eq!(km.action_in(KeyMode::Meeting, &ev(KeyCode::PageDown, KeyModifiers::NONE)), Some(Action::NextItem));
        assert_eq!(km.action_in(KeyMode::Editor, &ev(KeyCode::Char('u'), KeyModifiers::CONTROL)), Some(Action::ClearField));
        assert_eq!(km.action_for(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)), Some(Action::PrevPane));
        assert_eq!(km.keys_for(Action::Down), vec!["j".to_string(), "down".to_string()]);
    }

    #[test]
    fn user_keys_override_and_bad_lines_warn() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.toml");
        std::fs::write(&p, "[keys]\n\"x\" = \"quit\"\n\"ctrl-zz\" = \"up\"\n\"y\" = \"fly\"\n").unwrap();
        let (km, warnings) = Keymap::load(Some(&p));
        assert_eq!(km.action_for(&ev(KeyCode::Char('x'), KeyModifiers::NONE)), Some(Action::Quit));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let file = p.display().to_string();
        assert!(warnings[0].starts_with(&format!("{file}:3:1: 'ctrl-zz' is not a key name")), "{warnings:?}");
        assert!(warnings[1].starts_with(&format!("{file}:4:7: 'fly' is not an action")), "{warnings:?}");
    }

    #[test]
    fn a_file_that_is_not_toml_names_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.toml");
        std::fs::write(&p, "[keys]\n\"x\" = \"quit\"\n\"y\" = quit\n").unwrap();
        let (km, warnings) = Keymap::load(Some(&p));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with(&format!("{}:3:7: ", p.display())), "{warnings:?}");
        assert_eq!(km.action_for(&ev(KeyCode::Char('j'), KeyModifiers::NONE)), Some(Action::Down), "the built-in keys stay");
        let (_, unknown) = Keymap::load(Some(&dir.path().join("missing.toml")));
        assert!(unknown.is_empty(), "no keymap file is not a problem");
    }

    #[test]
    fn the_listing_names_every_binding_with_its_action() {
        let km = Keymap::default_only();
        let list = km.listing();
        assert!(list.contains(&("keys", "j".to_string(), Action::Down.name())), "{list:?}");
        assert_eq!(list.len(), km.bindings.len());
    }

    #[test]
    fn every_action_has_a_default_key() {
        let km = Keymap::default_only();
        for a in Action::MAIN {
            let global = !km.keys_in(KeyMode::Global, *a).is_empty();
            assert!(global || !km.keys_for(*a).is_empty(), "{} has no key", a.name());
        }
        // Every mode has keys, and a way out.
        for m in KeyMode::ALL {
            assert!(!km.actions_in(m).is_empty(), "[{}] has no keys", m.section());
        }
        // Text fields never lose a printable key to a binding.
        for m in [KeyMode::Editor, KeyMode::Prompt, KeyMode::Weekly, KeyMode::Palette] {
            for c in ' '..='~' {
                let e = ev(KeyCode::Char(c), KeyModifiers::NONE);
                assert_eq!(km.action_in(m, &e), None, "'{c}' is bound in [{}]", m.section());
            }
        }
    }
}
