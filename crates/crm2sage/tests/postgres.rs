//! The facade on PostgreSQL: a SQLite store with every kind of row (ship-to and contact
//! promotions included) copied into PostgreSQL
//! answers every read as the file did; a non-empty target is refused; the builder's
//! PostgreSQL choice and its errors never show the URL's password.
//!
//! Each test works in a schema of its own on `CRM2SAGE_TEST_POSTGRES` (see
//! `crm2sage_store_postgres::testing`); an unreachable server fails them unless
//! `CRM2SAGE_SKIP_POSTGRES=1` is set on purpose.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crm2sage::domain::contract::stores::links::linked;
use crm2sage::domain::contract::stores::parties::{contact, ship_to};
use crm2sage::domain::contract::stores::party_promotions::{
    customer as party_customer, party_intent,
};
use crm2sage::domain::contract::stores::{account, holder, integration, intent, t0};
use crm2sage::ports::{
    AccountFilter, AccountStore, BindingStore, ContactStore, CountRows, ErpReferenceRecord,
    IntegrationStore, LogEntry, LogEvent, PartyPromotionStore, PromotionStore, ReferenceStore,
    ShipToStore, Store,
};
use crm2sage::services::{COPIED_WHILE_RUNNING, CopyError, copy_store};
use crm2sage::{
    Binding, BuildError, CopyStoreError, Crm2Sage, ErpRecord, ErpValue, ErrorClass, ErrorCode,
    HostId, IntegrationKey, PartyKind, PartyOutcome, PgSettings, ReferenceCode, ReferenceExtras,
    ReferenceKind, SqliteStore, SyncOutcome, Timestamp,
};
use crm2sage_store_postgres::testing::try_fresh_store;

const PASSWORD: &str = "s3cret-pw-never-shown";

fn at(seconds: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap()
}

fn record(code: &str, description: &str, active: bool) -> ErpReferenceRecord {
    ErpReferenceRecord {
        code: ReferenceCode::parse(code).unwrap(),
        description: description.into(),
        active,
        extras: ReferenceExtras {
            default_terms: (code == "RTL").then(|| ReferenceCode::parse("N30").unwrap()),
            other: [("Due".to_owned(), "30".to_owned())].into(),
            ..ReferenceExtras::default()
        },
    }
}

fn log(account: crm2sage::AccountId, event: LogEvent, seconds: i64) -> LogEntry {
    LogEntry {
        at: at(seconds),
        account,
        integration: None,
        promotion: None,
        event,
        request: format!("customer_no=C{seconds}"),
        message: (event == LogEvent::Refused).then(|| "not synced".to_owned()),
        duration_ms: Some(7),
    }
}

