//! Syncs across connections: pages staged through different pools (as different processes
//! would), and a run left by a dead worker recognised by its holder and cleaned at the next
//! sync.

use crm2sage_domain::contract::stores::{holder, integration, t0};
use crm2sage_domain::ports::{
    BeginSyncError, ErpReferenceRecord, IntegrationStore, ReferenceStore, SyncRunError,
};
use crm2sage_domain::{ReferenceCode, ReferenceExtras, ReferenceKind, SyncOutcome, Timestamp};
use crm2sage_store_postgres::testing;

use crate::{more_stores, raw};

fn at(seconds: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap()
}

fn record(code: &str) -> ErpReferenceRecord {
    ErpReferenceRecord {
        code: ReferenceCode::parse(code).unwrap(),
        description: format!("{code} description"),
        active: true,
        extras: ReferenceExtras::default(),
    }
}

async fn staged_rows(schema: &str) -> i64 {
    raw()
        .await
        .query_one(&format!("SELECT count(*) FROM {schema}.sync_staging"), &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_stages_its_pages_through_different_connections_and_processes() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let others = more_stores(&guard, 2).await;
    let kind = ReferenceKind::Terms;
    let run = store
        .begin_sync(i.id(), kind, &holder(1), at(0), at(60))
        .await
        .unwrap();
    // Pages through three pools, some at once; a code staged twice keeps its last record.
    let pages: Vec<Vec<ErpReferenceRecord>> = (0..6)
        .map(|p| (0..50).map(|n| record(&format!("P{p}N{n}"))).collect())
        .collect();
    let stagers = pages.iter().enumerate().map(|(n, page)| {
        let target = match n % 3 {
            0 => &store,
            k => &others[k - 1],
        };
        target.stage_page(run, page, at(1), at(61))
    });
    for result in futures_util::future::join_all(stagers).await {
        result.unwrap();
    }
    let mut again = record("P0N0");
    again.description = "staged again".into();
    others[1]
        .stage_page(run, &[again], at(2), at(62))
        .await
        .unwrap();
    assert_eq!(staged_rows(guard.schema()).await, 300);
    let counts = others[0].finish_sync(run, at(3)).await.unwrap();
    assert_eq!((counts.added, counts.total), (300, 300));
    assert_eq!(staged_rows(guard.schema()).await, 0, "the staging is gone");
    let records = store.reference_records(i.id(), kind).await.unwrap();
    assert_eq!(records.len(), 300);
    let p0 = store
        .reference_record(i.id(), kind, &ReferenceCode::parse("p0n0").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p0.description, "staged again",
        "the last staged record wins"
    );
    // The finished run takes no more pages, on any connection.
    assert_eq!(
        store.stage_page(run, &[record("X")], at(4), at(64)).await,
        Err(SyncRunError::NotRunning(run))
    );
    drop((store, others));
    guard.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_left_by_a_dead_worker_is_reported_by_its_holder_and_cleaned_at_the_next_sync() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let kind = ReferenceKind::Category;
    // A worker begins and stages a page, then dies (its pool goes with it).
    let dead = more_stores(&guard, 1).await.pop().unwrap();
    let dead_holder = holder(7);
    let abandoned = dead
        .begin_sync(i.id(), kind, &dead_holder, at(0), at(60))
        .await
        .unwrap();
    dead.stage_page(abandoned, &[record("OLD")], at(1), at(61))
        .await
        .unwrap();
    drop(dead);
    // Another worker's sync is told who holds the run and until when.
    let Err(BeginSyncError::AlreadyRunning {
        run,
        holder: found,
        expires_at,
        ..
    }) = store
        .begin_sync(i.id(), kind, &holder(8), at(120), at(180))
        .await
    else {
        panic!("the dead worker's run still counts as running");
    };
    assert_eq!((run, &found, expires_at), (abandoned, &dead_holder, at(61)));
    // Judged dead, it is abandoned: closed, its staging deleted.
    store
        .abandon_sync(run, "its holder is gone", at(121))
        .await
        .unwrap();
    assert_eq!(staged_rows(guard.schema()).await, 0);
    let fresh = store
        .begin_sync(i.id(), kind, &holder(8), at(122), at(182))
        .await
        .unwrap();
    store
        .stage_page(fresh, &[record("NEW")], at(123), at(183))
        .await
        .unwrap();
    let counts = store.finish_sync(fresh, at(124)).await.unwrap();
    assert_eq!(
        (counts.added, counts.total),
        (1, 1),
        "nothing of the dead run"
    );
    let runs = store.sync_runs(i.id()).await.unwrap();
    assert_eq!(runs[0].outcome, SyncOutcome::Ok);
    assert_eq!(runs[1].id, abandoned);
    assert_eq!(runs[1].outcome, SyncOutcome::Failed);
    // The dead worker, were it alive after all, is told its run ended.
    assert_eq!(
        store
            .stage_page(abandoned, &[record("LATE")], at(125), at(185))
            .await,
        Err(SyncRunError::NotRunning(abandoned))
    );
    drop(store);
    guard.drop_schema().await;
}
