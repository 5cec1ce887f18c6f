//! [`ShipToStore`] and [`ContactStore`] over the `ship_tos` and `contacts` tables.
//!
//! The constraints decide, whichever connection or host writes: the foreign key to the account
//! (→ `AccountNotFound`), `UNIQUE (account_id, code)` (→ `CodeTaken` for an add; a put
//! replaces the row instead, `ON CONFLICT … DO UPDATE`) and the partial unique index over the
//! primary (→ `PrimaryTaken`, whose code is looked up once the transaction is rolled back).
//! Each write is one transaction.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crm2sage_domain::ports::{
    AddContactError, AddShipToError, ContactStore, RemoveContactError, RemoveShipToError,
    ShipToStore, StoreError,
};
use crm2sage_domain::{
    AccountId, AddressInput, Contact, ContactCode, NewContact, NewShipTo, ShipTo, ShipToCode,
};

use crate::db::{col, corrupt, db_err, is_fk_violation, is_unique_violation, parsed};
use crate::{PostgresStore, execute, query_map};

const SHIP_TOS: &str = "ship_tos";
const CONTACTS: &str = "contacts";

const SHIP_TO_COLUMNS: &str = "account_id, code, name, line1, line2, line3, city, state, \
    postal_code, country, phone, email, is_primary";
const CONTACT_COLUMNS: &str = "account_id, code, name, title, phone, email, is_primary";

const SHIP_TO_UPSERT: &str = " ON CONFLICT (account_id, code) DO UPDATE SET \
    name = excluded.name, line1 = excluded.line1, line2 = excluded.line2, \
    line3 = excluded.line3, city = excluded.city, state = excluded.state, \
    postal_code = excluded.postal_code, country = excluded.country, phone = excluded.phone, \
    email = excluded.email, is_primary = excluded.is_primary";
const CONTACT_UPSERT: &str = " ON CONFLICT (account_id, code) DO UPDATE SET \
    name = excluded.name, title = excluded.title, phone = excluded.phone, \
    email = excluded.email, is_primary = excluded.is_primary";

/// How a row's insert failed, in the domain's terms (`None`: it did not).
enum Refusal {
    AccountNotFound,
    CodeTaken,
    PrimaryTaken,
}

fn refusal(e: &tokio_postgres::Error, table: &str) -> Option<Refusal> {
    if is_fk_violation(e) {
        Some(Refusal::AccountNotFound)
    } else if is_unique_violation(e, Some(&format!("{table}_code_unique"))) {
        Some(Refusal::CodeTaken)
    } else if is_unique_violation(e, Some(&format!("{table}_one_primary"))) {
        Some(Refusal::PrimaryTaken)
    } else {
        None
    }
}

/// The code of `account`'s primary row in `table` other than `code`.
async fn other_primary<C: GenericClient>(
    client: &C,
    table: &str,
    account: AccountId,
    code: &str,
) -> Result<String, StoreError> {
    let rows = crate::query(
        client,
        &format!(
            "SELECT code FROM {table} WHERE account_id = $1 AND is_primary AND code <> $2 LIMIT 1"
        ),
        &[&account.to_string(), &code],
    )
    .await
    .map_err(db_err("looking up a primary"))?;
    match rows.first() {
        Some(row) => col::<String>(row, table, "code"),
        None => Err(StoreError::Internal(format!(
            "account {account}'s primary in {table} changed while it was written"
        ))),
    }
}

