//! How keel's values cross the SQL boundary: exact decimals and periods as their canonical text,
//! keys as `O-3`, tiers as 1–3. Read models take `Num`, `Period`, `ItemKey` and `Tier` straight
//! from rows (`r.get::<_, Option<Num>>(i)`), so no module keeps a copy of a text-to-number helper,
//! and a value that is not what its column promises is an error, not a silent `None`.

use crate::domain::escalation::Tier;
use crate::domain::{ItemKey, Num, Period};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

fn text(v: ValueRef<'_>) -> FromSqlResult<&str> {
    v.as_str()
}

fn invalid(what: &str, found: &str) -> FromSqlError {
    FromSqlError::Other(format!("'{found}' is not {what}").into())
}

impl FromSql for Num {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = text(v)?;
        Num::from_stored(s).ok_or_else(|| invalid("an exact decimal", s))
    }
}

impl ToSql for Num {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for Period {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = text(v)?;
        Period::parse(s).map_err(|_| invalid("a period", s))
    }
}

impl ToSql for Period {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for ItemKey {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = text(v)?;
        ItemKey::parse(s).map_err(|_| invalid("an item key", s))
    }
}

impl ToSql for ItemKey {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for Tier {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let n = v.as_i64()?;
        Tier::from_number(n).ok_or(FromSqlError::OutOfRange(n))
    }
}

impl ToSql for Tier {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.number()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn values_round_trip_and_bad_text_is_an_error() {
        let c = Connection::open_in_memory().unwrap();
        let n = Num::parse("-1200.50").unwrap();
        let p = Period::parse("2026-W48").unwrap();
        let k = ItemKey::parse("KR-12").unwrap();
        let row: (Num, Period, ItemKey, Tier) = c
            .query_row("SELECT ?1, ?2, ?3, ?4", rusqlite::params![n, p, k, Tier::SponsorAction], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!(row, (n, p, k, Tier::SponsorAction));
        assert!(c.query_row("SELECT 'twelve'", [], |r| r.get::<_, Num>(0)).is_err());
        assert!(c.query_row("SELECT 7", [], |r| r.get::<_, Tier>(0)).is_err());
        assert_eq!(c.query_row("SELECT NULL", [], |r| r.get::<_, Option<Num>>(0)).unwrap(), None);
    }
}
