//! Issue 21 on the fakes: the duplicate guard, the dry run, link and unlink, match, reconcile
//! and the customer index sync, each against what a user of the ERP may have done meanwhile.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use crm2sage_domain::fakes::{
    ErpFault, FakeErp, FakeProcesses, FixedSecrets, ManualClock, MemoryStore,
};
use crm2sage_domain::ports::{
    CustomerIndexStore, ErpCustomerKey, ErpReadError, LinkError, LogEvent, PromotionStore,
};
use crm2sage_domain::services::{
    BindingStatus, CrmIdWrite, LinkAccountError, MatchApplied, PromoteError, RowOutcome,
    UnlinkAccountError,
};
use crm2sage_domain::{
    AccountId, BindingOrigin, CustomerNo, Date, ErrorClass, ErrorCode, MatchReason, NewAccount,
    PromotionRequest, PromotionState, Services,
};
use crm2sage_tests::{FakeServices, sage300_input, valid_account};

fn no_progress(_: crm2sage_domain::services::SyncProgress) {}
fn no_count(_: u64, _: Option<u64>) {}

fn key(no: &str) -> ErpCustomerKey {
    ErpCustomerKey {
        division: None,
        customer_no: CustomerNo::parse_sage300(no).unwrap(),
    }
}

fn request(account: AccountId, number: &str) -> PromotionRequest {
    let mut r = PromotionRequest::new(account, number);
    r.category = Some("RTL".into());
    r.tax_group = Some("CALIF".into());
    r
}

/// Fake services over `erp` with a default Sage 300 integration (CRM-id field `CRMID` when
/// `crm_id`), every reference kind synced.
async fn world(erp: &FakeErp, crm_id: bool) -> (Arc<FakeServices>, Arc<MemoryStore>) {
    let (services, store, _clock) = world_with_clock(erp, crm_id).await;
    (services, store)
}

/// [`world`], with the services' clock to move.
async fn world_with_clock(
    erp: &FakeErp,
    crm_id: bool,
) -> (Arc<FakeServices>, Arc<MemoryStore>, Arc<ManualClock>) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::default());
    let services = Arc::new(
        Services::new(
            Arc::clone(&store),
            Arc::new(erp.clone()),
            Arc::new(FixedSecrets::default().with("S300_PASSWORD", "pw")),
            Arc::new(FakeProcesses::default()),
        )
        .with_clock(Arc::clone(&clock) as Arc<dyn crm2sage_domain::ports::Clock>),
    );
    let mut input = sage300_input();
    input.make_default = true;
    if crm_id {
        input.crm_id_field = Some("CRMID".into());
    }
    services.add_integration(&input).await.unwrap();
    services.sync(None, None, &no_progress).await.unwrap();
    (services, store, clock)
}

fn account_named(name: &str, phone: Option<&str>, email: Option<&str>) -> NewAccount {
    let mut a = valid_account();
    a.name = name.into();
    a.phone = phone.map(Into::into);
    a.email = email.map(Into::into);
    a
}

