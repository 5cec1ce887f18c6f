#![allow(clippy::unwrap_used)]

use crm2sage_domain::contract::stores::party_promotions::{customer, party_intent};
use crm2sage_domain::contract::stores::{account, integration, t0};
use crm2sage_domain::ports::{AccountStore, IntegrationStore, LogEvent};
use crm2sage_domain::{ErrorCode, PartyKind};
use rusqlite::params;

use super::*;
use crate::db::connect;
use crate::schema::{APPLICATION_ID, LATEST, MIGRATIONS};

fn log_of(p: &PartyPromotion) -> LogEntry {
    LogEntry {
        at: t0(),
        account: p.account,
        integration: Some(p.integration),
        promotion: Some(p.id),
        event: LogEvent::Intent,
        request: "ship-to MAIN".into(),
        message: None,
        duration_ms: None,
    }
}

#[tokio::test]
async fn a_version_6_file_migrates_and_takes_party_promotions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm2sage.db");
    std::fs::File::create(&path).unwrap();
    let i = integration("alpha", true);
    let a = account("Old");
    {
        let conn = connect(&path, false).unwrap();
        for step in &MIGRATIONS[..6] {
            conn.execute_batch(step).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 6).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    const { assert!(LATEST >= 7) };
    store.add_integration(&i).await.unwrap();
    store.insert_account(&a).await.unwrap();
    let p = party_intent(
        &i,
        a.id(),
        &customer("C1"),
        (PartyKind::ShipTo, "MAIN"),
        1,
        1,
    );
    store.record_party_intent(&p, &log_of(&p)).await.unwrap();
    assert_eq!(store.party_promotions_of(a.id()).await.unwrap(), [p]);
    let version: i64 = connect(&path, true)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST);
}

/// A store with one integration, one account and one `creating` party promotion, and a raw
/// connection to its file.
async fn with_one() -> (tempfile::TempDir, SqliteStore, Connection, PartyPromotion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm2sage.db");
    let store = SqliteStore::open(&path).unwrap();
    let i = integration("alpha", true);
    let a = account("One");
    store.add_integration(&i).await.unwrap();
    store.insert_account(&a).await.unwrap();
    let p = party_intent(
        &i,
        a.id(),
        &customer("C1"),
        (PartyKind::ShipTo, "MAIN"),
        1,
        1,
    );
    store.record_party_intent(&p, &log_of(&p)).await.unwrap();
    let conn = connect(&path, false).unwrap();
    (dir, store, conn, p)
}

#[tokio::test]
async fn the_schema_refuses_a_second_live_row_a_partial_lease_and_an_unknown_kind() {
    let (_dir, _store, conn, p) = with_one().await;
    let copy = |id: &str, state: &str, kind: &str, host: Option<&str>| {
        conn.execute(
            &format!(
                "INSERT INTO party_promotions ({}) SELECT ?1, account_id, \
                 integration_id, ?3, code, division, customer_no, external_uid, ?2, ?4, \
                 lease_pid, lease_process_start, lease_task, lease_expires_at, error, \
                 created_at, updated_at FROM party_promotions WHERE id = ?5",
                rows::COLUMNS
            ),
            params![id, state, kind, host, p.id.to_string()],
        )
    };
    let id = || PromotionId::generate().to_string();
    assert!(
        copy(&id(), "promoted", "ship_to", Some("h")).is_err(),
        "one live row per party"
    );
    assert!(
        copy(&id(), "failed", "ship_to", None).is_err(),
        "a lease is whole or absent"
    );
    assert!(
        copy(&id(), "failed", "shipto", Some("h")).is_err(),
        "known kinds only"
    );
    assert!(
        copy(&id(), "bogus", "ship_to", Some("h")).is_err(),
        "known states only"
    );
    copy(&id(), "failed", "ship_to", Some("h")).unwrap();
    copy(&id(), "creating", "contact", Some("h")).unwrap();
    assert!(
        conn.execute(
            "UPDATE party_promotions SET account_id = ?1 WHERE id = ?2",
            params![AccountId::generate().to_string(), p.id.to_string()],
        )
        .is_err(),
        "the account must exist"
    );
}

#[tokio::test]
async fn a_row_that_does_not_parse_is_a_corrupt_store_not_a_panic() {
    let (_dir, store, conn, p) = with_one().await;
    for (column, value) in [
        ("code", "not a code!"),
        ("customer_no", ""),
        ("division", "XYZ"),
        ("external_uid", ""),
        ("lease_expires_at", "yesterday"),
    ] {
        let before: Option<String> = conn
            .query_row(
                &format!("SELECT {column} FROM party_promotions WHERE id = ?1"),
                [p.id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            &format!("UPDATE party_promotions SET {column} = ?1 WHERE id = ?2"),
            params![value, p.id.to_string()],
        )
        .unwrap();
        let err = store.party_promotion(p.id).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains(column)),
            "{column}: {err:?}"
        );
        assert_eq!(err.code(), "database_corrupt");
        conn.execute(
            &format!("UPDATE party_promotions SET {column} = ?1 WHERE id = ?2"),
            params![before, p.id.to_string()],
        )
        .unwrap();
    }
    assert_eq!(store.party_promotion(p.id).await.unwrap(), Some(p));
}
