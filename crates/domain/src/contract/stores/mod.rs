//! The store contract: every store port, against a fresh store per check.

use std::future::Future;
use std::sync::Arc;

use crate::account::{Account, AddressInput, NewAccount};
use crate::codes::{CustomerNo, ReferenceCode};
use crate::connection::HttpPolicy;
use crate::erp::ReferenceKind;
use crate::ids::{AccountId, PromotionId};
use crate::integration::{Integration, IntegrationName, NewIntegration};
use crate::ports::{
    AccountFilter, AddIntegrationError, BeginSyncError, ErpReferenceRecord, FencedWriteError,
    LogEntry, LogEvent, RecordIntentError, RemoveIntegrationError, SetDefaultError, Store,
    SyncRunError, TakeOverError,
};
use crate::promotion::{
    Binding, BindingOrigin, ErpRequest, IntegrationKey, Lease, LeaseHolder, Promotion,
    PromotionState, Sage300Request,
};
use crate::record::{ErpRecord, ErpValue};
use crate::reference::{ReferenceExtras, SyncOutcome};
use jiff::{SignedDuration, Timestamp};

mod account_chunks;
mod accounts;
mod customer_index;
mod integration_update;
pub mod links;
mod pages;
pub mod parties;
pub mod party_promotions;
mod sync;
use integration_update::integration_update;
use sync::{sync_concurrency_and_abort, sync_snapshot};

/// Runs every store check, each on a fresh store from `new_store`.
pub async fn run<S, F, Fut>(new_store: F)
where
    S: Store + ?Sized,
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<S>>,
{
    integrations(&*new_store().await).await;
    integration_removal(&*new_store().await).await;
    integration_update(&*new_store().await).await;
    accounts(&*new_store().await).await;
    accounts::account_updates(&*new_store().await).await;
    account_chunks::account_chunks(&*new_store().await).await;
    sync_snapshot(&*new_store().await).await;
    sync_concurrency_and_abort(&*new_store().await).await;
    intents(&*new_store().await).await;
    fenced_writes(&*new_store().await).await;
    take_over(&*new_store().await).await;
    log(&*new_store().await).await;
    pages::pages(&*new_store().await).await;
    parties::ship_tos(&*new_store().await).await;
    parties::contacts(&*new_store().await).await;
    party_promotions::party_intents(&*new_store().await).await;
    party_promotions::party_outcomes(&*new_store().await).await;
    party_promotions::party_fencing(&*new_store().await).await;
    party_promotions::party_take_over(&*new_store().await).await;
    party_promotions::party_in_flight(&*new_store().await).await;
    party_promotions::party_intent_race(&*new_store().await).await;
    customer_index::customer_upserts(&*new_store().await).await;
    customer_index::customer_candidates(&*new_store().await).await;
    customer_index::customer_sync_finish(&*new_store().await).await;
    customer_index::customer_pages(&*new_store().await).await;
    links::links(&*new_store().await).await;
    links::unlinks(&*new_store().await).await;
    links::binding_pages(&*new_store().await).await;
}

/// A fixed instant the checks count from.
pub fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_secs(seconds))
        .unwrap()
}

/// A valid Sage 300 integration named `name`.
pub fn integration(name: &str, make_default: bool) -> Integration {
    NewIntegration {
        name: name.into(),
        kind: "sage300".into(),
        url: "https://erp.example.com/Sage300WebApi".into(),
        company: "SAMLTD".into(),
        user: "WEBAPI".into(),
        password_env: "S300_PASSWORD".into(),
        crm_id_field: Some("CRMID".into()),
        http_policy: HttpPolicy::HttpsOnly,
        make_default,
        ..Default::default()
    }
    .validate(t0())
    .unwrap()
}

/// A valid account named `name`.
pub fn account(name: &str) -> Account {
    let details = NewAccount {
        name: name.into(),
        billing: AddressInput {
            line1: "1 Main St".into(),
            line2: Some("Floor 2".into()),
            city: "Vancouver".into(),
            state: Some("BC".into()),
            postal_code: Some("V5K 0A1".into()),
            country: "CA".into(),
            ..Default::default()
        },
        shipping: Some(AddressInput {
            line1: "2 Dock Rd".into(),
            city: "Seattle".into(),
            country: "USA".into(),
            ..Default::default()
        }),
        phone: Some("+1 604 555 0100".into()),
        email: Some("ap@example.com".into()),
        website: Some("example.com".into()),
        currency: Some("CAD".into()),
        language: Some("ENG".into()),
        terms: Some("N30".into()),
        reference: Some(format!("CRM-{name}")),
    }
    .validate()
    .unwrap();
    Account::new(AccountId::generate(), details, t0())
}

