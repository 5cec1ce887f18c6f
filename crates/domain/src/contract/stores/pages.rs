//! The store contract's page checks: `accounts_page`, `integrations_page` and `log_page` cover
//! their listing exactly once, in its order, whatever the page size; `after` is a keyset (a
//! value that is not stored is fine), `limit` 0 is an empty page, and a page after the last
//! item is empty.

use std::fmt::Debug;

use super::*;
use crate::ports::LogPosition;

/// Reads a whole listing page by page of `size` through `page(after, size)`, where `key`
/// gives the keyset of an item; checks every page is full but the last.
async fn walk<T, K, P, Fut>(size: usize, key: impl Fn(&T) -> K, page: P) -> Vec<T>
where
    T: Debug,
    K: Clone + Ord + Debug,
    P: Fn(Option<K>, usize) -> Fut,
    Fut: Future<Output = Vec<T>>,
{
    let mut out: Vec<T> = Vec::new();
    let mut after = None;
    loop {
        let got = page(after.clone(), size).await;
        assert!(got.len() <= size, "a page holds at most `limit` items");
        let Some(last) = got.last() else {
            break;
        };
        after = Some(key(last));
        let short = got.len() < size;
        out.extend(got);
        if short {
            // A short page is the last one: the next is empty.
            assert!(
                page(after.clone(), size).await.is_empty(),
                "nothing after a short page"
            );
            break;
        }
    }
    out
}

fn strictly_increasing<K: Ord + Debug>(keys: &[K], what: &str) {
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "{what}: keys strictly increase: {keys:?}"
    );
}

