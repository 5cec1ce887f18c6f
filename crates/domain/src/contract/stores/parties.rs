//! The store contract's ship-to and contact checks: add, list, put (an import's chunk, all or
//! none), remove, and the rules the stores' constraints carry — the account must exist, one
//! code per account, one primary per account.

use super::*;
use crate::contact::{Contact, ContactCode, NewContact};
use crate::ports::{AddContactError, AddShipToError, RemoveContactError, RemoveShipToError};
use crate::ship_to::{NewShipTo, ShipTo, ShipToCode};

/// A valid ship-to `code` of `account`, every field set.
pub fn ship_to(account: AccountId, code: &str, primary: bool) -> ShipTo {
    let mut address = AddressInput::new(format!("{code} Dock Rd"), "Seattle", "US");
    address.line2 = Some("Gate 4".into());
    address.state = Some("WA".into());
    address.postal_code = Some("98101".into());
    let mut input = NewShipTo::new(code, format!("Warehouse {code}"), address);
    input.phone = Some("+1 206 555 0100".into());
    input.email = Some("dock@example.com".into());
    input.primary = primary;
    ShipTo::new(account, input.validate().unwrap())
}

/// A valid contact `code` of `account`, every field set.
pub fn contact(account: AccountId, code: &str, primary: bool) -> Contact {
    let mut input = NewContact::new(code, format!("Person {code}"));
    input.title = Some("Buyer".into());
    input.phone = Some("604-555-0100 x12".into());
    input.email = Some("buyer@example.com".into());
    input.primary = primary;
    Contact::new(account, input.validate().unwrap())
}

fn codes(ship_tos: &[ShipTo]) -> Vec<(AccountId, &str, bool)> {
    ship_tos
        .iter()
        .map(|s| (s.account(), s.code().as_str(), s.is_primary()))
        .collect()
}

fn contact_codes(contacts: &[Contact]) -> Vec<(AccountId, &str, bool)> {
    contacts
        .iter()
        .map(|c| (c.account(), c.code().as_str(), c.is_primary()))
        .collect()
}

pub(super) async fn ship_tos<S: Store + ?Sized>(store: &S) {
    let one = account("One");
    let two = account("Two");
    store.insert_account(&one).await.unwrap();
    store.insert_account(&two).await.unwrap();
    let (a, b) = (one.id(), two.id());

    let main = ship_to(a, "MAIN", true);
    store.add_ship_to(&ship_to(a, "WH2", false)).await.unwrap();
    store.add_ship_to(&main).await.unwrap();
    let read = store.ship_tos(a).await.unwrap();
    assert_eq!(read.len(), 2);
    assert_eq!(read[0], main, "a ship-to reads back exactly, every field");
    assert_eq!(
        codes(&read),
        [(a, "MAIN", true), (a, "WH2", false)],
        "by code"
    );

    // The same code again: refused, nothing changed.
    let mut renamed = main.details().to_input();
    renamed.name = "Other".into();
    renamed.primary = false;
    assert_eq!(
        store
            .add_ship_to(&ShipTo::new(a, renamed.validate().unwrap()))
            .await,
        Err(AddShipToError::CodeTaken {
            account: a,
            code: ShipToCode::parse("MAIN").unwrap()
        })
    );
    // A second primary: refused, naming the primary.
    assert_eq!(
        store.add_ship_to(&ship_to(a, "WH3", true)).await,
        Err(AddShipToError::PrimaryTaken {
            account: a,
            primary: ShipToCode::parse("MAIN").unwrap()
        })
    );
    // An unknown account.
    let ghost = AccountId::generate();
    assert_eq!(
        store.add_ship_to(&ship_to(ghost, "MAIN", false)).await,
        Err(AddShipToError::AccountNotFound(ghost))
    );
    assert_eq!(store.ship_tos(a).await.unwrap(), read, "nothing changed");
    assert!(store.ship_tos(ghost).await.unwrap().is_empty());

    // Codes are per account: another account has its own MAIN, primary too.
    store.add_ship_to(&ship_to(b, "MAIN", true)).await.unwrap();

    // A chunk: WH2 replaced (now primary, after MAIN stops being it), WH4 new.
    let mut unmarked = main.details().to_input();
    unmarked.primary = false;
    let unmarked = ShipTo::new(a, unmarked.validate().unwrap());
    let mut wh2 = ship_to(a, "WH2", true).details().to_input();
    wh2.name = "Renamed".into();
    wh2.phone = None;
    let wh2 = ShipTo::new(a, wh2.validate().unwrap());
    store
        .put_ship_tos(vec![
            unmarked.clone(),
            wh2.clone(),
            ship_to(a, "WH4", false),
        ])
        .await
        .unwrap();
    let read = store.ship_tos(a).await.unwrap();
    assert_eq!(
        codes(&read),
        [(a, "MAIN", false), (a, "WH2", true), (a, "WH4", false)]
    );
    assert_eq!(read[1], wh2, "a put replaces every field");

    // All or none: a chunk with a second primary, or an unknown account, writes nothing.
    let before = store.ship_tos(a).await.unwrap();
    assert_eq!(
        store
            .put_ship_tos(vec![ship_to(a, "WH5", false), ship_to(a, "WH6", true)])
            .await,
        Err(AddShipToError::PrimaryTaken {
            account: a,
            primary: ShipToCode::parse("WH2").unwrap()
        })
    );
    assert_eq!(
        store
            .put_ship_tos(vec![ship_to(a, "WH5", false), ship_to(ghost, "WH5", false)])
            .await,
        Err(AddShipToError::AccountNotFound(ghost))
    );
    assert_eq!(store.ship_tos(a).await.unwrap(), before, "nothing written");
    store.put_ship_tos(Vec::new()).await.unwrap();

    // Several accounts in one read, by account then code.
    let both = store.ship_tos_of(&[b, a, b]).await.unwrap();
    let mut expected = codes(&before);
    expected.push((b, "MAIN", true));
    expected.sort_by_key(|(account, code, _)| (*account, code.to_string()));
    assert_eq!(codes(&both), expected);

    // Remove: returns it; again is not found; the other account's MAIN stays.
    let removed = store
        .remove_ship_to(a, &ShipToCode::parse("main").unwrap())
        .await
        .unwrap();
    assert_eq!(removed, before[0]);
    assert_eq!(
        store
            .remove_ship_to(a, &ShipToCode::parse("MAIN").unwrap())
            .await,
        Err(RemoveShipToError::NotFound {
            account: a,
            code: ShipToCode::parse("MAIN").unwrap()
        })
    );
    assert_eq!(store.ship_tos(a).await.unwrap().len(), 2);
    assert_eq!(store.ship_tos(b).await.unwrap().len(), 1);
    // The primary removed, another may be primary.
    store
        .remove_ship_to(a, &ShipToCode::parse("WH2").unwrap())
        .await
        .unwrap();
    store.add_ship_to(&ship_to(a, "WH7", true)).await.unwrap();
}

