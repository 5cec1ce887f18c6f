//! Migration 8 on a file written at version 7: the promotions table is rebuilt for its wider
//! state CHECK with every row kept, and bindings read with origin `created`.

#![allow(clippy::unwrap_used)]

use crm2sage_domain::contract::stores::{entry, t0};
use crm2sage_domain::ports::{BindingStore, LogEvent, PromotionStore};
use crm2sage_domain::{AccountId, BindingOrigin, IntegrationId, PromotionId, PromotionState};
use rusqlite::params;

use super::*;
use crate::SqliteStore;
use crate::db::{connect, ts};

/// A file at version 7 with one promoted promotion of `account` and its binding, and a failed
/// one before it.
fn version_7(path: &std::path::Path, i: IntegrationId, account: AccountId, ids: [PromotionId; 2]) {
    std::fs::File::create(path).unwrap();
    let conn = connect(path, false).unwrap();
    for step in &MIGRATIONS[..7] {
        conn.execute_batch(step).unwrap();
    }
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .unwrap();
    conn.pragma_update(None, "user_version", 7).unwrap();
    conn.execute(
        "INSERT INTO integrations (id, name, kind, base_url, company, user_name, secret_ref, \
         http_policy, is_default, created_at) VALUES (?1, 'alpha', 'sage300', \
         'https://erp.example.com/', 'SAMLTD', 'WEBAPI', 'env:PW', 'https_only', 1, ?2)",
        params![i.to_string(), ts(t0())],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO accounts (id, name, billing_line1, billing_city, billing_country, \
         created_at, updated_at) VALUES (?1, 'Acme', '1 Main St', 'Vancouver', 'CA', ?2, ?2)",
        params![account.to_string(), ts(t0())],
    )
    .unwrap();
    for (id, state, number) in [(ids[0], "failed", "C0"), (ids[1], "promoted", "C1")] {
        conn.execute(
            "INSERT INTO promotions (id, account_id, integration_id, erp_kind, customer_no, \
             category, tax_group, external_uid, state, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'sage300', ?4, 'RTL', 'CALIF', ?4, ?5, ?6, ?6)",
            params![
                id.to_string(),
                account.to_string(),
                i.to_string(),
                number,
                state,
                ts(t0())
            ],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO bindings (account_id, integration_id, erp_kind, customer_no, external_uid, \
         integration_key, promoted_at, erp_record) VALUES (?1, ?2, 'sage300', 'C1', 'C1', ?3, \
         ?4, '[]')",
        params![
            account.to_string(),
            i.to_string(),
            format!("{i}:C1"),
            ts(t0())
        ],
    )
    .unwrap();
}

#[tokio::test]
async fn a_version_7_file_migrates_keeping_its_promotions_and_bindings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm2sage.db");
    let (i, account) = (IntegrationId::generate(), AccountId::generate());
    let ids = [PromotionId::generate(), PromotionId::generate()];
    version_7(&path, i, account, ids);
    let store = SqliteStore::open(&path).unwrap();

    let promotions = store.promotions_of(account).await.unwrap();
    let states: Vec<_> = promotions.iter().map(|p| (p.id, p.state)).collect();
    assert_eq!(
        states,
        [
            (ids[0], PromotionState::Failed),
            (ids[1], PromotionState::Promoted)
        ],
        "every promotion is kept, in order"
    );
    let bindings = store.bindings_of(account).await.unwrap();
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].origin, BindingOrigin::Created);
    assert_eq!(bindings[0].external_uid.as_str(), "C1");

    // The indexes are back, and the exactly-once rule with them.
    let conn = connect(&path, false).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST);
    for index in [
        "promotions_live_account",
        "promotions_live_uid",
        "promotions_by_account",
        "promotions_in_flight",
        "bindings_by_uid",
        "customer_index_by_name",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [index],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{index}");
    }
    let check: String = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .unwrap_or_default();
    assert_eq!(check, "", "no dangling reference");

    // The wider state: unlink marks the promotion `unlinked`.
    let removed = store
        .unlink(account, i, t0(), &entry(LogEvent::Adopted))
        .await
        .unwrap();
    assert_eq!(removed, bindings[0]);
    assert_eq!(
        store.promotion(ids[1]).await.unwrap().unwrap().state,
        PromotionState::Unlinked
    );
}
