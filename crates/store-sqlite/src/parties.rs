//! [`ShipToStore`] and [`ContactStore`] over the `ship_tos` and `contacts` tables.
//!
//! Every write runs in one savepoint on the writer thread, whose transaction holds the write
//! lock (`BEGIN IMMEDIATE`), so the checks a write makes first (the account exists, the code
//! is free, no other primary) cannot be overtaken by another writer; the constraints (foreign
//! key, `UNIQUE (account_id, code)`, the partial unique index over the primary) stay the last
//! word.

use async_trait::async_trait;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crm2sage_domain::ports::{
    AddContactError, AddShipToError, ContactStore, RemoveContactError, RemoveShipToError,
    ShipToStore, StoreError,
};
use crm2sage_domain::{
    AccountId, AddressInput, Contact, ContactCode, InvalidFields, NewContact, NewShipTo,
    PartyCodeError, ShipTo, ShipToCode,
};

use crate::SqliteStore;
use crate::db::{col, corrupt, db_err, parsed, write_tx};

/// Accounts read by one statement of `ship_tos_of` / `contacts_of`.
const ACCOUNTS_PER_READ: usize = 500;

/// Why a party's add was refused, in the domain's terms.
enum Refusal<C> {
    AccountNotFound,
    CodeTaken(C),
    /// The account's other primary, by its code.
    PrimaryTaken(C),
}

/// What tells a ship-to from a contact in the store: its table, columns and errors. The
/// rules they share (the checks before a write, reads, removal, export pages) are written
/// once, generic over this.
trait Party: Sized + Send + 'static {
    /// The table.
    const TABLE: &'static str;
    /// Its columns, in [`Party::values`]' order; `account_id` and `code` first.
    const COLUMNS: &'static str;
    /// What a put adds to the `INSERT`: replacing the row with the same code.
    const UPSERT: &'static str;
    /// What one row is, in errors ("ship-to").
    const NOUN: &'static str;
    /// What several are ("ship-tos").
    const PLURAL: &'static str;

    type Code: Clone;
    type AddError: From<StoreError>;

    fn account(&self) -> AccountId;
    fn code(&self) -> &Self::Code;
    fn code_str(&self) -> &str;
    fn is_primary(&self) -> bool;
    fn parse_code(raw: &str) -> Result<Self::Code, PartyCodeError>;
    fn refused(account: AccountId, why: Refusal<Self::Code>) -> Self::AddError;
    /// The row's values, in [`Party::COLUMNS`]' order.
    fn values(&self) -> Vec<Box<dyn ToSql>>;
    fn from_row(row: &Row<'_>) -> Result<Self, StoreError>;
}

/// A stored row that no longer passes the domain's rules: corrupt, naming its columns.
fn invalid<P: Party>(account: AccountId, code: &str, e: &InvalidFields) -> StoreError {
    let columns: Vec<&str> = e.fields().iter().map(|f| f.field()).collect();
    corrupt(
        P::TABLE,
        &columns.join(", "),
        format!("{} {code} of account {account}: {e}", P::NOUN),
    )
}

/// The part of [`Party`] that is the same for ship-tos and contacts but for the types: the
/// entity's own accessors, and its refusals in its error type (whose variants match).
macro_rules! party_accessors {
    ($code:ident, $add_error:ident) => {
        type Code = $code;
        type AddError = $add_error;

        fn account(&self) -> AccountId {
            self.account()
        }
        fn code(&self) -> &$code {
            self.code()
        }
        fn code_str(&self) -> &str {
            self.code().as_str()
        }
        fn is_primary(&self) -> bool {
            self.is_primary()
        }
        fn parse_code(raw: &str) -> Result<$code, PartyCodeError> {
            $code::parse(raw)
        }
        fn refused(account: AccountId, why: Refusal<$code>) -> $add_error {
            match why {
                Refusal::AccountNotFound => $add_error::AccountNotFound(account),
                Refusal::CodeTaken(code) => $add_error::CodeTaken { account, code },
                Refusal::PrimaryTaken(primary) => $add_error::PrimaryTaken { account, primary },
            }
        }
    };
}

