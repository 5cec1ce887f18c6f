//! [`CustomerIndexStore`]: the ERP's customers per integration with their lookup keys.
//!
//! A page of a sync is one write (one savepoint, one cached `INSERT … ON CONFLICT DO UPDATE`
//! run per customer); a chunk of lookups is one read transaction running one cached statement
//! per account, a `UNION` of the three key indexes (the `UNION` drops a customer two keys
//! found twice). Sage 300's missing division is `''` in the key, so it stays unique.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};

use crm2sage_domain::ports::{
    CustomerIndexState, CustomerIndexStore, ErpCustomerKey, ErpCustomerStatus, ErpCustomerSummary,
    IndexedCustomer, StoreError,
};
use crm2sage_domain::{ArDivision, CustomerNo, IntegrationId, MatchKeys, Timestamp};

use crate::SqliteStore;
use crate::db::{col, corrupt, db_err, known, parse_ts, parsed, parsed_opt, ts, write_tx};

const TABLE: &str = "customer_index";
const STATE: &str = "customer_index_state";

const COLUMNS: &str = "division, customer_no, name, address_line1, address_line2, \
     address_line3, city, state, postal_code, country, phone, email, status, on_hold, \
     last_maintained, crm_id, norm_name, phone_key, email_key, seen_at";

/// A customer's columns, encoded by the caller so the writer thread only writes.
struct CustomerRow {
    division: String,
    customer_no: String,
    name: String,
    address: [Option<String>; 3],
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    status: &'static str,
    on_hold: bool,
    last_maintained: Option<String>,
    crm_id: Option<String>,
    keys: MatchKeys,
    seen_at: String,
}

impl CustomerRow {
    fn new(c: &IndexedCustomer) -> Self {
        let s = &c.summary;
        Self {
            division: division_col(&s.key).to_owned(),
            customer_no: s.key.customer_no.as_str().to_owned(),
            name: s.name.clone(),
            address: s.address_lines.clone(),
            city: s.city.clone(),
            state: s.state.clone(),
            postal_code: s.postal_code.clone(),
            country: s.country.clone(),
            phone: s.phone.clone(),
            email: s.email.clone(),
            status: s.status.as_str(),
            on_hold: s.on_hold,
            last_maintained: s.last_maintained.map(|d| d.to_string()),
            crm_id: s.crm_id.clone(),
            keys: c.keys.clone(),
            seen_at: ts(c.seen_at),
        }
    }
}

/// The `division` column of `key`: the division, or `''` for none (Sage 300).
fn division_col(key: &ErpCustomerKey) -> &str {
    key.division.as_ref().map_or("", ArDivision::as_str)
}

fn key_from_row(row: &Row<'_>) -> Result<ErpCustomerKey, StoreError> {
    let division: String = col(row, TABLE, "division")?;
    // A division is Sage 100's; its numbers follow Sage 100's rules, the others Sage 300's.
    let division = (!division.is_empty())
        .then(|| ArDivision::parse(&division).map_err(|e| corrupt(TABLE, "division", e)))
        .transpose()?;
    let customer_no = parsed(row, TABLE, "customer_no", |raw| match division {
        Some(_) => CustomerNo::parse_sage100(raw),
        None => CustomerNo::parse_sage300(raw),
    })?;
    Ok(ErpCustomerKey {
        division,
        customer_no,
    })
}

fn summary_from_row(row: &Row<'_>) -> Result<ErpCustomerSummary, StoreError> {
    let on_hold: i64 = col(row, TABLE, "on_hold")?;
    Ok(ErpCustomerSummary {
        key: key_from_row(row)?,
        name: col(row, TABLE, "name")?,
        address_lines: [
            col(row, TABLE, "address_line1")?,
            col(row, TABLE, "address_line2")?,
            col(row, TABLE, "address_line3")?,
        ],
        city: col(row, TABLE, "city")?,
        state: col(row, TABLE, "state")?,
        postal_code: col(row, TABLE, "postal_code")?,
        country: col(row, TABLE, "country")?,
        phone: col(row, TABLE, "phone")?,
        email: col(row, TABLE, "email")?,
        status: parsed(
            row,
            TABLE,
            "status",
            known("customer status", ErpCustomerStatus::parse),
        )?,
        on_hold: on_hold != 0,
        last_maintained: parsed_opt(
            row,
            TABLE,
            "last_maintained",
            str::parse::<jiff::civil::Date>,
        )?,
        crm_id: col(row, TABLE, "crm_id")?,
    })
}

fn indexed_from_row(row: &Row<'_>) -> Result<IndexedCustomer, StoreError> {
    Ok(IndexedCustomer {
        summary: summary_from_row(row)?,
        keys: MatchKeys {
            name: col(row, TABLE, "norm_name")?,
            phone: col(row, TABLE, "phone_key")?,
            email: col(row, TABLE, "email_key")?,
        },
        seen_at: parsed(row, TABLE, "seen_at", parse_ts)?,
    })
}

