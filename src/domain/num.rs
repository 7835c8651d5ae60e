//! Exact decimal numbers for money and metric values.
//!
//! Every value keel stores or computes is a `Num`: a `rust_decimal::Decimal` behind a newtype so
//! that nothing can slip a binary float in. Parsing is strict (no exponents, no thousands
//! separators, no trailing garbage) and bounded, so a typo is refused instead of truncated.

use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// Most digits a typed number may carry (integer and fraction together).
pub const MAX_DIGITS: usize = 24;
/// Most digits after the decimal point.
pub const MAX_FRACTION_DIGITS: usize = 8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Num(Decimal);

/// Input as an error message repeats it: at most 40 characters (a 10 MB cell is not echoed
/// whole), control characters escaped (a terminal escape in a file is shown, not played).
pub fn echo(input: &str) -> String {
    let mut out: String =
        input.chars().take(40).flat_map(|c| if c.is_control() { c.escape_debug().collect::<Vec<_>>() } else { vec![c] }).collect();
    if input.chars().nth(40).is_some() {
        out.push_str(&format!("… ({} characters)", input.chars().count()));
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    #[error("'{0}' is not a number: use digits with an optional '-' and '.' (e.g. 1200.50)")]
    Malformed(String),
    #[error("'{0}' has more than {MAX_DIGITS} digits")]
    TooManyDigits(String),
    #[error("'{0}' has more than {MAX_FRACTION_DIGITS} digits after the decimal point")]
    TooPrecise(String),
    #[error("the result of the calculation is too large to represent exactly")]
    Overflow,
}

impl Num {
    pub const ZERO: Num = Num(Decimal::ZERO);
    pub const ONE: Num = Num(Decimal::ONE);

    pub fn from_int(v: i64) -> Num {
        Num(Decimal::from(v))
    }

    /// Parse user or file input strictly: `-1200`, `0.5`, `+3.25`. Surrounding spaces are allowed.
    pub fn parse(input: &str) -> Result<Num, NumError> {
        let s = input.trim();
        let body = s.strip_prefix(['-', '+']).unwrap_or(s);
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if body.is_empty() || (int_part.is_empty() && frac_part.is_empty()) || !digits_ok(int_part) || !digits_ok(frac_part) {
            return Err(NumError::Malformed(echo(input)));
        }
        if int_part.len() + frac_part.len() > MAX_DIGITS {
            return Err(NumError::TooManyDigits(echo(input)));
        }
        if frac_part.len() > MAX_FRACTION_DIGITS {
            return Err(NumError::TooPrecise(echo(input)));
        }
        let canonical = format!(
            "{}{}{}{}",
            if s.starts_with('-') { "-" } else { "" },
            if int_part.is_empty() { "0" } else { int_part },
            if frac_part.is_empty() { "" } else { "." },
            frac_part
        );
        Decimal::from_str(&canonical).map(Num).map_err(|_| NumError::Malformed(echo(input)))
    }

    /// Read a number keel itself stored (already validated when it was written, and derived
    /// ratios may carry more digits than typed input is allowed).
    pub fn from_stored(s: &str) -> Option<Num> {
        Decimal::from_str(s.trim()).ok().map(Num)
    }

    pub fn inner(self) -> Decimal {
        self.0
    }

    pub fn checked_add(self, o: Num) -> Result<Num, NumError> {
        self.0.checked_add(o.0).map(Num).ok_or(NumError::Overflow)
    }
    pub fn checked_sub(self, o: Num) -> Result<Num, NumError> {
        self.0.checked_sub(o.0).map(Num).ok_or(NumError::Overflow)
    }
    pub fn checked_mul(self, o: Num) -> Result<Num, NumError> {
        self.0.checked_mul(o.0).map(Num).ok_or(NumError::Overflow)
    }
    /// Division for ratios; `None` when dividing by zero or on overflow.
    pub fn ratio(self, denominator: Num) -> Option<Num> {
        if denominator.0.is_zero() {
            return None;
        }
        self.0.checked_div(denominator.0).map(Num)
    }
    pub fn abs(self) -> Num {
        Num(self.0.abs())
    }
    pub fn negated(self) -> Num {
        Num(-self.0)
    }
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
    pub fn clamp01(self) -> Num {
        self.max(Num::ZERO).min(Num::ONE)
    }
    /// The one place keel rounds for display: half away from zero ("commercial" rounding).
    pub fn round_dp(self, dp: u32) -> Num {
        Num(self.0.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
    }
    /// A percentage for display, e.g. `-12.5%`. Never panics: a ratio too large to multiply by
    /// 100 (a huge value over a tiny plan) is shown as its whole part with "00" appended.
    pub fn percent(self) -> String {
        match self.0.checked_mul(Decimal::from(100)) {
            Some(p) => format!("{}%", p.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero).normalize()),
            None => format!("{}00%", self.0.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero).normalize()),
        }
    }
    /// Money/metric display with thousands separators and the stored precision.
    pub fn grouped(self) -> String {
        let s = self.0.normalize().to_string();
        let (sign, rest) = match s.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", s.as_str()),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        let mut out = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        match frac {
            Some(f) => format!("{sign}{out}.{f}"),
            None => format!("{sign}{out}"),
        }
    }
    /// An approximate float, only for drawing charts (never for sums or comparisons).
    pub fn to_f64_for_chart(self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(0.0)
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Num {
    type Err = NumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Num::parse(s)
    }
}

