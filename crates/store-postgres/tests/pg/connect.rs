//! Connecting: migrations under the advisory lock, versions, and the password kept out of
//! every text.

use crm2sage_domain::ErrorCode;
use crm2sage_domain::ports::{IntegrationStore, StoreError};
use crm2sage_store_postgres::testing::{self, SchemaGuard};
use crm2sage_store_postgres::{PgSettings, PgStoreError, PostgresStore, SCHEMA_VERSION};

use crate::raw;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_connecting_at_once_to_a_new_schema_all_succeed_and_migrate_it_once() {
    let Some((probe, probe_guard)) = testing::try_fresh_store().await else {
        return;
    };
    drop(probe);
    probe_guard.drop_schema().await;
    let schema = testing::unique_schema();
    let guard = SchemaGuard::new(&testing::test_url(), &schema);
    let connects = (0..8).map(|_| {
        let schema = schema.clone();
        tokio::spawn(async move {
            PostgresStore::connect(
                &testing::test_url(),
                PgSettings::default()
                    .with_schema(schema)
                    .with_max_connections(2),
            )
            .await
        })
    });
    let stores: Vec<PostgresStore> = futures_util::future::join_all(connects)
        .await
        .into_iter()
        .map(|r| r.unwrap().expect("every concurrent connect succeeds"))
        .collect();
    assert_eq!(stores.len(), 8);
    let row = raw()
        .await
        .query_one(
            &format!(
                "SELECT count(*), count(DISTINCT version), max(version) \
                 FROM {schema}.crm2sage_schema_history"
            ),
            &[],
        )
        .await
        .unwrap();
    let (applied, distinct, max): (i64, i64, i32) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (applied, distinct, i64::from(max)),
        (SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION),
        "each version applied exactly once"
    );
    for store in &stores {
        assert!(store.integrations().await.unwrap().is_empty());
    }
    drop(stores);
    guard.drop_schema().await;
}

#[tokio::test]
async fn a_schema_from_a_newer_crm2sage_is_refused() {
    let Some((store, guard)) = testing::try_fresh_store().await else {
        return;
    };
    drop(store);
    raw()
        .await
        .execute(
            &format!(
                "INSERT INTO {}.crm2sage_schema_history (version, name, applied_on, checksum) \
                 VALUES (999, 'future', '2030-01-01T00:00:00Z', '0')",
                guard.schema()
            ),
            &[],
        )
        .await
        .unwrap();
    let e = PostgresStore::connect(
        &testing::test_url(),
        PgSettings::default().with_schema(guard.schema()),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e,
        PgStoreError::Store(StoreError::TooNew {
            found: 999,
            supported: SCHEMA_VERSION
        })
    );
    assert_eq!(e.code(), "database_too_new");
    guard.drop_schema().await;
}

/// The test server's URL with `password` in it.
fn with_password(password: &str, port: Option<u16>) -> String {
    let mut url = url::Url::parse(&testing::test_url()).unwrap();
    url.set_password(Some(password)).unwrap();
    if let Some(port) = port {
        url.set_port(Some(port)).unwrap();
    }
    url.to_string()
}

#[tokio::test]
async fn the_password_never_shows_in_errors_or_debug_output() {
    let secret = "pw-s3cret-91";
    // An unreachable server: the error names the URL without the password.
    let e = PostgresStore::connect(&with_password(secret, Some(1)), PgSettings::default())
        .await
        .unwrap_err();
    assert!(matches!(e, PgStoreError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.code(), "database_unreachable");
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(secret), "{text}");
        assert!(
            text.contains("127.0.0.1:1") || text.contains(":1/"),
            "{text}"
        );
    }
    // A bad setting with the password in the URL.
    let e = PostgresStore::connect(
        &with_password(secret, None),
        PgSettings::default().with_schema("Not Valid"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "database_settings_invalid");
    assert!(!e.to_string().contains(secret), "{e}");
    // A working store (the test server trusts us, so the password is not even asked for).
    let Some((probe, guard)) = testing::try_fresh_store().await else {
        return;
    };
    drop(probe);
    let store = PostgresStore::connect(
        &with_password(secret, None),
        PgSettings::default().with_schema(guard.schema()),
    )
    .await
    .unwrap();
    let shown = format!("{store:?}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains(guard.schema()), "{shown}");
    assert!(!store.url().contains(secret));
    drop(store);
    guard.drop_schema().await;
}
