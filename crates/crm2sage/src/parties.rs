//! [`Crm2Sage`]'s ship-to and contact operations: each delegates to the domain's services (see
//! [`Services::add_ship_to`](crm2sage_domain::Services::add_ship_to) and the others for the
//! rules). Each write is one store transaction, so dropping a future never leaves half a write.

use crm2sage_domain::services::{
    ContactError, ImportSummary, PartyImportOutcome, PartyImportRow, ShipToError,
};
use crm2sage_domain::{AccountId, Contact, NewContact, NewShipTo, ShipTo};

use crate::Crm2Sage;

impl Crm2Sage {
    /// Validates `input` and stores it as a ship-to of `account` (a code unique within the
    /// account; at most one primary: a second is refused, the first stays).
    ///
    /// Dropping this future before it completes: the ship-to is either stored or not.
    ///
    /// # Errors
    /// [`ShipToError`]: `Invalid` (every bad field), `AccountNotFound`, `CodeTaken`,
    /// `PrimaryTaken`, `Store`.
    pub async fn add_ship_to(
        &self,
        account: AccountId,
        input: &NewShipTo,
    ) -> Result<ShipTo, ShipToError> {
        self.services().add_ship_to(account, input).await
    }

    /// The ship-tos of `account`, by code.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`ShipToError::AccountNotFound`], [`ShipToError::Store`].
    pub async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, ShipToError> {
        self.services().ship_tos(account).await
    }

    /// Removes the ship-to of `account` with `code` and returns it.
    ///
    /// Dropping this future before it completes: the ship-to is either removed or not.
    ///
    /// # Errors
    /// [`ShipToError`]: `Invalid` (a malformed code), `AccountNotFound`, `NotFound`, `Store`.
    pub async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &str,
    ) -> Result<ShipTo, ShipToError> {
        self.services().remove_ship_to(account, code).await
    }

    /// Imports ship-tos, each row naming its account by CRM reference, as an upsert by
    /// (account, code): safe to repeat (rows already stored are `unchanged`). Rows are taken
    /// lazily and stored in chunks, one store transaction each; `on_row` gets each row's tag and
    /// outcome as its chunk is stored. See
    /// [`Services::import_ship_tos`](crm2sage_domain::Services::import_ship_tos).
    ///
    /// Dropping this future before it completes: the chunks already reported are stored, the
    /// chunk being written is stored whole or not at all, the rest is not read; importing the
    /// same rows again completes the import.
    ///
    /// # Errors
    /// [`ShipToError::Store`]; the chunks reported before it are stored.
    pub async fn import_ship_tos<T, I, F>(
        &self,
        rows: I,
        on_row: F,
    ) -> Result<ImportSummary, ShipToError>
    where
        I: IntoIterator<Item = PartyImportRow<T, NewShipTo>>,
        F: FnMut(T, PartyImportOutcome<ShipTo>),
    {
        self.services().import_ship_tos(rows, on_row).await
    }

    /// Validates `input` and stores it as a contact of `account` (a code unique within the
    /// account; at most one primary: a second is refused, the first stays).
    ///
    /// Dropping this future before it completes: the contact is either stored or not.
    ///
    /// # Errors
    /// [`ContactError`]: `Invalid` (every bad field), `AccountNotFound`, `CodeTaken`,
    /// `PrimaryTaken`, `Store`.
    pub async fn add_contact(
        &self,
        account: AccountId,
        input: &NewContact,
    ) -> Result<Contact, ContactError> {
        self.services().add_contact(account, input).await
    }

    /// The contacts of `account`, by code.
    ///
    /// Dropping this future only stops the read.
    ///
    /// # Errors
    /// [`ContactError::AccountNotFound`], [`ContactError::Store`].
    pub async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, ContactError> {
        self.services().contacts(account).await
    }

    /// Removes the contact of `account` with `code` and returns it.
    ///
    /// Dropping this future before it completes: the contact is either removed or not.
    ///
    /// # Errors
    /// [`ContactError`]: `Invalid` (a malformed code), `AccountNotFound`, `NotFound`, `Store`.
    pub async fn remove_contact(
        &self,
        account: AccountId,
        code: &str,
    ) -> Result<Contact, ContactError> {
        self.services().remove_contact(account, code).await
    }

    /// Imports contacts as [`import_ship_tos`](Self::import_ship_tos) imports ship-tos.
    ///
    /// Dropping this future before it completes: the chunks already reported are stored, the
    /// chunk being written is stored whole or not at all, the rest is not read; importing the
    /// same rows again completes the import.
    ///
    /// # Errors
    /// [`ContactError::Store`]; the chunks reported before it are stored.
    pub async fn import_contacts<T, I, F>(
        &self,
        rows: I,
        on_row: F,
    ) -> Result<ImportSummary, ContactError>
    where
        I: IntoIterator<Item = PartyImportRow<T, NewContact>>,
        F: FnMut(T, PartyImportOutcome<Contact>),
    {
        self.services().import_contacts(rows, on_row).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn is_send<T: Send>(_: &T) {}

    /// An embedding service awaits these in its handlers: their futures are `Send`.
    #[tokio::test]
    async fn the_futures_are_send_and_the_operations_reach_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let crm2sage = Crm2Sage::builder()
            .sqlite(dir.path().join("crm2sage.db"))
            .build()
            .await
            .unwrap();
        let mut input = crm2sage_domain::NewAccount::new(
            "Barmart",
            crm2sage_domain::AddressInput::new("1 Main St", "Vancouver", "CA"),
        );
        input.reference = Some("CRM-1".into());
        let account = crm2sage.create_account(&input).await.unwrap();
        let ship_to = NewShipTo::new(
            "MAIN",
            "Main dock",
            crm2sage_domain::AddressInput::new("2 Dock Rd", "Seattle", "US"),
        );
        let add = crm2sage.add_ship_to(account.id(), &ship_to);
        is_send(&add);
        add.await.unwrap();
        let import = crm2sage.import_contacts(
            vec![PartyImportRow::new(
                1,
                "CRM-1",
                NewContact::new("ANA", "Ana Ruiz"),
            )],
            |_, _| {},
        );
        is_send(&import);
        assert_eq!(import.await.unwrap().created, 1);
        assert_eq!(crm2sage.ship_tos(account.id()).await.unwrap().len(), 1);
        assert_eq!(crm2sage.contacts(account.id()).await.unwrap().len(), 1);
        let view = crm2sage.account(account.id()).await.unwrap();
        assert_eq!((view.ship_tos.len(), view.contacts.len()), (1, 1));
        crm2sage.remove_contact(account.id(), "ANA").await.unwrap();
        assert!(crm2sage.contacts(account.id()).await.unwrap().is_empty());
    }
}