pub(super) async fn pages<S: Store + ?Sized>(store: &S) {
    // Empty stores have empty pages.
    assert!(
        store
            .accounts_page(AccountFilter::All, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.integrations_page(None, 10).await.unwrap().is_empty());
    assert!(store.log_page(None, None, 10).await.unwrap().is_empty());

    account_pages(store).await;
    integration_pages(store).await;
    log_pages(store).await;
}

async fn account_pages<S: Store + ?Sized>(store: &S) {
    let mut ghost = None;
    for n in 0..7 {
        if n == 3 {
            // An id that is never stored, made between the others.
            ghost = Some(AccountId::generate());
        }
        let a = account(&format!("Page{n}"));
        if n % 2 == 0 {
            store.insert_account(&a).await.unwrap();
        } else {
            store
                .insert_accounts(std::slice::from_ref(&a))
                .await
                .unwrap();
        }
    }
    // Two of them promoted, for the filters.
    let i = integration("pages", true);
    store.add_integration(&i).await.unwrap();
    let all = store.accounts(AccountFilter::All).await.unwrap();
    assert_eq!(all.len(), 7);
    for (task, a) in [(1, &all[1]), (2, &all[4])] {
        let p = intent(&i, a.id(), &format!("PG{task}"), task);
        store
            .record_intent(&p, &entry(LogEvent::Intent))
            .await
            .unwrap();
        store
            .confirm(
                p.id,
                &holder(task),
                &binding_for(&p),
                at(3),
                &entry(LogEvent::Promoted),
            )
            .await
            .unwrap();
    }

    for filter in [
        AccountFilter::All,
        AccountFilter::Promoted,
        AccountFilter::Pending,
    ] {
        let mut listed = store.accounts(filter).await.unwrap();
        listed.sort_by_key(Account::id);
        for size in [1, 2, 3, 7, 100] {
            let paged = walk(size, Account::id, |after, limit| async move {
                store.accounts_page(filter, after, limit).await.unwrap()
            })
            .await;
            assert_eq!(
                paged, listed,
                "{filter:?} in pages of {size}: every account once, by id"
            );
        }
        let ids: Vec<AccountId> = listed.iter().map(Account::id).collect();
        strictly_increasing(&ids, "accounts");
        assert!(
            store
                .accounts_page(filter, None, 0)
                .await
                .unwrap()
                .is_empty(),
            "limit 0 is an empty page"
        );
    }
    let ids: Vec<AccountId> = all.iter().map(Account::id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "accounts() lists by id, as its pages do");
    assert_eq!(
        store
            .accounts_page(AccountFilter::Promoted, None, 10)
            .await
            .unwrap()
            .iter()
            .map(Account::id)
            .collect::<Vec<_>>(),
        vec![all[1].id(), all[4].id()]
    );
    let last = ids[6];
    assert!(
        store
            .accounts_page(AccountFilter::All, Some(last), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing after the last"
    );
    let ghost = ghost.unwrap();
    let after_ghost: Vec<AccountId> = store
        .accounts_page(AccountFilter::All, Some(ghost), 10)
        .await
        .unwrap()
        .iter()
        .map(Account::id)
        .collect();
    let expected: Vec<AccountId> = ids.iter().copied().filter(|id| *id > ghost).collect();
    assert_eq!(after_ghost, expected, "an id not stored is a keyset too");
    assert_eq!(
        store
            .accounts_page(AccountFilter::All, Some(ids[2]), 2)
            .await
            .unwrap()
            .iter()
            .map(Account::id)
            .collect::<Vec<_>>(),
        vec![ids[3], ids[4]],
        "after excludes its own id"
    );
}

async fn integration_pages<S: Store + ?Sized>(store: &S) {
    // "pages" exists already; names in no particular order of insertion.
    for name in ["delta", "alpha", "echo", "bravo", "charlie"] {
        store
            .add_integration(&integration(name, false))
            .await
            .unwrap();
    }
    let listed = store.integrations().await.unwrap();
    let names: Vec<String> = listed.iter().map(|i| i.name().to_string()).collect();
    assert_eq!(
        names,
        ["alpha", "bravo", "charlie", "delta", "echo", "pages"],
        "by name"
    );
    for size in [1, 2, 4, 6, 50] {
        let paged = walk(
            size,
            |i: &Integration| i.name().clone(),
            |after, limit| async move {
                store
                    .integrations_page(after.as_ref(), limit)
                    .await
                    .unwrap()
            },
        )
        .await;
        assert_eq!(paged, listed, "integrations in pages of {size}");
    }
    let ghost = IntegrationName::parse("bz").unwrap();
    let after: Vec<String> = store
        .integrations_page(Some(&ghost), 2)
        .await
        .unwrap()
        .iter()
        .map(|i| i.name().to_string())
        .collect();
    assert_eq!(after, ["charlie", "delta"], "a name not stored is a keyset");
    let last = IntegrationName::parse("pages").unwrap();
    assert!(
        store
            .integrations_page(Some(&last), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.integrations_page(None, 0).await.unwrap().is_empty());
}

async fn log_pages<S: Store + ?Sized>(store: &S) {
    let a = AccountId::generate();
    let b = AccountId::generate();
    for n in 0..9 {
        let mut e = entry(if n % 3 == 0 {
            LogEvent::Refused
        } else {
            LogEvent::Skipped
        });
        e.account = if n % 3 == 1 { b } else { a };
        e.message = Some(format!("entry {n}"));
        store.append_log(&e).await.unwrap();
    }
    let whole = store.log(None).await.unwrap();
    assert_eq!(
        whole.len(),
        9 + 4,
        "the account checks' intents and confirms logged too"
    );
    let every = store.log_page(None, None, 100).await.unwrap();
    let positions: Vec<LogPosition> = every.iter().map(|(p, _)| *p).collect();
    strictly_increasing(&positions, "log positions");
    for account in [None, Some(a), Some(b), Some(AccountId::generate())] {
        let listed = store.log(account).await.unwrap();
        for size in [1, 2, 5, 100] {
            let paged = walk(
                size,
                |(p, _): &(LogPosition, LogEntry)| *p,
                |after, limit| async move { store.log_page(account, after, limit).await.unwrap() },
            )
            .await;
            let (at, entries): (Vec<LogPosition>, Vec<LogEntry>) = paged.into_iter().unzip();
            assert_eq!(entries, listed, "log of {account:?} in pages of {size}");
            assert!(
                at.iter().all(|p| positions.contains(p)),
                "an entry has one position, filtered or not"
            );
            let expected: Vec<LogPosition> = every
                .iter()
                .filter(|(_, e)| account.is_none_or(|x| e.account == x))
                .map(|(p, _)| *p)
                .collect();
            assert_eq!(at, expected, "the same positions as the whole log's");
        }
    }
    // After a position mid-log: the rest, oldest first.
    let mid = positions[5];
    let rest: Vec<LogEntry> = store
        .log_page(None, Some(mid), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(rest, whole[6..].to_vec());
    let last = *positions.last().unwrap();
    assert!(
        store
            .log_page(None, Some(last), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.log_page(Some(a), None, 0).await.unwrap().is_empty());
    // Appending after a page: the next page continues with it.
    let mut late = entry(LogEvent::Failed);
    late.account = a;
    store.append_log(&late).await.unwrap();
    let next = store.log_page(Some(a), Some(last), 5).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].1, late);
    assert!(next[0].0 > last, "positions grow");
}