impl Party for ShipTo {
    const TABLE: &'static str = "ship_tos";
    const COLUMNS: &'static str = "account_id, code, name, line1, line2, line3, city, state, \
        postal_code, country, phone, email, is_primary";
    const UPSERT: &'static str = " ON CONFLICT (account_id, code) DO UPDATE SET \
        name = excluded.name, line1 = excluded.line1, line2 = excluded.line2, \
        line3 = excluded.line3, city = excluded.city, state = excluded.state, \
        postal_code = excluded.postal_code, country = excluded.country, phone = excluded.phone, \
        email = excluded.email, is_primary = excluded.is_primary";
    const NOUN: &'static str = "ship-to";
    const PLURAL: &'static str = "ship-tos";

    party_accessors!(ShipToCode, AddShipToError);

    fn values(&self) -> Vec<Box<dyn ToSql>> {
        let input = self.details().to_input();
        let a = input.address;
        vec![
            Box::new(self.account().to_string()),
            Box::new(input.code),
            Box::new(input.name),
            Box::new(a.line1),
            Box::new(a.line2),
            Box::new(a.line3),
            Box::new(a.city),
            Box::new(a.state),
            Box::new(a.postal_code),
            Box::new(a.country),
            Box::new(input.phone),
            Box::new(input.email),
            Box::new(input.primary),
        ]
    }
    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        let t = Self::TABLE;
        let account = parsed(row, t, "account_id", AccountId::parse)?;
        let mut address = AddressInput::new(
            col::<String>(row, t, "line1")?,
            col::<String>(row, t, "city")?,
            col::<String>(row, t, "country")?,
        );
        address.line2 = col(row, t, "line2")?;
        address.line3 = col(row, t, "line3")?;
        address.state = col(row, t, "state")?;
        address.postal_code = col(row, t, "postal_code")?;
        let mut input = NewShipTo::new(
            col::<String>(row, t, "code")?,
            col::<String>(row, t, "name")?,
            address,
        );
        input.phone = col(row, t, "phone")?;
        input.email = col(row, t, "email")?;
        input.primary = col(row, t, "is_primary")?;
        let details = input
            .validate()
            .map_err(|e| invalid::<Self>(account, &input.code, &e))?;
        Ok(ShipTo::new(account, details))
    }
}

impl Party for Contact {
    const TABLE: &'static str = "contacts";
    const COLUMNS: &'static str = "account_id, code, name, title, phone, email, is_primary";
    const UPSERT: &'static str = " ON CONFLICT (account_id, code) DO UPDATE SET \
        name = excluded.name, title = excluded.title, phone = excluded.phone, \
        email = excluded.email, is_primary = excluded.is_primary";
    const NOUN: &'static str = "contact";
    const PLURAL: &'static str = "contacts";

    party_accessors!(ContactCode, AddContactError);

    fn values(&self) -> Vec<Box<dyn ToSql>> {
        let input = self.details().to_input();
        vec![
            Box::new(self.account().to_string()),
            Box::new(input.code),
            Box::new(input.name),
            Box::new(input.title),
            Box::new(input.phone),
            Box::new(input.email),
            Box::new(input.primary),
        ]
    }
    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        let t = Self::TABLE;
        let account = parsed(row, t, "account_id", AccountId::parse)?;
        let mut input = NewContact::new(
            col::<String>(row, t, "code")?,
            col::<String>(row, t, "name")?,
        );
        input.title = col(row, t, "title")?;
        input.phone = col(row, t, "phone")?;
        input.email = col(row, t, "email")?;
        input.primary = col(row, t, "is_primary")?;
        let details = input
            .validate()
            .map_err(|e| invalid::<Self>(account, &input.code, &e))?;
        Ok(Contact::new(account, details))
    }
}

/// The code of the primary row of `account` in `table` other than `code`, if any.
fn other_primary(
    conn: &Connection,
    table: &str,
    account: AccountId,
    code: &str,
) -> Result<Option<String>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT code FROM {table} WHERE account_id = ?1 AND is_primary = 1 AND code <> ?2"
    ))
    .and_then(|mut stmt| {
        stmt.query_row(params![account.to_string(), code], |r| r.get(0))
            .optional()
    })
    .map_err(db_err("looking up a primary"))
}

