//! The domain's store contract against PostgreSQL: every check on a fresh store in a schema
//! of its own (dropped afterwards), so this runs beside the other tests.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use crm2sage_domain::contract;
use crm2sage_store_postgres::testing::{self, SchemaGuard};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_contract_holds_for_postgres() {
    // One probe first, so a skip is decided (and said) once.
    let Some((probe, guard)) = testing::try_fresh_store().await else {
        return;
    };
    drop(probe);
    guard.drop_schema().await;
    let guards: Arc<Mutex<Vec<SchemaGuard>>> = Arc::default();
    contract::stores::run(|| {
        let guards = Arc::clone(&guards);
        async move {
            let (store, guard) = testing::fresh_store().await;
            guards.lock().unwrap().push(guard);
            Arc::new(store)
        }
    })
    .await;
    let guards = std::mem::take(&mut *guards.lock().unwrap());
    // The suite grows; what must hold is that no two checks shared a schema.
    let schemas: std::collections::BTreeSet<&str> =
        guards.iter().map(SchemaGuard::schema).collect();
    assert!(guards.len() > 1, "the suite ran its checks");
    assert_eq!(
        schemas.len(),
        guards.len(),
        "each check had a schema of its own"
    );
    for guard in guards {
        guard.drop_schema().await;
    }
}

#[tokio::test]
async fn the_store_contract_holds_on_a_current_thread_runtime() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    drop(store);
    guard.drop_schema().await;
    let guards: Arc<Mutex<Vec<SchemaGuard>>> = Arc::default();
    contract::stores::run(|| {
        let guards = Arc::clone(&guards);
        async move {
            let (store, guard) = testing::fresh_store().await;
            guards.lock().unwrap().push(guard);
            Arc::new(store)
        }
    })
    .await;
    let guards = std::mem::take(&mut *guards.lock().unwrap());
    for guard in guards {
        guard.drop_schema().await;
    }
}