/// A SQLite store holding every kind of row, written through its own API.
async fn filled() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("crm2sage.db")).unwrap();
    let alpha = integration("alpha", true);
    let beta = integration("beta", false);
    store.add_integration(&alpha).await.unwrap();
    store.add_integration(&beta).await.unwrap();
    let accounts: Vec<_> = ["a1", "a2", "a3", "a4"]
        .iter()
        .map(|n| account(n))
        .collect();
    store.insert_accounts(&accounts[..3]).await.unwrap();
    store.insert_account(&accounts[3]).await.unwrap();
    // Ship-tos and contacts: several accounts, a primary each, pages of two span accounts.
    for (a, code, primary) in [
        (0, "MAIN", true),
        (0, "WH2", false),
        (0, "WH3", false),
        (1, "MAIN", true),
    ] {
        store
            .add_ship_to(&ship_to(accounts[a].id(), code, primary))
            .await
            .unwrap();
    }
    for (a, code, primary) in [(0, "ANA", true), (0, "BOB", false), (2, "CY", false)] {
        store
            .add_contact(&contact(accounts[a].id(), code, primary))
            .await
            .unwrap();
    }

    // Terms: synced twice (N60 went, so it is kept inactive); category failed; tax running.
    let run = store
        .begin_sync(alpha.id(), ReferenceKind::Terms, &holder(1), at(10), at(70))
        .await
        .unwrap();
    store
        .stage_page(
            run,
            &[record("N30", "Net 30", true), record("N60", "Net 60", true)],
            at(11),
            at(71),
        )
        .await
        .unwrap();
    store
        .stage_page(run, &[record("OLD", "Old", false)], at(11), at(71))
        .await
        .unwrap();
    store.finish_sync(run, at(12)).await.unwrap();
    let run = store
        .begin_sync(alpha.id(), ReferenceKind::Terms, &holder(1), at(20), at(80))
        .await
        .unwrap();
    store
        .stage_page(
            run,
            &[
                record("n30", "Net 30 days", true),
                record("OLD", "Old", false),
            ],
            at(21),
            at(81),
        )
        .await
        .unwrap();
    store.finish_sync(run, at(22)).await.unwrap();
    let run = store
        .begin_sync(
            alpha.id(),
            ReferenceKind::Category,
            &holder(2),
            at(23),
            at(83),
        )
        .await
        .unwrap();
    store
        .stage_page(run, &[record("RTL", "Retail", true)], at(24), at(84))
        .await
        .unwrap();
    store.finish_sync(run, at(25)).await.unwrap();
    let run = store
        .begin_sync(
            beta.id(),
            ReferenceKind::Category,
            &holder(3),
            at(26),
            at(86),
        )
        .await
        .unwrap();
    store
        .abort_sync(run, SyncOutcome::Failed, "the ERP said no", at(27))
        .await
        .unwrap();
    store
        .begin_sync(alpha.id(), ReferenceKind::Tax, &holder(4), at(28), at(88))
        .await
        .unwrap();

    // Promotions: promoted (with its binding), failed, needs review, and one in flight.
    let promoted = intent(&alpha, accounts[0].id(), "C1", 1);
    store
        .record_intent(&promoted, &log(accounts[0].id(), LogEvent::Intent, 30))
        .await
        .unwrap();
    let mut erp_record = ErpRecord::new();
    erp_record.push("number", ErpValue::Text("C1".into()));
    erp_record.push("on_hold", ErpValue::Bool(false));
    erp_record.push("inactive_date", ErpValue::Null);
    let binding = Binding {
        account: promoted.account,
        integration: promoted.integration,
        customer_no: promoted.request.customer_no().clone(),
        external_uid: promoted.external_uid.clone(),
        integration_key: IntegrationKey::new(promoted.integration, &promoted.external_uid),
        promoted_at: at(31),
        origin: crm2sage::domain::BindingOrigin::Created,
        erp_record,
    };
    store
        .confirm(
            promoted.id,
            &holder(1),
            &binding,
            at(31),
            &log(accounts[0].id(), LogEvent::Promoted, 31),
        )
        .await
        .unwrap();
    let failed = intent(&alpha, accounts[1].id(), "C2", 2);
    store
        .record_intent(&failed, &log(accounts[1].id(), LogEvent::Intent, 32))
        .await
        .unwrap();
    store
        .fail(failed.id, &holder(2), "group RTL is inactive", at(33))
        .await
        .unwrap();
    let review = intent(&alpha, accounts[2].id(), "C3", 3);
    store
        .record_intent(&review, &log(accounts[2].id(), LogEvent::Intent, 34))
        .await
        .unwrap();
    store
        .mark_needs_review(review.id, &holder(3), "another customer", at(35))
        .await
        .unwrap();
    let in_flight = intent(&beta, accounts[0].id(), "C4", 4);
    store
        .record_intent(&in_flight, &log(accounts[0].id(), LogEvent::Intent, 36))
        .await
        .unwrap();
    store
        .append_log(&log(accounts[3].id(), LogEvent::Refused, 37))
        .await
        .unwrap();

    // A promotion whose binding was unlinked, and a binding linked by hand.
    let dropped = intent(&alpha, accounts[3].id(), "C5", 8);
    store
        .record_intent(&dropped, &log(accounts[3].id(), LogEvent::Intent, 43))
        .await
        .unwrap();
    let dropped_binding = Binding {
        account: dropped.account,
        customer_no: dropped.request.customer_no().clone(),
        external_uid: dropped.external_uid.clone(),
        integration_key: IntegrationKey::new(dropped.integration, &dropped.external_uid),
        ..linked(&alpha, dropped.account, "C5")
    };
    store
        .confirm(
            dropped.id,
            &holder(8),
            &Binding {
                origin: crm2sage::domain::BindingOrigin::Created,
                ..dropped_binding
            },
            at(44),
            &log(accounts[3].id(), LogEvent::Promoted, 44),
        )
        .await
        .unwrap();
    store
        .unlink(
            accounts[3].id(),
            alpha.id(),
            at(45),
            &log(accounts[3].id(), LogEvent::Adopted, 45),
        )
        .await
        .unwrap();
    store
        .link(
            &linked(&beta, accounts[1].id(), "L1"),
            &log(accounts[1].id(), LogEvent::Adopted, 46),
        )
        .await
        .unwrap();

    // Ship-to and contact promotions: promoted (a binding), failed, and one in flight.
    let c1 = party_customer("C1");
    let main = party_intent(
        &alpha,
        accounts[0].id(),
        &c1,
        (PartyKind::ShipTo, "MAIN"),
        5,
        38,
    );
    store
        .record_party_intent(&main, &log(accounts[0].id(), LogEvent::Intent, 38))
        .await
        .unwrap();
    store
        .settle_party(
            main.id,
            &holder(5),
            &PartyOutcome::Promoted,
            at(39),
            &log(accounts[0].id(), LogEvent::Promoted, 39),
        )
        .await
        .unwrap();
    let ana = party_intent(
        &alpha,
        accounts[0].id(),
        &c1,
        (PartyKind::Contact, "ANA"),
        6,
        40,
    );
    store
        .record_party_intent(&ana, &log(accounts[0].id(), LogEvent::Intent, 40))
        .await
        .unwrap();
    store
        .settle_party(
            ana.id,
            &holder(6),
            &PartyOutcome::Failed("the ERP refused it".into()),
            at(41),
            &log(accounts[0].id(), LogEvent::Failed, 41),
        )
        .await
        .unwrap();
    let wh2 = party_intent(
        &alpha,
        accounts[0].id(),
        &c1,
        (PartyKind::ShipTo, "WH2"),
        7,
        42,
    );
    store
        .record_party_intent(&wh2, &log(accounts[0].id(), LogEvent::Intent, 42))
        .await
        .unwrap();
    (dir, store)
}

