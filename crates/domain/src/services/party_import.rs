//! Importing ship-tos and contacts in bulk: each row names its account by the account's CRM
//! reference (`account_ref`) and is an upsert by (account, code), so importing the same rows
//! again is safe — a row equal to the stored one is [`Upserted::Unchanged`], a row with other
//! details replaces it ([`Upserted::Updated`]), nothing is duplicated. Rows are taken lazily
//! and stored [`IMPORT_CHUNK`] at a time, each chunk in one store transaction; memory holds one
//! chunk (its rows, its accounts' stored ship-tos or contacts) whatever the number of rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::future::Future;

use crate::account::AccountRef;
use crate::contact::{Contact, ContactCode, ContactDetails, NewContact};
use crate::field::{InvalidField, InvalidFields};
use crate::ids::AccountId;
use crate::ports::{AddContactError, AddShipToError, ErpConnector, Store, StoreError};
use crate::ship_to::{NewShipTo, ShipTo, ShipToCode, ShipToDetails};

use super::Services;
use super::accounts::Upserted;
use super::import::{IMPORT_CHUNK, ImportSummary};
use super::parties::{ContactError, ShipToError};

/// One row of a ship-to or contact import: the caller's `tag` for it (a line number, say),
/// handed back with its outcome; the CRM reference of its account; and its input — or the
/// fields the caller already refused (a row it could not read whole), reported as
/// [`PartyImportOutcome::Rejected`] in its place.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PartyImportRow<T, I> {
    /// The caller's tag.
    pub tag: T,
    /// The CRM reference of the account the row belongs to.
    pub account_ref: String,
    /// The ship-to or contact, or why the row was refused before it reached the import.
    pub input: Result<I, InvalidFields>,
}

impl<T, I> PartyImportRow<T, I> {
    /// A row of the account with the CRM reference `account_ref`.
    pub fn new(tag: T, account_ref: impl Into<String>, input: I) -> Self {
        Self {
            tag,
            account_ref: account_ref.into(),
            input: Ok(input),
        }
    }

    /// A row the caller refused with `fields`.
    pub fn refused(tag: T, account_ref: impl Into<String>, fields: InvalidFields) -> Self {
        Self {
            tag,
            account_ref: account_ref.into(),
            input: Err(fields),
        }
    }
}

/// What an import did with one row.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PartyImportOutcome<P> {
    /// Stored, created or replacing the one with the same (account, code), or already equal
    /// to it: the ship-to or contact as it is after the row.
    Stored(P, Upserted),
    /// Not stored: every field the row broke (`account_ref` for an unknown account, `primary`
    /// when its account has another primary).
    Rejected(InvalidFields),
}

impl<P> PartyImportOutcome<P> {
    fn count(&self, summary: &mut ImportSummary) {
        match self {
            Self::Stored(_, Upserted::Created) => summary.created += 1,
            Self::Stored(_, Upserted::Updated) => summary.updated += 1,
            Self::Stored(_, Upserted::Unchanged) => summary.unchanged += 1,
            Self::Rejected(_) => summary.rejected += 1,
        }
    }
}

/// What the import needs to know of ship-tos and of contacts.
trait Kind {
    type Input;
    type Details;
    type Entity: Clone + PartialEq;
    type Code: Ord + Clone + fmt::Display;
    type PutError;
    /// `ship-to` or `contact`.
    const NOUN: &'static str;
    fn validate(input: &Self::Input) -> Result<Self::Details, InvalidFields>;
    fn entity(account: AccountId, details: Self::Details) -> Self::Entity;
    fn account(entity: &Self::Entity) -> AccountId;
    fn code(entity: &Self::Entity) -> &Self::Code;
    fn is_primary(entity: &Self::Entity) -> bool;
    /// A refused put as the row's fields, or the store's failure.
    fn refused(error: Self::PutError) -> Result<InvalidFields, StoreError>;
}

struct ShipTos;

