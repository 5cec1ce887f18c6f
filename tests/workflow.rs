//! The user's workflow end to end on the in-memory fakes: configure, sync, create, promote,
//! read the live ERP record — for a Sage 300 and a Sage 100 integration — and the refusals the
//! spec promises.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use crm2sage_domain::fakes::{ErpFault, FakeErp};
use crm2sage_domain::ports::{AccountStore, ErpCustomerKey, LogEvent, PromotionStore};
use crm2sage_domain::services::{PromoteError, ResolveError};
use crm2sage_domain::{
    ArDivision, CustomerNo, ErrorClass, ErrorCode, PromotionRequest, PromotionState, ReferenceKind,
    SyncOutcome,
};
use crm2sage_tests::{fake_services, sage100_input, sage300_input, valid_account};

fn no_progress(_: crm2sage_domain::services::SyncProgress) {}

/// Fake services with a default Sage 300 integration over `erp`, every kind synced.
async fn synced_sage300(
    erp: FakeErp,
) -> (
    std::sync::Arc<crm2sage_tests::FakeServices>,
    std::sync::Arc<crm2sage_domain::fakes::MemoryStore>,
) {
    let (services, store) = fake_services(erp);
    let mut input = sage300_input();
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    services.sync(None, None, &no_progress).await.unwrap();
    (services, store)
}

fn s300_request(account: crm2sage_domain::AccountId, number: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, number);
    r.category = Some("RTL".into());
    r.tax_group = Some("CALIF".into());
    // These suites promote many accounts made from one template (one name): not the
    // duplicate guard's business, which `duplicates.rs` tests.
    r.allow_duplicate = true;
    r
}

#[tokio::test]
async fn sage300_workflow_from_integration_to_live_details() {
    let erp = FakeErp::sage300_demo().with_password("pw");
    let (services, _store) = fake_services(erp.clone());
    let mut input = sage300_input();
    input.make_default = true;
    services.add_integration(&input).await.unwrap();

    let (integration, reports) = services.sync(None, None, &no_progress).await.unwrap();
    assert_eq!(integration.name().as_str(), "s300");
    let kinds: Vec<_> = reports.iter().map(|r| (r.kind, r.outcome)).collect();
    assert_eq!(
        kinds,
        [
            (ReferenceKind::Category, SyncOutcome::Ok),
            (ReferenceKind::Currency, SyncOutcome::Ok),
            (ReferenceKind::Language, SyncOutcome::Ok),
            (ReferenceKind::Terms, SyncOutcome::Ok),
            (ReferenceKind::Tax, SyncOutcome::Ok),
        ]
    );
    assert_eq!(reports[0].counts.total, 3, "RTL, WHL and the inactive INA");

    let account = services.create_account(&valid_account()).await.unwrap();
    let promoted = services
        .promote(&s300_request(account.id(), " new1 "))
        .await
        .unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "NEW1");
    assert_eq!(promoted.binding.external_uid.as_str(), "NEW1");
    assert_eq!(
        promoted.binding.integration_key.as_str(),
        format!("{}:NEW1", integration.id())
    );
    assert_eq!(erp.create_attempts(), 1);

    let created = erp
        .customer(&ErpCustomerKey {
            division: None,
            customer_no: CustomerNo::parse_sage300("NEW1").unwrap(),
        })
        .unwrap();
    assert_eq!(created.record.text("group"), Some("RTL"));
    assert_eq!(
        created.record.text("terms"),
        Some("N30"),
        "the account's terms are used when none is asked for"
    );
    assert_eq!(created.record.text("currency"), Some("CAD"));
    assert_eq!(created.record.text("country"), Some("CA"));

    let view = services.show_account(account.id()).await.unwrap();
    assert_eq!(view.bindings.len(), 1);
    assert_eq!(view.promotions[0].state, PromotionState::Promoted);

    let (_, binding, live) = services.erp_details(account.id(), None).await.unwrap();
    assert_eq!(binding.external_uid.as_str(), "NEW1");
    assert_eq!(live.name(), Some("Barmart Ltd"));
    // Live, not stored: an edit in the ERP shows at once.
    erp.edit_customer(&live.key, "name", "Barmart Renamed");
    let (_, _, live) = services
        .erp_details(account.id(), Some("s300"))
        .await
        .unwrap();
    assert_eq!(live.name(), Some("Barmart Renamed"));
    // And an unreachable ERP is an error, not stale data.
    erp.inject(ErpFault::Unreachable);
    let err = services.erp_details(account.id(), None).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Erp);
}

