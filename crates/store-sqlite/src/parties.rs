//! [`ShipToStore`] and [`ContactStore`] over the `ship_tos` and `contacts` tables.
//!
//! Every write runs in one savepoint on the writer thread, whose transaction holds the write
//! lock (`BEGIN IMMEDIATE`), so the checks a write makes first (the account exists, the code
//! is free, no other primary) cannot be overtaken by another writer; the constraints (foreign
//! key, `UNIQUE (account_id, code)`, the partial unique index over the primary) stay the last
//! word.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crm2sage_domain::ports::{
    AddContactError, AddShipToError, ContactStore, RemoveContactError, RemoveShipToError,
    ShipToStore, StoreError,
};
use crm2sage_domain::{
    AccountId, AddressInput, Contact, ContactCode, NewContact, NewShipTo, ShipTo, ShipToCode,
};

use crate::SqliteStore;
use crate::db::{col, corrupt, db_err, parsed, write_tx};

/// Accounts read by one statement of `ship_tos_of` / `contacts_of`.
const ACCOUNTS_PER_READ: usize = 500;

const SHIP_TO_COLUMNS: &str = "account_id, code, name, line1, line2, line3, city, state, \
    postal_code, country, phone, email, is_primary";

const CONTACT_COLUMNS: &str = "account_id, code, name, title, phone, email, is_primary";

fn account_exists(conn: &Connection, account: AccountId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)")
        .and_then(|mut stmt| stmt.query_row([account.to_string()], |r| r.get(0)))
        .map_err(db_err("looking up an account"))
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

// ---- ship-tos ----

const SHIP_TOS: &str = "ship_tos";

/// Checks `ship_to`'s account and primary, then inserts it (`upsert`: or replaces the row with
/// its code).
fn write_ship_to(conn: &Connection, ship_to: &ShipTo, upsert: bool) -> Result<(), AddShipToError> {
    let account = ship_to.account();
    if !account_exists(conn, account)? {
        return Err(AddShipToError::AccountNotFound(account));
    }
    let code = ship_to.code().as_str();
    if !upsert && code_exists(conn, SHIP_TOS, account, code)? {
        return Err(AddShipToError::CodeTaken {
            account,
            code: ship_to.code().clone(),
        });
    }
    if ship_to.is_primary()
        && let Some(primary) = other_primary(conn, SHIP_TOS, account, code)?
    {
        return Err(AddShipToError::PrimaryTaken {
            account,
            primary: ShipToCode::parse(&primary)
                .map_err(|e| corrupt(SHIP_TOS, "code", format!("`{primary}`: {e}")))?,
        });
    }
    let input = ship_to.details().to_input();
    let a = &input.address;
    let on_conflict = if upsert {
        " ON CONFLICT (account_id, code) DO UPDATE SET name = excluded.name, \
         line1 = excluded.line1, line2 = excluded.line2, line3 = excluded.line3, \
         city = excluded.city, state = excluded.state, postal_code = excluded.postal_code, \
         country = excluded.country, phone = excluded.phone, email = excluded.email, \
         is_primary = excluded.is_primary"
    } else {
        ""
    };
    conn.prepare_cached(&format!(
        "INSERT INTO ship_tos ({SHIP_TO_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13){on_conflict}"
    ))
    .and_then(|mut stmt| {
        stmt.execute(params![
            account.to_string(),
            code,
            input.name,
            a.line1,
            a.line2,
            a.line3,
            a.city,
            a.state,
            a.postal_code,
            a.country,
            input.phone,
            input.email,
            input.primary,
        ])
    })
    .map_err(db_err(&format!(
        "storing ship-to {code} of account {account}"
    )))?;
    Ok(())
}

fn ship_to_from_row(row: &Row<'_>) -> Result<ShipTo, StoreError> {
    let account = parsed(row, SHIP_TOS, "account_id", AccountId::parse)?;
    let mut address = AddressInput::new(
        col::<String>(row, SHIP_TOS, "line1")?,
        col::<String>(row, SHIP_TOS, "city")?,
        col::<String>(row, SHIP_TOS, "country")?,
    );
    address.line2 = col(row, SHIP_TOS, "line2")?;
    address.line3 = col(row, SHIP_TOS, "line3")?;
    address.state = col(row, SHIP_TOS, "state")?;
    address.postal_code = col(row, SHIP_TOS, "postal_code")?;
    let mut input = NewShipTo::new(
        col::<String>(row, SHIP_TOS, "code")?,
        col::<String>(row, SHIP_TOS, "name")?,
        address,
    );
    input.phone = col(row, SHIP_TOS, "phone")?;
    input.email = col(row, SHIP_TOS, "email")?;
    input.primary = col(row, SHIP_TOS, "is_primary")?;
    let details = input.validate().map_err(|e| {
        let columns: Vec<&str> = e.fields().iter().map(|f| f.field()).collect();
        corrupt(
            SHIP_TOS,
            &columns.join(", "),
            format!("ship-to {} of account {account}: {e}", input.code),
        )
    })?;
    Ok(ShipTo::new(account, details))
}