#[tokio::test]
async fn the_guard_refuses_a_name_the_erp_has_and_costs_one_request() {
    let erp = FakeErp::sage300_demo();
    erp.insert_customer(key("OB1"), "O'Brien Supply Co., Ltd.");
    erp.insert_customer(key("BM1"), "BARMART LTD");
    let (services, store) = world(&erp, false).await;
    // Live, the ERP compares the exact name (ignoring case): "Barmart Ltd" is BM1.
    let barmart = services.create_account(&valid_account()).await.unwrap();
    let lookups = erp.name_lookups();
    let err = services
        .promote(&request(barmart.id(), "NEW1"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.class()),
        ("possible_duplicate", ErrorClass::Conflict)
    );
    let PromoteError::PossibleDuplicate { candidates } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].customer_no.as_str(), "BM1");
    assert_eq!(candidates[0].reasons, vec![MatchReason::Name]);
    assert_eq!(
        erp.name_lookups() - lookups,
        1,
        "one live lookup by name, no more"
    );
    assert_eq!(erp.create_attempts(), 0);
    assert!(
        store.promotions_of(barmart.id()).await.unwrap().is_empty(),
        "no intent"
    );
    let log = store.log(Some(barmart.id())).await.unwrap();
    assert_eq!(log.last().unwrap().event, LogEvent::Refused);

    // "OBRIEN SUPPLY" is not O'Brien's exact name: only the index, by normalised name,
    // finds it.
    let obrien = services
        .create_account(&account_named("OBRIEN SUPPLY", None, None))
        .await
        .unwrap();
    let mut dry = request(obrien.id(), "NEW2");
    dry.dry_run = true;
    services.promote_dry_run(&dry).await.unwrap();
    services
        .sync_customers(None, false, &no_count)
        .await
        .unwrap();
    let err = services
        .promote(&request(obrien.id(), "NEW2"))
        .await
        .unwrap_err();
    let PromoteError::PossibleDuplicate { candidates } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(candidates[0].customer_no.as_str(), "OB1");

    // Allowed: no guard at all (no lookup), created, and the intent's log entry says so.
    let lookups = erp.name_lookups();
    let mut allowed = request(barmart.id(), "NEW1");
    allowed.allow_duplicate = true;
    services.promote(&allowed).await.unwrap();
    assert_eq!(erp.create_attempts(), 1);
    assert_eq!(erp.name_lookups(), lookups);
    let log = store.log(Some(barmart.id())).await.unwrap();
    let intent = log.iter().find(|e| e.event == LogEvent::Intent).unwrap();
    let message = intent.message.as_deref().unwrap_or_default();
    assert!(message.contains("allow_duplicate"), "{message}");
}

