//! Accounts: create, list, show (importing is in `import.rs`), and the two a CRM that stays the source of truth
//! uses: update by id and upsert by the CRM's own reference.

use crate::account::{Account, AccountDetails, AccountRef, NewAccount};
use crate::field::{InvalidField, InvalidFields};
use crate::ids::AccountId;
use crate::ports::{AccountFilter, ErpConnector, Store, StoreError, UpdateAccountError};
use crate::promotion::{Binding, Promotion};

use super::Services;
use crate::error_class::{ErrorClass, ErrorCode};

/// Why an account operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The input broke rules; every bad field is listed.
    #[error("invalid account: {0}")]
    Invalid(InvalidFields),
    /// No such account.
    #[error("no account with id {0}")]
    NotFound(AccountId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for AccountError {
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_input",
            Self::NotFound(_) => "account_not_found",
            Self::Store(e) => e.code(),
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::Invalid,
            Self::NotFound(_) => ErrorClass::NotFound,
            Self::Store(e) => e.class(),
        }
    }
}

/// What [`Services::upsert_account`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Upserted {
    /// No account had the reference: a new one was stored.
    Created,
    /// The account with the reference had other details: they were replaced.
    Updated,
    /// The account with the reference already had these details: nothing was written.
    Unchanged,
}

impl Upserted {
    /// `created`, `updated` or `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
        }
    }
}