fn record(code: &str, description: &str, active: bool) -> ErpReferenceRecord {
    ErpReferenceRecord {
        code: ReferenceCode::parse(code).unwrap(),
        description: description.into(),
        active,
        extras: ReferenceExtras::default(),
    }
}

/// A lease holder: task `task` of the test process.
pub fn holder(task: u64) -> LeaseHolder {
    LeaseHolder {
        host: "contract-host".into(),
        pid: 77,
        process_start: 1234,
        task,
    }
}

/// A `creating` Sage 300 promotion of `account` for `number`, held by `holder(task)`.
pub fn intent(integration: &Integration, account: AccountId, number: &str, task: u64) -> Promotion {
    let request = ErpRequest::Sage300(Sage300Request {
        customer_no: CustomerNo::parse_sage300(number).unwrap(),
        category: ReferenceCode::parse("RTL").unwrap(),
        tax_group: ReferenceCode::parse("CALIF").unwrap(),
        terms: Some(ReferenceCode::parse("N30").unwrap()),
    });
    Promotion {
        id: PromotionId::generate(),
        account,
        integration: integration.id(),
        external_uid: request.external_uid(),
        request,
        state: PromotionState::Creating,
        lease: Some(Lease {
            holder: holder(task),
            expires_at: at(45),
        }),
        error: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

/// A promotion-log entry of `event` (for an arbitrary account), as callers of
/// `record_intent` and `confirm` pass it.
pub fn entry(event: LogEvent) -> LogEntry {
    LogEntry {
        at: at(1),
        account: AccountId::generate(),
        integration: None,
        promotion: None,
        event,
        request: "customer_no=C1 category=RTL".into(),
        message: None,
        duration_ms: Some(3),
    }
}

fn binding_for(p: &Promotion) -> Binding {
    let mut erp_record = ErpRecord::new();
    erp_record.push(
        "number",
        ErpValue::Text(p.request.customer_no().to_string()),
    );
    erp_record.push(
        "credit_limit",
        ErpValue::Number(crate::ErpNumber::parse("2500.5").expect("a number")),
    );
    erp_record.push("on_hold", ErpValue::Bool(false));
    erp_record.push("inactive_date", ErpValue::Null);
    Binding {
        account: p.account,
        integration: p.integration,
        customer_no: p.request.customer_no().clone(),
        external_uid: p.external_uid.clone(),
        integration_key: IntegrationKey::new(p.integration, &p.external_uid),
        promoted_at: at(2),
        origin: BindingOrigin::Created,
        erp_record,
    }
}

async fn integrations<S: Store + ?Sized>(store: &S) {
    let a = integration("alpha", true);
    let b = integration("beta", false);
    store.add_integration(&a).await.unwrap();
    store.add_integration(&b).await.unwrap();
    assert_eq!(
        store.integrations().await.unwrap(),
        vec![a.clone(), b.clone()],
        "integrations listed by name, as stored"
    );
    assert_eq!(
        store.integration(a.id()).await.unwrap(),
        Some(a.clone()),
        "by id"
    );
    assert_eq!(
        store.integration_by_name(b.name()).await.unwrap(),
        Some(b.clone()),
        "by name"
    );
    assert_eq!(
        store
            .integration_by_name(&IntegrationName::parse("nope").unwrap())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.default_integration().await.unwrap().map(|i| i.id()),
        Some(a.id())
    );

    let dup = integration("alpha", false);
    assert!(
        matches!(
            store.add_integration(&dup).await,
            Err(AddIntegrationError::NameTaken(_))
        ),
        "names are unique"
    );

    // A new default replaces the old one: at most one default.
    let c = integration("gamma", true);
    store.add_integration(&c).await.unwrap();
    let defaults: Vec<_> = store
        .integrations()
        .await
        .unwrap()
        .into_iter()
        .filter(Integration::is_default)
        .collect();
    assert_eq!(defaults.len(), 1, "at most one default");
    assert_eq!(defaults[0].id(), c.id());

    store.set_default(b.name()).await.unwrap();
    assert_eq!(
        store.default_integration().await.unwrap().map(|i| i.id()),
        Some(b.id())
    );
    let defaults = store
        .integrations()
        .await
        .unwrap()
        .into_iter()
        .filter(Integration::is_default)
        .count();
    assert_eq!(defaults, 1, "set_default leaves exactly one default");
    assert!(matches!(
        store
            .set_default(&IntegrationName::parse("nope").unwrap())
            .await,
        Err(SetDefaultError::NotFound(_))
    ));
    assert_eq!(
        store.default_integration().await.unwrap().map(|i| i.id()),
        Some(b.id()),
        "a failed set_default changes nothing"
    );
}

async fn integration_removal<S: Store + ?Sized>(store: &S) {
    let a = integration("alpha", false);
    let b = integration("beta", false);
    store.add_integration(&a).await.unwrap();
    store.add_integration(&b).await.unwrap();
    assert!(matches!(
        store
            .remove_integration(&IntegrationName::parse("nope").unwrap())
            .await,
        Err(RemoveIntegrationError::NotFound(_))
    ));
    let acc = account("Holder");
    store.insert_account(&acc).await.unwrap();
    store
        .record_intent(&intent(&a, acc.id(), "C1", 1), &entry(LogEvent::Intent))
        .await
        .unwrap();
    assert!(
        matches!(
            store.remove_integration(a.name()).await,
            Err(RemoveIntegrationError::InUse(_))
        ),
        "an integration with promotions stays"
    );
    store.remove_integration(b.name()).await.unwrap();
    assert_eq!(store.integration(b.id()).await.unwrap(), None);
    assert!(store.integration(a.id()).await.unwrap().is_some());
}

async fn accounts<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    store.add_integration(&i).await.unwrap();
    let one = account("One");
    let two = account("Two");
    let three = account("Three");
    store.insert_account(&one).await.unwrap();
    store
        .insert_accounts(&[two.clone(), three.clone()])
        .await
        .unwrap();
    store.insert_accounts(&[]).await.unwrap();
    assert_eq!(
        store.account(one.id()).await.unwrap(),
        Some(one.clone()),
        "an account reads back exactly, addresses and all"
    );
    assert_eq!(store.account(AccountId::generate()).await.unwrap(), None);
    let by_ref = store
        .account_by_reference(&crate::account::AccountRef::parse("CRM-Two").unwrap())
        .await
        .unwrap();
    assert_eq!(
        by_ref.map(|a| a.id()),
        Some(two.id()),
        "accounts are found by their CRM reference"
    );
    assert_eq!(
        store
            .account_by_reference(&crate::account::AccountRef::parse("CRM-None").unwrap())
            .await
            .unwrap(),
        None
    );
    let all: Vec<_> = store
        .accounts(AccountFilter::All)
        .await
        .unwrap()
        .iter()
        .map(Account::id)
        .collect();
    assert_eq!(all, vec![one.id(), two.id(), three.id()], "oldest first");

    let p = intent(&i, two.id(), "C2", 1);
    store
        .record_intent(&p, &entry(LogEvent::Intent))
        .await
        .unwrap();
    store
        .confirm(
            p.id,
            &holder(1),
            &binding_for(&p),
            at(3),
            &entry(LogEvent::Promoted),
        )
        .await
        .unwrap();
    let promoted: Vec<_> = store
        .accounts(AccountFilter::Promoted)
        .await
        .unwrap()
        .iter()
        .map(Account::id)
        .collect();
    assert_eq!(promoted, vec![two.id()]);
    let pending: Vec<_> = store
        .accounts(AccountFilter::Pending)
        .await
        .unwrap()
        .iter()
        .map(Account::id)
        .collect();
    assert_eq!(pending, vec![one.id(), three.id()]);
}

async fn intents<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    let j = integration("beta", false);
    store.add_integration(&i).await.unwrap();
    store.add_integration(&j).await.unwrap();
    let a = account("A");
    let b = account("B");
    store
        .insert_accounts(&[a.clone(), b.clone()])
        .await
        .unwrap();

    let first = intent(&i, a.id(), "C1", 1);
    let noted = LogEntry {
        account: a.id(),
        promotion: Some(first.id),
        ..entry(LogEvent::Intent)
    };
    store.record_intent(&first, &noted).await.unwrap();
    assert_eq!(
        store.log(Some(a.id())).await.unwrap(),
        vec![noted.clone()],
        "the intent's log entry is written with it"
    );
    assert_eq!(
        store.promotion(first.id).await.unwrap(),
        Some(first.clone()),
        "an intent reads back exactly"
    );
    assert!(
        matches!(store.record_intent(&intent(&i, a.id(), "C9", 2), &entry(LogEvent::Intent)).await, Err(RecordIntentError::AccountLive(p)) if p.id == first.id),
        "one live promotion per (integration, account)"
    );
    assert!(
        matches!(store.record_intent(&intent(&i, b.id(), "c1", 3), &entry(LogEvent::Intent)).await, Err(RecordIntentError::UidLive(p)) if p.id == first.id),
        "one live promotion per (integration, External UID)"
    );
    assert_eq!(
        store.log(None).await.unwrap(),
        vec![noted],
        "a losing intent writes no log entry"
    );
    // Other integrations are independent.
    store
        .record_intent(&intent(&j, a.id(), "C1", 4), &entry(LogEvent::Intent))
        .await
        .unwrap();

    // A failed promotion does not block a new one.
    store
        .fail(first.id, &holder(1), "customer number taken", at(5))
        .await
        .unwrap();
    let second = intent(&i, a.id(), "C2", 5);
    store
        .record_intent(&second, &entry(LogEvent::Intent))
        .await
        .unwrap();
    let retry_uid = intent(&i, b.id(), "C1", 6);
    store
        .record_intent(&retry_uid, &entry(LogEvent::Intent))
        .await
        .unwrap();

    // A promoted one blocks, reporting its state.
    store
        .confirm(
            second.id,
            &holder(5),
            &binding_for(&second),
            at(6),
            &entry(LogEvent::Promoted),
        )
        .await
        .unwrap();
    match store
        .record_intent(&intent(&i, a.id(), "C3", 7), &entry(LogEvent::Intent))
        .await
    {
        Err(RecordIntentError::AccountLive(p)) => assert_eq!(p.state, PromotionState::Promoted),
        other => panic!("expected AccountLive for a promoted account, got {other:?}"),
    }
    let in_flight: Vec<_> = store
        .in_flight()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(in_flight.len(), 2, "creating ones only: {in_flight:?}");
    assert!(in_flight.contains(&retry_uid.id));
    let of_a = store.promotions_of(a.id()).await.unwrap();
    assert_eq!(of_a.len(), 3);
    assert_eq!(
        of_a.iter().find(|p| p.id == first.id).unwrap().state,
        PromotionState::Failed
    );
    assert_eq!(
        of_a.iter()
            .find(|p| p.id == first.id)
            .unwrap()
            .error
            .as_deref(),
        Some("customer number taken")
    );
}

