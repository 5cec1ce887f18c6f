//! [`CustomerIndexStore`]: the ERP's customers per integration with their lookup keys.
//!
//! A page of a sync is one statement (`INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO
//! UPDATE`): one round trip whatever the page's size. A chunk of lookups is one statement too:
//! the chunk's keys as arrays, each entry's candidates a `LATERAL` `UNION` of the three key
//! indexes (the `UNION` drops a customer two keys found twice). Sage 300's missing division is
//! `''` in the key, so it stays unique.

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crm2sage_domain::ports::{
    CustomerIndexState, CustomerIndexStore, ErpCustomerKey, ErpCustomerStatus, ErpCustomerSummary,
    IndexedCustomer, StoreError,
};
use crm2sage_domain::{ArDivision, CustomerNo, IntegrationId, MatchKeys, Timestamp};

use crate::db::{col, corrupt, db_err, known, parse_ts, parsed, parsed_opt, to_count, ts};
use crate::{PostgresStore, execute, query, query_map};

const TABLE: &str = "customer_index";
const STATE: &str = "customer_index_state";

const COLUMNS: &str = "division, customer_no, name, address_line1, address_line2, \
     address_line3, city, state, postal_code, country, phone, email, status, on_hold, \
     last_maintained, crm_id, norm_name, phone_key, email_key, seen_at";

/// The columns of a page, one array each, in [`COLUMNS`]' order.
#[derive(Default)]
struct Columns {
    text: [Vec<Option<String>>; 19],
    on_hold: Vec<bool>,
}

impl Columns {
    /// `customers`, the last of each key kept (one statement cannot write a row twice).
    fn of(customers: &[IndexedCustomer]) -> Self {
        let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(customers.len());
        for (i, c) in customers.iter().enumerate() {
            let k = &c.summary.key;
            last.insert((division_col(k), k.customer_no.as_str()), i);
        }
        let mut out = Self::default();
        for (i, c) in customers.iter().enumerate() {
            let s = &c.summary;
            if last.get(&(division_col(&s.key), s.key.customer_no.as_str())) != Some(&i) {
                continue;
            }
            let values = [
                Some(division_col(&s.key).to_owned()),
                Some(s.key.customer_no.as_str().to_owned()),
                Some(s.name.clone()),
                s.address_lines[0].clone(),
                s.address_lines[1].clone(),
                s.address_lines[2].clone(),
                s.city.clone(),
                s.state.clone(),
                s.postal_code.clone(),
                s.country.clone(),
                s.phone.clone(),
                s.email.clone(),
                Some(s.status.as_str().to_owned()),
                s.last_maintained.map(|d| d.to_string()),
                s.crm_id.clone(),
                c.keys.name.clone(),
                c.keys.phone.clone(),
                c.keys.email.clone(),
                Some(ts(c.seen_at)),
            ];
            for (column, value) in out.text.iter_mut().zip(values) {
                column.push(value);
            }
            out.on_hold.push(s.on_hold);
        }
        out
    }
}

/// The `division` column of `key`: the division, or `''` for none (Sage 300).
fn division_col(key: &ErpCustomerKey) -> &str {
    key.division.as_ref().map_or("", ArDivision::as_str)
}

