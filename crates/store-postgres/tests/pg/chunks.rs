//! The import's chunk writes and the keyset pages beyond the domain's contract: a changed
//! account taking another's reference rolls the whole chunk back (new accounts too) and names
//! the account that has it; a reference asked for twice is found twice; integration names
//! page in byte order whatever the database's locale.

use crm2sage_domain::contract::stores::{account, integration, t0};
use crm2sage_domain::ports::{AccountFilter, AccountStore, IntegrationStore, UpdateAccountError};
use crm2sage_domain::{Account, AccountId, AccountRef};
use crm2sage_store_postgres::testing;

fn with_reference(base: &Account, reference: &str, minutes: i64) -> Account {
    let mut input = base.details().to_input();
    input.reference = Some(reference.into());
    base.with_details(
        input.validate().unwrap(),
        t0() + jiff::SignedDuration::from_mins(minutes),
    )
}

#[tokio::test]
async fn a_chunk_whose_update_fails_writes_nothing_and_says_why() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let one = account("One");
    let two = account("Two");
    store
        .insert_accounts(&[one.clone(), two.clone()])
        .await
        .unwrap();

    // A changed account takes Two's reference, after a good update and with new accounts.
    let three = account("Three");
    let one_v2 = with_reference(&one, "CRM-One-2", 1);
    let stealer = with_reference(&one, "CRM-Two", 2);
    let result = store
        .write_accounts(vec![three.clone()], vec![one_v2, stealer])
        .await;
    assert!(
        matches!(
            &result,
            Err(UpdateAccountError::ReferenceTaken { reference, other })
                if reference.as_str() == "CRM-Two" && *other == two.id()
        ),
        "{result:?}"
    );
    assert_eq!(
        store.account(three.id()).await.unwrap(),
        None,
        "none stored"
    );
    assert_eq!(
        store.account(one.id()).await.unwrap(),
        Some(one.clone()),
        "the good update rolled back too"
    );

    // An unknown id among the changed ones: the new ones are not stored either.
    let ghost = account("Ghost");
    let result = store
        .write_accounts(vec![three.clone()], vec![ghost.clone()])
        .await;
    assert!(
        matches!(result, Err(UpdateAccountError::NotFound(id)) if id == ghost.id()),
        "{result:?}"
    );
    assert_eq!(store.account(three.id()).await.unwrap(), None);

    // More than one pipelined batch of each, in one transaction.
    let many: Vec<Account> = (0..600).map(|n| account(&format!("M{n}"))).collect();
    let renamed: Vec<Account> = many
        .iter()
        .take(300)
        .enumerate()
        .map(|(n, a)| with_reference(a, &format!("R{n}"), 3))
        .collect();
    store
        .write_accounts(many.clone(), Vec::new())
        .await
        .unwrap();
    store
        .write_accounts(Vec::new(), renamed.clone())
        .await
        .unwrap();
    let refs: Vec<AccountRef> = (0..300)
        .map(|n| AccountRef::parse(&format!("R{n}")).unwrap())
        .collect();
    let found = store.accounts_by_references(&refs).await.unwrap();
    assert_eq!(found, renamed.into_iter().map(Some).collect::<Vec<_>>());
    assert_eq!(store.accounts(AccountFilter::All).await.unwrap().len(), 602);
    guard.drop_schema().await;
}

#[tokio::test]
async fn references_are_exact_and_may_repeat() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let a = account("Abc");
    store.insert_account(&a).await.unwrap();
    let r = |raw: &str| AccountRef::parse(raw).unwrap();
    let found = store
        .accounts_by_references(&[r("CRM-Abc"), r("crm-abc"), r("CRM-Abc"), r("CRM-Ab")])
        .await
        .unwrap();
    assert_eq!(found, vec![Some(a.clone()), None, Some(a.clone()), None]);
    for reference in [r("CRM-Abc"), r("crm-abc")] {
        assert_eq!(
            store
                .accounts_by_references(std::slice::from_ref(&reference))
                .await
                .unwrap(),
            vec![store.account_by_reference(&reference).await.unwrap()],
            "as account_by_reference compares"
        );
    }
    guard.drop_schema().await;
}

#[tokio::test]
async fn integration_names_page_in_byte_order() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let names = ["b", "Zed", "_x", "-y", "a", "A", "9"];
    for name in names {
        store
            .add_integration(&integration(name, false))
            .await
            .unwrap();
    }
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort_unstable();
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.integrations_page(after.as_ref(), 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.name().clone());
        paged.extend(page.iter().map(|i| i.name().to_string()));
    }
    assert_eq!(paged, expected);
    // An id after every account's: nothing.
    assert!(
        store
            .accounts_page(AccountFilter::All, Some(AccountId::generate()), 5)
            .await
            .unwrap()
            .is_empty()
    );
    guard.drop_schema().await;
}