impl From<Decimal> for Num {
    fn from(d: Decimal) -> Self {
        Num(d)
    }
}

impl serde::Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Num::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Sum exactly; an overflow is an error, never a wrap or a rounding.
pub fn sum<I: IntoIterator<Item = Num>>(items: I) -> Result<Num, NumError> {
    items.into_iter().try_fold(Num::ZERO, |a, b| a.checked_add(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_numbers_exactly() {
        assert_eq!(Num::parse("1200").unwrap().to_string(), "1200");
        assert_eq!(Num::parse("-1200.50").unwrap().to_string(), "-1200.50");
        assert_eq!(Num::parse(" +0.5 ").unwrap().to_string(), "0.5");
        assert_eq!(Num::parse(".5").unwrap().to_string(), "0.5");
    }

    #[test]
    fn refuses_ambiguous_or_lossy_input() {
        for bad in ["", "-", ".", "12,5", "1.23abc", "1e400", "1E3", "0x10", "1.2.3", "--1", "NaN", "inf", "12,5x", "1 000"] {
            assert!(Num::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(matches!(Num::parse("12345678901234567890123456789"), Err(NumError::TooManyDigits(_))));
        assert!(matches!(Num::parse("0.123456789"), Err(NumError::TooPrecise(_))));
        // Errors repeat hostile input briefly and harmlessly.
        let long = Num::parse(&"9".repeat(1_000_000)).unwrap_err().to_string();
        assert!(long.len() < 200 && long.contains("(1000000 characters)"), "{long}");
        let escaped = Num::parse("1\u{1b}[2J").unwrap_err().to_string();
        assert!(!escaped.contains('\u{1b}') && escaped.contains("\\u{1b}[2J"), "{escaped}");
    }

    #[test]
    fn adding_a_tenth_a_million_times_is_exact() {
        let tenth = Num::parse("0.1").unwrap();
        let total = sum(std::iter::repeat_n(tenth, 1_000_000)).unwrap();
        assert_eq!(total, Num::parse("100000").unwrap());
    }

    #[test]
    fn display_helpers() {
        assert_eq!(Num::parse("-1234567.5").unwrap().grouped(), "-1,234,567.5");
        assert_eq!(Num::parse("0.125").unwrap().percent(), "12.5%");
        assert_eq!(Num::parse("2.5").unwrap().round_dp(0).to_string(), "3");
        // A huge ratio (a big actual over a plan of 0.00000001) is shown, not a panic.
        let huge = Num::parse("700000000000000000000").unwrap().ratio(Num::parse("0.00000001").unwrap()).unwrap();
        assert_eq!(huge.percent(), "7000000000000000000000000000000%");
        assert_eq!(Num::from(Decimal::MIN).percent(), format!("{}00%", Decimal::MIN));
    }

    proptest::proptest! {
        #[test]
        fn display_then_parse_round_trips(i in -1_000_000_000i64..1_000_000_000, scale in 0u32..6) {
            let n = Num(Decimal::new(i, scale));
            proptest::prop_assert_eq!(Num::parse(&n.to_string()).unwrap(), n);
            proptest::prop_assert_eq!(Num::parse(&n.to_string()).unwrap().to_string(), n.to_string());
        }
    }
}