#[tokio::test]
async fn a_guard_that_cannot_look_refuses_and_records_nothing() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = world(&erp, false).await;
    let account = services.create_account(&valid_account()).await.unwrap();
    erp.inject(ErpFault::FailList(ErpReadError::Server {
        status: 500,
        message: "boom".into(),
    }));
    let err = services
        .promote(&request(account.id(), "NEW1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PromoteError::DuplicateCheck { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Erp);
    assert!(store.promotions_of(account.id()).await.unwrap().is_empty());
    assert_eq!(erp.create_attempts(), 0);
    // The next attempt, with the ERP healthy, goes through.
    services
        .promote(&request(account.id(), "NEW1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_guard_reads_phone_and_email_from_the_customer_index() {
    let erp = FakeErp::sage300_demo();
    erp.insert_customer(key("PH1"), "Totally Different Name");
    erp.set_customer_field(&key("PH1"), "phone", "(604) 555-0100");
    erp.insert_customer(key("EM1"), "Another One");
    erp.set_customer_field(&key("EM1"), "email", "AP@barmart.example.com");
    let (services, _store) = world(&erp, false).await;
    let report = services
        .sync_customers(None, false, &no_count)
        .await
        .unwrap();
    assert!(report.full);
    assert_eq!(report.listed, 3);
    let account = services.create_account(&valid_account()).await.unwrap();
    let err = services
        .promote(&request(account.id(), "NEW1"))
        .await
        .unwrap_err();
    let PromoteError::PossibleDuplicate { candidates } = &err else {
        panic!("{err:?}")
    };
    let found: Vec<(&str, Vec<MatchReason>)> = candidates
        .iter()
        .map(|c| (c.customer_no.as_str(), c.reasons.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("EM1", vec![MatchReason::Email]),
            ("PH1", vec![MatchReason::Phone])
        ],
        "best first: e-mail weighs more than phone"
    );
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = world(&erp, false).await;
    let account = services.create_account(&valid_account()).await.unwrap();
    let before = store.log(None).await.unwrap().len();
    let mut r = request(account.id(), "NEW1");
    r.dry_run = true;
    let dry = services.promote_dry_run(&r).await.unwrap();
    assert_eq!(dry.external_uid.as_str(), "NEW1");
    assert!(dry.payload.contains("Barmart Ltd"), "{}", dry.payload);
    assert!(dry.payload.contains("RTL"), "{}", dry.payload);
    // A batch row with dry_run set is the same check.
    let row = services.promote_row(&r).await;
    assert!(matches!(row, RowOutcome::WouldPromote(_)), "{row:?}");
    assert_eq!(erp.create_attempts(), 0);
    assert_eq!(
        store.log(None).await.unwrap().len(),
        before,
        "not even the log"
    );
    assert!(store.promotions_of(account.id()).await.unwrap().is_empty());

    // The live number check and the guard are part of it.
    let err = services
        .promote_dry_run(&request(account.id(), "1200"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.class()),
        ("customer_no_taken", ErrorClass::Conflict)
    );
    erp.insert_customer(key("BM1"), "BARMART LTD");
    let err = services.promote_dry_run(&r).await.unwrap_err();
    assert_eq!(err.code(), "possible_duplicate");
    // Allowed, it reports them instead.
    r.allow_duplicate = true;
    let dry = services.promote_dry_run(&r).await.unwrap();
    assert_eq!(dry.duplicates[0].customer_no.as_str(), "BM1");
    // And an invalid request is refused as a promotion would be.
    let err = services
        .promote_dry_run(&request(account.id(), "THIS-IS-FAR-TOO-LONG"))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Invalid);
}

#[tokio::test]
async fn link_binds_an_existing_customer_writes_the_crm_id_and_unlink_frees_it() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = world(&erp, true).await;
    let account = services.create_account(&valid_account()).await.unwrap();
    let other = services
        .create_account(&account_named("Other Co", None, None))
        .await
        .unwrap();

    let err = services.link(account.id(), "NOPE", None).await.unwrap_err();
    assert_eq!(
        (err.code(), err.class()),
        ("customer_not_found", ErrorClass::NotFound)
    );

    let linked = services.link(account.id(), "1200", None).await.unwrap();
    assert_eq!(linked.binding.origin, BindingOrigin::Linked);
    assert_eq!(linked.binding.external_uid.as_str(), "1200");
    assert_eq!(linked.crm_id, CrmIdWrite::Written);
    let c = erp.customer(&key("1200")).unwrap();
    assert_eq!(
        c.record.text("CRMID"),
        Some(account.id().to_string().as_str())
    );
    assert_eq!(erp.create_attempts(), 0, "a link creates nothing");

    // Again: nothing new, the CRM id already there.
    let again = services.link(account.id(), "1200", None).await.unwrap();
    assert!(again.already);
    assert_eq!(again.crm_id, CrmIdWrite::AlreadySet);
    let writes = erp.crm_id_writes();
    assert_eq!(writes, 1);

    // Another account may not have it.
    let err = services.link(other.id(), "1200", None).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert!(
        matches!(
            err,
            LinkAccountError::Claimed { .. } | LinkAccountError::Link(LinkError::CustomerBound(_))
        ),
        "{err:?}"
    );
    // Nor may it be promoted now.
    let err = services
        .promote(&request(account.id(), "NEW1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "already_promoted");
    // The live details read the linked customer.
    let (_, binding, live) = services.erp_details(account.id(), None).await.unwrap();
    assert_eq!(binding.origin, BindingOrigin::Linked);
    assert_eq!(live.key, key("1200"));

    let log = store.log(Some(account.id())).await.unwrap();
    assert!(log.iter().any(|e| e.event == LogEvent::Linked), "{log:?}");

    let (_, removed) = services.unlink(account.id(), None).await.unwrap();
    assert_eq!(removed.external_uid.as_str(), "1200");
    assert!(
        erp.customer(&key("1200")).is_some(),
        "the ERP customer stays"
    );
    let err = services.unlink(account.id(), None).await.unwrap_err();
    assert!(matches!(err, UnlinkAccountError::Unlink(_)), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NotFound);
    let log = store.log(Some(account.id())).await.unwrap();
    assert!(log.iter().any(|e| e.event == LogEvent::Unlinked));
    assert!(
        log.iter().any(|e| e.event == LogEvent::Linked),
        "the log keeps the link"
    );
    // Free again: it can be promoted (with the guard allowed past the customer it was linked
    // to, whose name is not the account's anyway).
    services
        .promote(&request(account.id(), "NEW1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn unlinking_a_promoted_account_lets_it_be_linked_elsewhere() {
    let erp = FakeErp::sage300_demo();
    let (services, store) = world(&erp, false).await;
    let account = services.create_account(&valid_account()).await.unwrap();
    services
        .promote(&request(account.id(), "NEW1"))
        .await
        .unwrap();
    services.unlink(account.id(), None).await.unwrap();
    let promotions = store.promotions_of(account.id()).await.unwrap();
    assert_eq!(promotions[0].state, PromotionState::Unlinked);
    let linked = services.link(account.id(), "1200", None).await.unwrap();
    assert_eq!(linked.binding.customer_no.as_str(), "1200");
}

#[tokio::test]
async fn match_proposes_scores_and_applies_only_the_unambiguous() {
    let erp = FakeErp::sage300_demo();
    erp.insert_customer(key("A1"), "Alpha Trading Ltd");
    erp.insert_customer(key("B1"), "Beta Inc");
    erp.insert_customer(key("B2"), "BETA INCORPORATED");
    let (services, _store) = world(&erp, false).await;
    let err = services
        .match_accounts(None, 0.5, false, &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.class()),
        ("missing_prerequisites", ErrorClass::Invalid)
    );
    services
        .sync_customers(None, false, &no_count)
        .await
        .unwrap();
    let alpha = services
        .create_account(&account_named("ALPHA TRADING", None, None))
        .await
        .unwrap();
    let beta = services
        .create_account(&account_named("beta", None, None))
        .await
        .unwrap();
    let nobody = services
        .create_account(&account_named("Nobody Known", None, None))
        .await
        .unwrap();
    let mut rows = Vec::new();
    let (_, summary) = services
        .match_accounts(None, 0.5, true, &mut |r| rows.push(r.clone()))
        .await
        .unwrap();
    assert_eq!(summary.accounts, 3);
    assert_eq!((summary.linked, summary.ambiguous), (1, 1));
    let of = |id: AccountId| rows.iter().find(|r| r.account == id).unwrap();
    assert!(matches!(
        of(alpha.id()).applied,
        Some(MatchApplied::Linked(_))
    ));
    assert_eq!(of(beta.id()).candidates.len(), 2);
    assert!(matches!(
        of(beta.id()).applied,
        Some(MatchApplied::Ambiguous)
    ));
    assert!(of(nobody.id()).candidates.is_empty());
    // The linked account is bound now, so a second match leaves it out.
    let mut again = 0;
    services
        .match_accounts(None, 0.5, false, &mut |_| again += 1)
        .await
        .unwrap();
    assert_eq!(again, 2);
    // A threshold outside 0..1 is refused, naming the field.
    let err = services
        .match_accounts(None, 1.5, false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("min_score"), "{err}");
}

#[tokio::test]
async fn reconcile_reports_every_way_a_binding_can_drift() {
    let erp = FakeErp::sage300_demo();
    let (services, _store) = world(&erp, false).await;
    let mut ids = Vec::new();
    for (i, name) in ["Keep Co", "Gone Co", "Sleep Co", "Hold Co", "Moved Co"]
        .iter()
        .enumerate()
    {
        let a = services
            .create_account(&account_named(name, None, None))
            .await
            .unwrap();
        services
            .promote(&request(a.id(), &format!("R{i}")))
            .await
            .unwrap();
        ids.push(a.id());
    }
    assert!(erp.delete_customer(&key("R1")));
    erp.set_customer_field(&key("R2"), "status", "inactive");
    erp.set_customer_field(&key("R3"), "on_hold", "yes");
    erp.set_customer_field(&key("R4"), "city", "Toronto");
    let mut rows = Vec::new();
    let (_, summary) = services
        .reconcile(None, &mut |r| rows.push(r.clone()))
        .await
        .unwrap();
    assert_eq!(summary.checked, 5);
    assert!(!summary.all_ok());
    let status = |no: &str| {
        rows.iter()
            .find(|r| r.binding.customer_no.as_str() == no)
            .unwrap()
            .status
            .clone()
    };
    assert_eq!(status("R0"), BindingStatus::Ok);
    assert_eq!(status("R1"), BindingStatus::Missing);
    assert_eq!(status("R2"), BindingStatus::Inactive);
    assert_eq!(status("R3"), BindingStatus::OnHold);
    assert_eq!(status("R4"), BindingStatus::Changed(vec!["city"]));
    // An ERP that fails a read is a row, not a lie.
    erp.inject(ErpFault::FailLookup(ErpReadError::Server {
        status: 500,
        message: "boom".into(),
    }));
    let mut unreadable = 0;
    let (_, summary) = services
        .reconcile(None, &mut |r| {
            if matches!(r.status, BindingStatus::Unreadable(_)) {
                unreadable += 1;
            }
        })
        .await
        .unwrap();
    assert_eq!((unreadable, summary.unreadable), (1, 1));
}

#[tokio::test]
async fn a_resync_asks_only_for_changes_and_a_full_one_drops_the_deleted() {
    let erp = FakeErp::sage300_demo();
    // The fake clock of the services shows 2026-01-01; these were maintained before.
    erp.set_today(Date::constant(2025, 6, 1));
    for i in 0..7 {
        erp.insert_customer(key(&format!("C{i}")), &format!("Customer {i}"));
    }
    let (services, store, clock) = world_with_clock(&erp, false).await;
    let first = services
        .sync_customers(None, false, &no_count)
        .await
        .unwrap();
    assert!(first.full);
    assert_eq!((first.listed, first.state.customers), (8, 8));
    let integration = services.resolve_integration(None).await.unwrap();

    // Changed long after: the resync asks from the day before the last sync and sees only
    // what changed since.
    erp.set_today(Date::constant(2026, 1, 5));
    erp.set_customer_field(&key("C3"), "name", "Customer Three Renamed");
    assert!(erp.delete_customer(&key("C5")));
    let next = services
        .sync_customers(None, false, &no_count)
        .await
        .unwrap();
    assert!(!next.full);
    assert!(next.since.is_some());
    assert_eq!(next.listed, 1, "only C3 changed since");
    assert_eq!(next.state.customers, 8, "a delta sync drops nothing");
    let page = store
        .indexed_customers_page(integration.id(), None, 100)
        .await
        .unwrap();
    let c3 = page.iter().find(|c| c.summary.key == key("C3")).unwrap();
    assert_eq!(c3.summary.name, "Customer Three Renamed");

    // A full one drops what the ERP no longer has.
    clock.advance(std::time::Duration::from_secs(60));
    let full = services
        .sync_customers(None, true, &no_count)
        .await
        .unwrap();
    assert!(full.full);
    assert_eq!(full.state.customers, 7);

    // An ERP that refuses the filter lists everything, and the sync counts as full.
    erp.refuse_since_filter(true);
    let refused = services
        .sync_customers(None, false, &no_count)
        .await
        .unwrap();
    assert!(refused.full && refused.since.is_none());
    assert_eq!(refused.listed, 7);
}

#[tokio::test]
async fn a_failing_customer_page_is_an_error_and_moves_nothing() {
    let erp = FakeErp::sage300_demo();
    for i in 0..7 {
        erp.insert_customer(key(&format!("C{i}")), &format!("Customer {i}"));
    }
    let (services, store) = world(&erp, false).await;
    erp.inject(ErpFault::FailList(ErpReadError::Server {
        status: 503,
        message: "busy".into(),
    }));
    let err = services
        .sync_customers(None, false, &no_count)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Erp);
    let integration = services.resolve_integration(None).await.unwrap();
    assert!(
        store
            .customer_index_state(integration.id())
            .await
            .unwrap()
            .is_none()
    );
}
