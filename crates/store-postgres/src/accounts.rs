//! [`AccountStore`] over the `accounts` table.

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

use crm2sage_domain::ports::{AccountFilter, AccountStore, StoreError, UpdateAccountError};
use crm2sage_domain::{Account, AccountId, AccountRef, AddressInput, NewAccount};

use crate::db::{col, corrupt, db_err, is_unique_violation, parse_ts, parsed, ts};
use crate::{PostgresStore, execute, query_map};

const TABLE: &str = "accounts";

const COLUMNS: &str = "id, name, \
    billing_line1, billing_line2, billing_line3, billing_city, billing_state, \
    billing_postal_code, billing_country, \
    shipping_line1, shipping_line2, shipping_line3, shipping_city, shipping_state, \
    shipping_postal_code, shipping_country, \
    phone, email, website, currency, language, terms, created_at, updated_at, reference";

const INSERT: &str = "INSERT INTO accounts (id, name, \
    billing_line1, billing_line2, billing_line3, billing_city, billing_state, \
    billing_postal_code, billing_country, \
    shipping_line1, shipping_line2, shipping_line3, shipping_city, shipping_state, \
    shipping_postal_code, shipping_country, \
    phone, email, website, currency, language, terms, created_at, updated_at, reference) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
    $19, $20, $21, $22, $23, $24, $25)";

/// Replaces every column but `id` and `created_at` (parameter 23 of [`INSERT`] is left out,
/// so the update's `$23` is the reference).
const UPDATE: &str = "UPDATE accounts SET name = $2, \
    billing_line1 = $3, billing_line2 = $4, billing_line3 = $5, billing_city = $6, \
    billing_state = $7, billing_postal_code = $8, billing_country = $9, \
    shipping_line1 = $10, shipping_line2 = $11, shipping_line3 = $12, \
    shipping_city = $13, shipping_state = $14, shipping_postal_code = $15, \
    shipping_country = $16, phone = $17, email = $18, website = $19, currency = $20, \
    language = $21, terms = $22, updated_at = $23, reference = $24 WHERE id = $1";

/// An account's row as parameters `$1`–`$25`, in [`COLUMNS`]' order.
struct AccountRow {
    values: [Option<String>; 25],
}

impl AccountRow {
    fn new(account: &Account) -> Self {
        // The domain's own input form: what validation reads back on the way out.
        let input = account.details().to_input();
        let b = input.billing;
        let s = input.shipping;
        let (s1, s2, s3, sc, ss, sp, sn) = match s {
            Some(s) => (
                Some(s.line1),
                s.line2,
                s.line3,
                Some(s.city),
                s.state,
                s.postal_code,
                Some(s.country),
            ),
            None => (None, None, None, None, None, None, None),
        };
        Self {
            values: [
                Some(account.id().to_string()),
                Some(input.name),
                Some(b.line1),
                b.line2,
                b.line3,
                Some(b.city),
                b.state,
                b.postal_code,
                Some(b.country),
                s1,
                s2,
                s3,
                sc,
                ss,
                sp,
                sn,
                input.phone,
                input.email,
                input.website,
                input.currency,
                input.language,
                input.terms,
                Some(ts(account.created_at())),
                Some(ts(account.updated_at())),
                input.reference,
            ],
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|v| v as &(dyn ToSql + Sync))
            .collect()
    }

    /// The parameters of [`UPDATE`]: [`AccountRow::params`] without the creation time (it is
    /// kept as stored).
    fn update_params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let mut params = self.params();
        params.remove(22);
        params
    }
}

fn address(row: &Row, prefix: &str) -> Result<Option<AddressInput>, StoreError> {
    let c = |name: &str| format!("{prefix}_{name}");
    let line1: Option<String> = col(row, TABLE, &c("line1"))?;
    let Some(line1) = line1 else {
        return Ok(None);
    };
    let mut address = AddressInput::new(
        line1,
        col::<Option<String>>(row, TABLE, &c("city"))?.unwrap_or_default(),
        col::<Option<String>>(row, TABLE, &c("country"))?.unwrap_or_default(),
    );
    address.line2 = col(row, TABLE, &c("line2"))?;
    address.line3 = col(row, TABLE, &c("line3"))?;
    address.state = col(row, TABLE, &c("state"))?;
    address.postal_code = col(row, TABLE, &c("postal_code"))?;
    Ok(Some(address))
}

