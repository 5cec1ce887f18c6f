//! Issue 22 item 1: ship-tos and contacts through the services on the fakes — add, list,
//! remove with their typed refusals; the streaming import (an upsert by (account, code), safe
//! to repeat, unknown accounts and second primaries rejected with their row); and validation
//! that never panics, whatever the text.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use crm2sage_domain::fakes::{FakeErp, MemoryStore};
use crm2sage_domain::ports::ShipToStore;
use crm2sage_domain::services::{
    ContactError, IMPORT_CHUNK, PartyImportOutcome, PartyImportRow, ShipToError,
};
use crm2sage_domain::{
    Account, AccountId, AddressInput, ContactCode, ErrorClass, ErrorCode, InvalidFields,
    NewContact, NewShipTo, ShipToCode,
};
use crm2sage_tests::{FakeServices, fake_services, valid_account};
use proptest::prelude::*;

fn ship_to(code: &str, primary: bool) -> NewShipTo {
    let mut input = NewShipTo::new(
        code,
        format!("Warehouse {code}"),
        AddressInput::new("2 Dock Rd", "Seattle", "US"),
    );
    input.primary = primary;
    input
}

fn contact(code: &str, primary: bool) -> NewContact {
    let mut input = NewContact::new(code, format!("Person {code}"));
    input.title = Some("Buyer".into());
    input.primary = primary;
    input
}

async fn with_account(reference: &str) -> (Arc<FakeServices>, Arc<MemoryStore>, Account) {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let account = add_account(&services, reference).await;
    (services, store, account)
}

async fn add_account(services: &FakeServices, reference: &str) -> Account {
    let mut input = valid_account();
    input.reference = Some(reference.into());
    services.create_account(&input).await.unwrap()
}

#[tokio::test]
async fn ship_tos_are_added_listed_and_removed_with_typed_refusals() {
    let (services, _, account) = with_account("CRM-1").await;
    let id = account.id();
    let main = services
        .add_ship_to(id, &ship_to("main", true))
        .await
        .unwrap();
    assert_eq!(main.code().as_str(), "MAIN");
    services
        .add_ship_to(id, &ship_to("WH2", false))
        .await
        .unwrap();

    let taken = services
        .add_ship_to(id, &ship_to("MAIN", false))
        .await
        .unwrap_err();
    assert_eq!(
        taken,
        ShipToError::CodeTaken {
            account: id,
            code: ShipToCode::parse("MAIN").unwrap()
        }
    );
    assert_eq!(
        (taken.code(), taken.class()),
        ("ship_to_exists", ErrorClass::Conflict)
    );
    let second = services
        .add_ship_to(id, &ship_to("WH3", true))
        .await
        .unwrap_err();
    assert_eq!(
        (second.code(), second.class()),
        ("primary_taken", ErrorClass::Conflict)
    );
    assert!(second.to_string().contains("`MAIN`"), "{second}");

    let mut bad = ship_to("TOO-LONG", false);
    bad.name = String::new();
    bad.email = Some("nobody".into());
    let ShipToError::Invalid(fields) = services.add_ship_to(id, &bad).await.unwrap_err() else {
        panic!("an invalid ship-to is Invalid");
    };
    assert!(fields.contains("code") && fields.contains("name") && fields.contains("email"));

    let ghost = AccountId::generate();
    assert_eq!(
        services.add_ship_to(ghost, &ship_to("MAIN", false)).await,
        Err(ShipToError::AccountNotFound(ghost))
    );
    assert_eq!(
        services.ship_tos(ghost).await,
        Err(ShipToError::AccountNotFound(ghost))
    );

    let listed = services.ship_tos(id).await.unwrap();
    let codes: Vec<&str> = listed.iter().map(|s| s.code().as_str()).collect();
    assert_eq!(codes, ["MAIN", "WH2"]);
    let view = services.show_account(id).await.unwrap();
    assert_eq!(view.ship_tos, listed, "account show carries the ship-tos");

    let removed = services.remove_ship_to(id, "wh2").await.unwrap();
    assert_eq!(removed.code().as_str(), "WH2");
    let gone = services.remove_ship_to(id, "WH2").await.unwrap_err();
    assert_eq!(
        (gone.code(), gone.class()),
        ("ship_to_not_found", ErrorClass::NotFound)
    );
    let malformed = services.remove_ship_to(id, "W-2").await.unwrap_err();
    assert_eq!(malformed.class(), ErrorClass::Invalid);
    assert_eq!(
        services.remove_ship_to(ghost, "MAIN").await,
        Err(ShipToError::AccountNotFound(ghost))
    );
}

