//! The contract suites against every implementation this workspace has: the in-memory fakes
//! here; the SQLite store and the Sage adapters join as they land.

use std::sync::Arc;

use crm2sage_domain::contract;
use crm2sage_domain::fakes::MemoryStore;

#[tokio::test]
async fn memory_store_keeps_the_store_contract() {
    contract::stores::run(|| async { Arc::new(MemoryStore::new()) }).await;
}
