//! Every string in a plan, checked where it stands: no control characters (a title that moves the
//! cursor or rings the bell would garble every screen it is drawn on) and no string longer than
//! [`MAX_TEXT`]. A serde serializer that looks at strings and builds nothing, so checking a plan of
//! a million values costs a walk, not a copy of the plan as a JSON tree; and a field added to the
//! plan types is checked without anyone remembering to.

use serde::ser::{self, Serialize};
use std::fmt;

pub const MAX_TEXT: usize = 10_000;

/// The one rule for free text that keel stores (titles, narratives, comments, reasons,
/// decisions, milestone titles …), on every path: no control characters other than newline and
/// tab — an escape sequence in a title would be played by every terminal that shows it — and at
/// most [`MAX_TEXT`] characters (characters, not bytes: "é" is one).
pub fn free_text(s: &str) -> Result<(), String> {
    if s.chars().any(is_forbidden) {
        return Err("contains control characters (terminal escapes and the like): remove them".into());
    }
    if s.chars().nth(MAX_TEXT).is_some() {
        return Err(format!("is longer than 10,000 characters ({})", s.chars().count()));
    }
    Ok(())
}

fn is_forbidden(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Text already stored, made safe to print: control characters other than newline and tab are
/// shown escaped (`\u{1b}`), never played. For every renderer, in case older files hold some.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_forbidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.chars().map(|c| if is_forbidden(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect())
}

/// A confidence (that an item reaches its target) is a share from 0 to 1, on every path.
pub fn confidence(n: super::Num) -> Result<(), String> {
    if n < super::Num::ZERO || n > super::Num::ONE {
        return Err(format!("{n} is not between 0 and 1 (0.7 = 70% confident)"));
    }
    Ok(())
}

/// A value source's name: what the shared file records of a source (its command stays in the
/// syncing user's configuration). Letters, digits, `-`, `_` and `.`, at most 64, so it can name
/// a section of that configuration and never carries a command line.
pub fn source_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a source name: use letters, digits, '-', '_' and '.' (at most 64, not starting with '.')",
            printable(&name.chars().take(80).collect::<String>())
        ))
    }
}

/// A message from outside (a failing source's error output) made fit to store and show: one
/// line, control characters dropped, at most `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let clean: String = flat.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > max {
        format!("{}…", clean.chars().take(max).collect::<String>())
    } else {
        clean
    }
}

/// One problem: where (`values[3] (M-1 2026-W48)`, or a section name) and what (`comment: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextProblem {
    pub at: String,
    pub what: String,
}

/// Check every string of `plan`, whose top level is a struct of sections (lists of items or
/// single values). Items are named by their `key`, or by `item` and `period` for values.
pub fn check<T: Serialize>(plan: &T) -> Vec<TextProblem> {
    let mut w = Walker::default();
    let _ = plan.serialize(&mut w);
    w.flush_item();
    w.problems
}

#[derive(Debug)]
enum Seg {
    Field(&'static str),
    Index(usize),
    Key(String),
}

#[derive(Default)]
struct Walker {
    path: Vec<Seg>,
    /// Position in each list being walked.
    counters: Vec<usize>,
    /// Problems of the item being walked, named once the item is done (its key may come later).
    pending: Vec<String>,
    name: [String; 3],
    problems: Vec<TextProblem>,
}

impl Walker {
    fn text(&mut self, s: &str) {
        if self.path.len() == 3 {
            if let (Seg::Index(_), Seg::Field(f)) = (&self.path[1], &self.path[2]) {
                let slot = match *f {
                    "key" => Some(0),
                    "item" => Some(1),
                    "period" => Some(2),
                    _ => None,
                };
                if let Some(i) = slot {
                    // Reused buffers: a plan has a million values, each named by two strings.
                    self.name[i].clear();
                    self.name[i].push_str(s);
                }
            }
        }
        // Bytes bound characters from above: most strings are short and need no count.
        if s.len() <= MAX_TEXT && !s.chars().any(is_forbidden) {
            return;
        }
        let Err(why) = free_text(s) else { return };
        let field = self.field();
        self.pending.push(format!("{field}: {why}"));
        if !self.in_item() {
            self.flush_item();
        }
    }

    /// Inside an item of a section list (as opposed to a section that is a single value).
    fn in_item(&self) -> bool {
        matches!(self.path.get(1), Some(Seg::Index(_)))
    }

    /// The field's path inside its item (or inside its section, for single-value sections).
    fn field(&self) -> String {
        let skip = if self.in_item() { 2 } else { 0 };
        let mut out = String::new();
        for seg in self.path.iter().skip(skip) {
            match seg {
                Seg::Field(f) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(f);
                }
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn flush_item(&mut self) {
        if self.pending.is_empty() {
            self.name.iter_mut().for_each(String::clear);
            return;
        }
        let name = &self.name;
        let at = match (self.path.first(), self.path.get(1)) {
            (Some(Seg::Field(section)), Some(Seg::Index(i))) => {
                let shown = if *section == "values" { format!("{} {}", name[1], name[2]) } else { name[0].clone() };
                format!("{section}[{i}] ({shown})")
            }
            (Some(Seg::Field(section)), _) => section.to_string(),
            _ => String::new(),
        };
        for what in self.pending.drain(..) {
            self.problems.push(TextProblem { at: at.clone(), what });
        }
        self.name.iter_mut().for_each(String::clear);
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Stop> {
        let i = self.counters.last().copied().unwrap_or(0);
        self.path.push(Seg::Index(i));
        let r = value.serialize(&mut *self);
        // An item of a section list is done: name its problems.
        if self.path.len() == 2 {
            self.flush_item();
        }
        self.path.pop();
        if let Some(c) = self.counters.last_mut() {
            *c += 1;
        }
        r
    }

    fn field_value<T: ?Sized + Serialize>(&mut self, name: &'static str, value: &T) -> Result<(), Stop> {
        self.path.push(Seg::Field(name));
        let r = value.serialize(&mut *self);
        self.path.pop();
        r
    }
}

#[derive(Debug)]
pub struct Stop(String);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Stop(msg.to_string())
    }
}

macro_rules! nothing_to_check {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name(self, _: $ty) -> Result<(), Stop> { Ok(()) })*
    };
}