pub(super) async fn contacts<S: Store + ?Sized>(store: &S) {
    let one = account("One");
    let two = account("Two");
    store.insert_account(&one).await.unwrap();
    store.insert_account(&two).await.unwrap();
    let (a, b) = (one.id(), two.id());

    let ana = contact(a, "ANA", true);
    store.add_contact(&contact(a, "BOB", false)).await.unwrap();
    store.add_contact(&ana).await.unwrap();
    let read = store.contacts(a).await.unwrap();
    assert_eq!(read[0], ana, "a contact reads back exactly, every field");
    assert_eq!(
        contact_codes(&read),
        [(a, "ANA", true), (a, "BOB", false)],
        "by code"
    );

    assert_eq!(
        store.add_contact(&contact(a, "ana", false)).await,
        Err(AddContactError::CodeTaken {
            account: a,
            code: ContactCode::parse("ANA").unwrap()
        })
    );
    assert_eq!(
        store.add_contact(&contact(a, "CY", true)).await,
        Err(AddContactError::PrimaryTaken {
            account: a,
            primary: ContactCode::parse("ANA").unwrap()
        })
    );
    let ghost = AccountId::generate();
    assert_eq!(
        store.add_contact(&contact(ghost, "ANA", false)).await,
        Err(AddContactError::AccountNotFound(ghost))
    );
    assert_eq!(store.contacts(a).await.unwrap(), read, "nothing changed");
    store.add_contact(&contact(b, "ANA", true)).await.unwrap();

    // A chunk: ANA stops being primary, BOB becomes it (replaced whole), DEE is new.
    let mut bob = contact(a, "BOB", true).details().to_input();
    bob.title = None;
    let bob = Contact::new(a, bob.validate().unwrap());
    store
        .put_contacts(vec![
            contact(a, "ANA", false),
            bob.clone(),
            contact(a, "DEE", false),
        ])
        .await
        .unwrap();
    let read = store.contacts(a).await.unwrap();
    assert_eq!(
        contact_codes(&read),
        [(a, "ANA", false), (a, "BOB", true), (a, "DEE", false)]
    );
    assert_eq!(read[1], bob, "a put replaces every field");
    assert_eq!(
        store
            .put_contacts(vec![contact(a, "EVE", false), contact(a, "FAY", true)])
            .await,
        Err(AddContactError::PrimaryTaken {
            account: a,
            primary: ContactCode::parse("BOB").unwrap()
        })
    );
    assert_eq!(
        store
            .put_contacts(vec![contact(a, "EVE", false), contact(ghost, "EVE", false)])
            .await,
        Err(AddContactError::AccountNotFound(ghost))
    );
    assert_eq!(store.contacts(a).await.unwrap(), read, "nothing written");

    let both = store.contacts_of(&[a, b]).await.unwrap();
    let mut expected = contact_codes(&read);
    expected.push((b, "ANA", true));
    expected.sort_by_key(|(account, code, _)| (*account, code.to_string()));
    assert_eq!(contact_codes(&both), expected);

    let removed = store
        .remove_contact(a, &ContactCode::parse("BOB").unwrap())
        .await
        .unwrap();
    assert_eq!(removed, bob);
    assert_eq!(
        store
            .remove_contact(a, &ContactCode::parse("BOB").unwrap())
            .await,
        Err(RemoveContactError::NotFound {
            account: a,
            code: ContactCode::parse("BOB").unwrap()
        })
    );
    assert_eq!(store.contacts(a).await.unwrap().len(), 2);
    assert_eq!(store.contacts(b).await.unwrap().len(), 1);
}
