//! Connections, error translation and the encodings of domain values in columns.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::Path;
use std::time::Duration;

use rusqlite::types::FromSql;
use rusqlite::{Connection, ErrorCode, OpenFlags, Row, Savepoint, ffi};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use crm2sage_domain::ports::StoreError;
use crm2sage_domain::{ErpNumber, ErpRecord, ErpValue, ReferenceCode, ReferenceExtras, Timestamp};

/// How long a connection waits for another's write lock before reporting
/// [`StoreError::Busy`].
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Translates a rusqlite error into a [`StoreError`], with `context`.
pub(crate) fn classify(error: &rusqlite::Error, context: &str) -> StoreError {
    let message = format!("{context}: {error}");
    match error {
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnName(..) => return StoreError::Corrupt(message),
        _ => {}
    }
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy(message),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt(message),
        _ => StoreError::Internal(message),
    }
}

/// `map_err` adapter for [`classify`].
pub(crate) fn db_err(context: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |error| classify(&error, context)
}

/// Whether `error` is a UNIQUE (or PRIMARY KEY) constraint violation.
pub(crate) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_extended_error_code(),
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// A row that no longer parses: the table and column, never a panic.
pub(crate) fn corrupt(table: &str, column: &str, detail: impl Display) -> StoreError {
    StoreError::Corrupt(format!("table `{table}`, column `{column}`: {detail}"))
}

/// Reads column `name` of `row` (from `table`).
pub(crate) fn col<T: FromSql>(row: &Row<'_>, table: &str, name: &str) -> Result<T, StoreError> {
    row.get(name)
        .map_err(|e| classify(&e, &format!("table `{table}`, column `{name}`")))
}

/// Reads and parses column `name` of `row`: `parse` turns the text into the domain value.
pub(crate) fn parsed<T, E: Display>(
    row: &Row<'_>,
    table: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    let raw: String = col(row, table, name)?;
    parse(&raw).map_err(|e| corrupt(table, name, format!("`{raw}`: {e}")))
}