fn code_exists(
    conn: &Connection,
    table: &str,
    account: AccountId,
    code: &str,
) -> Result<bool, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE account_id = ?1 AND code = ?2)"
    ))
    .and_then(|mut stmt| stmt.query_row(params![account.to_string(), code], |r| r.get(0)))
    .map_err(db_err("looking up a code"))
}

/// `?1, …, ?n` for the columns of `P`.
fn placeholders<P: Party>() -> String {
    (1..=P::COLUMNS.split(',').count())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks `party`'s account and primary, then inserts it (`upsert`: or replaces the row with
/// its code).
fn write<P: Party>(conn: &Connection, party: &P, upsert: bool) -> Result<(), P::AddError> {
    let account = party.account();
    if !crate::accounts::exists(conn, account)? {
        return Err(P::refused(account, Refusal::AccountNotFound));
    }
    let code = party.code_str();
    if !upsert && code_exists(conn, P::TABLE, account, code)? {
        return Err(P::refused(
            account,
            Refusal::CodeTaken(party.code().clone()),
        ));
    }
    if party.is_primary()
        && let Some(primary) = other_primary(conn, P::TABLE, account, code)?
    {
        let primary = P::parse_code(&primary)
            .map_err(|e| corrupt(P::TABLE, "code", format!("`{primary}`: {e}")))?;
        return Err(P::refused(account, Refusal::PrimaryTaken(primary)));
    }
    let on_conflict = if upsert { P::UPSERT } else { "" };
    let values = party.values();
    conn.prepare_cached(&format!(
        "INSERT INTO {} ({}) VALUES ({}){on_conflict}",
        P::TABLE,
        P::COLUMNS,
        placeholders::<P>()
    ))
    .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(values.iter())))
    .map_err(db_err(&format!(
        "storing {} {code} of account {account}",
        P::NOUN
    )))?;
    Ok(())
}

/// Writes every party of `rows` (`upsert`: replacing those whose code is taken) in one
/// savepoint: a refused one writes none.
fn write_all<P: Party>(conn: &mut Connection, rows: &[P], upsert: bool) -> Result<(), P::AddError> {
    let tx = write_tx(conn)?;
    for party in rows {
        write(&tx, party, upsert)?;
    }
    let context = if upsert {
        P::PLURAL.to_owned()
    } else {
        format!("a {}", P::NOUN)
    };
    tx.commit()
        .map_err(db_err(&format!("storing {context}")))
        .map_err(P::AddError::from)
}

/// The parties of `P`'s table matching `filter`, by account then code.
fn select<P: Party, Q: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: Q,
) -> Result<Vec<P>, StoreError> {
    let err = format!("reading {}", P::PLURAL);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {} FROM {} WHERE {filter} ORDER BY account_id, code",
            P::COLUMNS,
            P::TABLE
        ))
        .map_err(db_err(&err))?;
    let mut rows = stmt.query(params).map_err(db_err(&err))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err(&err))? {
        out.push(P::from_row(row)?);
    }
    Ok(out)
}

/// The parties of the accounts of `chunks` (see [`account_chunks`]), one statement a chunk.
fn select_of<P: Party>(conn: &Connection, chunks: &[Vec<String>]) -> Result<Vec<P>, StoreError> {
    let mut out = Vec::new();
    for part in chunks {
        let marks = vec!["?"; part.len()].join(", ");
        out.extend(select::<P, _>(
            conn,
            &format!("account_id IN ({marks})"),
            rusqlite::params_from_iter(part),
        )?);
    }
    Ok(out)
}

