//! Accounts: create, import, list, show.

use std::collections::HashMap;

use crate::account::{Account, AccountRef, NewAccount};
use crate::field::{InvalidField, InvalidFields};
use crate::ids::AccountId;
use crate::ports::{AccountFilter, ErpConnector, Store, StoreError};
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
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Validates and stores a new account.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] listing **every** bad field; nothing is stored then.
    pub async fn create_account(&self, input: &NewAccount) -> Result<Account, AccountError> {
        let details = input.validate().map_err(AccountError::Invalid)?;
        if let Some(reference) = details.reference()
            && let Some(existing) = self.store.account_by_reference(reference).await?
        {
            return Err(AccountError::Invalid(reference_taken(reference, &existing)));
        }
        let account = Account::new(AccountId::generate(), details, self.clock.now());
        self.store.insert_account(&account).await?;
        Ok(account)
    }

    /// Validates every input; stores the valid ones in one transaction and returns, per input
    /// in order, the stored account or the fields that were refused.
    ///
    /// # Errors
    /// [`AccountError::Store`]; then nothing was stored.
    pub async fn import_accounts(
        &self,
        inputs: &[NewAccount],
    ) -> Result<Vec<Result<Account, InvalidFields>>, AccountError> {
        let now = self.clock.now();
        let mut seen: HashMap<AccountRef, AccountId> = HashMap::new();
        let mut results: Vec<Result<Account, InvalidFields>> = Vec::with_capacity(inputs.len());
        for input in inputs {
            let account = match input.validate() {
                Ok(details) => Account::new(AccountId::generate(), details, now),
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let Some(reference) = account.details().reference().cloned() else {
                results.push(Ok(account));
                continue;
            };
            if let Some(existing) = self.store.account_by_reference(&reference).await? {
                results.push(Err(reference_taken(&reference, &existing)));
            } else if let Some(earlier) = seen.get(&reference) {
                results.push(Err(InvalidFields::single(InvalidField::new(
                    "reference",
                    format!(
                        "`{reference}` appears twice in this import (first for account {earlier})"
                    ),
                ))));
            } else {
                seen.insert(reference, account.id());
                results.push(Ok(account));
            }
        }
        let valid: Vec<Account> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().cloned())
            .collect();
        self.store.insert_accounts(&valid).await?;
        Ok(results)
    }

    /// Accounts matching `filter`.
    ///
    /// # Errors
    /// [`AccountError::Store`].
    pub async fn list_accounts(&self, filter: AccountFilter) -> Result<Vec<Account>, AccountError> {
        Ok(self.store.accounts(filter).await?)
    }

    /// One account with its bindings and promotions.
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
        Ok(AccountView {
            account,
            bindings,
            promotions,
        })
    }
}

fn reference_taken(reference: &AccountRef, existing: &Account) -> InvalidFields {
    InvalidFields::single(InvalidField::new(
        "reference",
        format!(
            "`{reference}` is already the reference of account {}",
            existing.id()
        ),
    ))
}