impl ser::Serializer for &mut Walker {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    nothing_to_check!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_f32: f32, serialize_f64: f64,
        serialize_bytes: &[u8], serialize_unit_struct: &'static str);

    fn serialize_char(self, v: char) -> Result<(), Stop> {
        self.text(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Stop> {
        self.text(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field_value(variant, value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Stop> {
        self.counters.push(0);
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Self, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, len: usize) -> Result<Self, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
}

/// The list-like compounds: each element is walked at its index.
macro_rules! list_like {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for &mut Walker {
            type Ok = ();
            type Error = Stop;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Stop> {
                self.element(value)
            }
            fn end(self) -> Result<(), Stop> {
                self.counters.pop();
                Ok(())
            }
        })*
    };
}

list_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Walker {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Stop> {
        // Map keys are few (settings, say): shown as JSON shows them.
        let shown = match serde_json::to_value(key) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => return Err(Stop(e.to_string())),
        };
        self.path.push(Seg::Key(shown));
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Stop> {
        let r = value.serialize(&mut **self);
        self.path.pop();
        r
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

/// The struct-like compounds: each field is walked under its name.
macro_rules! struct_like {
    ($($trait:ident),*) => {
        $(impl ser::$trait for &mut Walker {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Stop> {
                self.field_value(key, value)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        })*
    };
}

struct_like!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Item {
        key: String,
        title: String,
        tags: Vec<String>,
        note: Option<String>,
    }

    #[derive(Serialize)]
    struct Value {
        item: String,
        period: String,
        comment: Option<String>,
    }

    #[derive(Serialize)]
    struct Plan {
        measures: Vec<Item>,
        values: Vec<Value>,
        settings: BTreeMap<String, String>,
    }

    const CONTROL: &str = "contains control characters (terminal escapes and the like): remove them";

    #[test]
    fn limits_count_characters_not_bytes() {
        assert_eq!(free_text(&"é".repeat(MAX_TEXT)), Ok(()));
        assert!(free_text(&"é".repeat(MAX_TEXT + 1)).unwrap_err().contains("longer than 10,000 characters"));
        let plan = Plan { measures: vec![item("M-1", &"é".repeat(MAX_TEXT))], values: vec![], settings: BTreeMap::new() };
        assert_eq!(check(&plan), vec![]);
    }

    #[test]
    fn escapes_and_c1_controls_are_refused_and_printed_escaped() {
        for bad in ["\u{1b}]0;pwned\u{7}", "a\rb", "\u{9b}2J", "nul\0"] {
            assert_eq!(free_text(bad), Err(CONTROL.to_string()), "{bad:?}");
            assert!(!printable(bad).chars().any(|c| c.is_control()), "{bad:?}");
        }
        assert_eq!(printable("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(free_text("line\nnext\ttab"), Ok(()));
        assert!(matches!(printable("line\nnext"), std::borrow::Cow::Borrowed(_)));
    }

    fn item(key: &str, title: &str) -> Item {
        Item { key: key.into(), title: title.into(), tags: vec!["ok".into()], note: None }
    }

    #[test]
    fn clean_text_passes_and_tabs_and_newlines_are_text() {
        let plan = Plan {
            measures: vec![item("M-1", "line one\nline\ttwo")],
            values: vec![],
            settings: BTreeMap::from([("tolerance".into(), "5".into())]),
        };
        assert_eq!(check(&plan), vec![]);
    }

    #[test]
    fn each_problem_names_its_item_and_field() {
        let mut bad = item("M-2", "ok");
        bad.tags = vec!["fine".into(), "bell\u{7}".into()];
        bad.note = Some("x".repeat(MAX_TEXT + 1));
        let plan = Plan {
            measures: vec![item("M-1", "fine"), bad, item("M-3", "esc\u{1b}[2J")],
            values: vec![Value { item: "M-1".into(), period: "2026-W48".into(), comment: Some("nul\0".into()) }],
            settings: BTreeMap::from([("label".into(), "\u{8}".into())]),
        };
        let found: Vec<String> = check(&plan).into_iter().map(|p| format!("{}: {}", p.at, p.what)).collect();
        assert_eq!(
            found,
            vec![
                format!("measures[1] (M-2): tags[1]: {CONTROL}"),
                "measures[1] (M-2): note: is longer than 10,000 characters (10001)".into(),
                format!("measures[2] (M-3): title: {CONTROL}"),
                format!("values[0] (M-1 2026-W48): comment: {CONTROL}"),
                format!("settings: settings.label: {CONTROL}"),
            ]
        );
    }

    #[test]
    fn the_key_names_the_item_even_when_it_comes_after_the_bad_field() {
        #[derive(Serialize)]
        struct Late {
            title: String,
            key: String,
        }
        #[derive(Serialize)]
        struct P {
            objectives: Vec<Late>,
        }
        let plan = P { objectives: vec![Late { title: "\u{7}".into(), key: "O-9".into() }] };
        assert_eq!(check(&plan), vec![TextProblem { at: "objectives[0] (O-9)".into(), what: format!("title: {CONTROL}") }]);
    }
}