fn upsert(
    conn: &mut Connection,
    integration: &str,
    rows: &[CustomerRow],
) -> Result<(), StoreError> {
    const WHAT: &str = "writing the customer index";
    let tx = write_tx(conn)?;
    {
        let mut stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO customer_index (integration_id, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, \
                 ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) \
                 ON CONFLICT (integration_id, division, customer_no) DO UPDATE SET \
                 name = excluded.name, address_line1 = excluded.address_line1, \
                 address_line2 = excluded.address_line2, address_line3 = excluded.address_line3, \
                 city = excluded.city, state = excluded.state, \
                 postal_code = excluded.postal_code, country = excluded.country, \
                 phone = excluded.phone, email = excluded.email, status = excluded.status, \
                 on_hold = excluded.on_hold, last_maintained = excluded.last_maintained, \
                 crm_id = excluded.crm_id, norm_name = excluded.norm_name, \
                 phone_key = excluded.phone_key, email_key = excluded.email_key, \
                 seen_at = excluded.seen_at"
            ))
            .map_err(db_err(WHAT))?;
        for r in rows {
            stmt.execute(params![
                integration,
                r.division,
                r.customer_no,
                r.name,
                r.address[0],
                r.address[1],
                r.address[2],
                r.city,
                r.state,
                r.postal_code,
                r.country,
                r.phone,
                r.email,
                r.status,
                r.on_hold,
                r.last_maintained,
                r.crm_id,
                r.keys.name,
                r.keys.phone,
                r.keys.email,
                r.seen_at,
            ])
            .map_err(db_err(WHAT))?;
        }
    }
    tx.commit().map_err(db_err(WHAT))
}

fn finish(
    conn: &mut Connection,
    integration: &str,
    started_at: Timestamp,
    full: bool,
    now: Timestamp,
) -> Result<CustomerIndexState, StoreError> {
    const WHAT: &str = "finishing a customer sync";
    let tx = write_tx(conn)?;
    if full {
        tx.prepare_cached("DELETE FROM customer_index WHERE integration_id = ?1 AND seen_at < ?2")
            .and_then(|mut s| s.execute(params![integration, ts(started_at)]))
            .map_err(db_err(WHAT))?;
    }
    let customers: i64 = tx
        .prepare_cached("SELECT count(*) FROM customer_index WHERE integration_id = ?1")
        .and_then(|mut s| s.query_row([integration], |r| r.get(0)))
        .map_err(db_err(WHAT))?;
    // Never a full sync yet: the epoch, so "the last full sync is old" holds.
    let full_from = if full {
        started_at
    } else {
        read_state(&tx, integration)?.map_or(Timestamp::UNIX_EPOCH, |s| s.full_from)
    };
    let state = CustomerIndexState {
        synced_from: started_at,
        full_from,
        finished_at: now,
        customers: u64::try_from(customers).map_err(|_| corrupt(TABLE, "count", customers))?,
    };
    tx.prepare_cached(
        "INSERT INTO customer_index_state (integration_id, synced_from, full_from, finished_at, \
         customers) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (integration_id) DO UPDATE SET \
         synced_from = excluded.synced_from, full_from = excluded.full_from, \
         finished_at = excluded.finished_at, customers = excluded.customers",
    )
    .and_then(|mut s| {
        s.execute(params![
            integration,
            ts(state.synced_from),
            ts(state.full_from),
            ts(state.finished_at),
            customers
        ])
    })
    .map_err(db_err(WHAT))?;
    tx.commit().map_err(db_err(WHAT))?;
    Ok(state)
}

fn read_state(
    conn: &Connection,
    integration: &str,
) -> Result<Option<CustomerIndexState>, StoreError> {
    const WHAT: &str = "reading the customer index state";
    let mut stmt = conn
        .prepare_cached(
            "SELECT synced_from, full_from, finished_at, customers FROM customer_index_state \
             WHERE integration_id = ?1",
        )
        .map_err(db_err(WHAT))?;
    let mut rows = stmt.query([integration]).map_err(db_err(WHAT))?;
    let Some(row) = rows.next().map_err(db_err(WHAT))? else {
        return Ok(None);
    };
    let customers: i64 = col(row, STATE, "customers")?;
    Ok(Some(CustomerIndexState {
        synced_from: parsed(row, STATE, "synced_from", parse_ts)?,
        full_from: parsed(row, STATE, "full_from", parse_ts)?,
        finished_at: parsed(row, STATE, "finished_at", parse_ts)?,
        customers: u64::try_from(customers).map_err(|_| corrupt(STATE, "customers", customers))?,
    }))
}

