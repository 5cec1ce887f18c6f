//! Test support: a store in a schema of its own on the test server, dropped afterwards, so
//! tests run in parallel against one database.
//!
//! The server is `CRM2SAGE_TEST_POSTGRES` (default [`DEFAULT_TEST_URL`]). An unreachable
//! server **panics** with a clear message — unless `CRM2SAGE_SKIP_POSTGRES=1` is set on
//! purpose, when [`try_fresh_store`] prints that the test was skipped and returns `None`.

#![allow(clippy::print_stderr, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{PgSettings, PgStoreError, PostgresStore, redact_url, schema::quote_ident};

/// The test server when `CRM2SAGE_TEST_POSTGRES` is not set.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test server's URL: `CRM2SAGE_TEST_POSTGRES`, else [`DEFAULT_TEST_URL`].
pub fn test_url() -> String {
    std::env::var("CRM2SAGE_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_URL.to_owned())
}

/// Whether `CRM2SAGE_SKIP_POSTGRES=1` asks to skip tests when the server is unreachable.
pub fn skip_requested() -> bool {
    std::env::var("CRM2SAGE_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

/// A schema name no other test (of this or another process) uses.
pub fn unique_schema() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "t_{}_{}_{:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Drops its schema (`DROP SCHEMA … CASCADE`) when dropped, or at [`SchemaGuard::drop_schema`].
pub struct SchemaGuard {
    url: String,
    schema: Option<String>,
}

impl std::fmt::Debug for SchemaGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaGuard")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .finish()
    }
}

impl SchemaGuard {
    /// A guard of `schema` on the server at `url`.
    pub fn new(url: &str, schema: &str) -> Self {
        Self {
            url: url.to_owned(),
            schema: Some(schema.to_owned()),
        }
    }

    /// The schema it drops.
    pub fn schema(&self) -> &str {
        self.schema.as_deref().unwrap_or_default()
    }

    /// Drops the schema now. Dropping the future before it completes may leave the schema
    /// behind (the guard was consumed, so its `Drop` does not try again).
    ///
    /// # Panics
    /// When the server cannot drop it.
    pub async fn drop_schema(mut self) {
        if let Some(schema) = self.schema.take() {
            drop_now(&self.url, &schema).await;
        }
    }
}

async fn drop_now(url: &str, schema: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("dropping test schema {schema}: {e}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(schema)
        ))
        .await
        .unwrap_or_else(|e| panic!("dropping test schema {schema}: {e}"));
    drop(client);
    let _ = task.await;
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        let url = self.url.clone();
        // A thread of its own with its own runtime: Drop may run inside or outside one.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop a test schema");
            runtime.block_on(drop_now(&url, &schema));
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("a test schema could not be dropped (see the message above)");
        }
    }
}

/// A fresh store in a new schema of its own, and the guard that drops the schema.
///
/// # Panics
/// When the server is unreachable or the store cannot be set up — also with
/// `CRM2SAGE_SKIP_POSTGRES=1`, which only [`try_fresh_store`] honours.
pub async fn fresh_store() -> (PostgresStore, SchemaGuard) {
    match connect_fresh().await {
        Ok(pair) => pair,
        Err(e) => panic!("{}", unreachable_message(&e)),
    }
}

/// As [`fresh_store`], but `None` (after printing that the test is skipped on purpose) when
/// the server is unreachable and `CRM2SAGE_SKIP_POSTGRES=1` is set.
///
/// # Panics
/// When the server is unreachable and no skip was asked for, or the store cannot be set up.
pub async fn try_fresh_store() -> Option<(PostgresStore, SchemaGuard)> {
    match connect_fresh().await {
        Ok(pair) => Some(pair),
        Err(PgStoreError::Unreachable { url, reason }) if skip_requested() => {
            eprintln!(
                "SKIPPED ON PURPOSE (CRM2SAGE_SKIP_POSTGRES=1): PostgreSQL at {url} is \
                 unreachable ({reason})"
            );
            None
        }
        Err(e) => panic!("{}", unreachable_message(&e)),
    }
}

fn unreachable_message(e: &PgStoreError) -> String {
    format!(
        "the PostgreSQL tests need a server: {e}. Start one, point CRM2SAGE_TEST_POSTGRES at \
         it (now {}), or set CRM2SAGE_SKIP_POSTGRES=1 to skip these tests on purpose",
        redact_url(&test_url())
    )
}

async fn connect_fresh() -> Result<(PostgresStore, SchemaGuard), PgStoreError> {
    let url = test_url();
    let schema = unique_schema();
    let settings = PgSettings::default()
        .with_schema(schema.clone())
        .with_max_connections(8);
    // The guard first: a schema created by a connect that then failed is dropped too.
    let guard = SchemaGuard::new(&url, &schema);
    match PostgresStore::connect(&url, settings).await {
        Ok(store) => Ok((store, guard)),
        Err(e) => {
            if matches!(e, PgStoreError::Unreachable { .. }) {
                // Nothing was created; do not try to connect again to drop it.
                let mut guard = guard;
                guard.schema = None;
            }
            Err(e)
        }
    }
}