/// Every read of the store ports, of `store`, as comparable values.
async fn reads(store: &dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    let integrations = store.integrations().await.unwrap();
    out.push(format!("{integrations:?}"));
    out.push(format!("{:?}", store.default_integration().await.unwrap()));
    for filter in [
        AccountFilter::All,
        AccountFilter::Promoted,
        AccountFilter::Pending,
    ] {
        out.push(format!("{:?}", store.accounts(filter).await.unwrap()));
    }
    for a in store.accounts(AccountFilter::All).await.unwrap() {
        let reference = a.details().reference().unwrap().clone();
        out.push(format!(
            "{:?}",
            store.account_by_reference(&reference).await.unwrap()
        ));
        out.push(format!("{:?}", store.promotions_of(a.id()).await.unwrap()));
        out.push(format!("{:?}", store.bindings_of(a.id()).await.unwrap()));
        out.push(format!("{:?}", store.ship_tos(a.id()).await.unwrap()));
        out.push(format!("{:?}", store.contacts(a.id()).await.unwrap()));
        let parties = store.party_promotions_of(a.id()).await.unwrap();
        for p in &parties {
            out.push(format!("{:?}", store.party_promotion(p.id).await.unwrap()));
        }
        out.push(format!("{parties:?}"));
        out.push(format!("{:?}", store.log(Some(a.id())).await.unwrap()));
        for p in store.promotions_of(a.id()).await.unwrap() {
            out.push(format!("{:?}", store.promotion(p.id).await.unwrap()));
        }
    }
    for i in &integrations {
        for kind in ReferenceKind::ALL {
            out.push(format!(
                "{:?}",
                store.reference_records(i.id(), kind).await.unwrap()
            ));
        }
        let code = ReferenceCode::parse("N30").unwrap();
        out.push(format!(
            "{:?}",
            store
                .reference_record(i.id(), ReferenceKind::Terms, &code)
                .await
                .unwrap()
        ));
        out.push(format!("{:?}", store.synced_kinds(i.id()).await.unwrap()));
        out.push(format!(
            "{:?}",
            store.bindings_page(i.id(), None, 100).await.unwrap()
        ));
    }
    out.push(format!("{:?}", store.in_flight().await.unwrap()));
    out.push(format!("{:?}", store.party_in_flight().await.unwrap()));
    out.push(format!("{:?}", store.log(None).await.unwrap()));
    out
}