/// The lookup of one account's keys: a `UNION` of the three key indexes, each named (with no
/// statistics, and beside the `ORDER BY`, the planner would rather walk the primary key).
fn lookup_sql() -> String {
    let branch = |index: &str, column: &str, n: u8| {
        format!(
            "SELECT {COLUMNS} FROM customer_index INDEXED BY customer_index_by_{index} \
             WHERE integration_id = ?1 AND {column} = ?{n}"
        )
    };
    format!(
        "{} UNION {} UNION {} ORDER BY division, customer_no LIMIT ?5",
        branch("name", "norm_name", 2),
        branch("phone", "phone_key", 3),
        branch("email", "email_key", 4),
    )
}

fn candidates(
    conn: &mut Connection,
    integration: &str,
    keys: &[MatchKeys],
    limit_each: i64,
) -> Result<Vec<Vec<ErpCustomerSummary>>, StoreError> {
    const WHAT: &str = "looking customers up in the index";
    // One read transaction: the chunk sees one state of the index.
    let tx = conn.transaction().map_err(db_err(WHAT))?;
    let mut out = Vec::with_capacity(keys.len());
    {
        let mut stmt = tx.prepare_cached(&lookup_sql()).map_err(db_err(WHAT))?;
        for k in keys {
            if k.is_empty() {
                out.push(Vec::new());
                continue;
            }
            let mut rows = stmt
                .query(params![integration, k.name, k.phone, k.email, limit_each])
                .map_err(db_err(WHAT))?;
            let mut found = Vec::new();
            while let Some(row) = rows.next().map_err(db_err(WHAT))? {
                found.push(summary_from_row(row)?);
            }
            out.push(found);
        }
    }
    tx.finish().map_err(db_err(WHAT))?;
    Ok(out)
}

fn page(
    conn: &Connection,
    integration: &str,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<IndexedCustomer>, StoreError> {
    const WHAT: &str = "reading the customer index";
    // Two statements, so the page after a key is a range of the primary key.
    let sql = match after {
        None => format!(
            "SELECT {COLUMNS} FROM customer_index WHERE integration_id = ?1 AND ?2 IS NULL \
             AND ?3 IS NULL ORDER BY division, customer_no LIMIT ?4"
        ),
        Some(_) => format!(
            "SELECT {COLUMNS} FROM customer_index WHERE integration_id = ?1 \
             AND (division, customer_no) > (?2, ?3) ORDER BY division, customer_no LIMIT ?4"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err(WHAT))?;
    let (division, number) = after.unzip();
    let mut rows = stmt
        .query(params![integration, division, number, limit])
        .map_err(db_err(WHAT))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err(WHAT))? {
        out.push(indexed_from_row(row)?);
    }
    Ok(out)
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl CustomerIndexStore for SqliteStore {
    async fn upsert_customers(
        &self,
        integration: IntegrationId,
        customers: &[IndexedCustomer],
    ) -> Result<(), StoreError> {
        if customers.is_empty() {
            return Ok(());
        }
        let rows: Vec<CustomerRow> = customers.iter().map(CustomerRow::new).collect();
        let integration = integration.to_string();
        self.write(move |conn| upsert(conn, &integration, &rows))
            .await
    }

    async fn finish_customer_sync(
        &self,
        integration: IntegrationId,
        started_at: Timestamp,
        full: bool,
        now: Timestamp,
    ) -> Result<CustomerIndexState, StoreError> {
        let integration = integration.to_string();
        self.write(move |conn| finish(conn, &integration, started_at, full, now))
            .await
    }

    async fn customer_index_state(
        &self,
        integration: IntegrationId,
    ) -> Result<Option<CustomerIndexState>, StoreError> {
        let integration = integration.to_string();
        self.read_point(move |conn| read_state(conn, &integration))
            .await
    }

    async fn customer_candidates(
        &self,
        integration: IntegrationId,
        keys: &[MatchKeys],
        limit_each: usize,
    ) -> Result<Vec<Vec<ErpCustomerSummary>>, StoreError> {
        if keys.is_empty() || limit_each == 0 {
            return Ok(vec![Vec::new(); keys.len()]);
        }
        let (integration, keys) = (integration.to_string(), keys.to_vec());
        let limit = sql_limit(limit_each);
        self.read(move |conn| candidates(conn, &integration, &keys, limit))
            .await
    }

    async fn indexed_customers_page(
        &self,
        integration: IntegrationId,
        after: Option<&ErpCustomerKey>,
        limit: usize,
    ) -> Result<Vec<IndexedCustomer>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let integration = integration.to_string();
        let after = after.map(|k| {
            (
                division_col(k).to_owned(),
                k.customer_no.as_str().to_owned(),
            )
        });
        let limit = sql_limit(limit);
        self.read(move |conn| page(conn, &integration, after, limit))
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_lookup_uses_the_key_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(crate::SqliteStore::open(&path).unwrap());
        let conn = crate::db::connect(&path, true).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", lookup_sql()))
            .unwrap()
            .query_map(params!["i", "n", "p", "e", 5], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for index in ["by_name", "by_phone", "by_email"] {
            assert!(
                plan.iter()
                    .any(|step| step.contains(&format!("customer_index_{index}"))),
                "{index}: {plan:?}"
            );
        }
    }
}