fn from_row(row: &Row) -> Result<Account, StoreError> {
    let id = parsed(row, TABLE, "id", AccountId::parse)?;
    let mut input = NewAccount::new(
        col::<String>(row, TABLE, "name")?,
        address(row, "billing")?.ok_or_else(|| corrupt(TABLE, "billing_line1", "NULL"))?,
    );
    input.shipping = address(row, "shipping")?;
    input.phone = col(row, TABLE, "phone")?;
    input.email = col(row, TABLE, "email")?;
    input.website = col(row, TABLE, "website")?;
    input.currency = col(row, TABLE, "currency")?;
    input.language = col(row, TABLE, "language")?;
    input.terms = col(row, TABLE, "terms")?;
    input.reference = col(row, TABLE, "reference")?;
    let details = input.validate().map_err(|e| {
        let columns: Vec<String> = e
            .fields()
            .iter()
            .map(|f| f.field().replace('.', "_"))
            .collect();
        corrupt(TABLE, &columns.join(", "), format!("account {id}: {e}"))
    })?;
    Ok(Account::restore(
        id,
        details,
        parsed(row, TABLE, "created_at", parse_ts)?,
        parsed(row, TABLE, "updated_at", parse_ts)?,
    ))
}

/// The accounts matching `filter` (an SQL condition on alias `a`), by id.
async fn select<C: GenericClient>(
    client: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Account>, StoreError> {
    // Ids are UUID v7, so id order is creation order (as the in-memory store orders them).
    select_sql(client, &format!("{filter} ORDER BY a.id"), params).await
}

/// The accounts matching `tail` (an SQL condition on alias `a`, with its ORDER BY and LIMIT).
async fn select_sql<C: GenericClient>(
    client: &C,
    tail: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Account>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts AS a WHERE {tail}");
    query_map(client, &sql, params, "reading accounts", from_row).await
}

/// The SQL condition (on `accounts AS a`) of `filter`.
fn condition(filter: AccountFilter) -> &'static str {
    match filter {
        AccountFilter::All => "TRUE",
        AccountFilter::Promoted => "EXISTS (SELECT 1 FROM bindings AS b WHERE b.account_id = a.id)",
        AccountFilter::Pending => {
            "NOT EXISTS (SELECT 1 FROM bindings AS b WHERE b.account_id = a.id)"
        }
    }
}

/// How many statements of a batch write are sent together (pipelined) before their answers
/// are read.
const PIPELINE_BATCH: usize = 256;

/// Runs `stmt` with `params` of each of `chunk` in the caller's transaction, pipelined
/// (tokio-postgres sends the statements polled together at once); the answers in order.
async fn execute_each(
    tx: &Transaction<'_>,
    stmt: &Statement,
    chunk: &[Account],
    params: fn(&AccountRow) -> Vec<&(dyn ToSql + Sync)>,
) -> Vec<Result<u64, tokio_postgres::Error>> {
    let rows: Vec<AccountRow> = chunk.iter().map(AccountRow::new).collect();
    let params: Vec<Vec<&(dyn ToSql + Sync)>> = rows.iter().map(params).collect();
    futures_util::future::join_all(params.iter().map(|p| tx.execute(stmt, p))).await
}

/// Stores `accounts` in the caller's transaction: [`INSERT`] prepared once, pipelined.
async fn insert_all(tx: &Transaction<'_>, accounts: &[Account]) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(INSERT)
        .await
        .map_err(db_err("storing accounts"))?;
    for chunk in accounts.chunks(PIPELINE_BATCH) {
        let results = execute_each(tx, &stmt, chunk, AccountRow::params).await;
        for (result, account) in results.into_iter().zip(chunk) {
            result.map_err(|e| db_err(&format!("storing account {}", account.id()))(e))?;
        }
    }
    Ok(())
}

/// Runs [`UPDATE`] for each of `accounts` in the caller's transaction (prepared once,
/// pipelined) and returns the first, in order, that did not replace its row, with the server's
/// answer for it (for [`update_outcome`], once the transaction is rolled back).
async fn update_all<'a>(
    tx: &Transaction<'_>,
    accounts: &'a [Account],
) -> Result<Option<(&'a Account, Result<u64, tokio_postgres::Error>)>, StoreError> {
    if accounts.is_empty() {
        return Ok(None);
    }
    let stmt = tx
        .prepare_cached(UPDATE)
        .await
        .map_err(db_err("updating accounts"))?;
    for chunk in accounts.chunks(PIPELINE_BATCH) {
        let failed = execute_each(tx, &stmt, chunk, AccountRow::update_params)
            .await
            .into_iter()
            .zip(chunk)
            .find(|(result, _)| !matches!(result, Ok(n) if *n > 0));
        if let Some((result, account)) = failed {
            return Ok(Some((account, result)));
        }
    }
    Ok(None)
}