fn key_from_row(row: &Row) -> Result<ErpCustomerKey, StoreError> {
    let division: &str = col(row, TABLE, "division")?;
    // A division is Sage 100's; its numbers follow Sage 100's rules, the others Sage 300's.
    let division = (!division.is_empty())
        .then(|| ArDivision::parse(division).map_err(|e| corrupt(TABLE, "division", e)))
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

fn summary_from_row(row: &Row) -> Result<ErpCustomerSummary, StoreError> {
    let text = |name: &str| -> Result<Option<String>, StoreError> { col(row, TABLE, name) };
    Ok(ErpCustomerSummary {
        key: key_from_row(row)?,
        name: col(row, TABLE, "name")?,
        address_lines: [
            text("address_line1")?,
            text("address_line2")?,
            text("address_line3")?,
        ],
        city: text("city")?,
        state: text("state")?,
        postal_code: text("postal_code")?,
        country: text("country")?,
        phone: text("phone")?,
        email: text("email")?,
        status: parsed(
            row,
            TABLE,
            "status",
            known("customer status", ErpCustomerStatus::parse),
        )?,
        on_hold: col(row, TABLE, "on_hold")?,
        last_maintained: parsed_opt(
            row,
            TABLE,
            "last_maintained",
            str::parse::<jiff::civil::Date>,
        )?,
        crm_id: text("crm_id")?,
    })
}

fn indexed_from_row(row: &Row) -> Result<IndexedCustomer, StoreError> {
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

async fn read_state<C: GenericClient>(
    client: &C,
    integration: &str,
) -> Result<Option<CustomerIndexState>, StoreError> {
    let rows = query(
        client,
        "SELECT synced_from, full_from, finished_at, customers FROM customer_index_state \
         WHERE integration_id = $1",
        &[&integration],
    )
    .await
    .map_err(db_err("reading the customer index state"))?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let customers: i64 = col(row, STATE, "customers")?;
    Ok(Some(CustomerIndexState {
        synced_from: parsed(row, STATE, "synced_from", parse_ts)?,
        full_from: parsed(row, STATE, "full_from", parse_ts)?,
        finished_at: parsed(row, STATE, "finished_at", parse_ts)?,
        customers: to_count(customers),
    }))
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The lookup of a chunk: `$2`–`$4` the entries' name, phone and e-mail keys, `$5` the limit;
/// each row carries its entry's position (`ord`, from 1).
fn lookup_sql() -> String {
    let branch = |column: &str, key: &str| {
        format!(
            "SELECT {COLUMNS} FROM customer_index WHERE integration_id = $1 AND {column} = k.{key}"
        )
    };
    format!(
        "SELECT k.ord, c.* FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY \
         AS k (name, phone, email, ord) CROSS JOIN LATERAL ({} UNION {} UNION {} \
         ORDER BY division, customer_no LIMIT $5) AS c ORDER BY k.ord, c.division, c.customer_no",
        branch("norm_name", "name"),
        branch("phone_key", "phone"),
        branch("email_key", "email"),
    )
}

#[async_trait]
impl CustomerIndexStore for PostgresStore {
    async fn upsert_customers(
        &self,
        integration: IntegrationId,
        customers: &[IndexedCustomer],
    ) -> Result<(), StoreError> {
        if customers.is_empty() {
            return Ok(());
        }
        let columns = Columns::of(customers);
        let integration = integration.to_string();
        let t = &columns.text;
        let arrays: String = (2..=21)
            .map(|n| {
                let ty = if n == 15 { "boolean" } else { "text" };
                format!("${n}::{ty}[]")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let updates = COLUMNS
            .split(", ")
            .skip(2)
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO customer_index (integration_id, {COLUMNS}) SELECT $1, u.* FROM \
             unnest({arrays}) AS u ON CONFLICT (integration_id, division, customer_no) \
             DO UPDATE SET {updates}"
        );
        let client = self.client().await?;
        execute(
            &client,
            &sql,
            &[
                &integration,
                &t[0],
                &t[1],
                &t[2],
                &t[3],
                &t[4],
                &t[5],
                &t[6],
                &t[7],
                &t[8],
                &t[9],
                &t[10],
                &t[11],
                &t[12],
                &columns.on_hold,
                &t[13],
                &t[14],
                &t[15],
                &t[16],
                &t[17],
                &t[18],
            ],
        )
        .await
        .map_err(db_err("writing the customer index"))?;
        Ok(())
    }

    async fn finish_customer_sync(
        &self,
        integration: IntegrationId,
        started_at: Timestamp,
        full: bool,
        now: Timestamp,
    ) -> Result<CustomerIndexState, StoreError> {
        const WHAT: &str = "finishing a customer sync";
        let integration = integration.to_string();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err(WHAT))?;
        if full {
            execute(
                &tx,
                "DELETE FROM customer_index WHERE integration_id = $1 AND seen_at < $2",
                &[&integration, &ts(started_at)],
            )
            .await
            .map_err(db_err(WHAT))?;
        }
        let customers: i64 = query(
            &tx,
            "SELECT count(*) FROM customer_index WHERE integration_id = $1",
            &[&integration],
        )
        .await
        .map_err(db_err(WHAT))?
        .first()
        .map(|r| col(r, TABLE, "count"))
        .transpose()?
        .unwrap_or(0);
        // Never a full sync yet: the epoch, so "the last full sync is old" holds.
        let full_from = if full {
            started_at
        } else {
            read_state(&tx, &integration)
                .await?
                .map_or(Timestamp::UNIX_EPOCH, |s| s.full_from)
        };
        let state = CustomerIndexState {
            synced_from: started_at,
            full_from,
            finished_at: now,
            customers: to_count(customers),
        };
        execute(
            &tx,
            "INSERT INTO customer_index_state (integration_id, synced_from, full_from, \
             finished_at, customers) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (integration_id) \
             DO UPDATE SET synced_from = excluded.synced_from, full_from = excluded.full_from, \
             finished_at = excluded.finished_at, customers = excluded.customers",
            &[
                &integration,
                &ts(state.synced_from),
                &ts(state.full_from),
                &ts(state.finished_at),
                &customers,
            ],
        )
        .await
        .map_err(db_err(WHAT))?;
        tx.commit().await.map_err(db_err(WHAT))?;
        Ok(state)
    }

    async fn customer_index_state(
        &self,
        integration: IntegrationId,
    ) -> Result<Option<CustomerIndexState>, StoreError> {
        let client = self.client().await?;
        read_state(&client, &integration.to_string()).await
    }

    async fn customer_candidates(
        &self,
        integration: IntegrationId,
        keys: &[MatchKeys],
        limit_each: usize,
    ) -> Result<Vec<Vec<ErpCustomerSummary>>, StoreError> {
        let mut out = vec![Vec::new(); keys.len()];
        if keys.is_empty() || limit_each == 0 {
            return Ok(out);
        }
        let names: Vec<Option<&str>> = keys.iter().map(|k| k.name.as_deref()).collect();
        let phones: Vec<Option<&str>> = keys.iter().map(|k| k.phone.as_deref()).collect();
        let emails: Vec<Option<&str>> = keys.iter().map(|k| k.email.as_deref()).collect();
        let client = self.client().await?;
        let found = query_map(
            &client,
            &lookup_sql(),
            &[
                &integration.to_string(),
                &names,
                &phones,
                &emails,
                &sql_limit(limit_each),
            ],
            "looking customers up in the index",
            |row| {
                let ord: i64 = col(row, TABLE, "ord")?;
                Ok((ord, summary_from_row(row)?))
            },
        )
        .await?;
        for (ord, summary) in found {
            let slot = usize::try_from(ord - 1)
                .ok()
                .and_then(|i| out.get_mut(i))
                .ok_or_else(|| corrupt(TABLE, "ord", ord))?;
            slot.push(summary);
        }
        Ok(out)
    }

    async fn indexed_customers_page(
        &self,
        integration: IntegrationId,
        after: Option<&ErpCustomerKey>,
        limit: usize,
    ) -> Result<Vec<IndexedCustomer>, StoreError> {
        const WHAT: &str = "reading the customer index";
        if limit == 0 {
            return Ok(Vec::new());
        }
        let integration = integration.to_string();
        let limit = sql_limit(limit);
        let client = self.client().await?;
        match after {
            None => {
                query_map(
                    &client,
                    &format!(
                        "SELECT {COLUMNS} FROM customer_index WHERE integration_id = $1 \
                         ORDER BY division, customer_no LIMIT $2"
                    ),
                    &[&integration, &limit],
                    WHAT,
                    indexed_from_row,
                )
                .await
            }
            Some(k) => {
                query_map(
                    &client,
                    &format!(
                        "SELECT {COLUMNS} FROM customer_index WHERE integration_id = $1 \
                         AND (division, customer_no) > ($2, $3) \
                         ORDER BY division, customer_no LIMIT $4"
                    ),
                    &[
                        &integration,
                        &division_col(k),
                        &k.customer_no.as_str(),
                        &limit,
                    ],
                    WHAT,
                    indexed_from_row,
                )
                .await
            }
        }
    }
}