impl Kind for ShipTos {
    type Input = NewShipTo;
    type Details = ShipToDetails;
    type Entity = ShipTo;
    type Code = ShipToCode;
    type PutError = AddShipToError;
    const NOUN: &'static str = "ship-to";
    fn validate(input: &NewShipTo) -> Result<ShipToDetails, InvalidFields> {
        input.validate()
    }
    fn entity(account: AccountId, details: ShipToDetails) -> ShipTo {
        ShipTo::new(account, details)
    }
    fn account(entity: &ShipTo) -> AccountId {
        entity.account()
    }
    fn code(entity: &ShipTo) -> &ShipToCode {
        entity.code()
    }
    fn is_primary(entity: &ShipTo) -> bool {
        entity.is_primary()
    }
    fn refused(error: AddShipToError) -> Result<InvalidFields, StoreError> {
        match ShipToError::from(error) {
            ShipToError::Store(e) => Err(e),
            e @ ShipToError::PrimaryTaken { .. } => Ok(single("primary", e)),
            e @ ShipToError::AccountNotFound(_) => Ok(single("account_ref", e)),
            e => Ok(single("code", e)),
        }
    }
}

struct Contacts;

impl Kind for Contacts {
    type Input = NewContact;
    type Details = ContactDetails;
    type Entity = Contact;
    type Code = ContactCode;
    type PutError = AddContactError;
    const NOUN: &'static str = "contact";
    fn validate(input: &NewContact) -> Result<ContactDetails, InvalidFields> {
        input.validate()
    }
    fn entity(account: AccountId, details: ContactDetails) -> Contact {
        Contact::new(account, details)
    }
    fn account(entity: &Contact) -> AccountId {
        entity.account()
    }
    fn code(entity: &Contact) -> &ContactCode {
        entity.code()
    }
    fn is_primary(entity: &Contact) -> bool {
        entity.is_primary()
    }
    fn refused(error: AddContactError) -> Result<InvalidFields, StoreError> {
        match ContactError::from(error) {
            ContactError::Store(e) => Err(e),
            e @ ContactError::PrimaryTaken { .. } => Ok(single("primary", e)),
            e @ ContactError::AccountNotFound(_) => Ok(single("account_ref", e)),
            e => Ok(single("code", e)),
        }
    }
}

fn single(field: &str, rule: impl fmt::Display) -> InvalidFields {
    InvalidFields::single(InvalidField::new(field, rule))
}

