//! The store contract's checks of the chunk operations an import uses: many accounts looked up
//! by reference in one call, in order, and new and changed accounts written together; a taken
//! reference among the new ones stores none of them and changes nothing.

use super::*;
use crate::account::AccountRef;
use crate::ports::UpdateAccountError;

fn reference(raw: &str) -> AccountRef {
    AccountRef::parse(raw).unwrap()
}

pub(super) async fn account_chunks<S: Store + ?Sized>(store: &S) {
    let one = account("One");
    let two = account("Two");
    store.insert_account(&one).await.unwrap();
    store.insert_account(&two).await.unwrap();

    assert_eq!(
        store.accounts_by_references(&[]).await.unwrap(),
        Vec::<Option<Account>>::new()
    );
    assert_eq!(
        store
            .accounts_by_references(&[
                reference("CRM-Two"),
                reference("CRM-None"),
                reference("CRM-One"),
            ])
            .await
            .unwrap(),
        vec![Some(two.clone()), None, Some(one.clone())],
        "in the order asked, None where absent"
    );

    // New and changed together.
    let three = account("Three");
    let four = account("Four");
    let mut renamed = one.details().to_input();
    renamed.name = "One Renamed".into();
    let one_v2 = one.with_details(renamed.validate().unwrap(), at(30));
    store
        .write_accounts(
            &[three.clone(), four.clone()],
            std::slice::from_ref(&one_v2),
        )
        .await
        .unwrap();
    store.write_accounts(&[], &[]).await.unwrap();
    assert_eq!(
        store.account(three.id()).await.unwrap(),
        Some(three.clone())
    );
    assert_eq!(store.account(four.id()).await.unwrap(), Some(four.clone()));
    assert_eq!(
        store.account(one.id()).await.unwrap(),
        Some(one_v2.clone()),
        "a changed account reads back exactly"
    );
    assert_eq!(
        store
            .accounts_by_references(&[reference("CRM-Four"), reference("CRM-One")])
            .await
            .unwrap(),
        vec![Some(four.clone()), Some(one_v2.clone())]
    );

    // A taken reference among the new ones: refused; none stored, nothing changed.
    let five = account("Five");
    let mut dup = account("Dup").details().to_input();
    dup.reference = Some("CRM-Two".into());
    let dup = Account::new(AccountId::generate(), dup.validate().unwrap(), at(31));
    let mut again = one_v2.details().to_input();
    again.name = "One Again".into();
    let one_v3 = one_v2.with_details(again.validate().unwrap(), at(32));
    assert!(
        store
            .write_accounts(&[five.clone(), dup.clone()], &[one_v3])
            .await
            .is_err(),
        "a taken reference is refused"
    );
    assert_eq!(store.account(five.id()).await.unwrap(), None, "none stored");
    assert_eq!(store.account(dup.id()).await.unwrap(), None);
    assert_eq!(
        store.account(one.id()).await.unwrap(),
        Some(one_v2),
        "nothing changed"
    );

    // A changed account that does not exist.
    let ghost = account("Ghost");
    assert!(matches!(
        store.write_accounts(&[], std::slice::from_ref(&ghost)).await,
        Err(UpdateAccountError::NotFound(id)) if id == ghost.id()
    ));
    assert_eq!(
        store.account(ghost.id()).await.unwrap(),
        None,
        "not created"
    );
    assert_eq!(store.accounts(AccountFilter::All).await.unwrap().len(), 4);
}
