//! Ship-to addresses and contacts of an account: add, list, remove (importing is in
//! `party_import.rs`). Each write is one store transaction; the store's constraints decide the
//! conflicts (a code the account already has, a second primary), so two writers racing never
//! leave an account with two of one code or two primaries.

use crate::contact::{Contact, ContactCode, NewContact};
use crate::error_class::{ErrorClass, ErrorCode};
use crate::field::{InvalidField, InvalidFields};
use crate::ids::AccountId;
use crate::ports::{
    AddContactError, AddShipToError, ErpConnector, RemoveContactError, RemoveShipToError, Store,
    StoreError,
};
use crate::ship_to::{NewShipTo, ShipTo, ShipToCode};

use super::Services;

/// A kind's service error, `$name`, and how its store's `$add` error becomes one: the same for
/// ship-tos and contacts but for the code type, the noun and the error codes.
macro_rules! party_error {
    ($name:ident, $add:ident, $code:ty, $noun:literal, $exists:literal, $not_found:literal) => {
        #[doc = concat!("Why a ", $noun, " operation failed. Nothing was changed.")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum $name {
            /// The input broke rules; every bad field is listed.
            #[error("invalid {noun}: {0}", noun = $noun)]
            Invalid(InvalidFields),
            /// No account has this id.
            #[error("no account with id {0}")]
            AccountNotFound(AccountId),
            #[doc = concat!("The account already has a ", $noun, " with this code.")]
            #[error("account {account} already has a {noun} with code `{code}`", noun = $noun)]
            CodeTaken {
                /// The account.
                account: AccountId,
                /// The code.
                code: $code,
            },
            #[doc = concat!(
                "The ", $noun, " is marked primary and the account has another primary ",
                $noun, "."
            )]
            #[error(
                "account {account} already has a primary {noun} (`{primary}`); an account has at most one",
                noun = $noun
            )]
            PrimaryTaken {
                /// The account.
                account: AccountId,
                #[doc = concat!("Its primary ", $noun, "'s code.")]
                primary: $code,
            },
            #[doc = concat!("The account has no ", $noun, " with this code.")]
            #[error("account {account} has no {noun} with code `{code}`", noun = $noun)]
            NotFound {
                /// The account.
                account: AccountId,
                /// The code.
                code: $code,
            },
            /// The store failed.
            #[error(transparent)]
            Store(#[from] StoreError),
        }

        impl ErrorCode for $name {
            fn code(&self) -> &'static str {
                match self {
                    Self::Invalid(_) => "invalid_input",
                    Self::AccountNotFound(_) => "account_not_found",
                    Self::CodeTaken { .. } => $exists,
                    Self::PrimaryTaken { .. } => "primary_taken",
                    Self::NotFound { .. } => $not_found,
                    Self::Store(e) => e.code(),
                }
            }

            fn class(&self) -> ErrorClass {
                match self {
                    Self::Invalid(_) => ErrorClass::Invalid,
                    Self::AccountNotFound(_) | Self::NotFound { .. } => ErrorClass::NotFound,
                    Self::CodeTaken { .. } | Self::PrimaryTaken { .. } => ErrorClass::Conflict,
                    Self::Store(e) => e.class(),
                }
            }
        }

        impl From<$add> for $name {
            fn from(e: $add) -> Self {
                match e {
                    $add::AccountNotFound(id) => Self::AccountNotFound(id),
                    $add::CodeTaken { account, code } => Self::CodeTaken { account, code },
                    $add::PrimaryTaken { account, primary } => {
                        Self::PrimaryTaken { account, primary }
                    }
                    $add::Store(e) => Self::Store(e),
                }
            }
        }
    };
}

party_error!(
    ShipToError,
    AddShipToError,
    ShipToCode,
    "ship-to",
    "ship_to_exists",
    "ship_to_not_found"
);
party_error!(
    ContactError,
    AddContactError,
    ContactCode,
    "contact",
    "contact_exists",
    "contact_not_found"
);