async fn fenced_writes<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    store.add_integration(&i).await.unwrap();
    let a = account("A");
    store.insert_account(&a).await.unwrap();
    let p = intent(&i, a.id(), "C1", 1);
    store
        .record_intent(&p, &entry(LogEvent::Intent))
        .await
        .unwrap();

    store.renew_lease(p.id, &holder(1), at(90)).await.unwrap();
    assert_eq!(
        store
            .promotion(p.id)
            .await
            .unwrap()
            .unwrap()
            .lease
            .unwrap()
            .expires_at,
        at(90)
    );
    assert!(
        matches!(
            store.renew_lease(p.id, &holder(2), at(99)).await,
            Err(FencedWriteError::LeaseLost)
        ),
        "only the holder renews"
    );
    assert!(matches!(
        store
            .confirm(
                p.id,
                &holder(2),
                &binding_for(&p),
                at(3),
                &entry(LogEvent::Promoted)
            )
            .await,
        Err(FencedWriteError::LeaseLost)
    ));
    assert!(
        store.bindings_of(a.id()).await.unwrap().is_empty(),
        "a refused confirm writes no binding"
    );
    let logged_before = store.log(None).await.unwrap().len();
    assert_eq!(
        logged_before, 1,
        "only the intent's entry: a refused confirm logs nothing"
    );
    assert!(matches!(
        store.fail(p.id, &holder(2), "x", at(3)).await,
        Err(FencedWriteError::LeaseLost)
    ));
    assert!(matches!(
        store.mark_needs_review(p.id, &holder(2), "x", at(3)).await,
        Err(FencedWriteError::LeaseLost)
    ));
    assert!(matches!(
        store
            .fail(PromotionId::generate(), &holder(1), "x", at(3))
            .await,
        Err(FencedWriteError::NotFound | FencedWriteError::LeaseLost)
    ));

    let binding = binding_for(&p);
    let promoted_log = LogEntry {
        account: a.id(),
        promotion: Some(p.id),
        ..entry(LogEvent::Promoted)
    };
    store
        .confirm(p.id, &holder(1), &binding, at(4), &promoted_log)
        .await
        .unwrap();
    let log = store.log(None).await.unwrap();
    assert_eq!(
        log.len(),
        logged_before + 1,
        "the confirm's log entry is written with it"
    );
    assert_eq!(log.last(), Some(&promoted_log));
    let done = store.promotion(p.id).await.unwrap().unwrap();
    assert_eq!(done.state, PromotionState::Promoted);
    assert_eq!(
        store.bindings_of(a.id()).await.unwrap(),
        vec![binding],
        "the binding reads back exactly, ERP record included"
    );
    assert!(
        matches!(
            store.fail(p.id, &holder(1), "late", at(5)).await,
            Err(FencedWriteError::LeaseLost)
        ),
        "only creating promotions change"
    );

    let b = account("B");
    store.insert_account(&b).await.unwrap();
    let q = intent(&i, b.id(), "C2", 7);
    store
        .record_intent(&q, &entry(LogEvent::Intent))
        .await
        .unwrap();
    store
        .mark_needs_review(
            q.id,
            &holder(7),
            "a different customer has this number",
            at(6),
        )
        .await
        .unwrap();
    let q = store.promotion(q.id).await.unwrap().unwrap();
    assert_eq!(q.state, PromotionState::NeedsReview);
    assert!(!q.state.is_live());
    store
        .record_intent(&intent(&i, b.id(), "C2", 8), &entry(LogEvent::Intent))
        .await
        .unwrap();
}

