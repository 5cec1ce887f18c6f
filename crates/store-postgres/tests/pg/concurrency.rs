//! Exactly-once across connections and stores: of racing intents for one account exactly one
//! is recorded; of racing take-overs of one lease exactly one wins; a holder that lost its
//! lease writes nothing.

use std::sync::Arc;

use crm2sage_domain::contract::stores::{account, entry, holder, integration, intent, t0};
use crm2sage_domain::ports::{
    AccountStore, FencedWriteError, IntegrationStore, LogEntry, LogEvent, PromotionStore,
    RecordIntentError, TakeOverError,
};
use crm2sage_domain::{Lease, LeaseHolder};
use crm2sage_store_postgres::testing;

use crate::more_stores;

const RACERS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_racing_intents_for_one_account_exactly_one_is_recorded() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let a = account("A");
    store.insert_account(&a).await.unwrap();
    // Four "hosts" (pools of their own) and the first store, racing.
    let mut stores = more_stores(&guard, 4).await;
    stores.push(store.clone());
    let stores = Arc::new(stores);
    let racers = (0..RACERS).map(|n| {
        let stores = Arc::clone(&stores);
        let i = i.clone();
        let account = a.id();
        tokio::spawn(async move {
            let p = intent(&i, account, &format!("C{n}"), n as u64);
            let log = LogEntry {
                account,
                promotion: Some(p.id),
                ..entry(LogEvent::Intent)
            };
            let result = stores[n % stores.len()].record_intent(&p, &log).await;
            (p.id, result)
        })
    });
    let results: Vec<_> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one intent wins: {results:?}");
    let winner = winners[0].0;
    for (_, result) in results.iter().filter(|(_, r)| r.is_err()) {
        assert!(
            matches!(result, Err(RecordIntentError::AccountLive(p)) if p.id == winner),
            "a loser is told the winner: {result:?}"
        );
    }
    let promotions = store.promotions_of(a.id()).await.unwrap();
    assert_eq!(promotions.len(), 1);
    assert_eq!(promotions[0].id, winner);
    let log = store.log(Some(a.id())).await.unwrap();
    assert_eq!(log.len(), 1, "losers write no log entry");
    assert_eq!(log[0].promotion, Some(winner));
    drop((stores, store));
    guard.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_racing_intents_for_one_customer_number_exactly_one_is_recorded() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let accounts: Vec<_> = (0..RACERS).map(|n| account(&format!("A{n}"))).collect();
    store.insert_accounts(&accounts).await.unwrap();
    let racers = accounts.iter().enumerate().map(|(n, a)| {
        let store = store.clone();
        // One External UID: the same customer number for every account.
        let p = intent(&i, a.id(), "SAME1", n as u64);
        tokio::spawn(async move { store.record_intent(&p, &entry(LogEvent::Intent)).await })
    });
    let results: Vec<_> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, RecordIntentError::UidLive(_))),
        "{results:?}"
    );
    assert_eq!(store.in_flight().await.unwrap().len(), 1);
    drop(store);
    guard.drop_schema().await;
}

fn lease_of(task: u64, host: &str) -> Lease {
    Lease {
        holder: LeaseHolder {
            host: host.into(),
            ..holder(task)
        },
        expires_at: t0(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_racing_take_overs_of_one_lease_exactly_one_wins_and_the_old_holder_is_fenced() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let a = account("A");
    store.insert_account(&a).await.unwrap();
    let p = intent(&i, a.id(), "C1", 1);
    store
        .record_intent(&p, &entry(LogEvent::Intent))
        .await
        .unwrap();
    let old = p.lease.clone().unwrap();
    let mut stores = more_stores(&guard, 3).await;
    stores.push(store.clone());
    let stores = Arc::new(stores);
    let racers = (0..RACERS).map(|n| {
        let stores = Arc::clone(&stores);
        let old = old.clone();
        tokio::spawn(async move {
            let new = lease_of(100 + n as u64, &format!("host-{}", n % 4));
            let result = stores[n % stores.len()]
                .take_over(p.id, Some(&old), &new)
                .await;
            (new, result)
        })
    });
    let results: Vec<_> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one take-over wins: {results:?}");
    assert!(
        results
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .all(|e| *e == TakeOverError::Changed)
    );
    let now = store.promotion(p.id).await.unwrap().unwrap();
    assert_eq!(
        now.lease.as_ref(),
        Some(&winners[0].0),
        "the winner holds it"
    );
    // The old holder is fenced out of every write.
    assert_eq!(
        store.fail(p.id, &old.holder, "late", t0()).await,
        Err(FencedWriteError::LeaseLost)
    );
    assert_eq!(
        store.renew_lease(p.id, &old.holder, t0()).await,
        Err(FencedWriteError::LeaseLost)
    );
    assert_eq!(
        store.release_lease(p.id, &old.holder, t0()).await,
        Err(FencedWriteError::LeaseLost)
    );
    // The winner may release it; then a take-over from "no lease" races the same way.
    store
        .release_lease(p.id, &winners[0].0.holder, t0())
        .await
        .unwrap();
    let racers = (0..RACERS).map(|n| {
        let stores = Arc::clone(&stores);
        tokio::spawn(async move {
            stores[n % stores.len()]
                .take_over(p.id, None, &lease_of(200 + n as u64, "h"))
                .await
        })
    });
    let results: Vec<_> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    drop((stores, store));
    guard.drop_schema().await;
}