fn ship_to_params(ship_to: &ShipTo) -> Vec<Box<dyn ToSql + Sync + Send>> {
    let input = ship_to.details().to_input();
    let a = input.address;
    vec![
        Box::new(ship_to.account().to_string()),
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

fn contact_params(contact: &Contact) -> Vec<Box<dyn ToSql + Sync + Send>> {
    let input = contact.details().to_input();
    vec![
        Box::new(contact.account().to_string()),
        Box::new(input.code),
        Box::new(input.name),
        Box::new(input.title),
        Box::new(input.phone),
        Box::new(input.email),
        Box::new(input.primary),
    ]
}

fn as_params(values: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn ship_to_from_row(row: &Row) -> Result<ShipTo, StoreError> {
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

fn contact_from_row(row: &Row) -> Result<Contact, StoreError> {
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

/// The ship-tos matching `filter`, by account then code.
async fn select_ship_tos<C: GenericClient>(
    client: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<ShipTo>, StoreError> {
    let sql =
        format!("SELECT {SHIP_TO_COLUMNS} FROM ship_tos WHERE {filter} ORDER BY account_id, code");
    query_map(client, &sql, params, "reading ship-tos", ship_to_from_row).await
}

/// The contacts matching `filter`, by account then code.
async fn select_contacts<C: GenericClient>(
    client: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Contact>, StoreError> {
    let sql =
        format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE {filter} ORDER BY account_id, code");
    query_map(client, &sql, params, "reading contacts", contact_from_row).await
}

fn sorted_ids(accounts: &[AccountId]) -> Vec<String> {
    let mut sorted = accounts.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.iter().map(ToString::to_string).collect()
}

/// Inserts (or with `upsert`, puts) every ship-to of `rows` in one transaction. On a refusal
/// the transaction is rolled back and the refusal answered with the row it was for.
async fn write_ship_tos(
    store: &PostgresStore,
    rows: &[ShipTo],
    upsert: bool,
) -> Result<(), AddShipToError> {
    let mut client = store.client().await?;
    let tx = client
        .transaction()
        .await
        .map_err(db_err("storing ship-tos"))?;
    let sql = format!(
        "INSERT INTO ship_tos ({SHIP_TO_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13){}",
        if upsert { SHIP_TO_UPSERT } else { "" }
    );
    let mut refused = None;
    for ship_to in rows {
        let values = ship_to_params(ship_to);
        match execute(&tx, &sql, &as_params(&values)).await {
            Ok(_) => {}
            Err(e) => match refusal(&e, SHIP_TOS) {
                Some(why) => {
                    refused = Some((ship_to, why));
                    break;
                }
                None => return Err(db_err("storing a ship-to")(e).into()),
            },
        }
    }
    let Some((ship_to, why)) = refused else {
        return tx
            .commit()
            .await
            .map_err(db_err("storing ship-tos"))
            .map_err(AddShipToError::from);
    };
    drop(tx);
    let account = ship_to.account();
    Err(match why {
        Refusal::AccountNotFound => AddShipToError::AccountNotFound(account),
        Refusal::CodeTaken => AddShipToError::CodeTaken {
            account,
            code: ship_to.code().clone(),
        },
        Refusal::PrimaryTaken => {
            let primary =
                other_primary(&client, SHIP_TOS, account, ship_to.code().as_str()).await?;
            AddShipToError::PrimaryTaken {
                account,
                primary: ShipToCode::parse(&primary)
                    .map_err(|e| corrupt(SHIP_TOS, "code", format!("`{primary}`: {e}")))?,
            }
        }
    })
}

/// As [`write_ship_tos`], for contacts.
async fn write_contacts(
    store: &PostgresStore,
    rows: &[Contact],
    upsert: bool,
) -> Result<(), AddContactError> {
    let mut client = store.client().await?;
    let tx = client
        .transaction()
        .await
        .map_err(db_err("storing contacts"))?;
    let sql = format!(
        "INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7){}",
        if upsert { CONTACT_UPSERT } else { "" }
    );
    let mut refused = None;
    for contact in rows {
        let values = contact_params(contact);
        match execute(&tx, &sql, &as_params(&values)).await {
            Ok(_) => {}
            Err(e) => match refusal(&e, CONTACTS) {
                Some(why) => {
                    refused = Some((contact, why));
                    break;
                }
                None => return Err(db_err("storing a contact")(e).into()),
            },
        }
    }
    let Some((contact, why)) = refused else {
        return tx
            .commit()
            .await
            .map_err(db_err("storing contacts"))
            .map_err(AddContactError::from);
    };
    drop(tx);
    let account = contact.account();
    Err(match why {
        Refusal::AccountNotFound => AddContactError::AccountNotFound(account),
        Refusal::CodeTaken => AddContactError::CodeTaken {
            account,
            code: contact.code().clone(),
        },
        Refusal::PrimaryTaken => {
            let primary =
                other_primary(&client, CONTACTS, account, contact.code().as_str()).await?;
            AddContactError::PrimaryTaken {
                account,
                primary: ContactCode::parse(&primary)
                    .map_err(|e| corrupt(CONTACTS, "code", format!("`{primary}`: {e}")))?,
            }
        }
    })
}

#[async_trait]
impl ShipToStore for PostgresStore {
    async fn add_ship_to(&self, ship_to: &ShipTo) -> Result<(), AddShipToError> {
        write_ship_tos(self, std::slice::from_ref(ship_to), false).await
    }

    async fn put_ship_tos(&self, ship_tos: Vec<ShipTo>) -> Result<(), AddShipToError> {
        if ship_tos.is_empty() {
            return Ok(());
        }
        write_ship_tos(self, &ship_tos, true).await
    }

    async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, StoreError> {
        let client = self.client().await?;
        select_ship_tos(&client, "account_id = $1", &[&account.to_string()]).await
    }

    async fn ship_tos_of(&self, accounts: &[AccountId]) -> Result<Vec<ShipTo>, StoreError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = sorted_ids(accounts);
        let client = self.client().await?;
        select_ship_tos(&client, "account_id = ANY ($1)", &[&ids]).await
    }

    async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &ShipToCode,
    ) -> Result<ShipTo, RemoveShipToError> {
        let client = self.client().await?;
        let sql = format!(
            "DELETE FROM ship_tos WHERE account_id = $1 AND code = $2 RETURNING {SHIP_TO_COLUMNS}"
        );
        let removed = query_map(
            &client,
            &sql,
            &[&account.to_string(), &code.as_str()],
            "removing a ship-to",
            ship_to_from_row,
        )
        .await?;
        removed
            .into_iter()
            .next()
            .ok_or_else(|| RemoveShipToError::NotFound {
                account,
                code: code.clone(),
            })
    }
}

#[async_trait]
impl ContactStore for PostgresStore {
    async fn add_contact(&self, contact: &Contact) -> Result<(), AddContactError> {
        write_contacts(self, std::slice::from_ref(contact), false).await
    }

    async fn put_contacts(&self, contacts: Vec<Contact>) -> Result<(), AddContactError> {
        if contacts.is_empty() {
            return Ok(());
        }
        write_contacts(self, &contacts, true).await
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError> {
        let client = self.client().await?;
        select_contacts(&client, "account_id = $1", &[&account.to_string()]).await
    }

    async fn contacts_of(&self, accounts: &[AccountId]) -> Result<Vec<Contact>, StoreError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = sorted_ids(accounts);
        let client = self.client().await?;
        select_contacts(&client, "account_id = ANY ($1)", &[&ids]).await
    }

    async fn remove_contact(
        &self,
        account: AccountId,
        code: &ContactCode,
    ) -> Result<Contact, RemoveContactError> {
        let client = self.client().await?;
        let sql = format!(
            "DELETE FROM contacts WHERE account_id = $1 AND code = $2 RETURNING {CONTACT_COLUMNS}"
        );
        let removed = query_map(
            &client,
            &sql,
            &[&account.to_string(), &code.as_str()],
            "removing a contact",
            contact_from_row,
        )
        .await?;
        removed
            .into_iter()
            .next()
            .ok_or_else(|| RemoveContactError::NotFound {
                account,
                code: code.clone(),
            })
    }
}