/// The sync runs of every integration, running ones as the copy closes them.
async fn runs_as_copied(store: &dyn Store) -> Vec<crm2sage::SyncRun> {
    let mut out = Vec::new();
    for i in store.integrations().await.unwrap() {
        out.extend(store.sync_runs(i.id()).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_store_answers_every_read_as_the_file_did() {
    let Some((target, guard)) = try_fresh_store().await else {
        return;
    };
    let (_dir, source) = filled().await;
    let now = at(100);
    // Pages of two rows: every section spans several pages.
    let report = copy_store(&source, &target, 2, now).await.unwrap();
    let counts = source.row_counts().await.unwrap();
    assert_eq!(report.counts, counts);
    assert_eq!(report.closed_syncs, 1, "the running tax sync");
    assert_eq!(
        (
            counts.integrations,
            counts.accounts,
            counts.promotions,
            counts.bindings,
            counts.sync_runs,
            counts.reference_records
        ),
        (2, 4, 5, 2, 5, 4),
        "an unlinked promotion and a linked binding among them"
    );
    assert_eq!((counts.ship_tos, counts.contacts), (4, 3));
    assert_eq!(counts.party_promotions, 3);
    assert_eq!(target.row_counts().await.unwrap(), counts);
    assert_eq!(reads(&source).await, reads(&target).await);

    let mut expected = runs_as_copied(&source).await;
    for run in expected
        .iter_mut()
        .filter(|r| r.outcome == SyncOutcome::Running)
    {
        run.outcome = SyncOutcome::Failed;
        run.finished_at = Some(now);
        run.error = Some(COPIED_WHILE_RUNNING.to_owned());
    }
    assert_eq!(runs_as_copied(&target).await, expected);

    // The copy syncs on as the file would: the same next sync changes the same records.
    let alpha = source.default_integration().await.unwrap().unwrap().id();
    let mut after = Vec::new();
    for store in [&source as &dyn Store, &target as &dyn Store] {
        let run = store
            .begin_sync(alpha, ReferenceKind::Terms, &holder(9), at(110), at(170))
            .await
            .unwrap();
        store
            .stage_page(
                run,
                &[
                    record("N30", "Net 30 days", true),
                    record("N90", "Net 90", true),
                ],
                at(111),
                at(171),
            )
            .await
            .unwrap();
        let counts = store.finish_sync(run, at(112)).await.unwrap();
        after.push((
            counts,
            store
                .reference_records(alpha, ReferenceKind::Terms)
                .await
                .unwrap(),
        ));
    }
    assert_eq!(after[0], after[1]);
    guard.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_not_empty_is_refused_and_left_alone() {
    let Some((target, guard)) = try_fresh_store().await else {
        return;
    };
    let (_dir, source) = filled().await;
    target
        .add_integration(&integration("already-here", true))
        .await
        .unwrap();
    let before = target.row_counts().await.unwrap();
    let err = copy_store(&source, &target, 100, at(100))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CopyError::TargetNotEmpty { counts } if counts == before),
        "{err:?}"
    );
    assert_eq!(
        (err.code(), err.class()),
        ("target_not_empty", ErrorClass::Conflict)
    );
    assert!(err.to_string().contains("integrations 1"), "{err}");
    assert_eq!(
        target.row_counts().await.unwrap(),
        before,
        "nothing written"
    );
    guard.drop_schema().await;
}

/// The test server's URL with a password added (trust authentication ignores it).
fn with_password(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let (user, host) = rest.split_once('@')?;
    (!user.contains(':')).then(|| format!("{scheme}://{user}:{PASSWORD}@{host}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_opens_postgres_and_never_shows_the_password() {
    // Nothing listens on port 1: the connection fails, and says so without the password.
    let err = Crm2Sage::builder()
        .postgres(format!("postgres://app:{PASSWORD}@127.0.0.1:1/crm"))
        .build()
        .await
        .unwrap_err();
    let (text, debug) = (err.to_string(), format!("{err:?}"));
    assert!(matches!(err, BuildError::Postgres { .. }), "{debug}");
    assert_eq!(err.code(), "database_unreachable");
    assert!(
        !text.contains(PASSWORD) && !debug.contains(PASSWORD),
        "{debug}"
    );
    assert!(text.contains("postgres://app@127.0.0.1:1/crm"), "{text}");

    let err = crm2sage::copy_sqlite_to_postgres(
        std::path::Path::new("/surely/not/here.db"),
        &format!("postgres://app:{PASSWORD}@127.0.0.1:1/crm"),
        PgSettings::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CopyStoreError::SourceMissing { .. }),
        "{err:?}"
    );
    let (dir, _source) = filled().await;
    let err = crm2sage::copy_sqlite_to_postgres(
        &dir.path().join("crm2sage.db"),
        &format!("postgres://app:{PASSWORD}@127.0.0.1:1/crm"),
        PgSettings::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "database_unreachable");
    assert!(
        !err.to_string().contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD),
        "{err:?}"
    );

    // A reachable server, with a password in the URL and a host id of our choosing.
    let Some((_store, guard)) = try_fresh_store().await else {
        return;
    };
    let url = crm2sage_store_postgres::testing::test_url();
    let url = with_password(&url).unwrap_or(url);
    let crm2sage = Crm2Sage::builder()
        .postgres_with(url, PgSettings::default().with_schema(guard.schema()))
        .host_id(HostId::parse("worker-a").unwrap())
        .build()
        .await
        .unwrap();
    assert!(crm2sage.integrations().await.unwrap().is_empty());
    let store = crm2sage_store_postgres::PostgresStore::connect(
        &with_password(&crm2sage_store_postgres::testing::test_url()).unwrap_or_default(),
        PgSettings::default().with_schema(guard.schema()),
    )
    .await;
    if let Ok(store) = store {
        let shown = format!("{store:?} {}", store.url());
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
    drop(crm2sage);
    guard.drop_schema().await;
}