async fn take_over<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    store.add_integration(&i).await.unwrap();
    let a = account("A");
    store.insert_account(&a).await.unwrap();
    let p = intent(&i, a.id(), "C1", 1);
    store
        .record_intent(&p, &entry(LogEvent::Intent))
        .await
        .unwrap();
    let old = p.lease.clone().unwrap();
    let new = Lease {
        holder: holder(9),
        expires_at: at(200),
    };
    let stale = Lease {
        holder: holder(1),
        expires_at: at(1),
    };
    assert!(
        matches!(
            store.take_over(p.id, Some(&stale), &new).await,
            Err(TakeOverError::Changed)
        ),
        "compare-and-swap on the lease"
    );
    store.take_over(p.id, Some(&old), &new).await.unwrap();
    assert!(
        matches!(
            store.renew_lease(p.id, &holder(1), at(300)).await,
            Err(FencedWriteError::LeaseLost)
        ),
        "the old holder is fenced out"
    );
    assert!(
        matches!(
            store.take_over(p.id, Some(&old), &new).await,
            Err(TakeOverError::Changed)
        ),
        "only one taker wins"
    );

    store.release_lease(p.id, &holder(9), at(10)).await.unwrap();
    let released = store.promotion(p.id).await.unwrap().unwrap();
    assert_eq!(
        released.state,
        PromotionState::Creating,
        "release keeps the state"
    );
    assert_eq!(released.lease, None);
    let mine = Lease {
        holder: holder(10),
        expires_at: at(400),
    };
    store.take_over(p.id, None, &mine).await.unwrap();
    store
        .confirm(
            p.id,
            &holder(10),
            &binding_for(&p),
            at(11),
            &entry(LogEvent::Promoted),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            store.take_over(p.id, None, &new).await,
            Err(TakeOverError::Changed)
        ),
        "a settled promotion cannot be taken"
    );
}

async fn log<S: Store + ?Sized>(store: &S) {
    let a = AccountId::generate();
    let b = AccountId::generate();
    let entry = |account, event, message: Option<&str>, second| LogEntry {
        at: at(second),
        account,
        integration: None,
        promotion: None,
        event,
        request: "customer_no=C1 category=RTL".into(),
        message: message.map(str::to_owned),
        duration_ms: Some(12),
    };
    let e1 = entry(a, LogEvent::Refused, Some("missing prerequisites"), 1);
    let e2 = entry(b, LogEvent::Intent, None, 2);
    let e3 = entry(a, LogEvent::Promoted, None, 3);
    for e in [&e1, &e2, &e3] {
        store.append_log(e).await.unwrap();
    }
    assert_eq!(
        store.log(Some(a)).await.unwrap(),
        vec![e1.clone(), e3.clone()],
        "per account, oldest first; accounts need not exist"
    );
    assert_eq!(store.log(None).await.unwrap(), vec![e1, e2, e3]);
}
