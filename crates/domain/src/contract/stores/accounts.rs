//! The store contract's account-update checks: an update replaces the details, keeps the id
//! and creation time, refuses an unknown id and a taken CRM reference, and an insert refuses a
//! taken reference (the constraint an upsert's race relies on).

use super::*;
use crate::account::AccountRef;
use crate::ports::UpdateAccountError;

pub(super) async fn account_updates<S: Store + ?Sized>(store: &S) {
    let one = account("One");
    let two = account("Two");
    store.insert_account(&one).await.unwrap();
    store.insert_account(&two).await.unwrap();

    // Every detail changes, the reference too; id and creation time stay.
    let mut input = account("Renamed").details().to_input();
    input.shipping = None;
    input.phone = None;
    input.reference = Some("CRM-One-v2".into());
    let changed = one.with_details(input.validate().unwrap(), at(60));
    store.update_account(&changed).await.unwrap();
    let read = store.account(one.id()).await.unwrap().unwrap();
    assert_eq!(read, changed, "an update reads back exactly");
    assert_eq!(
        read.created_at(),
        one.created_at(),
        "the creation time is kept"
    );
    assert_eq!(read.updated_at(), at(60));
    assert_eq!(
        read.details().shipping(),
        None,
        "a cleared field is cleared"
    );
    let by_new = store
        .account_by_reference(&AccountRef::parse("CRM-One-v2").unwrap())
        .await
        .unwrap();
    assert_eq!(by_new.map(|a| a.id()), Some(one.id()));
    assert_eq!(
        store
            .account_by_reference(&AccountRef::parse("CRM-One").unwrap())
            .await
            .unwrap(),
        None,
        "the old reference is free"
    );

    // An unknown id.
    let ghost = account("Ghost");
    assert_eq!(
        store.update_account(&ghost).await,
        Err(UpdateAccountError::NotFound(ghost.id()))
    );
    assert_eq!(
        store.account(ghost.id()).await.unwrap(),
        None,
        "not created"
    );

    // Another account's reference: refused, nothing changed.
    let mut steal = two.details().to_input();
    steal.reference = Some("CRM-One-v2".into());
    steal.name = "Thief".into();
    let stolen = two.with_details(steal.validate().unwrap(), at(61));
    assert_eq!(
        store.update_account(&stolen).await,
        Err(UpdateAccountError::ReferenceTaken {
            reference: AccountRef::parse("CRM-One-v2").unwrap(),
            other: one.id(),
        })
    );
    assert_eq!(store.account(two.id()).await.unwrap(), Some(two.clone()));

    // The reference an account gave up can be taken; no reference at all is fine.
    let mut freed = two.details().to_input();
    freed.reference = Some("CRM-One".into());
    let two_v2 = two.with_details(freed.validate().unwrap(), at(62));
    store.update_account(&two_v2).await.unwrap();
    let mut unref = two.details().to_input();
    unref.reference = None;
    let two_v3 = two.with_details(unref.validate().unwrap(), at(63));
    store.update_account(&two_v3).await.unwrap();
    assert_eq!(store.account(two.id()).await.unwrap(), Some(two_v3));

    // Inserting an account with a taken reference is refused and stores nothing, alone or in
    // a batch (all or none).
    let mut dup = account("Dup").details().to_input();
    dup.reference = Some("CRM-One-v2".into());
    let dup = Account::new(AccountId::generate(), dup.validate().unwrap(), at(64));
    assert!(store.insert_account(&dup).await.is_err());
    assert_eq!(store.account(dup.id()).await.unwrap(), None);
    let fresh = account("Fresh");
    assert!(
        store
            .insert_accounts(&[fresh.clone(), dup.clone()])
            .await
            .is_err()
    );
    assert_eq!(
        store.account(fresh.id()).await.unwrap(),
        None,
        "all or none"
    );
    let all = store.accounts(AccountFilter::All).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
}