fn code_field(e: impl std::fmt::Display) -> InvalidFields {
    InvalidFields::single(InvalidField::new("code", e))
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Validates `input` and stores it as a ship-to of `account`. A second primary is refused
    /// (the account's primary stays as it is): remove it, or store it again without the flag,
    /// first.
    ///
    /// # Dropping the future
    /// Harmless: the insert is one atomic write, done whole or not at all.
    ///
    /// # Errors
    /// [`ShipToError::Invalid`] listing **every** bad field; [`ShipToError::AccountNotFound`];
    /// [`ShipToError::CodeTaken`]; [`ShipToError::PrimaryTaken`]; [`ShipToError::Store`].
    /// Nothing is stored then.
    pub async fn add_ship_to(
        &self,
        account: AccountId,
        input: &NewShipTo,
    ) -> Result<ShipTo, ShipToError> {
        let details = input.validate().map_err(ShipToError::Invalid)?;
        let ship_to = ShipTo::new(account, details);
        self.store.add_ship_to(&ship_to).await?;
        Ok(ship_to)
    }

    /// The ship-tos of `account`, by code.
    ///
    /// # Dropping the future
    /// Harmless: it only reads.
    ///
    /// # Errors
    /// [`ShipToError::AccountNotFound`]; [`ShipToError::Store`].
    pub async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, ShipToError> {
        if self.store.account(account).await?.is_none() {
            return Err(ShipToError::AccountNotFound(account));
        }
        Ok(self.store.ship_tos(account).await?)
    }

    /// Removes the ship-to of `account` with `code` (checked as [`ShipToCode::parse`] checks
    /// it) and returns it.
    ///
    /// # Dropping the future
    /// Harmless: the delete is one atomic write, done whole or not at all.
    ///
    /// # Errors
    /// [`ShipToError::Invalid`] for a malformed code (field `code`);
    /// [`ShipToError::AccountNotFound`]; [`ShipToError::NotFound`]; [`ShipToError::Store`].
    pub async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &str,
    ) -> Result<ShipTo, ShipToError> {
        let code = ShipToCode::parse(code).map_err(|e| ShipToError::Invalid(code_field(e)))?;
        match self.store.remove_ship_to(account, &code).await {
            Ok(removed) => Ok(removed),
            Err(RemoveShipToError::NotFound { account, code }) => {
                if self.store.account(account).await?.is_none() {
                    return Err(ShipToError::AccountNotFound(account));
                }
                Err(ShipToError::NotFound { account, code })
            }
            Err(RemoveShipToError::Store(e)) => Err(e.into()),
        }
    }

    /// Validates `input` and stores it as a contact of `account`. A second primary is refused
    /// (the account's primary stays as it is).
    ///
    /// # Dropping the future
    /// Harmless: the insert is one atomic write, done whole or not at all.
    ///
    /// # Errors
    /// [`ContactError::Invalid`] listing **every** bad field; [`ContactError::AccountNotFound`];
    /// [`ContactError::CodeTaken`]; [`ContactError::PrimaryTaken`]; [`ContactError::Store`].
    /// Nothing is stored then.
    pub async fn add_contact(
        &self,
        account: AccountId,
        input: &NewContact,
    ) -> Result<Contact, ContactError> {
        let details = input.validate().map_err(ContactError::Invalid)?;
        let contact = Contact::new(account, details);
        self.store.add_contact(&contact).await?;
        Ok(contact)
    }

    /// The contacts of `account`, by code.
    ///
    /// # Dropping the future
    /// Harmless: it only reads.
    ///
    /// # Errors
    /// [`ContactError::AccountNotFound`]; [`ContactError::Store`].
    pub async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, ContactError> {
        if self.store.account(account).await?.is_none() {
            return Err(ContactError::AccountNotFound(account));
        }
        Ok(self.store.contacts(account).await?)
    }

    /// Removes the contact of `account` with `code` (checked as [`ContactCode::parse`] checks
    /// it) and returns it.
    ///
    /// # Dropping the future
    /// Harmless: the delete is one atomic write, done whole or not at all.
    ///
    /// # Errors
    /// [`ContactError::Invalid`] for a malformed code (field `code`);
    /// [`ContactError::AccountNotFound`]; [`ContactError::NotFound`]; [`ContactError::Store`].
    pub async fn remove_contact(
        &self,
        account: AccountId,
        code: &str,
    ) -> Result<Contact, ContactError> {
        let code = ContactCode::parse(code).map_err(|e| ContactError::Invalid(code_field(e)))?;
        match self.store.remove_contact(account, &code).await {
            Ok(removed) => Ok(removed),
            Err(RemoveContactError::NotFound { account, code }) => {
                if self.store.account(account).await?.is_none() {
                    return Err(ContactError::AccountNotFound(account));
                }
                Err(ContactError::NotFound { account, code })
            }
            Err(RemoveContactError::Store(e)) => Err(e.into()),
        }
    }
}
