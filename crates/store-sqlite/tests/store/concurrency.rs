//! Races: separate stores on one file stand for separate processes.

use std::sync::Arc;

use crm2sage_domain::contract::stores::{account, entry, holder, integration, intent};
use crm2sage_domain::ports::LogEvent;
use crm2sage_domain::ports::{
    AccountStore, IntegrationStore, PromotionStore, RecordIntentError, TakeOverError,
};
use crm2sage_domain::{Lease, Promotion, PromotionState};
use crm2sage_store_sqlite::SqliteStore;
use tokio::sync::Barrier;

use crate::helpers::Scratch;

/// Records `a` through `one` and `b` through `two` at the same moment.
async fn race(
    one: &SqliteStore,
    two: &SqliteStore,
    a: Promotion,
    b: Promotion,
) -> [Result<(), RecordIntentError>; 2] {
    let barrier = Arc::new(Barrier::new(2));
    let spawn = |store: SqliteStore, p: Promotion| {
        let barrier = Arc::clone(&barrier);
        tokio::spawn(async move {
            barrier.wait().await;
            store.record_intent(&p, &entry(LogEvent::Intent)).await
        })
    };
    let (ra, rb) = (spawn(one.clone(), a), spawn(two.clone(), b));
    [ra.await.unwrap(), rb.await.unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_for_one_account_or_one_uid_exactly_one_wins() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let one = SqliteStore::open(&path).unwrap();
    let two = SqliteStore::open(&path).unwrap();
    let i = integration("alpha", true);
    one.add_integration(&i).await.unwrap();

    for round in 0..8 {
        // Same account, different numbers.
        let acc = account(&format!("Account {round}"));
        one.insert_account(&acc).await.unwrap();
        let a = intent(&i, acc.id(), &format!("A{round}"), 1);
        let b = intent(&i, acc.id(), &format!("B{round}"), 2);
        let results = race(&one, &two, a.clone(), b.clone()).await;
        let wins: Vec<_> = results.iter().filter(|r| r.is_ok()).collect();
        assert_eq!(wins.len(), 1, "round {round}: {results:?}");
        let winner = if results[0].is_ok() { &a } else { &b };
        let loser = results.iter().find(|r| r.is_err()).unwrap();
        match loser {
            Err(RecordIntentError::AccountLive(p)) => {
                assert_eq!(p.id, winner.id, "the loser is told who holds it");
                assert_eq!(p.state, PromotionState::Creating);
            }
            other => panic!("round {round}: expected AccountLive, got {other:?}"),
        }

        // Different accounts, same External UID.
        let x = account(&format!("X {round}"));
        let y = account(&format!("Y {round}"));
        two.insert_accounts(&[x.clone(), y.clone()]).await.unwrap();
        let number = format!("U{round}");
        let a = intent(&i, x.id(), &number, 3);
        let b = intent(&i, y.id(), &number, 4);
        let results = race(&two, &one, a.clone(), b.clone()).await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        let winner = if results[0].is_ok() { &a } else { &b };
        match results.iter().find(|r| r.is_err()).unwrap() {
            Err(RecordIntentError::UidLive(p)) => assert_eq!(p.id, winner.id),
            other => panic!("round {round}: expected UidLive, got {other:?}"),
        }
    }
    // Both processes see the same, single live promotion per account.
    assert_eq!(
        one.in_flight().await.unwrap(),
        two.in_flight().await.unwrap()
    );
    assert_eq!(one.in_flight().await.unwrap().len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_on_one_store_one_winner_per_account() {
    let scratch = Scratch::new();
    let store = scratch.store();
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let acc = account("Contended");
    store.insert_account(&acc).await.unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8u64)
        .map(|task| {
            let (store, barrier, i) = (store.clone(), Arc::clone(&barrier), i.clone());
            let p = intent(&i, acc.id(), &format!("N{task}"), task);
            tokio::spawn(async move {
                barrier.wait().await;
                // Readers run alongside the writers.
                let _ = store.promotions_of(p.account).await.unwrap();
                store.record_intent(&p, &entry(LogEvent::Intent)).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(RecordIntentError::AccountLive(_)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(store.promotions_of(acc.id()).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_recoverers_taking_over_one_lease_only_one_wins() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let one = SqliteStore::open(&path).unwrap();
    let two = SqliteStore::open(&path).unwrap();
    let i = integration("alpha", true);
    one.add_integration(&i).await.unwrap();
    let acc = account("A");
    one.insert_account(&acc).await.unwrap();
    let p = intent(&i, acc.id(), "C1", 1);
    one.record_intent(&p, &entry(LogEvent::Intent))
        .await
        .unwrap();
    let old = p.lease.clone().unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let take = |store: SqliteStore, task: u64| {
        let (barrier, old) = (Arc::clone(&barrier), old.clone());
        tokio::spawn(async move {
            let new = Lease {
                holder: holder(task),
                expires_at: old.expires_at,
            };
            barrier.wait().await;
            store.take_over(p.id, Some(&old), &new).await
        })
    };
    let (a, b) = (take(one.clone(), 10), take(two.clone(), 11));
    let results = [a.await.unwrap(), b.await.unwrap()];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(TakeOverError::Changed)))
    );
}
