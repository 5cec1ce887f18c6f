//! The examples, run by `cargo test`: each one's `run` is called and its result checked.

// The example's items are `pub` for readers; here they are reached from this crate only.
#[allow(unreachable_pub)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_binds_the_account_to_one_new_erp_customer() {
    let summary = quickstart::run().await.expect("the quickstart runs");
    assert_eq!(summary.customer_no, "NW1001");
    assert_eq!(summary.bindings, 1, "{summary:?}");
    assert_eq!(summary.erp_creates, 1, "{summary:?}");
    assert_eq!(summary.erp_name.as_deref(), Some("Northwind Traders"));
}

#[allow(unreachable_pub)]
#[path = "../examples/vault_secrets.rs"]
mod vault_secrets;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_example_promotes_with_a_password_only_the_vault_holds() {
    let summary = vault_secrets::run().await.expect("the vault example runs");
    assert_eq!(summary.reference, "external:vault/erp", "{summary:?}");
    assert_eq!(summary.customer_no, "VT1001");
    assert_eq!(summary.erp_name.as_deref(), Some("Vault Traders"));
    assert_eq!(summary.erp_creates, 1, "{summary:?}");
    assert!(summary.vault_reads >= 1, "{summary:?}");
    assert!(
        summary.unknown_path_error.contains("external:vault/nope"),
        "{summary:?}"
    );
}

#[allow(unreachable_pub)]
#[path = "../examples/custom_store.rs"]
mod custom_store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counting_store_wrapper_passes_the_store_contract() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let opened = std::sync::atomic::AtomicUsize::new(0);
    let stores = std::sync::Mutex::new(Vec::new());
    crm2sage_domain::contract::stores::run(|| {
        let n = opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let store = std::sync::Arc::new(
            custom_store::CountingStore::sqlite(&dir.path().join(format!("contract-{n}.db")))
                .expect("the database opens"),
        );
        stores
            .lock()
            .expect("not poisoned")
            .push(std::sync::Arc::clone(&store));
        async move { store }
    })
    .await;
    // The suite ran through the wrapper: every store it was given saw calls.
    let stores = stores.into_inner().expect("not poisoned");
    assert!(
        stores.len() > 1,
        "the suite asked for {} stores",
        stores.len()
    );
    for store in &stores {
        assert!(
            store.calls().values().sum::<usize>() > 0,
            "{:?}",
            store.calls()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workflow_runs_through_the_counting_store() {
    let summary = custom_store::run()
        .await
        .expect("the custom store example runs");
    assert_eq!(summary.customer_no, "CG1001");
    assert_eq!(summary.erp_creates, 1, "{summary:?}");
    let calls = &summary.calls;
    assert_eq!(calls.get("add_integration"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("insert_account"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("record_intent"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("confirm"), Some(&1), "{calls:?}");
    assert!(calls.get("begin_sync").is_some_and(|n| *n > 0), "{calls:?}");
}
