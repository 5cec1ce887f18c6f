//! [`AccountStore`] over the `accounts` table.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{Connection, Row, Statement, params};

use crm2sage_domain::ports::{AccountFilter, AccountStore, StoreError, UpdateAccountError};
use crm2sage_domain::{Account, AccountId, AccountRef, AddressInput, NewAccount, Timestamp};

use crate::SqliteStore;
use crate::db::{col, corrupt, db_err, is_unique_violation, parse_ts, parsed, ts, write_tx};

const TABLE: &str = "accounts";

/// References looked up by one statement of `accounts_by_references` (well under SQLite's
/// limit on parameters).
const REFERENCES_PER_READ: usize = 500;

/// The columns of an account row, in the order of its statements' parameters.
macro_rules! columns {
    () => {
        "id, name, \
         billing_line1, billing_line2, billing_line3, billing_city, billing_state, \
         billing_postal_code, billing_country, \
         shipping_line1, shipping_line2, shipping_line3, shipping_city, shipping_state, \
         shipping_postal_code, shipping_country, \
         phone, email, website, currency, language, terms, created_at, updated_at, reference"
    };
}
const COLUMNS: &str = columns!();

/// The text of an account's row that its fields do not hold as text (its id, its two
/// instants), in buffers kept across the rows of one write: a chunk's rows reuse them, and
/// reuse an instant's text when the row before had the same instant (a chunk's new accounts
/// share theirs).
#[derive(Default)]
struct RowText {
    id: String,
    created: Option<(Timestamp, String)>,
    updated: Option<(Timestamp, String)>,
}

/// `at` in [`ts`]'s form, from `cache` when it holds the same instant.
fn stamp(cache: &mut Option<(Timestamp, String)>, at: Timestamp) -> &str {
    if !matches!(cache, Some((cached, _)) if *cached == at) {
        *cache = Some((at, ts(at)));
    }
    cache.as_ref().map_or("", |(_, text)| text.as_str())
}

/// Runs `stmt` with the account's row as parameters `?1`–`?25`, in [`COLUMNS`]' order: each
/// field bound as the validated account holds it (what validation reads back on load).
fn execute_row(
    stmt: &mut Statement<'_>,
    account: &Account,
    text: &mut RowText,
) -> rusqlite::Result<usize> {
    use std::fmt::Write as _;
    let RowText {
        id,
        created,
        updated,
    } = text;
    id.clear();
    // Writing into a `String` cannot fail.
    let _ = write!(id, "{}", account.id());
    let created = stamp(created, account.created_at());
    let updated = stamp(updated, account.updated_at());
    let d = account.details();
    let b = d.billing();
    let s = d.shipping();
    stmt.execute(params![
        id.as_str(),
        d.name().as_str(),
        b.line1(),
        b.line2(),
        b.line3(),
        b.city(),
        b.state(),
        b.postal_code(),
        b.country().alpha2(),
        s.map(|s| s.line1()),
        s.and_then(|s| s.line2()),
        s.and_then(|s| s.line3()),
        s.map(|s| s.city()),
        s.and_then(|s| s.state()),
        s.and_then(|s| s.postal_code()),
        s.map(|s| s.country().alpha2()),
        d.phone().map(|p| p.as_str()),
        d.email().map(|e| e.as_str()),
        d.website().map(|w| w.as_str()),
        d.currency().map(|c| c.as_str()),
        d.language().map(|l| l.as_str()),
        d.terms().map(|t| t.as_str()),
        created,
        updated,
        d.reference().map(|r| r.as_str()),
    ])
}

/// The insert of one account row (`?1`–`?25` as [`execute_row`] binds them).
const INSERT_SQL: &str = concat!(
    "INSERT INTO accounts (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
     ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
);

/// Replaces every column of the account row but `id` and `created_at` (`?23`, unused).
const UPDATE_SQL: &str = "UPDATE accounts SET name = ?2, \
     billing_line1 = ?3, billing_line2 = ?4, billing_line3 = ?5, billing_city = ?6, \
     billing_state = ?7, billing_postal_code = ?8, billing_country = ?9, \
     shipping_line1 = ?10, shipping_line2 = ?11, shipping_line3 = ?12, \
     shipping_city = ?13, shipping_state = ?14, shipping_postal_code = ?15, \
     shipping_country = ?16, phone = ?17, email = ?18, website = ?19, currency = ?20, \
     language = ?21, terms = ?22, updated_at = ?24, reference = ?25 WHERE id = ?1";

