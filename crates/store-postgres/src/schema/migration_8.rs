//! Step 8 on a schema at version 7: every promotion and binding is kept, bindings read with
//! origin `created`, and the wider state CHECK lets `unlink` mark a promotion `unlinked`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crm2sage_domain::contract::stores::{entry, t0};
use crm2sage_domain::ports::{BindingStore, LogEvent, PromotionStore};
use crm2sage_domain::{AccountId, BindingOrigin, IntegrationId, PromotionId, PromotionState};
use refinery::Target;

use super::*;
use crate::db::ts;
use crate::testing::{self, SchemaGuard};
use crate::{PgSettings, PostgresStore};

#[tokio::test]
async fn a_version_7_schema_migrates_keeping_its_promotions_and_bindings() {
    let url = testing::test_url();
    let (mut client, connection) = match tokio_postgres::connect(&url, tokio_postgres::NoTls).await
    {
        Ok(pair) => pair,
        Err(e) if testing::skip_requested() => {
            eprintln!("SKIPPED ON PURPOSE (CRM2SAGE_SKIP_POSTGRES=1): {e}");
            return;
        }
        Err(e) => panic!("the test server is unreachable: {e}"),
    };
    let task = tokio::spawn(connection);
    let schema = testing::unique_schema();
    let guard = SchemaGuard::new(&url, &schema);
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {0}; SET search_path = {0}",
            quote_ident(&schema)
        ))
        .await
        .unwrap();
    let migrations = migrations().unwrap();
    let mut runner = Runner::new(&migrations)
        .set_grouped(false)
        .set_target(Target::Version(7));
    runner.set_migration_table_name(HISTORY_TABLE);
    runner.run_async(&mut client).await.unwrap();

    let (i, account) = (IntegrationId::generate(), AccountId::generate());
    let ids = [PromotionId::generate(), PromotionId::generate()];
    client
        .execute(
            "INSERT INTO integrations (id, name, kind, base_url, company, user_name, secret_ref, \
             http_policy, is_default, created_at) VALUES ($1, 'alpha', 'sage300', \
             'https://erp.example.com/', 'SAMLTD', 'WEBAPI', 'env:PW', 'https_only', TRUE, $2)",
            &[&i.to_string(), &ts(t0())],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO accounts (id, name, billing_line1, billing_city, billing_country, \
             created_at, updated_at) VALUES ($1, 'Acme', '1 Main St', 'Vancouver', 'CA', $2, $2)",
            &[&account.to_string(), &ts(t0())],
        )
        .await
        .unwrap();
    for (id, state, number) in [(ids[0], "failed", "C0"), (ids[1], "promoted", "C1")] {
        client
            .execute(
                "INSERT INTO promotions (id, account_id, integration_id, erp_kind, customer_no, \
                 category, tax_group, external_uid, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'sage300', $4, 'RTL', 'CALIF', $4, $5, $6, $6)",
                &[
                    &id.to_string(),
                    &account.to_string(),
                    &i.to_string(),
                    &number,
                    &state,
                    &ts(t0()),
                ],
            )
            .await
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO bindings (account_id, integration_id, erp_kind, customer_no, \
             external_uid, integration_key, promoted_at, erp_record) \
             VALUES ($1, $2, 'sage300', 'C1', 'C1', $3, $4, '[]')",
            &[
                &account.to_string(),
                &i.to_string(),
                &format!("{i}:C1"),
                &ts(t0()),
            ],
        )
        .await
        .unwrap();
    drop(client);
    let _ = task.await;

    let store = PostgresStore::connect(&url, PgSettings::default().with_schema(schema.clone()))
        .await
        .unwrap();
    let states: Vec<_> = store
        .promotions_of(account)
        .await
        .unwrap()
        .iter()
        .map(|p| (p.id, p.state))
        .collect();
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
    let removed = store
        .unlink(account, i, t0(), &entry(LogEvent::Adopted))
        .await
        .unwrap();
    assert_eq!(removed, bindings[0]);
    assert_eq!(
        store.promotion(ids[1]).await.unwrap().unwrap().state,
        PromotionState::Unlinked
    );
    drop(store);
    guard.drop_schema().await;
}