/// What [`AccountStore::update_account`] answers for `result`, the server's answer to
/// [`UPDATE`] for `account`. The account that has a taken reference is looked up on `client`,
/// which must not be in the transaction the violation aborted.
async fn update_outcome<C: GenericClient>(
    client: &C,
    account: &Account,
    result: Result<u64, tokio_postgres::Error>,
) -> Result<(), UpdateAccountError> {
    match result {
        Ok(0) => Err(UpdateAccountError::NotFound(account.id())),
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e, Some("accounts_by_reference")) => {
            match account.details().reference() {
                Some(reference) => {
                    let other = select(client, "reference = $1", &[&reference.as_str()])
                        .await?
                        .pop()
                        .map_or(account.id(), |a| a.id());
                    Err(UpdateAccountError::ReferenceTaken {
                        reference: reference.clone(),
                        other,
                    })
                }
                None => Err(db_err(&format!("updating account {}", account.id()))(e).into()),
            }
        }
        Err(e) => Err(db_err(&format!("updating account {}", account.id()))(e).into()),
    }
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError> {
        let client = self.client().await?;
        let row = AccountRow::new(account);
        execute(&client, INSERT, &row.params())
            .await
            .map_err(|e| db_err(&format!("storing account {}", account.id()))(e))?;
        Ok(())
    }

    async fn insert_accounts(&self, accounts: &[Account]) -> Result<(), StoreError> {
        if accounts.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(db_err("storing accounts"))?;
        insert_all(&tx, accounts).await?;
        tx.commit().await.map_err(db_err("storing accounts"))
    }

    async fn update_account(&self, account: &Account) -> Result<(), UpdateAccountError> {
        let client = self.client().await?;
        let row = AccountRow::new(account);
        let result = execute(&client, UPDATE, &row.update_params()).await;
        update_outcome(&client, account, result).await
    }

    async fn write_accounts(
        &self,
        new: Vec<Account>,
        changed: Vec<Account>,
    ) -> Result<(), UpdateAccountError> {
        if new.is_empty() && changed.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(db_err("storing accounts"))?;
        insert_all(&tx, &new).await?;
        if let Some((account, result)) = update_all(&tx, &changed).await? {
            // Dropping the transaction rolls it back (before the lookup of a taken reference,
            // which the aborted transaction could not run).
            drop(tx);
            return update_outcome(&client, account, result).await;
        }
        tx.commit()
            .await
            .map_err(db_err("storing accounts"))
            .map_err(UpdateAccountError::from)
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let client = self.client().await?;
        Ok(select(&client, "id = $1", &[&id.to_string()]).await?.pop())
    }

    async fn account_by_reference(
        &self,
        reference: &AccountRef,
    ) -> Result<Option<Account>, StoreError> {
        let client = self.client().await?;
        Ok(select(&client, "reference = $1", &[&reference.as_str()])
            .await?
            .pop())
    }

    async fn accounts_by_references(
        &self,
        references: &[AccountRef],
    ) -> Result<Vec<Option<Account>>, StoreError> {
        if references.is_empty() {
            return Ok(Vec::new());
        }
        // Compared as `account_by_reference` compares them: exactly, byte for byte.
        let wanted: Vec<&str> = references.iter().map(AccountRef::as_str).collect();
        let client = self.client().await?;
        let found: HashMap<String, Account> = select(&client, "reference = ANY($1)", &[&wanted])
            .await?
            .into_iter()
            .filter_map(|a| {
                let reference = a.details().reference()?.as_str().to_owned();
                Some((reference, a))
            })
            .collect();
        // `get`, not `remove`: a reference asked for twice is found twice.
        Ok(wanted.iter().map(|r| found.get(*r).cloned()).collect())
    }

    async fn accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, StoreError> {
        let client = self.client().await?;
        select(&client, condition(filter), &[]).await
    }

    async fn accounts_page(
        &self,
        filter: AccountFilter,
        after: Option<AccountId>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let condition = condition(filter);
        let client = self.client().await?;
        // The primary key is the keyset: each page is a range scan from `after`.
        match after {
            None => {
                select_sql(
                    &client,
                    &format!("{condition} ORDER BY a.id LIMIT $1"),
                    &[&limit],
                )
                .await
            }
            Some(after) => {
                select_sql(
                    &client,
                    &format!("a.id > $1 AND {condition} ORDER BY a.id LIMIT $2"),
                    &[&after.to_string(), &limit],
                )
                .await
            }
        }
    }
}