fn select_ship_tos<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> Result<Vec<ShipTo>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SHIP_TO_COLUMNS} FROM ship_tos WHERE {filter} ORDER BY account_id, code"
        ))
        .map_err(db_err("reading ship-tos"))?;
    let mut rows = stmt.query(params).map_err(db_err("reading ship-tos"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading ship-tos"))? {
        out.push(ship_to_from_row(row)?);
    }
    Ok(out)
}

// ---- contacts ----

const CONTACTS: &str = "contacts";

fn write_contact(
    conn: &Connection,
    contact: &Contact,
    upsert: bool,
) -> Result<(), AddContactError> {
    let account = contact.account();
    if !account_exists(conn, account)? {
        return Err(AddContactError::AccountNotFound(account));
    }
    let code = contact.code().as_str();
    if !upsert && code_exists(conn, CONTACTS, account, code)? {
        return Err(AddContactError::CodeTaken {
            account,
            code: contact.code().clone(),
        });
    }
    if contact.is_primary()
        && let Some(primary) = other_primary(conn, CONTACTS, account, code)?
    {
        return Err(AddContactError::PrimaryTaken {
            account,
            primary: ContactCode::parse(&primary)
                .map_err(|e| corrupt(CONTACTS, "code", format!("`{primary}`: {e}")))?,
        });
    }
    let input = contact.details().to_input();
    let on_conflict = if upsert {
        " ON CONFLICT (account_id, code) DO UPDATE SET name = excluded.name, \
         title = excluded.title, phone = excluded.phone, email = excluded.email, \
         is_primary = excluded.is_primary"
    } else {
        ""
    };
    conn.prepare_cached(&format!(
        "INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7){on_conflict}"
    ))
    .and_then(|mut stmt| {
        stmt.execute(params![
            account.to_string(),
            code,
            input.name,
            input.title,
            input.phone,
            input.email,
            input.primary,
        ])
    })
    .map_err(db_err(&format!(
        "storing contact {code} of account {account}"
    )))?;
    Ok(())
}

fn contact_from_row(row: &Row<'_>) -> Result<Contact, StoreError> {
    let account = parsed(row, CONTACTS, "account_id", AccountId::parse)?;
    let mut input = NewContact::new(
        col::<String>(row, CONTACTS, "code")?,
        col::<String>(row, CONTACTS, "name")?,
    );
    input.title = col(row, CONTACTS, "title")?;
    input.phone = col(row, CONTACTS, "phone")?;
    input.email = col(row, CONTACTS, "email")?;
    input.primary = col(row, CONTACTS, "is_primary")?;
    let details = input.validate().map_err(|e| {
        let columns: Vec<&str> = e.fields().iter().map(|f| f.field()).collect();
        corrupt(
            CONTACTS,
            &columns.join(", "),
            format!("contact {} of account {account}: {e}", input.code),
        )
    })?;
    Ok(Contact::new(account, details))
}

