//! [`ShipToStore`] and [`ContactStore`] in memory, with the SQL stores' constraints: the
//! account must exist, one code per account, one primary per account, all or none.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{MemoryStore, State};
use crate::contact::{Contact, ContactCode};
use crate::ids::AccountId;
use crate::ports::{
    AddContactError, AddShipToError, ContactStore, RemoveContactError, RemoveShipToError,
    ShipToStore, StoreError,
};
use crate::ship_to::{ShipTo, ShipToCode};

/// The code of `account`'s primary among `rows` other than `code`, if any.
fn other_primary<C: Ord + Clone, P>(
    rows: &BTreeMap<(AccountId, C), P>,
    account: AccountId,
    code: &C,
    is_primary: impl Fn(&P) -> bool,
) -> Option<C> {
    rows.iter()
        .find(|((a, c), p)| *a == account && c != code && is_primary(p))
        .map(|((_, c), _)| c.clone())
}

fn put_ship_to(s: &mut State, ship_to: ShipTo) -> Result<(), AddShipToError> {
    let account = ship_to.account();
    if !s.accounts.contains_key(&account) {
        return Err(AddShipToError::AccountNotFound(account));
    }
    if ship_to.is_primary()
        && let Some(primary) =
            other_primary(&s.ship_tos, account, ship_to.code(), ShipTo::is_primary)
    {
        return Err(AddShipToError::PrimaryTaken { account, primary });
    }
    s.ship_tos
        .insert((account, ship_to.code().clone()), ship_to);
    Ok(())
}

fn put_contact(s: &mut State, contact: Contact) -> Result<(), AddContactError> {
    let account = contact.account();
    if !s.accounts.contains_key(&account) {
        return Err(AddContactError::AccountNotFound(account));
    }
    if contact.is_primary()
        && let Some(primary) =
            other_primary(&s.contacts, account, contact.code(), Contact::is_primary)
    {
        return Err(AddContactError::PrimaryTaken { account, primary });
    }
    s.contacts
        .insert((account, contact.code().clone()), contact);
    Ok(())
}

fn of_account<C: Ord + Clone, P: Clone>(
    rows: &BTreeMap<(AccountId, C), P>,
    account: AccountId,
) -> Vec<P> {
    rows.iter()
        .filter(|((a, _), _)| *a == account)
        .map(|(_, p)| p.clone())
        .collect()
}

#[async_trait]
impl ShipToStore for MemoryStore {
    async fn add_ship_to(&self, ship_to: &ShipTo) -> Result<(), AddShipToError> {
        let mut s = self.state();
        let key = (ship_to.account(), ship_to.code().clone());
        if s.accounts.contains_key(&key.0) && s.ship_tos.contains_key(&key) {
            return Err(AddShipToError::CodeTaken {
                account: key.0,
                code: key.1,
            });
        }
        put_ship_to(&mut s, ship_to.clone())
    }

    async fn put_ship_tos(&self, ship_tos: Vec<ShipTo>) -> Result<(), AddShipToError> {
        let mut s = self.state();
        // All or none: the writes go to a copy, which replaces the ship-tos only whole.
        let before = s.ship_tos.clone();
        for ship_to in ship_tos {
            if let Err(e) = put_ship_to(&mut s, ship_to) {
                s.ship_tos = before;
                return Err(e);
            }
        }
        Ok(())
    }

    async fn ship_tos(&self, account: AccountId) -> Result<Vec<ShipTo>, StoreError> {
        Ok(of_account(&self.state().ship_tos, account))
    }

    async fn remove_ship_to(
        &self,
        account: AccountId,
        code: &ShipToCode,
    ) -> Result<ShipTo, RemoveShipToError> {
        self.state()
            .ship_tos
            .remove(&(account, code.clone()))
            .ok_or_else(|| RemoveShipToError::NotFound {
                account,
                code: code.clone(),
            })
    }
}

#[async_trait]
impl ContactStore for MemoryStore {
    async fn add_contact(&self, contact: &Contact) -> Result<(), AddContactError> {
        let mut s = self.state();
        let key = (contact.account(), contact.code().clone());
        if s.accounts.contains_key(&key.0) && s.contacts.contains_key(&key) {
            return Err(AddContactError::CodeTaken {
                account: key.0,
                code: key.1,
            });
        }
        put_contact(&mut s, contact.clone())
    }

    async fn put_contacts(&self, contacts: Vec<Contact>) -> Result<(), AddContactError> {
        let mut s = self.state();
        let before = s.contacts.clone();
        for contact in contacts {
            if let Err(e) = put_contact(&mut s, contact) {
                s.contacts = before;
                return Err(e);
            }
        }
        Ok(())
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<Contact>, StoreError> {
        Ok(of_account(&self.state().contacts, account))
    }

    async fn remove_contact(
        &self,
        account: AccountId,
        code: &ContactCode,
    ) -> Result<Contact, RemoveContactError> {
        self.state()
            .contacts
            .remove(&(account, code.clone()))
            .ok_or_else(|| RemoveContactError::NotFound {
                account,
                code: code.clone(),
            })
    }
}