#[tokio::test]
async fn contacts_are_added_listed_and_removed_with_typed_refusals() {
    let (services, _, account) = with_account("CRM-1").await;
    let id = account.id();
    services
        .add_contact(id, &contact("ANA", true))
        .await
        .unwrap();
    services
        .add_contact(id, &contact("BOB", false))
        .await
        .unwrap();
    let taken = services
        .add_contact(id, &contact("ana", false))
        .await
        .unwrap_err();
    assert_eq!(
        (taken.code(), taken.class()),
        ("contact_exists", ErrorClass::Conflict)
    );
    assert_eq!(
        services.add_contact(id, &contact("CY", true)).await,
        Err(ContactError::PrimaryTaken {
            account: id,
            primary: ContactCode::parse("ANA").unwrap()
        })
    );
    let view = services.show_account(id).await.unwrap();
    let codes: Vec<&str> = view.contacts.iter().map(|c| c.code().as_str()).collect();
    assert_eq!(codes, ["ANA", "BOB"]);
    services.remove_contact(id, "ANA").await.unwrap();
    // The primary gone, another may be primary.
    services
        .add_contact(id, &contact("CY", true))
        .await
        .unwrap();
    let gone = services.remove_contact(id, "ANA").await.unwrap_err();
    assert_eq!(
        (gone.code(), gone.class()),
        ("contact_not_found", ErrorClass::NotFound)
    );
}

fn how<P>(outcome: &PartyImportOutcome<P>) -> &'static str {
    match outcome {
        PartyImportOutcome::Stored(_, how) => how.as_str(),
        PartyImportOutcome::Rejected(_) => "rejected",
        _ => "other",
    }
}

#[tokio::test]
async fn a_ship_to_import_is_an_upsert_by_account_and_code_and_safe_to_repeat() {
    let (services, store, one) = with_account("CRM-1").await;
    let two = add_account(&services, "CRM-2").await;
    // More than two chunks: every row a ship-to of one of the two accounts.
    let n = 2 * IMPORT_CHUNK + 5;
    let rows = |name: &str| -> Vec<PartyImportRow<usize, NewShipTo>> {
        (0..n)
            .map(|i| {
                let mut input = ship_to(&format!("{:04}", i / 2), i == 0);
                input.name = format!("{name} {i}");
                let reference = if i % 2 == 0 { "CRM-1" } else { "CRM-2" };
                PartyImportRow::new(i, reference, input)
            })
            .collect()
    };
    let mut seen = Vec::new();
    let summary = services
        .import_ship_tos(rows("Dock"), |tag, outcome| seen.push((tag, how(&outcome))))
        .await
        .unwrap();
    assert_eq!((summary.created, summary.rejected), (n as u64, 0));
    assert!(
        seen.iter()
            .enumerate()
            .all(|(i, (tag, how))| *tag == i && *how == "created")
    );
    assert_eq!(store.ship_tos(one.id()).await.unwrap().len(), n.div_ceil(2));
    assert_eq!(store.ship_tos(two.id()).await.unwrap().len(), n / 2);

    // Again: every row unchanged, nothing duplicated.
    let again = services
        .import_ship_tos(rows("Dock"), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (again.unchanged, again.created, again.updated),
        (n as u64, 0, 0)
    );
    assert_eq!(store.ship_tos(one.id()).await.unwrap().len(), n.div_ceil(2));

    // Other names: updated.
    let renamed = services
        .import_ship_tos(rows("Gate"), |_, _| {})
        .await
        .unwrap();
    assert_eq!(renamed.updated, n as u64);
    let first = &store.ship_tos(one.id()).await.unwrap()[0];
    assert_eq!(
        (first.details().name(), first.is_primary()),
        ("Gate 0", true)
    );
}

