//! Error translation, row reading and the encodings of domain values in columns (the same
//! encodings as the SQLite store's, so `db copy` moves text, not meaning).

use std::collections::BTreeMap;
use std::fmt::Display;

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::{ErpNumber, ErpRecord, ErpValue, ReferenceCode, ReferenceExtras, Timestamp};

/// A column's value, owned (so a row's values can be built apart from the statement).
pub(crate) type Value = Box<dyn ToSql + Sync + Send>;

/// `values` as the driver's parameter list.
pub(crate) fn as_params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// Translates a driver error into a [`StoreError`], with `context`. The driver's text never
/// carries the connection's password (it is not part of any error it reports).
pub(crate) fn classify(error: &tokio_postgres::Error, context: &str) -> StoreError {
    let message = match error.as_db_error() {
        Some(db) => format!("{context}: {}", db.message()),
        None => format!("{context}: {error}"),
    };
    match error.code() {
        Some(
            &SqlState::T_R_SERIALIZATION_FAILURE
            | &SqlState::T_R_DEADLOCK_DETECTED
            | &SqlState::LOCK_NOT_AVAILABLE
            | &SqlState::QUERY_CANCELED
            | &SqlState::TOO_MANY_CONNECTIONS
            | &SqlState::ADMIN_SHUTDOWN
            | &SqlState::CANNOT_CONNECT_NOW,
        ) => StoreError::Busy(message),
        Some(&SqlState::DATA_CORRUPTED | &SqlState::INDEX_CORRUPTED) => {
            StoreError::Corrupt(message)
        }
        _ if error.is_closed() => StoreError::Busy(message),
        _ => StoreError::Internal(message),
    }
}

/// `map_err` adapter for [`classify`].
pub(crate) fn db_err(context: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
    move |error| classify(&error, context)
}

/// A pool failure (no connection within the timeout, or the server refused one).
pub(crate) fn pool_err(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(e) => classify(&e, "connecting to PostgreSQL"),
        deadpool_postgres::PoolError::Timeout(_) => {
            StoreError::Busy("no PostgreSQL connection became free in time".into())
        }
        other => StoreError::Internal(format!("connecting to PostgreSQL: {other}")),
    }
}

/// Whether `error` is a unique violation (of `constraint` when given).
pub(crate) fn is_unique_violation(error: &tokio_postgres::Error, constraint: Option<&str>) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
        && constraint.is_none_or(|c| {
            error
                .as_db_error()
                .and_then(|db| db.constraint())
                .is_some_and(|found| found == c)
        })
}

/// Whether `error` is a foreign-key violation.
pub(crate) fn is_fk_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION)
}

/// A row that no longer parses: the table and column, never a panic.
pub(crate) fn corrupt(table: &str, column: &str, detail: impl Display) -> StoreError {
    StoreError::Corrupt(format!("table `{table}`, column `{column}`: {detail}"))
}

/// Reads column `name` of `row` (from `table`).
pub(crate) fn col<'a, T: FromSql<'a>>(
    row: &'a Row,
    table: &str,
    name: &str,
) -> Result<T, StoreError> {
    row.try_get(name).map_err(|e| corrupt(table, name, e))
}

/// Reads and parses text column `name` of `row`: `parse` turns the text into the domain value.
pub(crate) fn parsed<T, E: Display>(
    row: &Row,
    table: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    let raw: &str = col(row, table, name)?;
    parse(raw).map_err(|e| corrupt(table, name, format!("`{raw}`: {e}")))
}