#[tokio::test]
async fn sage100_workflow_from_integration_to_live_details() {
    let erp = FakeErp::sage100_demo();
    let (services, _store) = fake_services(erp.clone());
    services.add_integration(&sage100_input()).await.unwrap();

    let (_, reports) = services
        .sync(Some("s100"), None, &no_progress)
        .await
        .unwrap();
    let ship = reports
        .iter()
        .find(|r| r.kind == ReferenceKind::ShipMethod)
        .unwrap();
    assert_eq!(
        ship.outcome,
        SyncOutcome::Unavailable,
        "an optional kind the server lacks is not a failure"
    );
    assert_eq!(ship.class, None);
    assert!(reports.iter().all(|r| r.class.is_none()));

    let account = services.create_account(&valid_account()).await.unwrap();
    let mut request = PromotionRequest::new(account.id(), "123");
    request.integration = Some("s100".into());
    request.salesperson = Some("0100".into());
    request.tax_schedule = Some("wi mil".into());
    request.category = Some("RET".into());
    let promoted = services.promote(&request).await.unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "0000123");
    assert_eq!(promoted.binding.external_uid.as_str(), "01-0000123");
    let key = ErpCustomerKey {
        division: ArDivision::parse("01").ok(),
        customer_no: CustomerNo::parse_sage100("123").unwrap(),
    };
    let created = erp.customer(&key).unwrap();
    assert_eq!(created.record.text("salesperson_division"), Some("01"));
    assert_eq!(created.record.text("salesperson"), Some("0100"));
    assert_eq!(created.record.text("tax"), Some("wi mil"));
    assert_eq!(
        created.record.text("country"),
        Some("CAN"),
        "Sage 100 gets alpha-3"
    );
    assert_eq!(
        created.record.get("CurrencyCode"),
        None,
        "Sage 100 has no currency"
    );

    let (_, _, live) = services
        .erp_details(account.id(), Some("s100"))
        .await
        .unwrap();
    assert_eq!(live.external_uid().as_str(), "01-0000123");
}

#[tokio::test]
async fn no_default_and_none_named_lists_the_configured_integrations() {
    let (services, _) = fake_services(FakeErp::sage300_demo());
    services.add_integration(&sage300_input()).await.unwrap();
    let mut other = sage300_input();
    other.name = "s300-eu".into();
    services.add_integration(&other).await.unwrap();
    let account = services.create_account(&valid_account()).await.unwrap();

    let err = services
        .promote(&s300_request(account.id(), "C1"))
        .await
        .unwrap_err();
    match &err {
        PromoteError::Resolve(ResolveError::NoDefault { configured }) => {
            let names: Vec<_> = configured.iter().map(|n| n.as_str()).collect();
            assert_eq!(names, ["s300", "s300-eu"]);
        }
        other => panic!("expected NoDefault, got {other:?}"),
    }
    assert!(err.to_string().contains("s300, s300-eu"), "{err}");
    assert_eq!(err.class(), ErrorClass::Invalid);

    let mut named = s300_request(account.id(), "C1");
    named.integration = Some("nope".into());
    let err = services.promote(&named).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
}

#[tokio::test]
async fn a_sync_whose_swap_fails_is_closed_and_the_next_one_runs_at_once() {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let mut input = sage300_input();
    input.make_default = true;
    let integration = services.add_integration(&input).await.unwrap();
    store.fail_next_finish_sync(crm2sage_domain::ports::StoreError::Internal(
        "disk full".into(),
    ));
    let terms = Some(&[ReferenceKind::Terms][..]);
    let (_, reports) = services.sync(None, terms, &no_progress).await.unwrap();
    assert_eq!(reports[0].outcome, SyncOutcome::Failed);
    let error = reports[0].error.as_deref().unwrap_or_default();
    assert!(
        error.contains("could not be swapped in") && error.contains("disk full"),
        "{error}"
    );
    let runs = crm2sage_domain::ports::ReferenceStore::sync_runs(store.as_ref(), integration.id())
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].outcome,
        SyncOutcome::Failed,
        "not left running: {runs:?}"
    );
    // Nothing of the failed run was swapped in, and the next sync is not refused as running.
    assert!(
        crm2sage_domain::ports::ReferenceStore::synced_kinds(store.as_ref(), integration.id())
            .await
            .unwrap()
            .is_empty()
    );
    let (_, reports) = services.sync(None, terms, &no_progress).await.unwrap();
    assert_eq!(
        reports[0].outcome,
        SyncOutcome::Ok,
        "{:?}",
        reports[0].error
    );
}

