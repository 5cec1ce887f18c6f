use std::sync::Arc;

use crm2sage_domain::contract;
use crm2sage_domain::fakes::MemoryStore;

use crate::helpers::Scratch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_contract_holds_for_sqlite() {
    let scratch = Scratch::new();
    contract::stores::run(|| async { Arc::new(scratch.store()) }).await;
}

#[tokio::test]
async fn the_store_contract_holds_on_a_current_thread_runtime() {
    let scratch = Scratch::new();
    contract::stores::run(|| async { Arc::new(scratch.store()) }).await;
}

#[test]
fn the_store_contract_holds_outside_a_tokio_runtime() {
    // With no Tokio runtime around, each call runs inline: any executor works.
    let scratch = Scratch::new();
    let fut = contract::stores::run(|| async { Arc::new(scratch.store()) });
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if fut.as_mut().poll(&mut cx).is_ready() {
            break;
        }
    }
}

#[tokio::test]
async fn the_store_contract_holds_for_the_fake() {
    contract::stores::run(|| async { Arc::new(MemoryStore::new()) }).await;
}