/// As [`parsed`], for a nullable column.
pub(crate) fn parsed_opt<T, E: Display>(
    row: &Row,
    table: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, StoreError> {
    let raw: Option<&str> = col(row, table, name)?;
    raw.map(|raw| parse(raw).map_err(|e| corrupt(table, name, format!("`{raw}`: {e}"))))
        .transpose()
}

/// Turns an `Option`-returning parser into a `Result` one.
pub(crate) fn known<T>(
    what: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> impl FnOnce(&str) -> Result<T, String> {
    move |raw| parse(raw).ok_or_else(|| format!("not a known {what}"))
}

/// Timestamps are RFC 3339 text in UTC with exactly nine fractional digits: exact (a
/// `timestamptz` keeps microseconds only), readable, and sorting as text sorts in time.
pub(crate) fn ts(at: Timestamp) -> String {
    format!("{at:.9}")
}

/// Parses [`ts`]'s form (any RFC 3339 instant).
pub(crate) fn parse_ts(raw: &str) -> Result<Timestamp, jiff::Error> {
    raw.parse()
}

/// A `u64` kept in a `BIGINT` column by bit-reinterpretation (lossless both ways).
pub(crate) fn u64_to_sql(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

/// The inverse of [`u64_to_sql`].
pub(crate) fn u64_from_sql(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

/// A count or duration that must fit a `BIGINT`.
pub(crate) fn count_to_sql(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Internal(format!("{what} {value} is too large")))
}

/// A non-negative count read back.
pub(crate) fn to_count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// The "other" ERP extras as a JSON object of strings (keys sorted, so equal maps are equal
/// text and `finish_sync` can compare them in SQL).
pub(crate) fn extras_to_json(extras: &ReferenceExtras) -> Result<String, StoreError> {
    serde_json::to_string(&extras.other)
        .map_err(|e| StoreError::Internal(format!("encoding reference extras: {e}")))
}

/// Parses [`extras_to_json`]'s form.
pub(crate) fn extras_from_json(raw: &str) -> Result<BTreeMap<String, String>, serde_json::Error> {
    serde_json::from_str(raw)
}

/// An optional reference code as (spelling, key) columns.
pub(crate) fn code_cols(code: Option<&ReferenceCode>) -> (Option<String>, Option<String>) {
    (
        code.map(|c| c.as_str().to_owned()),
        code.map(|c| c.key().to_owned()),
    )
}

/// An ERP record as a JSON array of `[name, type, value]`, in the ERP's order. Numbers are
/// kept as the ERP's own decimal text, so they read back exactly.
pub(crate) fn record_to_json(record: &ErpRecord) -> Result<String, StoreError> {
    serde_json::to_string(&RecordJson(record))
        .map_err(|e| StoreError::Internal(format!("encoding an ERP record: {e}")))
}

/// Writes an [`ErpRecord`] as `[[name, type, value], …]` straight from the record.
struct RecordJson<'a>(&'a ErpRecord);

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (name, value) in self.0.fields() {
            match value {
                ErpValue::Text(t) => seq.serialize_element(&(name, "text", t))?,
                ErpValue::Number(n) => seq.serialize_element(&(name, "number", n.as_str()))?,
                ErpValue::Bool(b) => seq.serialize_element(&(name, "bool", b))?,
                ErpValue::Null => seq.serialize_element(&(name, "null", ()))?,
            }
        }
        seq.end()
    }
}

/// Parses [`record_to_json`]'s form.
pub(crate) fn record_from_json(raw: &str) -> Result<ErpRecord, String> {
    let fields: Vec<(String, String, serde_json::Value)> =
        serde_json::from_str(raw).map_err(|e| e.to_string())?;
    fields
        .into_iter()
        .map(|(name, kind, value)| {
            let value = match (kind.as_str(), value) {
                ("text", serde_json::Value::String(t)) => ErpValue::Text(t),
                ("number", serde_json::Value::String(n)) => ErpValue::Number(
                    ErpNumber::parse(&n).map_err(|e| format!("field `{name}`: {e}"))?,
                ),
                ("bool", serde_json::Value::Bool(b)) => ErpValue::Bool(b),
                ("null", serde_json::Value::Null) => ErpValue::Null,
                (kind, value) => {
                    return Err(format!(
                        "field `{name}`: `{kind}` value {value} is not valid"
                    ));
                }
            };
            Ok((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn timestamps_round_trip_exactly_and_sort_as_text() {
        let a: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let b: Timestamp = "2026-01-01T00:00:00.5Z".parse().unwrap();
        for t in [a, b, Timestamp::now()] {
            assert_eq!(parse_ts(&ts(t)).unwrap(), t);
        }
        assert!(ts(a) < ts(b));
    }

    #[test]
    fn u64_survives_a_bigint_column() {
        for v in [0, 1, u64::MAX, 1 << 63] {
            assert_eq!(u64_from_sql(u64_to_sql(v)), v);
        }
    }
}
