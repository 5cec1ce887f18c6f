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