#[tokio::test]
async fn unsynced_prerequisites_are_all_listed_before_any_write() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = fake_services(erp.clone());
    let mut input = sage300_input();
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    services
        .sync(None, Some(&[ReferenceKind::Terms]), &no_progress)
        .await
        .unwrap();
    let account = services.create_account(&valid_account()).await.unwrap();

    let err = services
        .promote(&s300_request(account.id(), "C1"))
        .await
        .unwrap_err();
    match &err {
        PromoteError::MissingPrerequisites { missing, .. } => assert_eq!(
            missing,
            &[
                ReferenceKind::Category,
                ReferenceKind::Currency,
                ReferenceKind::Language,
                ReferenceKind::Tax
            ]
        ),
        other => panic!("expected MissingPrerequisites, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("category, currency, language, tax"),
        "{err}"
    );
    assert!(
        err.to_string().contains("never been synced"),
        "says what is missing: {err}"
    );
    assert_eq!(err.code(), "missing_prerequisites");
    assert_eq!(err.class(), ErrorClass::Invalid);
    assert_eq!(
        erp.lookups() + erp.create_attempts(),
        0,
        "the ERP is not asked"
    );
    assert!(
        store.promotions_of(account.id()).await.unwrap().is_empty(),
        "nothing written"
    );
    let log = store.log(Some(account.id())).await.unwrap();
    assert_eq!(log.len(), 1, "the refused attempt is logged");
    assert_eq!(log[0].event, LogEvent::Refused);
}

