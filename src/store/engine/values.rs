//! How values cross the seam, in keel's own types: parameters go in as a [`Param`], columns come
//! out as a [`ValueRef`] that [`FromColumn`] turns into `i64`, `String`, `Num`, `Period`,
//! `ItemKey`, `Tier`, … Each engine maps these to its own: exact decimals are SQLite TEXT in their
//! canonical form (a `Param::Decimal` the SQLite engine writes as text), and a PostgreSQL engine
//! binds them as NUMERIC. Read models take keel's types straight from rows
//! (`r.get::<_, Option<Num>>(i)`), so no module keeps a copy of a text-to-number helper, and a
//! value that is not what its column promises is an error, not a silent `None`.

use crate::domain::escalation::Tier;
use crate::domain::{ItemKey, Num, Period};
use std::borrow::Cow;

/// A column's value as the engine holds it, borrowed from the row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl ValueRef<'_> {
    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "Null",
            ValueRef::Integer(_) => "Integer",
            ValueRef::Real(_) => "Real",
            ValueRef::Text(_) => "Text",
            ValueRef::Blob(_) => "Blob",
        }
    }

    fn as_str(&self) -> Result<&str, String> {
        match self {
            ValueRef::Text(t) => std::str::from_utf8(t).map_err(|e| e.to_string()),
            other => Err(invalid_type(other)),
        }
    }

    fn as_i64(&self) -> Result<i64, String> {
        match self {
            ValueRef::Integer(i) => Ok(*i),
            other => Err(invalid_type(other)),
        }
    }
}

fn invalid_type(v: &ValueRef<'_>) -> String {
    format!("invalid column type {}", v.kind())
}

/// A column's value, owned (for a column whose type depends on the row, like a field's old value).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A statement parameter as keel hands it to an engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Param<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(Cow<'a, str>),
    /// An exact decimal: text in its canonical form on SQLite, NUMERIC on PostgreSQL.
    Decimal(Num),
}

/// A value that can be a statement parameter.
pub trait ToParam {
    fn to_param(&self) -> Param<'_>;
}

impl ToParam for Value {
    /// A column's value written back as it was read (`keel copy`). keel stores no blobs; the copy
    /// refuses one before it gets here.
    fn to_param(&self) -> Param<'_> {
        match self {
            Value::Null => Param::Null,
            Value::Integer(i) => Param::Integer(*i),
            Value::Real(f) => Param::Real(*f),
            Value::Text(t) => Param::Text(Cow::Borrowed(t)),
            Value::Blob(b) => Param::Text(String::from_utf8_lossy(b)),
        }
    }
}

/// A parameter already in keel's terms (a row batch's rows, kept until they are sent).
impl ToParam for Param<'_> {
    fn to_param(&self) -> Param<'_> {
        self.clone()
    }
}

/// A value that can be read from a column; `Err` says why the column's value is not one.
pub trait FromColumn: Sized {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String>;
}

/// SQL NULL, as a parameter.
#[derive(Clone, Copy, Debug)]
pub struct Null;

impl ToParam for Null {
    fn to_param(&self) -> Param<'_> {
        Param::Null
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> Param<'_> {
        (**self).to_param()
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> Param<'_> {
        match self {
            Some(v) => v.to_param(),
            None => Param::Null,
        }
    }
}

impl ToParam for str {
    fn to_param(&self) -> Param<'_> {
        Param::Text(Cow::Borrowed(self))
    }
}

impl ToParam for String {
    fn to_param(&self) -> Param<'_> {
        Param::Text(Cow::Borrowed(self))
    }
}

impl ToParam for bool {
    fn to_param(&self) -> Param<'_> {
        Param::Integer(i64::from(*self))
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}

macro_rules! integer_params {
    ($($t:ty)*) => {$(
        impl ToParam for $t {
            fn to_param(&self) -> Param<'_> {
                Param::Integer(*self as i64)
            }
        }
    )*};
}
integer_params!(i64 i32 u32 u16 u8 i16 i8);

impl ToParam for usize {
    fn to_param(&self) -> Param<'_> {
        Param::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToParam for Num {
    fn to_param(&self) -> Param<'_> {
        Param::Decimal(*self)
    }
}

impl ToParam for Period {
    fn to_param(&self) -> Param<'_> {
        Param::Text(Cow::Owned(self.to_string()))
    }
}

impl ToParam for ItemKey {
    fn to_param(&self) -> Param<'_> {
        Param::Text(Cow::Owned(self.to_string()))
    }
}

impl ToParam for Tier {
    fn to_param(&self) -> Param<'_> {
        Param::Integer(self.number())
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_column(v).map(Some),
        }
    }
}

impl FromColumn for String {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        v.as_str().map(str::to_string)
    }
}

impl FromColumn for i64 {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        v.as_i64()
    }
}

macro_rules! narrow_integers {
    ($($t:ty)*) => {$(
        impl FromColumn for $t {
            fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
                let n = v.as_i64()?;
                <$t>::try_from(n).map_err(|_| format!("{n} is out of range"))
            }
        }
    )*};
}
narrow_integers!(i32 u32 u64 usize u16 u8);

impl FromColumn for bool {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        v.as_i64().map(|n| n != 0)
    }
}

impl FromColumn for f64 {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(i) => Ok(i as f64),
            ValueRef::Real(f) => Ok(f),
            other => Err(invalid_type(&other)),
        }
    }
}

impl FromColumn for Value {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

fn not_a(what: &str, found: &str) -> String {
    format!("'{found}' is not {what}")
}

impl FromColumn for Num {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        let s = v.as_str()?;
        Num::from_stored(s).ok_or_else(|| not_a("an exact decimal", s))
    }
}

impl FromColumn for Period {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        let s = v.as_str()?;
        Period::parse(s).map_err(|_| not_a("a period", s))
    }
}

impl FromColumn for ItemKey {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        let s = v.as_str()?;
        ItemKey::parse(s).map_err(|_| not_a("an item key", s))
    }
}

impl FromColumn for Tier {
    fn from_column(v: ValueRef<'_>) -> Result<Self, String> {
        let n = v.as_i64()?;
        Tier::from_number(n).ok_or_else(|| format!("{n} is out of range"))
    }
}
