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
    AccountId, AddressInput, Contact, ContactCode, InvalidFields, NewContact, NewShipTo,
    PartyCodeError, ShipTo, ShipToCode,
};

use crate::db::{
    Value, as_params, col, corrupt, db_err, is_fk_violation, is_unique_violation, parsed,
};
use crate::{PostgresStore, execute, query_map};

/// Why a party's add was refused, in the domain's terms.
enum Refusal<C> {
    AccountNotFound,
    CodeTaken(C),
    /// The account's other primary, by its code.
    PrimaryTaken(C),
}

/// What tells a ship-to from a contact in the store: its table, columns and errors. The
/// rules they share (the write and how its refusals are told, reads, removal) are written
/// once, generic over this.
trait Party: Sized + Send + Sync + 'static {
    /// The table.
    const TABLE: &'static str;
    /// Its columns, in [`Party::values`]' order.
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
    fn parse_code(raw: &str) -> Result<Self::Code, PartyCodeError>;
    fn refused(account: AccountId, why: Refusal<Self::Code>) -> Self::AddError;
    /// The row's values, in [`Party::COLUMNS`]' order.
    fn values(&self) -> Vec<Value>;
    fn from_row(row: &Row) -> Result<Self, StoreError>;
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

    fn values(&self) -> Vec<Value> {
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
    fn from_row(row: &Row) -> Result<Self, StoreError> {
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

    fn values(&self) -> Vec<Value> {
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
    fn from_row(row: &Row) -> Result<Self, StoreError> {
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

/// Which constraint refused a row's insert (`None`: none did).
enum Violated {
    AccountFk,
    CodeUnique,
    OnePrimary,
}

fn violated(e: &tokio_postgres::Error, table: &str) -> Option<Violated> {
    if is_fk_violation(e) {
        Some(Violated::AccountFk)
    } else if is_unique_violation(e, Some(&format!("{table}_code_unique"))) {
        Some(Violated::CodeUnique)
    } else if is_unique_violation(e, Some(&format!("{table}_one_primary"))) {
        Some(Violated::OnePrimary)
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

/// `$1, …, $n` for the columns of `P`.
fn placeholders<P: Party>() -> String {
    (1..=P::COLUMNS.split(',').count())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parties of `P`'s table matching `filter`, by account then code.
async fn select<P: Party, C: GenericClient>(
    client: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<P>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {filter} ORDER BY account_id, code",
        P::COLUMNS,
        P::TABLE
    );
    query_map(
        client,
        &sql,
        params,
        &format!("reading {}", P::PLURAL),
        P::from_row,
    )
    .await
}

/// The parties of `accounts` (deduplicated), by account then code.
async fn select_of<P: Party>(
    store: &PostgresStore,
    accounts: &[AccountId],
) -> Result<Vec<P>, StoreError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let mut sorted = accounts.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let ids: Vec<String> = sorted.iter().map(ToString::to_string).collect();
    let client = store.client().await?;
    select(&client, "account_id = ANY ($1)", &[&ids]).await
}

/// Inserts (or with `upsert`, puts) every party of `rows` in one transaction. On a refusal
/// the transaction is rolled back and the refusal answered with the row it was for.
async fn write_all<P: Party>(
    store: &PostgresStore,
    rows: &[P],
    upsert: bool,
) -> Result<(), P::AddError> {
    let storing_all = format!("storing {}", P::PLURAL);
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(db_err(&storing_all))?;
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}){}",
        P::TABLE,
        P::COLUMNS,
        placeholders::<P>(),
        if upsert { P::UPSERT } else { "" }
    );
    let mut refused = None;
    for party in rows {
        let values = party.values();
        match execute(&tx, &sql, &as_params(&values)).await {
            Ok(_) => {}
            Err(e) => match violated(&e, P::TABLE) {
                Some(why) => {
                    refused = Some((party, why));
                    break;
                }
                None => return Err(db_err(&format!("storing a {}", P::NOUN))(e).into()),
            },
        }
    }
    let Some((party, why)) = refused else {
        return tx
            .commit()
            .await
            .map_err(db_err(&storing_all))
            .map_err(P::AddError::from);
    };
    drop(tx);
    let account = party.account();
    let why = match why {
        Violated::AccountFk => Refusal::AccountNotFound,
        Violated::CodeUnique => Refusal::CodeTaken(party.code().clone()),
        Violated::OnePrimary => {
            let primary = other_primary(&client, P::TABLE, account, party.code_str()).await?;
            Refusal::PrimaryTaken(
                P::parse_code(&primary)
                    .map_err(|e| corrupt(P::TABLE, "code", format!("`{primary}`: {e}")))?,
            )
        }
    };
    Err(P::refused(account, why))
}

/// Removes `account`'s party `code` and answers it (none: there was none).
async fn remove<P: Party>(
    store: &PostgresStore,
    account: AccountId,
    code: &str,
) -> Result<Option<P>, StoreError> {
    let client = store.client().await?;
    let sql = format!(
        "DELETE FROM {} WHERE account_id = $1 AND code = $2 RETURNING {}",
        P::TABLE,
        P::COLUMNS
    );
    let removed = query_map(
        &client,
        &sql,
        &[&account.to_string(), &code],
        &format!("removing a {}", P::NOUN),
        P::from_row,
    )
    .await?;
    Ok(removed.into_iter().next())
}

#[async_trait]
impl ShipToStore for PostgresStore {
    async fn add_ship_to(&self, ship_to: &ShipTo) -> Result<(), AddShipToError> {
        write_all(self, std::slice::from_ref(ship_to), false).await
    }

    async fn put_ship_tos(&self, ship_tos: Vec<ShipTo>) -> Result<(), AddShipToError> {
        if ship_tos.is_empty() {
            return Ok(());
        }
        write_all(self, &ship_tos, true).await
    }

    async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, StoreError> {
        let client = self.client().await?;
        select(&client, "account_id = $1", &[&account.to_string()]).await
    }

    async fn ship_tos_of(&self, accounts: &[AccountId]) -> Result<Vec<ShipTo>, StoreError> {
        select_of(self, accounts).await
    }

    async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &ShipToCode,
    ) -> Result<ShipTo, RemoveShipToError> {
        remove(self, account, code.as_str())
            .await?
            .ok_or_else(|| RemoveShipToError::NotFound {
                account,
                code: code.clone(),
            })
    }
}

#[async_trait]
impl ContactStore for PostgresStore {
    async fn add_contact(&self, contact: &Contact) -> Result<(), AddContactError> {
        write_all(self, std::slice::from_ref(contact), false).await
    }

    async fn put_contacts(&self, contacts: Vec<Contact>) -> Result<(), AddContactError> {
        if contacts.is_empty() {
            return Ok(());
        }
        write_all(self, &contacts, true).await
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError> {
        let client = self.client().await?;
        select(&client, "account_id = $1", &[&account.to_string()]).await
    }

    async fn contacts_of(&self, accounts: &[AccountId]) -> Result<Vec<Contact>, StoreError> {
        select_of(self, accounts).await
    }

    async fn remove_contact(
        &self,
        account: AccountId,
        code: &ContactCode,
    ) -> Result<Contact, RemoveContactError> {
        remove(self, account, code.as_str())
            .await?
            .ok_or_else(|| RemoveContactError::NotFound {
                account,
                code: code.clone(),
            })
    }
}