/// Inserts `accounts` with one prepared statement.
fn insert_all<'a>(
    conn: &Connection,
    accounts: impl IntoIterator<Item = &'a Account>,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(INSERT_SQL)
        .map_err(db_err("storing an account"))?;
    let mut text = RowText::default();
    for account in accounts {
        execute_row(&mut stmt, account, &mut text)
            .map_err(|e| db_err(&format!("storing account {}", account.id()))(e))?;
    }
    Ok(())
}

/// Updates `accounts` with one prepared statement.
fn update_all<'a>(
    conn: &Connection,
    accounts: impl IntoIterator<Item = &'a Account>,
) -> Result<(), UpdateAccountError> {
    let mut stmt = conn
        .prepare_cached(UPDATE_SQL)
        .map_err(db_err("updating an account"))?;
    let mut text = RowText::default();
    for account in accounts {
        update_one(conn, &mut stmt, account, &mut text)?;
    }
    Ok(())
}

/// Runs the update of [`UPDATE_SQL`] for `account`.
fn update_one(
    conn: &Connection,
    stmt: &mut Statement<'_>,
    account: &Account,
    text: &mut RowText,
) -> Result<(), UpdateAccountError> {
    let changed = execute_row(stmt, account, text);
    match changed {
        Ok(0) => Err(UpdateAccountError::NotFound(account.id())),
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => match account.details().reference() {
            Some(reference) => {
                let other = select(conn, "reference = ?1", [reference.as_str()])?
                    .pop()
                    .map_or(account.id(), |a| a.id());
                Err(UpdateAccountError::ReferenceTaken {
                    reference: reference.clone(),
                    other,
                })
            }
            None => Err(db_err(&format!("updating account {}", account.id()))(e).into()),
        },
        Err(e) => Err(db_err(&format!("updating account {}", account.id()))(e).into()),
    }
}

fn address(row: &Row<'_>, prefix: &str) -> Result<Option<AddressInput>, StoreError> {
    let c = |name: &str| format!("{prefix}_{name}");
    let line1: Option<String> = col(row, TABLE, &c("line1"))?;
    let Some(line1) = line1 else {
        return Ok(None);
    };
    Ok(Some({
        let mut address = AddressInput::new(
            line1,
            col::<Option<String>>(row, TABLE, &c("city"))?.unwrap_or_default(),
            col::<Option<String>>(row, TABLE, &c("country"))?.unwrap_or_default(),
        );
        address.line2 = col(row, TABLE, &c("line2"))?;
        address.line3 = col(row, TABLE, &c("line3"))?;
        address.state = col(row, TABLE, &c("state"))?;
        address.postal_code = col(row, TABLE, &c("postal_code"))?;
        address
    }))
}

/// Whether account `account` is stored: the check a write that must belong to one makes
/// first.
pub(crate) fn exists(conn: &Connection, account: AccountId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)")
        .and_then(|mut stmt| stmt.query_row([account.to_string()], |r| r.get(0)))
        .map_err(db_err("looking up an account"))
}

