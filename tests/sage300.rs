//! The seed workflow end to end on real adapters: the domain services with the Sage 300
//! adapter (`SageConnector`) and the SQLite store, against the Sage 300 simulator —
//! configure, test, sync, create an account, promote, read the live ERP record.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crm2sage_domain::ports::{AccountStore, PromotionStore};
use crm2sage_domain::services::{PromoteError, SyncProgress};
use crm2sage_domain::{
    ErrorClass, ErrorCode, NewIntegration, PromotionRequest, PromotionState, ReferenceKind,
    SyncOutcome,
};
use crm2sage_sage_simulator::{Sage300Config, Sage300Resource, start_sage300};
use crm2sage_tests::{real_services, valid_account};

fn no_progress(_: SyncProgress) {}

fn request(account: crm2sage_domain::AccountId, number: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, number);
    r.category = Some("RTL".into());
    r.tax_group = Some("CALIF".into());
    // These suites promote many accounts made from one template (one name): not the
    // duplicate guard's business, which `duplicates.rs` tests.
    r.allow_duplicate = true;
    r
}

#[tokio::test]
async fn sage300_seed_workflow_on_the_adapter_the_sqlite_store_and_the_simulator() {
    // Small pages, so the sync really pages.
    let sim = start_sage300(Sage300Config {
        page_size: 2,
        ..Sage300Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (services, store) = real_services(dir.path(), "S300_PASSWORD", sim.password());

    // Configure and test the integration.
    let integration = services
        .add_integration(&{
            let mut new_integration =
                NewIntegration::new("s300", "sage300", sim.base_url(), sim.company(), sim.user());
            new_integration.password_env = "S300_PASSWORD".into();
            new_integration.crm_id_field = Some("CRMID".into());
            new_integration.make_default = true;
            new_integration
        })
        .await
        .unwrap();
    services.test_integration("s300").await.unwrap();

    // Sync every kind, page by page.
    let (_, reports) = services.sync(None, None, &no_progress).await.unwrap();
    let summary: Vec<_> = reports
        .iter()
        .map(|r| (r.kind, r.outcome, r.counts.total))
        .collect();
    assert_eq!(
        summary,
        [
            (ReferenceKind::Category, SyncOutcome::Ok, 4),
            (ReferenceKind::Currency, SyncOutcome::Ok, 3),
            (ReferenceKind::Language, SyncOutcome::Ok, 5),
            (ReferenceKind::Terms, SyncOutcome::Ok, 4),
            (ReferenceKind::Tax, SyncOutcome::Ok, 3),
        ],
        "{reports:?}"
    );

    // An account, promoted.
    let account = services.create_account(&valid_account()).await.unwrap();
    let promoted = services
        .promote(&request(account.id(), " new1 "))
        .await
        .unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "NEW1");
    assert_eq!(promoted.binding.external_uid.as_str(), "NEW1");
    assert_eq!(
        promoted.binding.integration_key.as_str(),
        format!("{}:NEW1", integration.id())
    );
    assert_eq!(sim.count_posts(), 1);

    // What Sage holds: the account's data, the chosen codes, the CRM id.
    let created = sim.customer("NEW1").unwrap();
    assert_eq!(created["CustomerName"].as_str(), Some("Barmart Ltd"));
    assert_eq!(created["ShortName"].as_str(), Some("Barmart Lt"));
    assert_eq!(created["GroupCode"].as_str(), Some("RTL"));
    assert_eq!(created["TaxGroup"].as_str(), Some("CALIF"));
    assert_eq!(
        created["Terms"].as_str(),
        Some("N30"),
        "the account's terms"
    );
    assert_eq!(created["CurrencyCode"].as_str(), Some("CAD"));
    assert_eq!(created["CheckLanguage"].as_str(), Some("ENG"));
    assert_eq!(created["Country"].as_str(), Some("CA"));
    assert_eq!(created["City"].as_str(), Some("Vancouver"));
    let crm_id = &created["CustomerOptionalFieldValues"][0];
    assert_eq!(crm_id["OptionalField"].as_str(), Some("CRMID"));
    assert_eq!(
        crm_id["Value"].as_str(),
        Some(account.id().to_string().as_str())
    );
    let post = sim
        .request_log()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert!(
        post.body
            .starts_with(r#"{"CustomerNumber":"NEW1","GroupCode":"RTL","ShortName":"#),
        "{}",
        post.body
    );

    // Stored durably in SQLite.
    let stored = store.promotions_of(account.id()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].state, PromotionState::Promoted);
    assert!(store.account(account.id()).await.unwrap().is_some());

    // The live ERP record, read by the binding; an edit in Sage shows at once.
    let (_, binding, live) = services.erp_details(account.id(), None).await.unwrap();
    assert_eq!(binding.external_uid.as_str(), "NEW1");
    assert_eq!(live.name(), Some("Barmart Ltd"));
    assert_eq!(
        live.record.text("AccountSet"),
        Some("USA"),
        "Sage's defaults"
    );
    let mut edited = created.clone();
    edited.insert("CustomerName".into(), "Barmart Renamed".into());
    sim.insert_record(Sage300Resource::Customers, edited);
    let (_, _, live) = services
        .erp_details(account.id(), Some("s300"))
        .await
        .unwrap();
    assert_eq!(live.name(), Some("Barmart Renamed"));

    // A number Sage already has: failed "customer number taken", nothing sent.
    let other = services.create_account(&valid_account()).await.unwrap();
    let err = services
        .promote(&request(other.id(), "1200"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PromoteError::CustomerNoTaken { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert_eq!(sim.count_posts(), 1);

    // A purchases-only tax group was never synced: refused before any write.
    let mut bad = request(other.id(), "NEW2");
    bad.tax_group = Some("IMPORT".into());
    let err = services.promote(&bad).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid, "{err}");
    assert_eq!(sim.count_posts(), 1);

    // The other account with a free number succeeds.
    let promoted = services
        .promote(&request(other.id(), "new2"))
        .await
        .unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "NEW2");

    // A dead ERP is an error that says so, never stale data.
    sim.shutdown().await;
    let err = services.erp_details(account.id(), None).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Erp, "{err}");
}

/// A batch on the real adapters, cancelled part-way: rows under way finish, the rest are not
/// attempted, and no promotion is left half-done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_batch_on_real_adapters_leaves_nothing_half_done() {
    use crm2sage_domain::services::{CancelFlag, RowOutcome};
    use crm2sage_sage_simulator::Faults;

    let sim = start_sage300(Sage300Config {
        faults: Faults {
            latency: std::time::Duration::from_millis(10),
            ..Faults::default()
        },
        ..Sage300Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (services, store) = real_services(dir.path(), "S300_PASSWORD", sim.password());
    services
        .add_integration(&{
            let mut new_integration =
                NewIntegration::new("s300", "sage300", sim.base_url(), sim.company(), sim.user());
            new_integration.password_env = "S300_PASSWORD".into();
            new_integration.make_default = true;
            new_integration
        })
        .await
        .unwrap();
    services.sync(None, None, &no_progress).await.unwrap();
    let mut requests = Vec::new();
    for i in 0..40 {
        let account = services.create_account(&valid_account()).await.unwrap();
        requests.push(request(account.id(), &format!("K{i:03}")));
    }
    let cancel = CancelFlag::new();
    let mut outcomes = Vec::new();
    services
        .promote_batch(futures_util::stream::iter(requests), 4, &cancel, &mut |e| {
            outcomes.push(e.row.clone());
            if e.settled == 10 {
                cancel.cancel();
            }
        })
        .await;
    let promoted = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, RowOutcome::Promoted(_)))
        .count();
    let not_attempted = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, RowOutcome::NotAttempted))
        .count();
    assert_eq!(
        promoted + not_attempted,
        outcomes.len(),
        "every row either finished or never started"
    );
    assert!(
        (10..40).contains(&promoted),
        "cancelled part-way: {promoted} promoted"
    );
    assert!(
        store.in_flight().await.unwrap().is_empty(),
        "nothing left creating"
    );
    assert_eq!(
        sim.count_posts(),
        promoted,
        "one POST per promoted row, none for the rest"
    );
    for o in &outcomes {
        let promotions = store.promotions_of(o.request.account).await.unwrap();
        match o.outcome {
            RowOutcome::Promoted(_) => {
                assert_eq!(promotions.len(), 1);
                assert_eq!(promotions[0].state, PromotionState::Promoted);
                assert_eq!(store.bindings_of(o.request.account).await.unwrap().len(), 1);
            }
            _ => assert!(promotions.is_empty(), "a row never started wrote nothing"),
        }
    }
}