#[tokio::test]
async fn a_taken_number_fails_and_another_number_then_succeeds() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = synced_sage300(erp.clone()).await;
    let account = services.create_account(&valid_account()).await.unwrap();

    let err = services
        .promote(&s300_request(account.id(), "1200"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PromoteError::CustomerNoTaken { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert_eq!(erp.create_attempts(), 0, "no create for a taken number");
    let promotions = store.promotions_of(account.id()).await.unwrap();
    assert_eq!(promotions[0].state, PromotionState::Failed);
    assert_eq!(
        promotions[0].error.as_deref(),
        Some("customer number taken")
    );

    let promoted = services
        .promote(&s300_request(account.id(), "1201"))
        .await
        .unwrap();
    assert_eq!(promoted.binding.customer_no.as_str(), "1201");
    assert_eq!(erp.create_attempts(), 1);
}

#[tokio::test]
async fn a_promoted_account_cannot_be_promoted_again() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = synced_sage300(erp.clone()).await;
    let account = services.create_account(&valid_account()).await.unwrap();
    services
        .promote(&s300_request(account.id(), "C1"))
        .await
        .unwrap();

    let err = services
        .promote(&s300_request(account.id(), "C2"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PromoteError::AlreadyPromoted { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert!(err.to_string().contains("already promoted"), "{err}");
    assert_eq!(erp.create_attempts(), 1);
    assert_eq!(store.bindings_of(account.id()).await.unwrap().len(), 1);

    // The same number for another account is refused locally too.
    let other = services.create_account(&valid_account()).await.unwrap();
    let err = services
        .promote(&s300_request(other.id(), "c1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PromoteError::CustomerNoInUse { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert_eq!(store.accounts(Default::default()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn codes_lengths_and_inactive_groups_are_refused_all_at_once() {
    let erp = FakeErp::sage300_demo();
    let (services, _) = synced_sage300(erp.clone()).await;
    let mut long = valid_account();
    long.billing.city = "C".repeat(31);
    let account = services.create_account(&long).await.unwrap();

    let mut request = s300_request(account.id(), "C1");
    request.category = Some("INA".into());
    request.tax_group = Some("NOPE".into());
    let err = services.promote(&request).await.unwrap_err();
    let PromoteError::Invalid { fields, .. } = &err else {
        panic!("expected Invalid, got {err:?}")
    };
    let names: Vec<_> = fields.fields().iter().map(|f| f.field()).collect();
    assert_eq!(names, ["category", "tax_group", "billing.city"]);
    assert!(err.to_string().contains("inactive"), "{err}");
    assert!(err.to_string().contains("at most 30 for City"), "{err}");
    assert_eq!(err.class(), ErrorClass::Invalid);
    assert_eq!(erp.lookups(), 0);
}

#[tokio::test]
async fn outcomes_of_a_create_that_may_have_happened_stay_creating() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = synced_sage300(erp.clone()).await;

    let account = services.create_account(&valid_account()).await.unwrap();
    erp.inject(ErpFault::CommitThenDrop);
    let err = services
        .promote(&s300_request(account.id(), "C1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PromoteError::OutcomeUnknown { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Erp);
    assert!(err.to_string().contains("a recover settles it"), "{err}");
    let p = &store.promotions_of(account.id()).await.unwrap()[0];
    assert_eq!(p.state, PromotionState::Creating);
    assert_eq!(p.lease, None, "the lease is released for recover");
    assert!(store.bindings_of(account.id()).await.unwrap().is_empty());

    // A second promote of the same account is a conflict until recover settles it.
    let err = services
        .promote(&s300_request(account.id(), "C9"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PromoteError::InProgress {
                holder_alive: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("a recover settles it"), "{err}");

    // A rejection is definite: failed, no binding.
    let other = services.create_account(&valid_account()).await.unwrap();
    erp.inject(ErpFault::RejectCreate {
        code: "General".into(),
        message: "Customer group is inactive".into(),
    });
    let err = services
        .promote(&s300_request(other.id(), "C2"))
        .await
        .unwrap_err();
    assert!(matches!(err, PromoteError::CreateRefused { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Erp);
    assert!(
        err.to_string().contains("Customer group is inactive"),
        "{err}"
    );
    assert_eq!(
        store.promotions_of(other.id()).await.unwrap()[0].state,
        PromotionState::Failed
    );
    assert!(store.bindings_of(other.id()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_local_failure_after_the_create_says_the_customer_probably_exists() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = synced_sage300(erp.clone()).await;
    let account = services.create_account(&valid_account()).await.unwrap();
    store.fail_next_confirm(crm2sage_domain::ports::StoreError::Internal(
        "database or disk is full".into(),
    ));
    let err = services
        .promote(&s300_request(account.id(), "C1"))
        .await
        .unwrap_err();
    assert!(matches!(err, PromoteError::NotRecorded { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Internal);
    let text = err.to_string();
    assert!(
        text.contains("probably exists in the ERP")
            && text.contains("recover settles it")
            && text.contains("database or disk is full"),
        "{text}"
    );
    assert!(
        !text.contains("crm2sage"),
        "the domain names no command: {text}"
    );
    assert!(err.promotion().is_some());
    // The ERP has the customer; locally it is still in flight, for recover to adopt.
    let key = ErpCustomerKey {
        division: None,
        customer_no: CustomerNo::parse_sage300("C1").unwrap(),
    };
    assert_eq!(erp.customer(&key).map(|_| ()), Some(()));
    let p = &store.promotions_of(account.id()).await.unwrap()[0];
    assert_eq!(p.state, PromotionState::Creating);
    assert!(store.bindings_of(account.id()).await.unwrap().is_empty());
}

/// Where the interaction itself is the point: which ERP calls happen, and which never do.
mod interactions {
    use std::sync::Arc;

    use async_trait::async_trait;
    use crm2sage_domain::fakes::{FakeErp, FakeProcesses, FixedSecrets, MemoryStore};
    use crm2sage_domain::ports::{
        ConnectError, CreateCustomerError, ErpConnector, ErpCustomer, ErpGateway, MockErpGateway,
        PromotionStore,
    };
    use crm2sage_domain::services::PromoteError;
    use crm2sage_domain::{Integration, PromotionState, Services};
    use crm2sage_tests::{sage300_input, valid_account};

    use super::{no_progress, s300_request};

    /// Hands out one prepared mock gateway.
    struct MockConnector(std::sync::Mutex<Option<MockErpGateway>>);

    #[async_trait]
    impl ErpConnector for MockConnector {
        async fn connect(
            &self,
            _: &Integration,
            _: Arc<dyn crm2sage_domain::ports::Credentials>,
        ) -> Result<Arc<dyn ErpGateway>, ConnectError> {
            let mock = self.0.lock().unwrap().take().expect("connected once");
            Ok(Arc::new(mock))
        }
    }

    /// Services whose store was synced from the fake ERP, and which then talk to `mock`.
    async fn services_with(
        mock: MockErpGateway,
    ) -> (
        Services<MemoryStore, MockConnector>,
        Arc<MemoryStore>,
        crm2sage_domain::AccountId,
    ) {
        let store = Arc::new(MemoryStore::new());
        let secrets = Arc::new(FixedSecrets::default().with("S300_PASSWORD", "pw"));
        let processes = Arc::new(FakeProcesses::default());
        // Sync with the fake ERP first, so the prerequisites hold.
        let syncer = Services::new(
            Arc::clone(&store),
            Arc::new(FakeErp::sage300_demo()),
            secrets.clone(),
            processes.clone(),
        );
        let mut input = sage300_input();
        input.make_default = true;
        syncer.add_integration(&input).await.unwrap();
        syncer.sync(None, None, &no_progress).await.unwrap();
        let account = syncer.create_account(&valid_account()).await.unwrap();
        let services = Services::new(
            Arc::clone(&store),
            Arc::new(MockConnector(std::sync::Mutex::new(Some(mock)))),
            secrets,
            processes,
        );
        (services, store, account.id())
    }

    fn gateway_with_limits() -> MockErpGateway {
        let mut mock = MockErpGateway::new();
        mock.expect_limits()
            .return_const(crm2sage_sage_adapter::limits::sage300());
        mock
    }

    #[tokio::test]
    async fn the_erp_is_never_called_when_validation_fails() {
        let mut mock = gateway_with_limits();
        mock.expect_find_customer().never();
        mock.expect_create_customer().never();
        let (services, store, account) = services_with(mock).await;
        let mut request = s300_request(account, "C1");
        request.category = None;
        request.salesperson = Some("0100".into());
        let err = services.promote(&request).await.unwrap_err();
        assert!(matches!(err, PromoteError::Invalid { .. }), "{err:?}");
        assert!(store.promotions_of(account).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn create_is_never_called_when_the_lookup_finds_the_number() {
        let mut mock = gateway_with_limits();
        mock.expect_find_customer().times(1).returning(|key| {
            Ok(Some(ErpCustomer {
                key: key.clone(),
                name: None,
                record: Default::default(),
            }))
        });
        mock.expect_create_customer().never();
        let (services, store, account) = services_with(mock).await;
        let err = services
            .promote(&s300_request(account, "1200"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, PromoteError::CustomerNoTaken { .. }),
            "{err:?}"
        );
        assert_eq!(
            store.promotions_of(account).await.unwrap()[0].state,
            PromotionState::Failed
        );
    }

    #[tokio::test]
    async fn a_rejected_create_leaves_no_binding() {
        let mut mock = gateway_with_limits();
        mock.expect_find_customer().times(1).returning(|_| Ok(None));
        mock.expect_create_customer().times(1).returning(|_| {
            Err(CreateCustomerError::Rejected {
                code: "General".into(),
                message: "Terms code N30 is inactive".into(),
            })
        });
        let (services, store, account) = services_with(mock).await;
        let err = services
            .promote(&s300_request(account, "C1"))
            .await
            .unwrap_err();
        assert!(matches!(err, PromoteError::CreateRefused { .. }), "{err:?}");
        assert!(store.bindings_of(account).await.unwrap().is_empty());
        let p = &store.promotions_of(account).await.unwrap()[0];
        assert_eq!(p.state, PromotionState::Failed);
        assert!(
            p.error
                .as_deref()
                .unwrap()
                .contains("Terms code N30 is inactive")
        );
    }

    #[tokio::test]
    async fn an_ambiguous_create_leaves_the_promotion_creating() {
        let mut mock = gateway_with_limits();
        mock.expect_find_customer().times(1).returning(|_| Ok(None));
        mock.expect_create_customer().times(1).returning(|_| {
            Err(CreateCustomerError::Ambiguous {
                reason: "timed out after sending".into(),
            })
        });
        let (services, store, account) = services_with(mock).await;
        let err = services
            .promote(&s300_request(account, "C1"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, PromoteError::OutcomeUnknown { .. }),
            "{err:?}"
        );
        assert!(store.bindings_of(account).await.unwrap().is_empty());
        let in_flight = store.in_flight().await.unwrap();
        assert_eq!(in_flight.len(), 1);
        assert_eq!(in_flight[0].account, account);
        assert_eq!(in_flight[0].state, PromotionState::Creating);
    }
}

/// Recover settles what a crash or an ambiguous create left `creating` (the spec's step 6).
mod recover {
    use std::sync::Arc;

    use crm2sage_domain::contract::stores::entry;
    use crm2sage_domain::fakes::{
        ErpFault, FakeErp, FakeProcesses, FixedSecrets, ManualClock, MemoryStore,
    };
    use crm2sage_domain::ports::{ErpCustomerKey, LogEvent, PromotionStore};
    use crm2sage_domain::services::RecoverDecision;
    use crm2sage_domain::{
        CustomerNo, ErpRequest, ErrorClass, ErrorCode, Lease, LeaseHolder, Promotion, PromotionId,
        PromotionState, Sage300Request, Services,
    };
    use crm2sage_tests::{sage300_input, valid_account};

    use super::{no_progress, s300_request};

    struct World {
        services: Services<MemoryStore, FakeErp>,
        store: Arc<MemoryStore>,
        erp: FakeErp,
        processes: Arc<FakeProcesses>,
        clock: Arc<ManualClock>,
    }

    async fn world(crm_id_field: Option<&str>) -> World {
        let erp = FakeErp::sage300_demo();
        let store = Arc::new(MemoryStore::new());
        let processes = Arc::new(FakeProcesses::default());
        let clock = Arc::new(ManualClock::default());
        let services = Services::new(
            Arc::clone(&store),
            Arc::new(erp.clone()),
            Arc::new(FixedSecrets::default().with("S300_PASSWORD", "pw")),
            processes.clone(),
        )
        .with_clock(clock.clone());
        let mut input = sage300_input();
        input.make_default = true;
        input.crm_id_field = crm_id_field.map(str::to_owned);
        services.add_integration(&input).await.unwrap();
        services.sync(None, None, &no_progress).await.unwrap();
        World {
            services,
            store,
            erp,
            processes,
            clock,
        }
    }

    fn key(no: &str) -> ErpCustomerKey {
        ErpCustomerKey {
            division: None,
            customer_no: CustomerNo::parse_sage300(no).unwrap(),
        }
    }

    #[tokio::test]
    async fn commit_then_drop_is_adopted_with_one_create() {
        let w = world(None).await;
        let account = w.services.create_account(&valid_account()).await.unwrap();
        w.erp.inject(ErpFault::CommitThenDrop);
        w.services
            .promote(&s300_request(account.id(), "C1"))
            .await
            .unwrap_err();

        let report = w.services.recover().await.unwrap();
        assert_eq!(report.items.len(), 1);
        assert_eq!(report.items[0].decision, RecoverDecision::Adopted);
        assert_eq!(report.unsettled_classes().count(), 0);
        assert_eq!(w.erp.create_attempts(), 1, "adopted, not created again");
        assert_eq!(w.erp.customers().len(), 2, "1200 and C1: no duplicate");
        let bindings = w.store.bindings_of(account.id()).await.unwrap();
        assert_eq!(bindings[0].external_uid.as_str(), "C1");
        assert!(w.store.in_flight().await.unwrap().is_empty());
        let log = w.store.log(Some(account.id())).await.unwrap();
        assert_eq!(log.last().unwrap().event.as_str(), "adopted");
        // A second recover finds nothing to do.
        assert!(w.services.recover().await.unwrap().items.is_empty());
    }

    #[tokio::test]
    async fn a_create_that_never_landed_is_resumed() {
        let w = world(None).await;
        let account = w.services.create_account(&valid_account()).await.unwrap();
        w.erp.inject(ErpFault::TimeoutBeforeCommit);
        w.services
            .promote(&s300_request(account.id(), "C1"))
            .await
            .unwrap_err();
        assert!(w.erp.customer(&key("C1")).is_none());

        let report = w.services.recover().await.unwrap();
        assert_eq!(report.items[0].decision, RecoverDecision::Resumed);
        assert_eq!(w.erp.create_attempts(), 2);
        assert!(w.erp.customer(&key("C1")).is_some());
        assert_eq!(
            w.store.promotions_of(account.id()).await.unwrap()[0].state,
            PromotionState::Promoted
        );
    }

    #[tokio::test]
    async fn someone_elses_customer_goes_to_review_untouched() {
        let w = world(None).await;
        let account = w.services.create_account(&valid_account()).await.unwrap();
        w.erp.inject(ErpFault::CreatedMeanwhile);
        let err = w
            .services
            .promote(&s300_request(account.id(), "C1"))
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Erp);

        let report = w.services.recover().await.unwrap();
        assert!(
            matches!(report.items[0].decision, RecoverDecision::NeedsReview(_)),
            "{report:?}"
        );
        assert_eq!(
            report.unsettled_classes().count(),
            0,
            "needs_review is settled"
        );
        assert_eq!(
            w.erp.customer(&key("C1")).unwrap().name(),
            Some("Someone Else Inc"),
            "never overwritten"
        );
        assert!(w.store.bindings_of(account.id()).await.unwrap().is_empty());
        // The account can be promoted again with another number.
        w.services
            .promote(&s300_request(account.id(), "C2"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_crm_id_decides_when_configured() {
        let w = world(Some("CRMID")).await;
        let ours = w.services.create_account(&valid_account()).await.unwrap();
        w.erp.inject(ErpFault::CommitThenDrop);
        w.services
            .promote(&s300_request(ours.id(), "C1"))
            .await
            .unwrap_err();
        // Someone edits the name in the ERP meanwhile: the id still matches.
        w.erp.edit_customer(&key("C1"), "name", "Renamed In ERP");
        let report = w.services.recover().await.unwrap();
        assert_eq!(report.items[0].decision, RecoverDecision::Adopted);

        // A same-named customer with another id is not ours.
        let other = w.services.create_account(&valid_account()).await.unwrap();
        w.erp.inject(ErpFault::CommitThenDrop);
        w.services
            .promote(&s300_request(other.id(), "C2"))
            .await
            .unwrap_err();
        w.erp.edit_customer(&key("C2"), "CRMID", "someone-else");
        let report = w.services.recover().await.unwrap();
        assert!(
            matches!(&report.items[0].decision, RecoverDecision::NeedsReview(why) if why.contains("CRMID")),
            "{report:?}"
        );
    }

    fn crashed_intent(
        account: crm2sage_domain::AccountId,
        integration: crm2sage_domain::IntegrationId,
        holder: LeaseHolder,
        expires_at: crm2sage_domain::Timestamp,
    ) -> Promotion {
        let request = ErpRequest::Sage300(Sage300Request {
            customer_no: CustomerNo::parse_sage300("C7").unwrap(),
            category: crm2sage_domain::ReferenceCode::parse("RTL").unwrap(),
            tax_group: crm2sage_domain::ReferenceCode::parse("CALIF").unwrap(),
            terms: None,
        });
        Promotion {
            id: PromotionId::generate(),
            account,
            integration,
            external_uid: request.external_uid(),
            request,
            state: PromotionState::Creating,
            lease: Some(Lease { holder, expires_at }),
            error: None,
            created_at: expires_at,
            updated_at: expires_at,
        }
    }

    #[tokio::test]
    async fn live_holders_are_left_alone_and_dead_ones_taken_over() {
        let w = world(None).await;
        let account = w.services.create_account(&valid_account()).await.unwrap();
        let integration = w.services.resolve_integration(None).await.unwrap();
        let holder = LeaseHolder {
            host: "test-host".into(),
            pid: 999,
            process_start: 5,
            task: 0,
        };
        let far = crm2sage_domain::Timestamp::from_second(4_000_000_000).unwrap();
        w.store
            .record_intent(
                &crashed_intent(account.id(), integration.id(), holder, far),
                &entry(LogEvent::Intent),
            )
            .await
            .unwrap();

        let report = w.services.recover().await.unwrap();
        assert!(matches!(
            report.items[0].decision,
            RecoverDecision::StillHeld(_)
        ));
        assert_eq!(
            report.unsettled_classes().collect::<Vec<_>>(),
            [ErrorClass::Conflict]
        );
        let err = w
            .services
            .promote(&s300_request(account.id(), "C8"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("wait for it"),
            "a live holder: in progress; {err}"
        );

        w.processes.kill(999, 5);
        let err = w
            .services
            .promote(&s300_request(account.id(), "C8"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("a recover settles it"),
            "a dead holder: run recover; {err}"
        );
        let report = w.services.recover().await.unwrap();
        assert_eq!(report.items[0].decision, RecoverDecision::Resumed);
        assert!(w.erp.customer(&key("C7")).is_some());
    }

    #[tokio::test]
    async fn another_hosts_lease_counts_until_it_expires_and_an_unreachable_erp_is_unsettled() {
        let w = world(None).await;
        let account = w.services.create_account(&valid_account()).await.unwrap();
        let integration = w.services.resolve_integration(None).await.unwrap();
        let holder = LeaseHolder {
            host: "other-host".into(),
            pid: 1,
            process_start: 1,
            task: 0,
        };
        let expires = crm2sage_domain::Timestamp::from_second(1_767_225_600 + 30).unwrap();
        w.store
            .record_intent(
                &crashed_intent(account.id(), integration.id(), holder, expires),
                &entry(LogEvent::Intent),
            )
            .await
            .unwrap();
        assert!(matches!(
            w.services.recover().await.unwrap().items[0].decision,
            RecoverDecision::StillHeld(_)
        ));

        w.clock.advance(std::time::Duration::from_secs(31));
        w.erp.inject(ErpFault::Unreachable);
        let report = w.services.recover().await.unwrap();
        assert!(
            matches!(report.items[0].decision, RecoverDecision::Unsettled(_)),
            "{report:?}"
        );
        assert!(report.unsettled_classes().any(|c| c == ErrorClass::Erp));
        assert_eq!(
            w.store.in_flight().await.unwrap().len(),
            1,
            "still creating"
        );

        w.erp.heal();
        assert_eq!(
            w.services.recover().await.unwrap().items[0].decision,
            RecoverDecision::Resumed
        );
    }
}

/// Batches: bounded concurrency, every rule per row, cancellation.
mod batch {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crm2sage_domain::fakes::FakeErp;
    use crm2sage_domain::ports::PromotionStore;
    use crm2sage_domain::services::{CancelFlag, PromoteError, RowOutcome};
    use crm2sage_domain::{ErrorClass, PromotionState};
    use crm2sage_tests::valid_account;

    use super::{s300_request, synced_sage300};

    #[tokio::test]
    async fn rows_settle_with_the_right_outcome_each() {
        let erp = FakeErp::sage300_demo();
        let (services, store) = synced_sage300(erp.clone()).await;
        let mut requests = Vec::new();
        let mut accounts = Vec::new();
        for i in 0..30 {
            let account = services.create_account(&valid_account()).await.unwrap();
            accounts.push(account.id());
            requests.push(s300_request(account.id(), &format!("B{i:03}")));
        }
        requests.push(s300_request(accounts[0], "B900")); // same account twice
        requests.push(s300_request(accounts[1], "1200").clone()); // also a second row for account 1
        let mut taken = s300_request(
            services
                .create_account(&valid_account())
                .await
                .unwrap()
                .id(),
            "1200",
        );
        taken.customer_no = "1200".into(); // the ERP has it
        requests.push(taken);
        let mut bad = s300_request(accounts[2], "B901");
        bad.category = None; // invalid
        requests.push(bad);

        let seen = AtomicUsize::new(0);
        let mut outcomes = Vec::new();
        let summary = services
            .promote_batch(
                futures_util::stream::iter(requests),
                4,
                &CancelFlag::new(),
                &mut |e| {
                    seen.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(e.settled, seen.load(Ordering::SeqCst) as u64);
                    outcomes.push(e.row.clone());
                },
            )
            .await;
        outcomes.sort_by_key(|o| o.index);
        assert_eq!(seen.load(Ordering::SeqCst), 34);
        assert_eq!(summary.total, 34);
        assert_eq!(outcomes.len(), 34);
        let classes: std::collections::HashMap<Option<ErrorClass>, usize> =
            outcomes
                .iter()
                .fold(std::collections::HashMap::new(), |mut m, o| {
                    *m.entry(o.outcome.class()).or_default() += 1;
                    m
                });
        assert_eq!(classes.get(&None), Some(&30));
        assert!(matches!(
            outcomes[30].outcome,
            RowOutcome::Failed(PromoteError::AlreadyPromoted { .. }) | RowOutcome::InProgress(_)
        ));
        assert_eq!(
            outcomes[32].outcome.class(),
            Some(ErrorClass::Conflict),
            "taken number"
        );
        assert_eq!(outcomes[33].outcome.class(), Some(ErrorClass::Invalid));
        assert_eq!(
            erp.customers().len(),
            31,
            "1200 plus exactly one per successful row"
        );
        assert!(store.in_flight().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_cancelled_batch_leaves_nothing_half_done() {
        let erp = FakeErp::sage300_demo();
        let (services, store) = synced_sage300(erp.clone()).await;
        let mut requests = Vec::new();
        for i in 0..20 {
            let account = services.create_account(&valid_account()).await.unwrap();
            requests.push(s300_request(account.id(), &format!("X{i:03}")));
        }
        let cancel = CancelFlag::new();
        let mut outcomes = Vec::new();
        let summary = services
            .promote_batch(futures_util::stream::iter(requests), 2, &cancel, &mut |e| {
                outcomes.push(e.row.clone());
                if e.settled == 5 {
                    cancel.cancel();
                }
            })
            .await;
        assert!(summary.cancelled);
        let promoted = outcomes
            .iter()
            .filter(|o| matches!(o.outcome, RowOutcome::Promoted(_)))
            .count();
        let skipped = outcomes
            .iter()
            .filter(|o| matches!(o.outcome, RowOutcome::NotAttempted))
            .count();
        assert!((5..20).contains(&promoted), "{promoted}");
        // Rows pulled before the cancel and not started are not attempted; the rest are never
        // pulled (nor reported).
        assert_eq!(promoted + skipped, outcomes.len());
        assert!(outcomes.len() <= 20);
        assert_eq!(erp.customers().len(), 1 + promoted);
        assert!(
            store.in_flight().await.unwrap().is_empty(),
            "no promotion left creating"
        );
        for o in &outcomes {
            let states: Vec<_> = store
                .promotions_of(o.request.account)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.state)
                .collect();
            match o.outcome {
                RowOutcome::Promoted(_) => assert_eq!(states, [PromotionState::Promoted]),
                _ => assert!(states.is_empty(), "not attempted means nothing written"),
            }
        }
    }
}