/// Removes `account`'s party `code` and answers it (none: there was none).
fn remove<P: Party>(
    conn: &mut Connection,
    account: AccountId,
    code: &str,
) -> Result<Option<P>, StoreError> {
    let context = format!("removing a {}", P::NOUN);
    let tx = write_tx(conn)?;
    let Some(found) = select::<P, _>(
        &tx,
        "account_id = ?1 AND code = ?2",
        params![account.to_string(), code],
    )?
    .pop() else {
        return Ok(None);
    };
    tx.execute(
        &format!(
            "DELETE FROM {} WHERE account_id = ?1 AND code = ?2",
            P::TABLE
        ),
        params![account.to_string(), code],
    )
    .map_err(db_err(&context))?;
    tx.commit().map_err(db_err(&context))?;
    Ok(Some(found))
}

/// `accounts`, sorted and deduplicated, as text in chunks of [`ACCOUNTS_PER_READ`].
fn account_chunks(accounts: &[AccountId]) -> Vec<Vec<String>> {
    let mut sorted = accounts.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
        .chunks(ACCOUNTS_PER_READ)
        .map(|c| c.iter().map(ToString::to_string).collect())
        .collect()
}

/// The `(account_id, code)` an export cursor holds (`ACCOUNT:CODE`; none: from the start).
fn export_key(table: &str, after: Option<&str>) -> Result<(String, String), StoreError> {
    match after {
        None => Ok((String::new(), String::new())),
        Some(raw) => raw
            .split_once(':')
            .map(|(a, c)| (a.to_owned(), c.to_owned()))
            .ok_or_else(|| StoreError::Internal(format!("`{raw}` is no position in {table}"))),
    }
}

/// One page of `P`'s rows for a copy, by (account, code), after the cursor, with the last key.
fn export<P: Party>(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<P>, Option<String>), StoreError> {
    let (account, code) = export_key(P::TABLE, after)?;
    let rows = select::<P, _>(
        conn,
        &format!(
            "rowid IN (SELECT rowid FROM {} WHERE (account_id, code) > (?1, ?2) \
             ORDER BY account_id, code LIMIT ?3)",
            P::TABLE
        ),
        params![account, code, i64::try_from(limit).unwrap_or(i64::MAX)],
    )?;
    let last = rows
        .last()
        .map(|p| format!("{}:{}", p.account(), p.code_str()));
    Ok((rows, last))
}

/// One page of ship-tos for a copy, by (account, code), after the cursor, with the last key.
pub(crate) fn export_ship_tos(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<ShipTo>, Option<String>), StoreError> {
    export(conn, after, limit)
}

/// One page of contacts for a copy, as [`export_ship_tos`].
pub(crate) fn export_contacts(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Contact>, Option<String>), StoreError> {
    export(conn, after, limit)
}

#[async_trait]
impl ShipToStore for SqliteStore {
    async fn add_ship_to(&self, ship_to: &ShipTo) -> Result<(), AddShipToError> {
        let ship_to = ship_to.clone();
        self.write(move |conn| write_all(conn, std::slice::from_ref(&ship_to), false))
            .await
    }

    async fn put_ship_tos(&self, ship_tos: Vec<ShipTo>) -> Result<(), AddShipToError> {
        if ship_tos.is_empty() {
            return Ok(());
        }
        self.write(move |conn| write_all(conn, &ship_tos, true))
            .await
    }

    async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, StoreError> {
        self.read_point(move |conn| select(conn, "account_id = ?1", [account.to_string()]))
            .await
    }

    async fn ship_tos_of(&self, accounts: &[AccountId]) -> Result<Vec<ShipTo>, StoreError> {
        let chunks = account_chunks(accounts);
        self.read(move |conn| select_of(conn, &chunks)).await
    }