/// As [`parsed`], for a nullable column.
pub(crate) fn parsed_opt<T, E: Display>(
    row: &Row<'_>,
    table: &str,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, StoreError> {
    let raw: Option<String> = col(row, table, name)?;
    raw.map(|raw| parse(&raw).map_err(|e| corrupt(table, name, format!("`{raw}`: {e}"))))
        .transpose()
}

/// Turns an `Option`-returning parser into a `Result` one.
pub(crate) fn known<T>(
    what: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> impl FnOnce(&str) -> Result<T, String> {
    move |raw| parse(raw).ok_or_else(|| format!("not a known {what}"))
}

/// Timestamps are RFC 3339 text in UTC with exactly nine fractional digits: exact, readable,
/// and sorting as text sorts in time.
pub(crate) fn ts(at: Timestamp) -> String {
    format!("{at:.9}")
}

/// Parses [`ts`]'s form (any RFC 3339 instant).
pub(crate) fn parse_ts(raw: &str) -> Result<Timestamp, jiff::Error> {
    raw.parse()
}

/// A `u64` kept in an `INTEGER` column by bit-reinterpretation (lossless both ways).
pub(crate) fn u64_to_sql(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

/// The inverse of [`u64_to_sql`].
pub(crate) fn u64_from_sql(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

/// A count or duration that must fit an `INTEGER`.
pub(crate) fn count_to_sql(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Internal(format!("{what} {value} is too large")))
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
pub(crate) fn code_cols(code: Option<&ReferenceCode>) -> (Option<&str>, Option<&str>) {
    (
        code.map(ReferenceCode::as_str),
        code.map(ReferenceCode::key),
    )
}

/// An ERP record as a JSON array of `[name, type, value]`, in the ERP's order. Numbers are
/// kept as the ERP's own decimal text, so they read back exactly.
pub(crate) fn record_to_json(record: &ErpRecord) -> Result<String, StoreError> {
    serde_json::to_string(&RecordJson(record))
        .map_err(|e| StoreError::Internal(format!("encoding an ERP record: {e}")))
}

/// Writes an [`ErpRecord`] as `[[name, type, value], …]` straight from the record (no
/// intermediate JSON tree: a customer has a hundred fields and this runs on every promotion).
struct RecordJson<'a>(&'a ErpRecord);

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (name, value) in self.0.fields() {
            match value {
                ErpValue::Text(t) => seq.serialize_element(&(name, "text", t))?,
                // Exact decimal text, as `record_from_json` reads it back.
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

/// The rows of `sql`, whose first column is `seq AS row_seq`, as `f` reads them, oldest
/// (lowest `seq`) first. Sorted here, not by `ORDER BY seq`: see the promotions' query for
/// why (a statement SQLite would re-prepare for every bound account).
///
/// # Errors
/// [`StoreError`] with `context`, or `f`'s error for a row that does not parse.
pub(crate) fn select_by_seq<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    table: &str,
    context: &str,
    f: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let err = db_err(context);
    let mut stmt = conn.prepare_cached(sql).map_err(&err)?;
    let mut rows = stmt.query(params).map_err(&err)?;
    let mut out: Vec<(i64, T)> = Vec::new();
    while let Some(row) = rows.next().map_err(&err)? {
        out.push((col(row, table, "row_seq")?, f(row)?));
    }
    out.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

/// Starts one write's savepoint inside the writer thread's transaction, which took the write
/// lock at once (`BEGIN IMMEDIATE`, so a transaction never has to upgrade a read lock, which in
/// WAL mode fails at once, without the busy timeout). Dropped uncommitted, it undoes this
/// write alone; committed, the write lasts once the writer thread commits its group.
///
/// # Errors
/// [`StoreError::Internal`] when called outside the writer thread's transaction (a savepoint
/// there would start a deferred transaction of its own).
pub(crate) fn write_tx(conn: &mut Connection) -> Result<Savepoint<'_>, StoreError> {
    if conn.is_autocommit() {
        return Err(StoreError::Internal(
            "a write was started outside the writer thread's transaction".into(),
        ));
    }
    conn.savepoint()
        .map_err(db_err("starting a write transaction"))
}

/// Runs `f` as the writer thread runs a write that is alone in its group: inside
/// `BEGIN IMMEDIATE … COMMIT`, rolled back when it fails. For unit tests that call the write
/// functions on a connection of their own.
#[cfg(test)]
pub(crate) fn as_one_write<T, E: From<StoreError>>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<T, E>,
) -> Result<T, E> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(db_err("starting a write transaction"))?;
    let result = f(conn);
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    if !conn.is_autocommit() {
        conn.execute_batch(end)
            .map_err(db_err("ending a write transaction"))?;
    }
    result
}

/// Switches `conn` to WAL and answers the mode it is in. Several processes opening a new file
/// at once contend for it, and SQLite answers "database is locked" there without calling the
/// busy handler; so a busy answer is retried, every 10 ms, for up to [`BUSY_TIMEOUT`].
fn journal_mode_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Opens a connection to `path` with the durability and concurrency settings every
/// connection uses. The file must exist (the store creates it with owner-only permissions).
pub(crate) fn connect(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(db_err(&format!("opening {}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(db_err("setting the busy timeout"))?;
    let mode = journal_mode_wal(&conn).map_err(db_err(&format!("opening {}", path.display())))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Internal(format!(
            "{} could not be switched to WAL mode (it is in `{mode}` mode)",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_err("setting synchronous=FULL"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(db_err("enabling foreign keys"))?;
    if read_only {
        conn.pragma_update(None, "query_only", true)
            .map_err(db_err("making a reader query-only"))?;
    }
    // The query planner's stability guarantee: a cached statement keeps its plan whatever is
    // bound to it. Without it SQLite (built with STAT4) marks parameters it peeked at while
    // planning and re-prepares the statement whenever their binding changes — on every point
    // read of a promotion, a few percent of the CLI's CPU. Every query here is planned by its
    // indexes alone, so the plan a value could change does not exist.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(db_err("enabling the query planner stability guarantee"))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_exactly_and_sort_as_text() {
        let a: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let b: Timestamp = "2026-01-01T00:00:00.5Z".parse().unwrap();
        let c = Timestamp::now();
        for t in [a, b, c] {
            assert_eq!(parse_ts(&ts(t)).unwrap(), t);
        }
        assert!(ts(a) < ts(b));
        assert_eq!(ts(a), "2026-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn erp_records_round_trip_exactly_in_order() {
        let mut r = ErpRecord::new();
        r.push("Z", ErpValue::Text("x".into()));
        let number = |t: &str| ErpValue::Number(ErpNumber::parse(t).unwrap());
        r.push("A", number("0.30000000000000004"));
        r.push("N", number("9007199254740993"));
        r.push("M", number("-0.0"));
        r.push("B", ErpValue::Bool(true));
        r.push("Nil", ErpValue::Null);
        let back = record_from_json(&record_to_json(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let ErpValue::Number(m) = back.get("M").unwrap() else {
            panic!("a number")
        };
        assert!(m.as_str().starts_with('-'), "the sign is kept");
        assert_eq!(back.get("N"), Some(&number("9007199254740993")));
        assert!(record_from_json(r#"[["a","number",true]]"#).is_err());
    }

    #[test]
    fn u64_survives_an_integer_column() {
        for v in [0, 1, u64::MAX, 1 << 63] {
            assert_eq!(u64_from_sql(u64_to_sql(v)), v);
        }
    }
}
