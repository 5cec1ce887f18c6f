//! Issue 22 items 2–3 on the fakes: ship-tos and contacts promoted exactly once under the
//! account's ERP customer — the primary pointers written, a second run sending nothing, every
//! crash point and every ambiguous answer settled by `recover` into exactly one ERP record,
//! lengths refused per ERP, a Sage 300 without contact records taking only the primary
//! contact, and the account's own promotion required first.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crm2sage_domain::fakes::{
    ErpFault, FakeErp, FakeProcesses, FixedSecrets, ManualClock, MemoryStore,
};
use crm2sage_domain::ports::{ErpCustomerKey, PartyPromotionStore};
use crm2sage_domain::services::{
    CrashPoint, PartyPromoteError, PartyPromotionRequest, RecoverDecision,
};
use crm2sage_domain::{
    AccountId, AddressInput, ArDivision, ErrorClass, ErrorCode, NewContact, NewShipTo, PartyCode,
    PartyKind, PromotionRequest, PromotionState, Services,
};
use crm2sage_tests::{sage100_input, sage300_input, valid_account};

type Fake = Services<MemoryStore, FakeErp>;

fn no_progress(_: crm2sage_domain::services::SyncProgress) {}

struct Setup {
    services: Arc<Fake>,
    store: Arc<MemoryStore>,
    erp: FakeErp,
    clock: Arc<ManualClock>,
    crash: Arc<Mutex<Option<CrashPoint>>>,
    account: AccountId,
    customer: ErpCustomerKey,
}

/// Fake services with a crash hook (armed per test), a default integration of `erp`'s kind,
/// synced, and one account promoted as customer `C1` (Sage 100: division 01).
async fn promoted(erp: FakeErp, sage100: bool) -> Setup {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::default());
    let crash: Arc<Mutex<Option<CrashPoint>>> = Arc::new(Mutex::new(None));
    let armed = Arc::clone(&crash);
    let hook = Arc::new(move |point: CrashPoint| {
        let mut armed = armed.lock().unwrap();
        if *armed == Some(point) {
            *armed = None;
            true
        } else {
            false
        }
    });
    let services = Arc::new(
        Services::new(
            Arc::clone(&store),
            Arc::new(erp.clone()),
            Arc::new(
                FixedSecrets::default()
                    .with("S300_PASSWORD", "pw")
                    .with("S100_PASSWORD", "pw"),
            ),
            Arc::new(FakeProcesses::default()),
        )
        .with_clock(Arc::clone(&clock) as Arc<dyn crm2sage_domain::ports::Clock>)
        .with_crash_hook(hook),
    );
    let mut input = if sage100 {
        sage100_input()
    } else {
        sage300_input()
    };
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    services.sync(None, None, &no_progress).await.unwrap();
    let account = services.create_account(&valid_account()).await.unwrap();
    let mut request = PromotionRequest::new(account.id(), "C1");
    if sage100 {
        request.salesperson = Some("0100".into());
        request.tax_schedule = Some("wi mil".into());
        request.category = Some("RET".into());
    } else {
        request.category = Some("RTL".into());
        request.tax_group = Some("CALIF".into());
    }
    let promoted = services.promote(&request).await.unwrap();
    let customer = ErpCustomerKey {
        division: sage100.then(|| ArDivision::parse("01").unwrap()),
        customer_no: promoted.binding.customer_no.clone(),
    };
    Setup {
        services,
        store,
        erp,
        clock,
        crash,
        account: account.id(),
        customer,
    }
}

fn ship_to(code: &str, primary: bool) -> NewShipTo {
    let mut input = NewShipTo::new(
        code,
        format!("Warehouse {code}"),
        AddressInput::new("2 Dock Rd", "Seattle", "US"),
    );
    input.primary = primary;
    input
}

fn contact(code: &str, primary: bool) -> NewContact {
    let mut input = NewContact::new(code, format!("Person {code}"));
    input.title = Some("Buyer".into());
    input.phone = Some("+1 206 555 0100".into());
    input.primary = primary;
    input
}

