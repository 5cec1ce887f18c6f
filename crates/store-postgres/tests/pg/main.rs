//! PostgreSQL-only behaviour: concurrent migrations, races between connections and stores
//! ("hosts"), syncs staged through different connections, and secrets kept out of texts.
//! Each test works in a schema of its own on the test server (see `testing`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chunks;
mod concurrency;
mod connect;
mod copy;
mod links;
mod party_promotions;
mod sync;

use crm2sage_store_postgres::testing::{self, SchemaGuard};
use crm2sage_store_postgres::{PgSettings, PostgresStore};

/// `n` more stores (pools of their own, as other processes would have) on `guard`'s schema.
async fn more_stores(guard: &SchemaGuard, n: usize) -> Vec<PostgresStore> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(
            PostgresStore::connect(
                &testing::test_url(),
                PgSettings::default()
                    .with_schema(guard.schema())
                    .with_max_connections(4),
            )
            .await
            .unwrap(),
        );
    }
    out
}

/// A plain driver connection to the test server, for looking under the store.
async fn raw() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&testing::test_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}
