//! Copying a store out: [`StoreExport`] and [`CountRows`] for [`SqliteStore`].
//!
//! Each page is one read transaction on a reader connection, keyed on the section's stable
//! order (ids for integrations and accounts, `(set, code_key)` for reference records, `seq`
//! for the rest), so a page costs the same however far the export has gone and memory holds
//! one page.
//!
//! The customer index is left out: a cache of the ERP's customers that the next full customer
//! sync rebuilds (see `crm2sage_domain::ports::CopySection`'s module).

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};

use crm2sage_domain::ports::{
    CopyPage, CopySection, CountRows, ExportCursor, ExportPage, RowCounts, StoreError, StoreExport,
};

use crate::SqliteStore;
use crate::db::{col, db_err};

/// The largest page this store reads at once.
const MAX_PAGE: usize = 10_000;

const COUNTS: &str = "SELECT (SELECT count(*) FROM integrations), \
     (SELECT count(*) FROM accounts), (SELECT count(*) FROM reference_records), \
     (SELECT count(*) FROM sync_runs), (SELECT count(*) FROM promotions), \
     (SELECT count(*) FROM bindings), (SELECT count(*) FROM promotion_log), \
     (SELECT count(*) FROM ship_tos), (SELECT count(*) FROM contacts), \
     (SELECT count(*) FROM party_promotions)";

#[async_trait]
impl CountRows for SqliteStore {
    async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        self.read(|conn| {
            let err = db_err("counting rows");
            let tx = conn.unchecked_transaction().map_err(&err)?;
            let n = |row: &Row<'_>, i: usize| {
                row.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0))
            };
            tx.query_row(COUNTS, [], |row| {
                Ok(RowCounts {
                    integrations: n(row, 0)?,
                    accounts: n(row, 1)?,
                    reference_records: n(row, 2)?,
                    sync_runs: n(row, 3)?,
                    promotions: n(row, 4)?,
                    bindings: n(row, 5)?,
                    log: n(row, 6)?,
                    ship_tos: n(row, 7)?,
                    contacts: n(row, 8)?,
                    party_promotions: n(row, 9)?,
                })
            })
            .map_err(&err)
        })
        .await
    }
}

#[async_trait]
impl StoreExport for SqliteStore {
    async fn export_page(
        &self,
        section: CopySection,
        after: Option<&ExportCursor>,
        limit: usize,
    ) -> Result<ExportPage, StoreError> {
        let after = after.map(|c| c.as_str().to_owned());
        let limit = limit.clamp(1, MAX_PAGE);
        self.read(move |conn| {
            let tx = conn
                .unchecked_transaction()
                .map_err(db_err("starting an export"))?;
            let page = export(&tx, section, after.as_deref(), limit)?;
            Ok(page)
        })
        .await
    }
}

fn bad_cursor(section: CopySection, raw: &str) -> StoreError {
    StoreError::Internal(format!(
        "`{raw}` is no position in the {section} of this store"
    ))
}

/// A `seq` cursor (0: from the start).
fn seq_of(section: CopySection, after: Option<&str>) -> Result<i64, StoreError> {
    after.map_or(Ok(0), |raw| {
        raw.parse().map_err(|_| bad_cursor(section, raw))
    })
}

/// The next page's cursor: `last` when the page was full (there may be more).
fn next(len: usize, limit: usize, last: Option<String>) -> Option<ExportCursor> {
    (len >= limit)
        .then_some(last)
        .flatten()
        .map(ExportCursor::new)
}