#[tokio::test]
async fn an_import_rejects_unknown_accounts_second_primaries_and_bad_rows_with_every_field() {
    let (services, store, one) = with_account("CRM-1").await;
    services
        .add_ship_to(one.id(), &ship_to("MAIN", true))
        .await
        .unwrap();
    let mut bad = ship_to("TOO-LONG", false);
    bad.address.city = String::new();
    let mut freed = ship_to("MAIN", false);
    freed.name = "No longer primary".into();
    let rows = vec![
        PartyImportRow::new(1, "CRM-404", ship_to("A1", false)),
        PartyImportRow::new(2, "CRM-1", ship_to("B1", true)),
        PartyImportRow::new(3, "", bad),
        PartyImportRow::refused(
            4,
            "CRM-1",
            InvalidFields::single(crm2sage_domain::InvalidField::new(
                "name",
                "is not valid UTF-8",
            )),
        ),
        // MAIN stops being primary, so C1 may be it.
        PartyImportRow::new(5, "CRM-1", freed),
        PartyImportRow::new(6, "CRM-1", ship_to("C1", true)),
    ];
    let mut seen = Vec::new();
    let summary = services
        .import_ship_tos(rows, |tag, outcome| {
            let fields = match &outcome {
                PartyImportOutcome::Rejected(f) => {
                    f.fields().iter().map(|f| f.field().to_owned()).collect()
                }
                _ => Vec::new(),
            };
            seen.push((tag, how(&outcome), fields));
        })
        .await
        .unwrap();
    assert_eq!(
        seen,
        [
            (1, "rejected", vec!["account_ref".to_owned()]),
            (2, "rejected", vec!["primary".to_owned()]),
            (
                3,
                "rejected",
                vec![
                    "account_ref".to_owned(),
                    "code".to_owned(),
                    "city".to_owned()
                ]
            ),
            (4, "rejected", vec!["name".to_owned()]),
            (5, "updated", vec![]),
            (6, "created", vec![]),
        ]
    );
    assert_eq!(
        (summary.rejected, summary.updated, summary.created),
        (4, 1, 1)
    );
    let stored = store.ship_tos(one.id()).await.unwrap();
    let state: Vec<(&str, bool)> = stored
        .iter()
        .map(|s| (s.code().as_str(), s.is_primary()))
        .collect();
    assert_eq!(state, [("C1", true), ("MAIN", false)]);
}

#[tokio::test]
async fn a_contact_import_upserts_and_repeats_safely() {
    let (services, _, one) = with_account("CRM-1").await;
    let rows = || {
        vec![
            PartyImportRow::new(1, "CRM-1", contact("ANA", true)),
            PartyImportRow::new(2, "CRM-1", contact("BOB", false)),
            PartyImportRow::new(3, "CRM-1", contact("CY", true)),
        ]
    };
    let mut seen = Vec::new();
    services
        .import_contacts(rows(), |tag, o| seen.push((tag, how(&o))))
        .await
        .unwrap();
    assert_eq!(seen, [(1, "created"), (2, "created"), (3, "rejected")]);
    let again = services.import_contacts(rows(), |_, _| {}).await.unwrap();
    assert_eq!((again.unchanged, again.rejected, again.created), (2, 1, 0));
    assert_eq!(services.contacts(one.id()).await.unwrap().len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text in any field: validation never panics, and what it accepts re-validates to
    /// itself with codes within both ERPs' limits.
    #[test]
    fn ship_to_and_contact_validation_never_panics(
        code in any::<String>(), name in any::<String>(), line in any::<String>(),
        city in any::<String>(), country in "[A-Za-z]{0,4}", phone in any::<String>(),
        email in any::<String>(), title in any::<String>(), primary in any::<bool>(),
    ) {
        let mut input = NewShipTo::new(code.clone(), name.clone(), AddressInput::new(line, city, country));
        input.phone = Some(phone.clone());
        input.email = Some(email.clone());
        input.primary = primary;
        if let Ok(details) = input.validate() {
            prop_assert!(details.code().as_str().len() <= 4);
            prop_assert_eq!(details.to_input().validate(), Ok(details.clone()));
        }
        let mut input = NewContact::new(code, name);
        input.title = Some(title);
        input.phone = Some(phone);
        input.email = Some(email);
        if let Ok(details) = input.validate() {
            prop_assert!(details.code().as_str().len() <= 10);
            prop_assert_eq!(details.to_input().validate(), Ok(details.clone()));
        }
    }

    /// Codes of letters and digits within the limit pass and are upper-cased.
    #[test]
    fn plausible_codes_pass(code in "[A-Za-z0-9]{1,4}") {
        let parsed = ShipToCode::parse(&code).unwrap();
        prop_assert_eq!(parsed.as_str(), code.to_ascii_uppercase());
        prop_assert!(ContactCode::parse(&code).is_ok());
    }
}