/// The outcome of `entity` given the current state of its account's rows (which it updates),
/// or the refusal of a second primary.
fn decide<K: Kind>(
    current: &mut BTreeMap<(AccountId, K::Code), K::Entity>,
    account: AccountId,
    entity: K::Entity,
) -> PartyImportOutcome<K::Entity> {
    let key = (account, K::code(&entity).clone());
    if K::is_primary(&entity)
        && let Some(((_, primary), _)) = current
            .iter()
            .find(|((a, c), e)| *a == account && *c != key.1 && K::is_primary(e))
    {
        return PartyImportOutcome::Rejected(single(
            "primary",
            format!(
                "the account already has the primary {} `{primary}`; an account has at most one",
                K::NOUN
            ),
        ));
    }
    let how = match current.get(&key) {
        None => Upserted::Created,
        Some(stored) if *stored == entity => Upserted::Unchanged,
        Some(_) => Upserted::Updated,
    };
    if how != Upserted::Unchanged {
        current.insert(key, entity.clone());
    }
    PartyImportOutcome::Stored(entity, how)
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Imports ship-tos in order, each an upsert by (account, code): a code the account does
    /// not have yet is created, a known one is replaced or left [`Upserted::Unchanged`] when
    /// equal, so importing the same rows again is safe. A row is rejected, with every field it
    /// broke, when it is invalid, when no account has its `account_ref`, or when it is
    /// primary and its account has another primary ship-to (stored, or set by an earlier row;
    /// a row that clears the flag first frees it). A code repeated among the rows is applied
    /// again in order.
    ///
    /// Rows are taken lazily, [`IMPORT_CHUNK`] at a time: each chunk's accounts are looked up
    /// in one read, their stored ship-tos in another, and the chunk's writes go to the store
    /// in one transaction ([`ShipToStore::put_ship_tos`](crate::ports::ShipToStore::put_ship_tos));
    /// then `on_row` gets each row's tag and outcome, in order. A chunk whose write is
    /// refused (another writer changed its accounts meanwhile) is stored row by row instead.
    ///
    /// # Dropping the future
    /// The chunks whose rows were reported are stored; the chunk being written is stored whole
    /// or not at all; the rest is not read. Importing the same rows again completes it.
    ///
    /// # Errors
    /// [`ShipToError::Store`] when the store fails; the chunks reported before it are stored.
    pub async fn import_ship_tos<T, I, F>(
        &self,
        rows: I,
        on_row: F,
    ) -> Result<ImportSummary, ShipToError>
    where
        I: IntoIterator<Item = PartyImportRow<T, NewShipTo>>,
        F: FnMut(T, PartyImportOutcome<ShipTo>),
    {
        let store = &*self.store;
        self.import_parties::<ShipTos, _, _, _, _, _, _, _>(
            rows,
            on_row,
            move |ids: Vec<AccountId>| async move { store.ship_tos_of(&ids).await },
            move |rows: Vec<ShipTo>| store.put_ship_tos(rows),
        )
        .await
        .map_err(ShipToError::Store)
    }

    /// Imports contacts in order, each an upsert by (account, code), with the rules of
    /// [`Services::import_ship_tos`] (a second primary contact is rejected).
    ///
    /// # Dropping the future
    /// The chunks whose rows were reported are stored; the chunk being written is stored whole
    /// or not at all; the rest is not read. Importing the same rows again completes it.
    ///
    /// # Errors
    /// [`ContactError::Store`] when the store fails; the chunks reported before it are stored.
    pub async fn import_contacts<T, I, F>(
        &self,
        rows: I,
        on_row: F,
    ) -> Result<ImportSummary, ContactError>
    where
        I: IntoIterator<Item = PartyImportRow<T, NewContact>>,
        F: FnMut(T, PartyImportOutcome<Contact>),
    {
        let store = &*self.store;
        self.import_parties::<Contacts, _, _, _, _, _, _, _>(
            rows,
            on_row,
            move |ids: Vec<AccountId>| async move { store.contacts_of(&ids).await },
            move |rows: Vec<Contact>| store.put_contacts(rows),
        )
        .await
        .map_err(ContactError::Store)
    }

    #[allow(clippy::too_many_lines)]
    async fn import_parties<K, T, I, F, R, RF, W, WF>(
        &self,
        rows: I,
        mut on_row: F,
        read: R,
        write: W,
    ) -> Result<ImportSummary, StoreError>
    where
        K: Kind,
        I: IntoIterator<Item = PartyImportRow<T, K::Input>>,
        F: FnMut(T, PartyImportOutcome<K::Entity>),
        R: Fn(Vec<AccountId>) -> RF,
        RF: Future<Output = Result<Vec<K::Entity>, StoreError>>,
        W: Fn(Vec<K::Entity>) -> WF,
        WF: Future<Output = Result<(), K::PutError>>,
    {
        let mut summary = ImportSummary::default();
        let mut rows = rows.into_iter();
        loop {
            let chunk: Vec<PartyImportRow<T, K::Input>> =
                rows.by_ref().take(IMPORT_CHUNK).collect();
            if chunk.is_empty() {
                return Ok(summary);
            }
            // Validate every row; collect the chunk's distinct account references.
            let mut slots: HashMap<AccountRef, usize> = HashMap::new();
            let mut references: Vec<AccountRef> = Vec::new();
            let mut tags = Vec::with_capacity(chunk.len());
            let mut planned: Vec<Result<(usize, K::Details), InvalidFields>> =
                Vec::with_capacity(chunk.len());
            for row in chunk {
                let reference = AccountRef::parse(&row.account_ref);
                let details = match &row.input {
                    Ok(input) => K::validate(input),
                    Err(fields) => Err(fields.clone()),
                };
                planned.push(match (reference, details) {
                    (Ok(reference), Ok(details)) => {
                        let slot = *slots.entry(reference.clone()).or_insert_with(|| {
                            references.push(reference);
                            references.len() - 1
                        });
                        Ok((slot, details))
                    }
                    (reference, details) => {
                        let mut fields = Vec::new();
                        if let Err(e) = reference {
                            fields.push(InvalidField::new("account_ref", e));
                        }
                        if let Err(refused) = details {
                            fields.extend(refused.0);
                        }
                        Err(InvalidFields(fields))
                    }
                });
                tags.push(row.tag);
            }
            let accounts = self.store.accounts_by_references(&references).await?;
            if accounts.len() != references.len() {
                return Err(StoreError::Internal(format!(
                    "the store answered {} accounts for {} references",
                    accounts.len(),
                    references.len()
                )));
            }
            let entities: Vec<Result<K::Entity, InvalidFields>> = planned
                .into_iter()
                .map(|plan| {
                    let (slot, details) = plan?;
                    match &accounts[slot] {
                        Some(account) => Ok(K::entity(account.id(), details)),
                        None => Err(single(
                            "account_ref",
                            format!("no account has the reference `{}`", references[slot]),
                        )),
                    }
                })
                .collect();
            let ids: Vec<AccountId> = accounts.iter().flatten().map(|a| a.id()).collect();
            let mut current: BTreeMap<(AccountId, K::Code), K::Entity> = read(ids)
                .await?
                .into_iter()
                .map(|e| ((K::account(&e), K::code(&e).clone()), e))
                .collect();
            drop(accounts);
            let mut touched: BTreeSet<(AccountId, K::Code)> = BTreeSet::new();
            let mut outcomes = Vec::with_capacity(entities.len());
            for entity in &entities {
                outcomes.push(match entity {
                    Err(fields) => PartyImportOutcome::Rejected(fields.clone()),
                    Ok(entity) => {
                        let account = K::account(entity);
                        let outcome = decide::<K>(&mut current, account, entity.clone());
                        if let PartyImportOutcome::Stored(e, how) = &outcome
                            && *how != Upserted::Unchanged
                        {
                            touched.insert((account, K::code(e).clone()));
                        }
                        outcome
                    }
                });
            }
            // Rows that stop being primary are written before those that become it.
            let (primary, plain): (Vec<K::Entity>, Vec<K::Entity>) = touched
                .iter()
                .filter_map(|key| current.get(key).cloned())
                .partition(K::is_primary);
            let writes: Vec<K::Entity> = plain.into_iter().chain(primary).collect();
            let outcomes = match write(writes).await {
                Ok(()) => outcomes,
                Err(_) => {
                    // Another writer changed these accounts meanwhile (or the store fails,
                    // which fails again on the first row): row by row, on what is stored now.
                    let mut again = Vec::with_capacity(entities.len());
                    for entity in entities {
                        again.push(match entity {
                            Err(fields) => PartyImportOutcome::Rejected(fields),
                            Ok(entity) => {
                                self.import_one::<K, _, _, _, _>(entity, &read, &write)
                                    .await?
                            }
                        });
                    }
                    again
                }
            };
            for (tag, outcome) in tags.into_iter().zip(outcomes) {
                outcome.count(&mut summary);
                on_row(tag, outcome);
            }
        }
    }

    /// One row on its own: decided on its account's stored rows, then written alone.
    async fn import_one<K, R, RF, W, WF>(
        &self,
        entity: K::Entity,
        read: &R,
        write: &W,
    ) -> Result<PartyImportOutcome<K::Entity>, StoreError>
    where
        K: Kind,
        R: Fn(Vec<AccountId>) -> RF,
        RF: Future<Output = Result<Vec<K::Entity>, StoreError>>,
        W: Fn(Vec<K::Entity>) -> WF,
        WF: Future<Output = Result<(), K::PutError>>,
    {
        let account = K::account(&entity);
        let mut current: BTreeMap<(AccountId, K::Code), K::Entity> = read(vec![account])
            .await?
            .into_iter()
            .map(|e| ((account, K::code(&e).clone()), e))
            .collect();
        let outcome = decide::<K>(&mut current, account, entity);
        if let PartyImportOutcome::Stored(entity, how) = &outcome
            && *how != Upserted::Unchanged
            && let Err(e) = write(vec![entity.clone()]).await
        {
            return Ok(PartyImportOutcome::Rejected(K::refused(e)?));
        }
        Ok(outcome)
    }
}