    async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &ShipToCode,
    ) -> Result<ShipTo, RemoveShipToError> {
        let code = code.clone();
        self.write(move |conn| {
            remove(conn, account, code.as_str())?
                .ok_or(RemoveShipToError::NotFound { account, code })
        })
        .await
    }
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn add_contact(&self, contact: &Contact) -> Result<(), AddContactError> {
        let contact = contact.clone();
        self.write(move |conn| write_all(conn, std::slice::from_ref(&contact), false))
            .await
    }

    async fn put_contacts(&self, contacts: Vec<Contact>) -> Result<(), AddContactError> {
        if contacts.is_empty() {
            return Ok(());
        }
        self.write(move |conn| write_all(conn, &contacts, true))
            .await
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError> {
        self.read_point(move |conn| select(conn, "account_id = ?1", [account.to_string()]))
            .await
    }

    async fn contacts_of(&self, accounts: &[AccountId]) -> Result<Vec<Contact>, StoreError> {
        let chunks = account_chunks(accounts);
        self.read(move |conn| select_of(conn, &chunks)).await
    }

    async fn remove_contact(
        &self,
        account: AccountId,
        code: &ContactCode,
    ) -> Result<Contact, RemoveContactError> {
        let code = code.clone();
        self.write(move |conn| {
            remove(conn, account, code.as_str())?
                .ok_or(RemoveContactError::NotFound { account, code })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crm2sage_domain::contract::stores::parties::{contact, ship_to};
    use crm2sage_domain::contract::stores::{account, t0};
    use crm2sage_domain::ports::AccountStore;
    use rusqlite::params;

    use super::*;
    use crate::db::{connect, ts};
    use crate::schema::{APPLICATION_ID, LATEST, MIGRATIONS};

    #[tokio::test]
    async fn a_version_5_file_migrates_and_keeps_its_accounts_with_room_for_ship_tos() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm2sage.db");
        std::fs::File::create(&path).unwrap();
        let id = AccountId::generate();
        {
            let conn = connect(&path, false).unwrap();
            for step in &MIGRATIONS[..5] {
                conn.execute_batch(step).unwrap();
            }
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            conn.pragma_update(None, "user_version", 5).unwrap();
            conn.execute(
                "INSERT INTO accounts (id, name, billing_line1, billing_city, billing_country, \
                 created_at, updated_at) VALUES (?1, 'Old', '1 Main St', 'Vancouver', 'CA', ?2, ?2)",
                params![id.to_string(), ts(t0())],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        const { assert!(LATEST >= 6, "migrated past version 6") };
        assert!(
            store.account(id).await.unwrap().is_some(),
            "the account is kept"
        );
        assert!(store.ship_tos(id).await.unwrap().is_empty());
        store.add_ship_to(&ship_to(id, "MAIN", true)).await.unwrap();
        store.add_contact(&contact(id, "ANA", true)).await.unwrap();
        assert_eq!(store.ship_tos(id).await.unwrap().len(), 1);
        assert_eq!(store.contacts(id).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_constraints_hold_under_raw_sql_and_rows_go_with_their_account() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm2sage.db");
        let store = SqliteStore::open(&path).unwrap();
        let a = account("One");
        store.insert_account(&a).await.unwrap();
        store
            .add_ship_to(&ship_to(a.id(), "MAIN", true))
            .await
            .unwrap();
        store
            .add_contact(&contact(a.id(), "ANA", true))
            .await
            .unwrap();
        let conn = connect(&path, false).unwrap();
        // A second primary, a repeated code, an unknown account: the schema refuses each.
        let insert = "INSERT INTO ship_tos (account_id, code, name, line1, city, country, \
                      is_primary) VALUES (?1, ?2, 'x', 'x', 'x', 'US', ?3)";
        assert!(
            conn.execute(insert, params![a.id().to_string(), "WH2", 1])
                .is_err()
        );
        assert!(
            conn.execute(insert, params![a.id().to_string(), "MAIN", 0])
                .is_err()
        );
        let ghost = AccountId::generate().to_string();
        assert!(conn.execute(insert, params![ghost, "MAIN", 0]).is_err());
        assert!(
            conn.execute(
                "INSERT INTO contacts (account_id, code, name, is_primary) VALUES (?1, 'BOB', 'x', 1)",
                params![a.id().to_string()],
            )
            .is_err()
        );
        // Deleting the account takes its ship-tos and contacts along.
        conn.execute("DELETE FROM accounts WHERE id = ?1", [a.id().to_string()])
            .unwrap();
        assert!(store.ship_tos(a.id()).await.unwrap().is_empty());
        assert!(store.contacts(a.id()).await.unwrap().is_empty());
    }
}
