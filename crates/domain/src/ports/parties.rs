//! The local side of ship-to addresses and contacts: each belongs to one account, is keyed by
//! (account, code), and an account has at most one primary of each. The stores carry these
//! rules in their constraints (a foreign key to the account that cascades when it goes, a
//! unique (account, code), a partial unique index over the primary one).

use async_trait::async_trait;

use crate::contact::{Contact, ContactCode};
use crate::ids::AccountId;
use crate::ship_to::{ShipTo, ShipToCode};

use super::StoreError;
pub use super::party_errors::{
    AddContactError, AddShipToError, RemoveContactError, RemoveShipToError,
};

/// Ship-to addresses.
#[async_trait]
pub trait ShipToStore: Send + Sync {
    /// Stores a new ship-to of `ship_to.account()`.
    ///
    /// # Errors
    /// MUST return [`AddShipToError::AccountNotFound`] when no account has its account id,
    /// [`AddShipToError::CodeTaken`] when the account has a ship-to with its code, and
    /// [`AddShipToError::PrimaryTaken`] when it is primary and the account has another primary
    /// ship-to — atomically (the store's constraints decide between concurrent writers), and
    /// nothing stored then.
    async fn add_ship_to(&self, ship_to: &ShipTo) -> Result<(), AddShipToError>;

    /// Stores each of `ship_tos`, in order, replacing the one its account has with the same
    /// code (one chunk of an import, taken by value), in one transaction: all or none.
    ///
    /// # Errors
    /// MUST return [`AddShipToError::AccountNotFound`] when one names an account that does not
    /// exist and [`AddShipToError::PrimaryTaken`] when, once written in order, an account
    /// would have two primary ship-tos (never [`AddShipToError::CodeTaken`]); nothing is
    /// stored then.
    async fn put_ship_tos(&self, ship_tos: Vec<ShipTo>) -> Result<(), AddShipToError>;

    /// The ship-tos of `account`, by code (none for an unknown account).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, StoreError>;

    /// The ship-tos of every account of `accounts`, by account then code (one chunk of an
    /// import in one read). The default asks [`ShipToStore::ship_tos`] once per account;
    /// stores override it to read them together.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn ship_tos_of(&self, accounts: &[AccountId]) -> Result<Vec<ShipTo>, StoreError> {
        let mut sorted = accounts.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::new();
        for account in sorted {
            out.extend(self.ship_tos(account).await?);
        }
        Ok(out)
    }

    /// Removes the ship-to of `account` with `code` and returns it.
    ///
    /// # Errors
    /// MUST return [`RemoveShipToError::NotFound`] when there is none (and remove nothing).
    async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &ShipToCode,
    ) -> Result<ShipTo, RemoveShipToError>;
}

/// Contacts.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Stores a new contact of `contact.account()`.
    ///
    /// # Errors
    /// MUST return [`AddContactError::AccountNotFound`] when no account has its account id,
    /// [`AddContactError::CodeTaken`] when the account has a contact with its code, and
    /// [`AddContactError::PrimaryTaken`] when it is primary and the account has another
    /// primary contact — atomically, and nothing stored then.
    async fn add_contact(&self, contact: &Contact) -> Result<(), AddContactError>;

    /// Stores each of `contacts`, in order, replacing the one its account has with the same
    /// code (one chunk of an import, taken by value), in one transaction: all or none.
    ///
    /// # Errors
    /// MUST return [`AddContactError::AccountNotFound`] when one names an account that does
    /// not exist and [`AddContactError::PrimaryTaken`] when, once written in order, an account
    /// would have two primary contacts (never [`AddContactError::CodeTaken`]); nothing is
    /// stored then.
    async fn put_contacts(&self, contacts: Vec<Contact>) -> Result<(), AddContactError>;

    /// The contacts of `account`, by code (none for an unknown account).
    ///
    /// # Errors
    /// [`StoreError`].
    async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError>;

    /// The contacts of every account of `accounts`, by account then code. The default asks
    /// [`ContactStore::contacts`] once per account; stores override it to read them together.
    ///
    /// # Errors
    /// [`StoreError`].
    async fn contacts_of(&self, accounts: &[AccountId]) -> Result<Vec<Contact>, StoreError> {
        let mut sorted = accounts.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::new();
        for account in sorted {
            out.extend(self.contacts(account).await?);
        }
        Ok(out)
    }

    /// Removes the contact of `account` with `code` and returns it.
    ///
    /// # Errors
    /// MUST return [`RemoveContactError::NotFound`] when there is none (and remove nothing).
    async fn remove_contact(
        &self,
        account: AccountId,
        code: &ContactCode,
    ) -> Result<Contact, RemoveContactError>;
}