fn select_contacts<P: rusqlite::Params>(
    conn: &Connection,
    filter: &str,
    params: P,
) -> Result<Vec<Contact>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE {filter} ORDER BY account_id, code"
        ))
        .map_err(db_err("reading contacts"))?;
    let mut rows = stmt.query(params).map_err(db_err("reading contacts"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err("reading contacts"))? {
        out.push(contact_from_row(row)?);
    }
    Ok(out)
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

/// One page of ship-tos for a copy, by (account, code), after the cursor, with the last key.
pub(crate) fn export_ship_tos(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<ShipTo>, Option<String>), StoreError> {
    let (account, code) = export_key(SHIP_TOS, after)?;
    let rows = select_ship_tos(
        conn,
        "rowid IN (SELECT rowid FROM ship_tos WHERE (account_id, code) > (?1, ?2) \
         ORDER BY account_id, code LIMIT ?3)",
        params![account, code, i64::try_from(limit).unwrap_or(i64::MAX)],
    )?;
    let last = rows.last().map(|s| format!("{}:{}", s.account(), s.code()));
    Ok((rows, last))
}

/// One page of contacts for a copy, as [`export_ship_tos`].
pub(crate) fn export_contacts(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Contact>, Option<String>), StoreError> {
    let (account, code) = export_key(CONTACTS, after)?;
    let rows = select_contacts(
        conn,
        "rowid IN (SELECT rowid FROM contacts WHERE (account_id, code) > (?1, ?2) \
         ORDER BY account_id, code LIMIT ?3)",
        params![account, code, i64::try_from(limit).unwrap_or(i64::MAX)],
    )?;
    let last = rows.last().map(|c| format!("{}:{}", c.account(), c.code()));
    Ok((rows, last))
}

#[async_trait]
impl ShipToStore for SqliteStore {
    async fn add_ship_to(&self, ship_to: &ShipTo) -> Result<(), AddShipToError> {
        let ship_to = ship_to.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            write_ship_to(&tx, &ship_to, false)?;
            tx.commit()
                .map_err(db_err("storing a ship-to"))
                .map_err(AddShipToError::from)
        })
        .await
    }

    async fn put_ship_tos(&self, ship_tos: Vec<ShipTo>) -> Result<(), AddShipToError> {
        if ship_tos.is_empty() {
            return Ok(());
        }
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            for ship_to in &ship_tos {
                write_ship_to(&tx, ship_to, true)?;
            }
            tx.commit()
                .map_err(db_err("storing ship-tos"))
                .map_err(AddShipToError::from)
        })
        .await
    }

    async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, StoreError> {
        self.read_point(move |conn| select_ship_tos(conn, "account_id = ?1", [account.to_string()]))
            .await
    }

    async fn ship_tos_of(&self, accounts: &[AccountId]) -> Result<Vec<ShipTo>, StoreError> {
        let chunks = account_chunks(accounts);
        self.read(move |conn| {
            let mut out = Vec::new();
            for part in &chunks {
                let marks = vec!["?"; part.len()].join(", ");
                out.extend(select_ship_tos(
                    conn,
                    &format!("account_id IN ({marks})"),
                    rusqlite::params_from_iter(part),
                )?);
            }
            Ok(out)
        })
        .await
    }

    async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &ShipToCode,
    ) -> Result<ShipTo, RemoveShipToError> {
        let code = code.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            let found = select_ship_tos(
                &tx,
                "account_id = ?1 AND code = ?2",
                params![account.to_string(), code.as_str()],
            )?
            .pop()
            .ok_or_else(|| RemoveShipToError::NotFound {
                account,
                code: code.clone(),
            })?;
            tx.execute(
                "DELETE FROM ship_tos WHERE account_id = ?1 AND code = ?2",
                params![account.to_string(), code.as_str()],
            )
            .map_err(db_err("removing a ship-to"))?;
            tx.commit().map_err(db_err("removing a ship-to"))?;
            Ok(found)
        })
        .await
    }
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn add_contact(&self, contact: &Contact) -> Result<(), AddContactError> {
        let contact = contact.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            write_contact(&tx, &contact, false)?;
            tx.commit()
                .map_err(db_err("storing a contact"))
                .map_err(AddContactError::from)
        })
        .await
    }

    async fn put_contacts(&self, contacts: Vec<Contact>) -> Result<(), AddContactError> {
        if contacts.is_empty() {
            return Ok(());
        }
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            for contact in &contacts {
                write_contact(&tx, contact, true)?;
            }
            tx.commit()
                .map_err(db_err("storing contacts"))
                .map_err(AddContactError::from)
        })
        .await
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError> {
        self.read_point(move |conn| select_contacts(conn, "account_id = ?1", [account.to_string()]))
            .await
    }

    async fn contacts_of(&self, accounts: &[AccountId]) -> Result<Vec<Contact>, StoreError> {
        let chunks = account_chunks(accounts);
        self.read(move |conn| {
            let mut out = Vec::new();
            for part in &chunks {
                let marks = vec!["?"; part.len()].join(", ");
                out.extend(select_contacts(
                    conn,
                    &format!("account_id IN ({marks})"),
                    rusqlite::params_from_iter(part),
                )?);
            }
            Ok(out)
        })
        .await
    }

    async fn remove_contact(
        &self,
        account: AccountId,
        code: &ContactCode,
    ) -> Result<Contact, RemoveContactError> {
        let code = code.clone();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            let found = select_contacts(
                &tx,
                "account_id = ?1 AND code = ?2",
                params![account.to_string(), code.as_str()],
            )?
            .pop()
            .ok_or_else(|| RemoveContactError::NotFound {
                account,
                code: code.clone(),
            })?;
            tx.execute(
                "DELETE FROM contacts WHERE account_id = ?1 AND code = ?2",
                params![account.to_string(), code.as_str()],
            )
            .map_err(db_err("removing a contact"))?;
            tx.commit().map_err(db_err("removing a contact"))?;
            Ok(found)
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