fn ship_code(code: &str) -> PartyCode {
    PartyCode::parse(PartyKind::ShipTo, code).unwrap()
}

async fn add_two_of_each(s: &Setup) {
    s.services
        .add_ship_to(s.account, &ship_to("MAIN", true))
        .await
        .unwrap();
    s.services
        .add_ship_to(s.account, &ship_to("WH2", false))
        .await
        .unwrap();
    s.services
        .add_contact(s.account, &contact("ANA", true))
        .await
        .unwrap();
    s.services
        .add_contact(s.account, &contact("BOB", false))
        .await
        .unwrap();
}

const BOTH: [PartyKind; 2] = [PartyKind::ShipTo, PartyKind::Contact];

#[tokio::test]
async fn two_ship_tos_and_two_contacts_are_each_created_once_with_the_primaries_pointed_at() {
    for sage100 in [false, true] {
        let erp = if sage100 {
            FakeErp::sage100_demo()
        } else {
            FakeErp::sage300_demo()
        };
        let s = promoted(erp, sage100).await;
        add_two_of_each(&s).await;
        let results = s
            .services
            .promote_parties(s.account, None, &BOTH)
            .await
            .unwrap();
        let codes: Vec<String> = results.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(
            codes,
            ["ship-to MAIN", "ship-to WH2", "contact ANA", "contact BOB"]
        );
        for (party, result) in &results {
            let promoted = result.as_ref().unwrap();
            assert!(!promoted.already, "{party}");
            assert_eq!(promoted.binding.state, PromotionState::Promoted);
            assert_eq!(
                promoted.binding.integration_key().as_str(),
                format!(
                    "{}:{}",
                    promoted.integration.id(),
                    promoted.binding.external_uid
                )
            );
        }
        let uid = |i: usize| {
            results[i]
                .1
                .as_ref()
                .unwrap()
                .binding
                .external_uid
                .to_string()
        };
        let customer_uid = s.customer.external_uid().to_string();
        assert_eq!(uid(0), format!("{customer_uid}/ST:MAIN"));
        assert_eq!(uid(3), format!("{customer_uid}/CT:BOB"));
        assert_eq!(
            s.erp.parties(PartyKind::ShipTo).len(),
            2,
            "sage100={sage100}"
        );
        assert_eq!(
            s.erp.parties(PartyKind::Contact).len(),
            2,
            "sage100={sage100}"
        );
        assert_eq!(
            s.erp.primary_of(&s.customer, PartyKind::ShipTo).as_deref(),
            Some("MAIN")
        );
        assert_eq!(
            s.erp.primary_of(&s.customer, PartyKind::Contact).as_deref(),
            Some("ANA")
        );

        // Again: everything is already promoted and nothing is sent.
        let creates = s.erp.create_attempts();
        let updates = s.erp.primary_updates();
        let again = s
            .services
            .promote_parties(s.account, None, &BOTH)
            .await
            .unwrap();
        assert!(again.iter().all(|(_, r)| r.as_ref().unwrap().already));
        assert_eq!(
            (s.erp.create_attempts(), s.erp.primary_updates()),
            (creates, updates)
        );
        let rows = s.store.party_promotions_of(s.account).await.unwrap();
        assert_eq!(rows.len(), 4, "one row per party, no second attempt");
    }
}