fn from_row(row: &Row<'_>) -> Result<Account, StoreError> {
    let id = parsed(row, TABLE, "id", AccountId::parse)?;
    let input = {
        let mut new_account = NewAccount::new(
            col::<String>(row, TABLE, "name")?,
            address(row, "billing")?.ok_or_else(|| corrupt(TABLE, "billing_line1", "NULL"))?,
        );
        new_account.shipping = address(row, "shipping")?;
        new_account.phone = col(row, TABLE, "phone")?;
        new_account.email = col(row, TABLE, "email")?;
        new_account.website = col(row, TABLE, "website")?;
        new_account.currency = col(row, TABLE, "currency")?;
        new_account.language = col(row, TABLE, "language")?;
        new_account.terms = col(row, TABLE, "terms")?;
        new_account.reference = col(row, TABLE, "reference")?;
        new_account
    };
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

pub(crate) fn select<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> Result<Vec<Account>, StoreError> {
    // Ids are UUID v7, so id order is creation order (as the in-memory store orders them).
    select_sql(conn, &format!("{filter} ORDER BY id"), params)
}

/// Every account matching `tail` (an SQL condition with its ORDER BY and LIMIT).
fn select_sql<P: rusqlite::Params>(
    conn: &Connection,
    tail: &str,
    params: P,
) -> Result<Vec<Account>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts AS a WHERE {tail}");
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(db_err("reading accounts"))?;
    let mut rows = stmt.query(params).map_err(db_err("reading accounts"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading accounts"))? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

/// The SQL condition (on `accounts AS a`) of `filter`.
fn condition(filter: AccountFilter) -> &'static str {
    match filter {
        AccountFilter::All => "1",
        AccountFilter::Promoted => "EXISTS (SELECT 1 FROM bindings AS b WHERE b.account_id = a.id)",
        AccountFilter::Pending => {
            "NOT EXISTS (SELECT 1 FROM bindings AS b WHERE b.account_id = a.id)"
        }
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError> {
        let account = account.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            insert_all(&tx, [&account])?;
            tx.commit().map_err(db_err("storing an account"))
        })
        .await
    }

    async fn insert_accounts(&self, accounts: &[Account]) -> Result<(), StoreError> {
        if accounts.is_empty() {
            return Ok(());
        }
        let accounts = accounts.to_vec();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            insert_all(&tx, &accounts)?;
            tx.commit().map_err(db_err("storing accounts"))
        })
        .await
    }

    async fn update_account(&self, account: &Account) -> Result<(), UpdateAccountError> {
        let account = account.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            update_all(&tx, [&account])?;
            tx.commit()
                .map_err(db_err("updating an account"))
                .map_err(UpdateAccountError::from)
        })
        .await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.read_point(move |conn| Ok(select(conn, "id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn account_by_reference(
        &self,
        reference: &AccountRef,
    ) -> Result<Option<Account>, StoreError> {
        let reference = reference.as_str().to_owned();
        self.read_point(move |conn| Ok(select(conn, "reference = ?1", [reference])?.pop()))
            .await
    }

    async fn accounts_by_references(
        &self,
        references: &[AccountRef],
    ) -> Result<Vec<Option<Account>>, StoreError> {
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<String> = references.iter().map(|r| r.as_str().to_owned()).collect();
        self.read(move |conn| {
            let mut found: HashMap<String, Account> = HashMap::with_capacity(wanted.len());
            for part in wanted.chunks(REFERENCES_PER_READ) {
                let marks = vec!["?"; part.len()].join(", ");
                let accounts = select(
                    conn,
                    &format!("reference IN ({marks})"),
                    rusqlite::params_from_iter(part),
                )?;
                for account in accounts {
                    if let Some(reference) = account.details().reference() {
                        found.insert(reference.as_str().to_owned(), account);
                    }
                }
            }
            Ok(wanted.iter().map(|r| found.get(r).cloned()).collect())
        })
        .await
    }

    async fn write_accounts(
        &self,
        new: Vec<Account>,
        changed: Vec<Account>,
    ) -> Result<(), UpdateAccountError> {
        if new.is_empty() && changed.is_empty() {
            return Ok(());
        }
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            insert_all(&tx, &new)?;
            update_all(&tx, &changed)?;
            tx.commit()
                .map_err(db_err("storing accounts"))
                .map_err(UpdateAccountError::from)
        })
        .await
    }

    async fn accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, StoreError> {
        self.read(move |conn| select(conn, condition(filter), []))
            .await
    }

    async fn accounts_page(
        &self,
        filter: AccountFilter,
        after: Option<AccountId>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The primary key is the keyset: each page is a range scan from `after`.
        self.read(move |conn| match after {
            None => select_sql(
                conn,
                &format!("{} ORDER BY id LIMIT ?1", condition(filter)),
                params![limit],
            ),
            Some(after) => select_sql(
                conn,
                &format!("id > ?1 AND {} ORDER BY id LIMIT ?2", condition(filter)),
                params![after.to_string(), limit],
            ),
        })
        .await
    }
}