/// Rows of a keyset query on `seq`: each parsed by `parse`, with the last `seq` seen.
fn by_seq<T>(
    conn: &Connection,
    sql: &str,
    after: i64,
    limit: usize,
    what: &str,
    parse: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<(Vec<T>, Option<String>), StoreError> {
    let err = db_err(what);
    let mut stmt = conn.prepare(sql).map_err(&err)?;
    let mut rows = stmt
        .query(params![after, i64::try_from(limit).unwrap_or(i64::MAX)])
        .map_err(&err)?;
    let mut out = Vec::new();
    let mut last = None;
    while let Some(row) = rows.next().map_err(&err)? {
        let seq: i64 = col(row, what, "export_seq")?;
        out.push(parse(row)?);
        last = Some(seq.to_string());
    }
    Ok((out, last))
}

fn export(
    conn: &Connection,
    section: CopySection,
    after: Option<&str>,
    limit: usize,
) -> Result<ExportPage, StoreError> {
    let n = i64::try_from(limit).unwrap_or(i64::MAX);
    let (rows, last) = match section {
        CopySection::Integrations => {
            let rows = crate::integrations::select(
                conn,
                "id IN (SELECT id FROM integrations WHERE id > ?1 ORDER BY id LIMIT ?2)",
                params![after.unwrap_or(""), n],
            )?;
            let last = rows.iter().map(|i| i.id().to_string()).max();
            (CopyPage::Integrations(rows), last)
        }
        CopySection::Accounts => {
            let rows = crate::accounts::select(
                conn,
                "a.id IN (SELECT id FROM accounts WHERE id > ?1 ORDER BY id LIMIT ?2)",
                params![after.unwrap_or(""), n],
            )?;
            let last = rows.last().map(|a| a.id().to_string());
            (CopyPage::Accounts(rows), last)
        }
        CopySection::ShipTos => {
            let (rows, last) = crate::parties::export_ship_tos(conn, after, limit)?;
            (CopyPage::ShipTos(rows), last)
        }
        CopySection::Contacts => {
            let (rows, last) = crate::parties::export_contacts(conn, after, limit)?;
            (CopyPage::Contacts(rows), last)
        }
        CopySection::ReferenceRecords => records(conn, after, limit)?,
        CopySection::SyncRuns => {
            let (rows, last) = by_seq(
                conn,
                "SELECT seq AS export_seq, id, integration_id, kind, started_at, finished_at, \
                 outcome, added, updated, deactivated, total, error FROM sync_runs \
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                seq_of(section, after)?,
                limit,
                "sync_runs",
                crate::reference::reads::run_from_row,
            )?;
            (CopyPage::SyncRuns(rows), last)
        }
        CopySection::Promotions => {
            let after = seq_of(section, after)?;
            let window = "seq IN (SELECT seq FROM promotions WHERE seq > ?1 ORDER BY seq LIMIT ?2)";
            let rows = crate::promotions::select(conn, window, params![after, n])?;
            let last: Option<i64> = conn
                .query_row(
                    "SELECT max(seq) FROM (SELECT seq FROM promotions WHERE seq > ?1 \
                     ORDER BY seq LIMIT ?2)",
                    params![after, n],
                    |row| row.get(0),
                )
                .map_err(db_err("reading promotions"))?;
            (CopyPage::Promotions(rows), last.map(|s| s.to_string()))
        }
        CopySection::Bindings => {
            let (rows, last) = by_seq(
                conn,
                &format!(
                    "SELECT seq AS export_seq, {} FROM bindings \
                     WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    crate::promotions::rows::BINDING_COLUMNS
                ),
                seq_of(section, after)?,
                limit,
                "bindings",
                crate::promotions::rows::binding_from_row,
            )?;
            (CopyPage::Bindings(rows), last)
        }
        CopySection::PartyPromotions => {
            let (rows, last) = by_seq(
                conn,
                &format!(
                    "SELECT seq AS export_seq, {} FROM party_promotions \
                     WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    crate::party_promotions::rows::COLUMNS
                ),
                seq_of(section, after)?,
                limit,
                "party_promotions",
                crate::party_promotions::rows::from_row,
            )?;
            (CopyPage::PartyPromotions(rows), last)
        }
        CopySection::Log => {
            let (rows, last) = by_seq(
                conn,
                "SELECT seq AS export_seq, at, account_id, integration_id, promotion_id, event, \
                 request, message, duration_ms FROM promotion_log \
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                seq_of(section, after)?,
                limit,
                "promotion_log",
                crate::promotions::rows::log_from_row,
            )?;
            (CopyPage::Log(rows), last)
        }
        _ => {
            return Err(StoreError::Internal(format!(
                "this store has no {section} to read out"
            )));
        }
    };
    Ok(ExportPage {
        next: next(rows.len(), limit, last),
        rows,
    })
}

/// Reference records by (set, code key); the cursor is `SET:KEY`.
fn records(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<(CopyPage, Option<String>), StoreError> {
    let (set, key) = match after {
        None => (0, String::new()),
        Some(raw) => raw
            .split_once(':')
            .and_then(|(set, key)| Some((set.parse::<i64>().ok()?, key.to_owned())))
            .ok_or_else(|| bad_cursor(CopySection::ReferenceRecords, raw))?,
    };
    let err = db_err("reading reference records");
    let mut stmt = conn
        .prepare(
            "SELECT s.integration_id AS integration_id, s.kind AS kind, r.code AS code, \
             r.description AS description, r.active AS active, \
             r.default_terms AS default_terms, r.default_tax_group AS default_tax_group, \
             r.extras AS extras, coalesce(r.synced_at, s.synced_at) AS synced_at, \
             r.set_id AS set_id, r.code_key AS code_key \
             FROM reference_records AS r JOIN reference_sets AS s ON s.id = r.set_id \
             WHERE (r.set_id, r.code_key) > (?1, ?2) ORDER BY r.set_id, r.code_key LIMIT ?3",
        )
        .map_err(&err)?;
    let mut rows = stmt
        .query(params![set, key, i64::try_from(limit).unwrap_or(i64::MAX)])
        .map_err(&err)?;
    let mut out = Vec::new();
    let mut last = None;
    while let Some(row) = rows.next().map_err(&err)? {
        out.push(crate::reference::reads::record_from_row(row)?);
        let set: i64 = col(row, "reference_records", "set_id")?;
        let key: String = col(row, "reference_records", "code_key")?;
        last = Some(format!("{set}:{key}"));
    }
    Ok((CopyPage::ReferenceRecords(out), last))
}