#[tokio::test]
async fn an_account_not_promoted_there_is_refused_before_anything_is_sent() {
    let (services, _store) = crm2sage_tests::fake_services(FakeErp::sage300_demo());
    let mut input = sage300_input();
    input.make_default = true;
    services.add_integration(&input).await.unwrap();
    let account = services.create_account(&valid_account()).await.unwrap();
    services
        .add_ship_to(account.id(), &ship_to("MAIN", true))
        .await
        .unwrap();
    let err = services
        .promote_party(&PartyPromotionRequest::new(account.id(), ship_code("MAIN")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PartyPromoteError::NotPromoted { .. }),
        "{err:?}"
    );
    assert_eq!(
        (err.code(), err.class()),
        ("account_not_promoted", ErrorClass::Invalid)
    );
    assert!(
        err.to_string().contains("promote the account first"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_party_is_not_found() {
    let s = promoted(FakeErp::sage300_demo(), false).await;
    let err = s
        .services
        .promote_party(&PartyPromotionRequest::new(s.account, ship_code("NOPE")))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.class()),
        ("ship_to_not_found", ErrorClass::NotFound)
    );
    assert_eq!(s.erp.create_attempts(), 1, "only the customer's create");
}

#[tokio::test]
async fn a_kill_at_every_crash_point_then_recover_leaves_exactly_one_ship_to() {
    for point in CrashPoint::ALL {
        let s = promoted(FakeErp::sage300_demo(), false).await;
        s.services
            .add_ship_to(s.account, &ship_to("MAIN", true))
            .await
            .unwrap();
        *s.crash.lock().unwrap() = Some(point);
        let err = s
            .services
            .promote_party(&PartyPromotionRequest::new(s.account, ship_code("MAIN")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, PartyPromoteError::Crashed(p) if p == point),
            "{err:?}"
        );
        let rows = s.store.party_in_flight().await.unwrap();
        assert_eq!(rows.len(), 1, "{point}: left creating");

        // While the dead task's lease runs, a retry is "in progress" and recover leaves it.
        let retry = s
            .services
            .promote_party(&PartyPromotionRequest::new(s.account, ship_code("MAIN")))
            .await
            .unwrap_err();
        assert!(
            matches!(retry, PartyPromoteError::InProgress { .. }),
            "{point}: {retry:?}"
        );
        let held = s.services.recover().await.unwrap();
        assert_eq!(held.count("still_held"), 1, "{point}: {held:?}");

        s.clock.advance(Duration::from_secs(3_600));
        let report = s.services.recover().await.unwrap();
        assert_eq!(report.items.len(), 1, "{point}: {report:?}");
        let item = &report.items[0];
        assert_eq!(item.party, Some(ship_code("MAIN")));
        let expected = if point == CrashPoint::AfterIntent {
            RecoverDecision::Resumed
        } else {
            RecoverDecision::Adopted
        };
        assert_eq!(item.decision, expected, "{point}");
        assert_eq!(s.erp.parties(PartyKind::ShipTo).len(), 1, "{point}");
        assert_eq!(
            s.erp.primary_of(&s.customer, PartyKind::ShipTo).as_deref(),
            Some("MAIN"),
            "{point}: the primary pointer is (re)sent"
        );
        let rows = s.store.party_promotions_of(s.account).await.unwrap();
        let states: Vec<_> = rows.iter().map(|r| r.state).collect();
        assert_eq!(states, [PromotionState::Promoted], "{point}");
        assert!(s.services.recover().await.unwrap().items.is_empty());
    }
}

#[tokio::test]
async fn ambiguous_creates_are_unknown_until_recover_settles_them_into_one_record() {
    for (fault, expected) in [
        (ErpFault::CommitThenDrop, RecoverDecision::Adopted),
        (ErpFault::TimeoutBeforeCommit, RecoverDecision::Resumed),
    ] {
        let s = promoted(FakeErp::sage100_demo(), true).await;
        s.services
            .add_ship_to(s.account, &ship_to("WH1", false))
            .await
            .unwrap();
        s.erp.inject(fault.clone());
        let err = s
            .services
            .promote_party(&PartyPromotionRequest::new(s.account, ship_code("WH1")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, PartyPromoteError::OutcomeUnknown { .. }),
            "{fault:?}: {err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Erp);
        let report = s.services.recover().await.unwrap();
        assert_eq!(report.items.len(), 1);
        assert_eq!(report.items[0].decision, expected, "{fault:?}");
        assert_eq!(s.erp.parties(PartyKind::ShipTo).len(), 1, "{fault:?}");
    }
}

#[tokio::test]
async fn a_refused_create_fails_and_promoting_again_succeeds_once() {
    let s = promoted(FakeErp::sage300_demo(), false).await;
    s.services
        .add_ship_to(s.account, &ship_to("WH1", false))
        .await
        .unwrap();
    s.erp.inject(ErpFault::RejectCreate {
        code: "General".into(),
        message: "Ship-to location refused (fake)".into(),
    });
    let request = PartyPromotionRequest::new(s.account, ship_code("WH1"));
    let err = s.services.promote_party(&request).await.unwrap_err();
    assert!(matches!(err, PartyPromoteError::Refused { .. }), "{err:?}");
    assert_eq!(err.code(), "erp_refused");
    assert!(s.erp.parties(PartyKind::ShipTo).is_empty());
    let ok = s.services.promote_party(&request).await.unwrap();
    assert!(!ok.already);
    assert_eq!(s.erp.parties(PartyKind::ShipTo).len(), 1);
    let states: Vec<_> = s
        .store
        .party_promotions_of(s.account)
        .await
        .unwrap()
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(states, [PromotionState::Failed, PromotionState::Promoted]);
}

#[tokio::test]
async fn fields_longer_than_the_erp_takes_are_all_refused_and_never_cut() {
    let s = promoted(FakeErp::sage100_demo(), true).await;
    let mut input = ship_to("WH1", false);
    input.name = "N".repeat(45);
    input.address.city = "C".repeat(25);
    s.services.add_ship_to(s.account, &input).await.unwrap();
    let err = s
        .services
        .promote_party(&PartyPromotionRequest::new(s.account, ship_code("WH1")))
        .await
        .unwrap_err();
    let PartyPromoteError::Invalid { fields, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        fields.contains("name") && fields.contains("city"),
        "{fields}"
    );
    assert_eq!(err.class(), ErrorClass::Invalid);
    assert_eq!(s.erp.create_attempts(), 1, "only the customer's create");
    assert!(
        s.store
            .party_promotions_of(s.account)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_sage300_without_contact_records_takes_only_the_primary_contact_onto_the_customer() {
    let s = promoted(FakeErp::sage300_demo().without_contact_records(), false).await;
    add_two_of_each(&s).await;
    let results = s
        .services
        .promote_parties(s.account, None, &[PartyKind::Contact])
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    let ana = results[0].1.as_ref().unwrap();
    assert!(!ana.already);
    let bob = results[1].1.as_ref().unwrap_err();
    assert!(matches!(bob, PartyPromoteError::NoPlace { .. }), "{bob:?}");
    assert_eq!(
        (bob.code(), bob.class()),
        ("contacts_unsupported", ErrorClass::Invalid)
    );
    assert_eq!(
        s.erp.primary_of(&s.customer, PartyKind::Contact).as_deref(),
        Some("ANA")
    );
    let live = s
        .services
        .erp_parties(s.account, None, &[PartyKind::Contact])
        .await
        .unwrap();
    assert_eq!(live[0].parties.len(), 1);
    assert_eq!(live[0].parties[0].name.as_deref(), Some("Person ANA"));
}

#[tokio::test]
async fn the_customer_s_ship_tos_are_listed_live() {
    let s = promoted(FakeErp::sage300_demo().with_page_size(1), false).await;
    add_two_of_each(&s).await;
    s.services
        .promote_parties(s.account, None, &BOTH)
        .await
        .unwrap();
    let live = s
        .services
        .erp_parties(s.account, None, &BOTH)
        .await
        .unwrap();
    let codes: Vec<Vec<Option<String>>> = live
        .iter()
        .map(|l| l.parties.iter().map(|p| p.code.clone()).collect())
        .collect();
    assert_eq!(
        codes,
        [
            vec![Some("MAIN".to_owned()), Some("WH2".to_owned())],
            vec![Some("ANA".to_owned()), Some("BOB".to_owned())]
        ]
    );
    assert!(live.iter().all(|l| !l.truncated));
}