/// An account with what promotion left on it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AccountView {
    /// The account.
    pub account: Account,
    /// One binding per integration it was promoted to.
    pub bindings: Vec<Binding>,
    /// Every promotion attempt, oldest first.
    pub promotions: Vec<Promotion>,
    /// Its ship-to addresses, by code.
    pub ship_tos: Vec<crate::ship_to::ShipTo>,
    /// Its contacts, by code.
    pub contacts: Vec<crate::contact::Contact>,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Validates and stores a new account.
    ///
    /// # Dropping the future
    /// Harmless: the insert is one atomic write, done whole or not at all.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] listing **every** bad field; nothing is stored then.
    pub async fn create_account(&self, input: &NewAccount) -> Result<Account, AccountError> {
        let details = input.validate().map_err(AccountError::Invalid)?;
        if let Some(reference) = details.reference()
            && let Some(existing) = self.store.account_by_reference(reference).await?
        {
            return Err(AccountError::Invalid(reference_taken(
                reference,
                existing.id(),
            )));
        }
        let account = Account::new(AccountId::generate(), details, self.clock.now());
        self.store.insert_account(&account).await?;
        Ok(account)
    }

    /// Replaces every detail of account `id` with `input`, validated as
    /// [`Services::create_account`] validates (all refused fields at once, by name). The input
    /// is the whole account: an optional field left empty is cleared, and so is the CRM
    /// reference. Details equal to the stored ones write nothing.
    ///
    /// A promoted account may be updated: the change is local only — the ERP's customer is not
    /// touched (pushing updates to the ERP is not offered), and a later promotion to another
    /// integration sends the new details.
    ///
    /// # Dropping the future
    /// Harmless: the update is one atomic write, done whole or not at all.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] listing every bad field (also a CRM reference another account
    /// has); [`AccountError::NotFound`] for an unknown id; [`AccountError::Store`]. Nothing is
    /// changed then.
    pub async fn update_account(
        &self,
        id: AccountId,
        input: &NewAccount,
    ) -> Result<Account, AccountError> {
        let details = input.validate().map_err(AccountError::Invalid)?;
        let stored = self
            .store
            .account(id)
            .await?
            .ok_or(AccountError::NotFound(id))?;
        let Some(updated) = upserted(&stored, details, self.clock.now()) else {
            return Ok(stored);
        };
        self.write_update(&updated).await?;
        Ok(updated)
    }

    /// Creates or updates the account the CRM knows by `reference` (its own id for it), so a
    /// CRM can stay the source of truth and repeat itself safely: no account has the reference
    /// → one is created with `input`; the account that has it has the same details →
    /// [`Upserted::Unchanged`], nothing written; other details → they are replaced, as
    /// [`Services::update_account`] replaces them (locally only; the ERP is not touched).
    ///
    /// `input.reference` may be left empty (it is set to `reference`); if given, it must be
    /// `reference`. Two concurrent upserts of one reference never make two accounts: the
    /// store's unique reference decides, and the loser carries on as an update.
    ///
    /// # Dropping the future
    /// Harmless: each write is atomic and the upsert can simply be repeated.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] listing every bad field (`reference` too); the store's
    /// [`AccountError::Store`]. Nothing is changed then.
    pub async fn upsert_account(
        &self,
        reference: &str,
        input: &NewAccount,
    ) -> Result<(Account, Upserted), AccountError> {
        if reference.trim().is_empty() {
            return Err(AccountError::Invalid(InvalidFields::single(
                InvalidField::new("reference", "is required to upsert an account"),
            )));
        }
        let mut keyed = input.clone();
        match input.reference.as_deref().map(str::trim) {
            None | Some("") => keyed.reference = Some(reference.to_owned()),
            Some(given) if given == reference.trim() => {}
            Some(given) => {
                return Err(AccountError::Invalid(InvalidFields::single(
                    InvalidField::new(
                        "reference",
                        format!(
                            "is `{given}`, but the upsert is keyed by `{}`",
                            reference.trim()
                        ),
                    ),
                )));
            }
        }
        let details = keyed.validate().map_err(AccountError::Invalid)?;
        let Some(key) = details.reference().cloned() else {
            return Err(AccountError::Invalid(InvalidFields::single(
                InvalidField::new("reference", "is required to upsert an account"),
            )));
        };
        // Twice at most: a lost race to create is retried as an update.
        let mut lost_race = false;
        loop {
            if let Some(stored) = self.store.account_by_reference(&key).await? {
                let Some(updated) = upserted(&stored, details, self.clock.now()) else {
                    return Ok((stored, Upserted::Unchanged));
                };
                self.write_update(&updated).await?;
                return Ok((updated, Upserted::Updated));
            }
            let account = Account::new(AccountId::generate(), details.clone(), self.clock.now());
            match self.store.insert_account(&account).await {
                Ok(()) => return Ok((account, Upserted::Created)),
                Err(e) if lost_race => return Err(e.into()),
                Err(e) => {
                    // Another upsert may have stored the reference first: the unique reference
                    // refused ours. Then carry on as an update; else it was a real failure.
                    if self.store.account_by_reference(&key).await?.is_none() {
                        return Err(e.into());
                    }
                    lost_race = true;
                }
            }
        }
    }

    async fn write_update(&self, account: &Account) -> Result<(), AccountError> {
        match self.store.update_account(account).await {
            Ok(()) => Ok(()),
            Err(UpdateAccountError::NotFound(id)) => Err(AccountError::NotFound(id)),
            // The store's unique reference decides (no read-then-write race).
            Err(UpdateAccountError::ReferenceTaken { reference, other }) => {
                Err(AccountError::Invalid(reference_taken(&reference, other)))
            }
            Err(UpdateAccountError::Store(e)) => Err(e.into()),
        }
    }

    /// Accounts matching `filter`.
    ///
    /// # Dropping the future
    /// Harmless: it only reads.
    ///
    /// # Errors
    /// [`AccountError::Store`].
    pub async fn list_accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, AccountError> {
        Ok(self.store.accounts(filter).await?)
    }

    /// One account with its bindings, promotions, ship-tos and contacts.
    ///
    /// # Dropping the future
    /// Harmless: it only reads.
    ///
    /// # Errors
    /// [`AccountError::NotFound`].
    pub async fn show_account(&self, id: AccountId) -> Result<AccountView, AccountError> {
        let account = self
            .store
            .account(id)
            .await?
            .ok_or(AccountError::NotFound(id))?;
        let bindings = self.store.bindings_of(id).await?;
        let promotions = self.store.promotions_of(id).await?;
        let ship_tos = self.store.ship_tos(id).await?;
        let contacts = self.store.contacts(id).await?;
        Ok(AccountView {
            account,
            bindings,
            promotions,
            ship_tos,
            contacts,
        })
    }
}

/// The upsert rule (one owner, for [`Services::upsert_account`] and the import): `stored` with
/// `details` — `None` when they are its details already (unchanged), else the account with
/// them, updated at `now`.
pub(super) fn upserted(
    stored: &Account,
    details: AccountDetails,
    now: jiff::Timestamp,
) -> Option<Account> {
    (stored.details() != &details).then(|| stored.with_details(details, now))
}

fn reference_taken(reference: &AccountRef, other: AccountId) -> InvalidFields {
    InvalidFields::single(InvalidField::new(
        "reference",
        format!("`{reference}` is already the reference of account {other}"),
    ))
}
