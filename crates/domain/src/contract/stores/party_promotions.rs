//! The store contract's ship-to and contact promotion checks: an intent reads back exactly, one
//! live promotion per (integration, account, party) decided atomically (of two racing intents
//! exactly one wins, and the loser writes nothing), `failed` and `needs_review` never block,
//! every change is fenced on the lease holder, the take-over is a compare-and-swap, and a
//! `promoted` row is the party's binding.

use super::*;
use crate::codes::ArDivision;
use crate::party::{PartyCode, PartyKind};
use crate::party_promotion::{PartyOutcome, PartyPromotion};
use crate::ports::{ErpCustomerKey, RecordPartyIntentError};

/// The ERP customer parties are created under: Sage 300 `number`.
pub fn customer(number: &str) -> ErpCustomerKey {
    ErpCustomerKey {
        division: None,
        customer_no: CustomerNo::parse_sage300(number).unwrap(),
    }
}

/// The ERP customer `division`-`number` (Sage 100): a division to keep.
pub fn sage100_customer(division: &str, number: &str) -> ErpCustomerKey {
    ErpCustomerKey {
        division: Some(ArDivision::parse(division).unwrap()),
        customer_no: CustomerNo::parse_sage100(number).unwrap(),
    }
}

/// A `creating` promotion of `account`'s party `kind` `code` under `customer`, held by
/// `holder(task)` until 45 s after [`t0`], recorded at `created` seconds.
pub fn party_intent(
    integration: &Integration,
    account: AccountId,
    customer: &ErpCustomerKey,
    (kind, code): (PartyKind, &str),
    task: u64,
    created: i64,
) -> PartyPromotion {
    let party = PartyCode::parse(kind, code).unwrap();
    let key = crate::ports::ErpPartyKey {
        customer: customer.clone(),
        party: party.clone(),
    };
    PartyPromotion {
        id: PromotionId::generate(),
        account,
        integration: integration.id(),
        party,
        customer: customer.clone(),
        external_uid: key.external_uid(),
        state: PromotionState::Creating,
        lease: Some(Lease {
            holder: holder(task),
            expires_at: at(45),
        }),
        error: None,
        created_at: at(created),
        updated_at: at(created),
    }
}

/// The log entry of `event` for `p`, as the service writes it.
fn noted(p: &PartyPromotion, event: LogEvent, second: i64) -> LogEntry {
    LogEntry {
        at: at(second),
        account: p.account,
        integration: Some(p.integration),
        promotion: Some(p.id),
        event,
        request: format!("{} customer={}", p.party, p.customer.customer_no),
        message: None,
        duration_ms: Some(2),
    }
}

const SHIP_TO: PartyKind = PartyKind::ShipTo;
const CONTACT: PartyKind = PartyKind::Contact;

/// An integration, two accounts, stored: what every check starts from.
async fn setup<S: Store + ?Sized>(store: &S) -> (Integration, Integration, AccountId, AccountId) {
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
    (i, j, a.id(), b.id())
}

pub(super) async fn party_intents<S: Store + ?Sized>(store: &S) {
    let (i, j, a, b) = setup(store).await;
    let c1 = customer("C1");

    let first = party_intent(&i, a, &c1, (SHIP_TO, "main"), 1, 1);
    let first_log = noted(&first, LogEvent::Intent, 1);
    store.record_party_intent(&first, &first_log).await.unwrap();
    let read = store.party_promotion(first.id).await.unwrap().unwrap();
    assert_eq!(read.id, first.id);
    assert_eq!(read.account, a);
    assert_eq!(read.integration, i.id());
    assert_eq!(read.party, PartyCode::parse(SHIP_TO, "MAIN").unwrap());
    assert_eq!(read.kind(), SHIP_TO);
    assert_eq!(read.customer, c1, "the customer key, division none");
    assert_eq!(read.external_uid.as_str(), "C1/ST:MAIN");
    assert_eq!(read.state, PromotionState::Creating);
    assert_eq!(read.lease, first.lease, "the lease, every part");
    assert_eq!(read.error, None);
    assert_eq!((read.created_at, read.updated_at), (at(1), at(1)));
    assert_eq!(read, first, "a party intent reads back exactly");
    assert_eq!(
        store.log(Some(a)).await.unwrap(),
        vec![first_log.clone()],
        "the intent's log entry is written with it"
    );
    assert_eq!(
        store
            .party_promotion(PromotionId::generate())
            .await
            .unwrap(),
        None
    );

    // A Sage 100 customer's division is kept.
    let s100 = sage100_customer("01", "ABC");
    let jane = party_intent(&i, b, &s100, (CONTACT, "JANE"), 2, 2);
    store
        .record_party_intent(&jane, &noted(&jane, LogEvent::Intent, 2))
        .await
        .unwrap();
    let read = store.party_promotion(jane.id).await.unwrap().unwrap();
    assert_eq!(read.customer, s100, "the division reads back");
    assert_eq!(read.external_uid.as_str(), "01-ABC/CT:JANE");
    assert_eq!(read, jane);

    // The same party again, live: refused with the live one, nothing written.
    let logged = store.log(None).await.unwrap();
    let again = party_intent(&i, a, &c1, (SHIP_TO, "MAIN"), 3, 3);
    match store
        .record_party_intent(&again, &noted(&again, LogEvent::Intent, 3))
        .await
    {
        Err(RecordPartyIntentError::Live(live)) => {
            assert_eq!(*live, first, "the refusal carries the live promotion")
        }
        other => panic!("expected Live for a second intent of a party, got {other:?}"),
    }
    assert_eq!(
        store.party_promotion(again.id).await.unwrap(),
        None,
        "a refused intent writes no row"
    );
    assert_eq!(
        store.log(None).await.unwrap(),
        logged,
        "a refused intent writes no log entry"
    );

    // Another kind with the same code, another account, another integration: independent.
    for other in [
        party_intent(&i, a, &c1, (CONTACT, "MAIN"), 4, 4),
        party_intent(&i, b, &customer("C2"), (SHIP_TO, "MAIN"), 5, 5),
        party_intent(&j, a, &c1, (SHIP_TO, "MAIN"), 6, 6),
    ] {
        store
            .record_party_intent(&other, &noted(&other, LogEvent::Intent, 4))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{} of {} must not be blocked: {e}",
                    other.party, other.account
                )
            });
    }
    let of_a = store.party_promotions_of(a).await.unwrap();
    assert_eq!(of_a.len(), 3, "a's own, in both integrations: {of_a:?}");
    assert!(of_a.iter().all(|p| p.account == a));

    // An unknown account: refused, nothing written.
    let logged = store.log(None).await.unwrap();
    let ghost = AccountId::generate();
    let orphan = party_intent(&i, ghost, &c1, (SHIP_TO, "WH1"), 7, 7);
    assert_eq!(
        store
            .record_party_intent(&orphan, &noted(&orphan, LogEvent::Intent, 7))
            .await,
        Err(RecordPartyIntentError::AccountNotFound(ghost))
    );
    assert_eq!(store.party_promotion(orphan.id).await.unwrap(), None);
    assert_eq!(store.log(None).await.unwrap(), logged);
}

pub(super) async fn party_outcomes<S: Store + ?Sized>(store: &S) {
    let (i, _, a, _) = setup(store).await;
    let c1 = customer("C1");

    // Failed: the party may be promoted again.
    let first = party_intent(&i, a, &c1, (SHIP_TO, "WH1"), 1, 1);
    store
        .record_party_intent(&first, &noted(&first, LogEvent::Intent, 1))
        .await
        .unwrap();
    store
        .settle_party(
            first.id,
            &holder(1),
            &PartyOutcome::Failed("refused by the ERP".into()),
            at(2),
            &noted(&first, LogEvent::Failed, 2),
        )
        .await
        .unwrap();
    let failed = store.party_promotion(first.id).await.unwrap().unwrap();
    assert_eq!(failed.state, PromotionState::Failed);
    assert_eq!(failed.error.as_deref(), Some("refused by the ERP"));
    assert_eq!((failed.lease, failed.updated_at), (None, at(2)));
    assert_eq!(failed.created_at, at(1), "created_at stays");

    // Needs review: does not block either.
    let second = party_intent(&i, a, &c1, (SHIP_TO, "WH1"), 2, 3);
    store
        .record_party_intent(&second, &noted(&second, LogEvent::Intent, 3))
        .await
        .expect("a failed promotion never blocks");
    store
        .settle_party(
            second.id,
            &holder(2),
            &PartyOutcome::NeedsReview("a different ship-to has this code".into()),
            at(4),
            &noted(&second, LogEvent::NeedsReview, 4),
        )
        .await
        .unwrap();
    let review = store.party_promotion(second.id).await.unwrap().unwrap();
    assert_eq!(review.state, PromotionState::NeedsReview);
    assert_eq!(
        review.error.as_deref(),
        Some("a different ship-to has this code")
    );

    // Promoted: the binding, and it blocks.
    let third = party_intent(&i, a, &c1, (SHIP_TO, "WH1"), 3, 5);
    store
        .record_party_intent(&third, &noted(&third, LogEvent::Intent, 5))
        .await
        .expect("a needs-review promotion never blocks");
    let promoted_log = noted(&third, LogEvent::Promoted, 6);
    store
        .settle_party(
            third.id,
            &holder(3),
            &PartyOutcome::Promoted,
            at(6),
            &promoted_log,
        )
        .await
        .unwrap();
    assert_eq!(
        store.log(Some(a)).await.unwrap().last(),
        Some(&promoted_log),
        "the settle's log entry is written with it"
    );
    let bound = store.party_promotion(third.id).await.unwrap().unwrap();
    assert_eq!(bound.state, PromotionState::Promoted);
    assert!(bound.is_binding());
    assert_eq!((bound.lease.clone(), bound.error.clone()), (None, None));
    assert_eq!(bound.updated_at, at(6));
    assert_eq!(bound.external_uid.as_str(), "C1/ST:WH1");
    assert_eq!(
        bound.integration_key().as_str(),
        format!("{}:C1/ST:WH1", i.id())
    );
    let of_a = store.party_promotions_of(a).await.unwrap();
    assert_eq!(
        of_a.iter().map(|p| p.id).collect::<Vec<_>>(),
        [first.id, second.id, third.id],
        "every attempt of the account, oldest first"
    );
    let bindings: Vec<_> = of_a.iter().filter(|p| p.is_binding()).collect();
    assert_eq!(
        bindings,
        [&bound],
        "the promoted row is the party's binding"
    );
    match store
        .record_party_intent(
            &party_intent(&i, a, &c1, (SHIP_TO, "WH1"), 4, 7),
            &entry(LogEvent::Intent),
        )
        .await
    {
        Err(RecordPartyIntentError::Live(live)) => {
            assert_eq!(live.id, third.id);
            assert_eq!(live.state, PromotionState::Promoted);
        }
        other => panic!("expected Live for a promoted party, got {other:?}"),
    }
}

pub(super) async fn party_fencing<S: Store + ?Sized>(store: &S) {
    let (i, _, a, _) = setup(store).await;
    let p = party_intent(&i, a, &customer("C1"), (CONTACT, "ANA"), 1, 1);
    store
        .record_party_intent(&p, &noted(&p, LogEvent::Intent, 1))
        .await
        .unwrap();
    let logged = store.log(None).await.unwrap();

    for outcome in [
        PartyOutcome::Promoted,
        PartyOutcome::Failed("x".into()),
        PartyOutcome::NeedsReview("x".into()),
    ] {
        assert_eq!(
            store
                .settle_party(
                    p.id,
                    &holder(2),
                    &outcome,
                    at(2),
                    &noted(&p, LogEvent::Promoted, 2)
                )
                .await,
            Err(FencedWriteError::LeaseLost),
            "only the holder settles ({outcome:?})"
        );
    }
    assert_eq!(
        store.release_party_lease(p.id, &holder(2), at(2)).await,
        Err(FencedWriteError::LeaseLost),
        "only the holder releases"
    );
    assert_eq!(
        store.party_promotion(p.id).await.unwrap(),
        Some(p.clone()),
        "a refused settle or release changes nothing"
    );
    assert_eq!(
        store.log(None).await.unwrap(),
        logged,
        "a refused settle writes no log entry"
    );
    assert!(matches!(
        store
            .settle_party(
                PromotionId::generate(),
                &holder(1),
                &PartyOutcome::Promoted,
                at(2),
                &entry(LogEvent::Promoted)
            )
            .await,
        Err(FencedWriteError::NotFound)
    ));
    assert!(matches!(
        store
            .release_party_lease(PromotionId::generate(), &holder(1), at(2))
            .await,
        Err(FencedWriteError::NotFound)
    ));

    store
        .settle_party(
            p.id,
            &holder(1),
            &PartyOutcome::Promoted,
            at(3),
            &noted(&p, LogEvent::Promoted, 3),
        )
        .await
        .unwrap();
    let settled = store.party_promotion(p.id).await.unwrap().unwrap();
    let logged = store.log(None).await.unwrap();
    assert_eq!(
        store
            .settle_party(
                p.id,
                &holder(1),
                &PartyOutcome::Failed("late".into()),
                at(4),
                &noted(&p, LogEvent::Failed, 4)
            )
            .await,
        Err(FencedWriteError::LeaseLost),
        "only creating promotions change"
    );
    assert_eq!(
        store.release_party_lease(p.id, &holder(1), at(4)).await,
        Err(FencedWriteError::LeaseLost)
    );
    assert_eq!(store.party_promotion(p.id).await.unwrap(), Some(settled));
    assert_eq!(store.log(None).await.unwrap(), logged);
}

pub(super) async fn party_take_over<S: Store + ?Sized>(store: &S) {
    let (i, _, a, _) = setup(store).await;
    let p = party_intent(&i, a, &customer("C1"), (SHIP_TO, "WH1"), 1, 1);
    store
        .record_party_intent(&p, &noted(&p, LogEvent::Intent, 1))
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
    assert_eq!(
        store.take_over_party(p.id, Some(&stale), &new).await,
        Err(TakeOverError::Changed),
        "compare-and-swap on the whole lease"
    );
    assert_eq!(
        store.take_over_party(p.id, None, &new).await,
        Err(TakeOverError::Changed),
        "a held lease is not taken as if released"
    );
    store.take_over_party(p.id, Some(&old), &new).await.unwrap();
    assert_eq!(
        store.party_promotion(p.id).await.unwrap().unwrap().lease,
        Some(new.clone())
    );
    assert_eq!(
        store
            .settle_party(
                p.id,
                &holder(1),
                &PartyOutcome::Promoted,
                at(2),
                &entry(LogEvent::Promoted)
            )
            .await,
        Err(FencedWriteError::LeaseLost),
        "the old holder is fenced out"
    );
    assert_eq!(
        store.take_over_party(p.id, Some(&old), &new).await,
        Err(TakeOverError::Changed),
        "only one taker wins"
    );

    store
        .release_party_lease(p.id, &holder(9), at(10))
        .await
        .unwrap();
    let released = store.party_promotion(p.id).await.unwrap().unwrap();
    assert_eq!(
        released.state,
        PromotionState::Creating,
        "release keeps the state"
    );
    assert_eq!((released.lease, released.updated_at), (None, at(10)));
    assert_eq!(
        store.take_over_party(p.id, Some(&new), &old).await,
        Err(TakeOverError::Changed),
        "a released lease is expected as none"
    );
    let mine = Lease {
        holder: holder(10),
        expires_at: at(400),
    };
    store.take_over_party(p.id, None, &mine).await.unwrap();
    store
        .settle_party(
            p.id,
            &holder(10),
            &PartyOutcome::Promoted,
            at(11),
            &entry(LogEvent::Promoted),
        )
        .await
        .unwrap();
    assert_eq!(
        store.take_over_party(p.id, None, &new).await,
        Err(TakeOverError::Changed),
        "a settled promotion cannot be taken"
    );
    assert_eq!(
        store
            .take_over_party(PromotionId::generate(), None, &new)
            .await,
        Err(TakeOverError::Changed),
        "nor an unknown one"
    );
}

pub(super) async fn party_in_flight<S: Store + ?Sized>(store: &S) {
    let (i, j, a, b) = setup(store).await;
    assert!(store.party_in_flight().await.unwrap().is_empty());
    let c1 = customer("C1");
    let ps = [
        party_intent(&i, a, &c1, (SHIP_TO, "WH1"), 1, 1),
        party_intent(&j, b, &customer("C2"), (CONTACT, "BOB"), 2, 2),
        party_intent(&i, a, &c1, (CONTACT, "ANA"), 3, 3),
        party_intent(&i, b, &customer("C2"), (SHIP_TO, "WH1"), 4, 4),
    ];
    for p in &ps {
        store
            .record_party_intent(p, &noted(p, LogEvent::Intent, 1))
            .await
            .unwrap();
    }
    store
        .settle_party(
            ps[1].id,
            &holder(2),
            &PartyOutcome::Promoted,
            at(5),
            &entry(LogEvent::Promoted),
        )
        .await
        .unwrap();
    store
        .settle_party(
            ps[3].id,
            &holder(4),
            &PartyOutcome::Failed("x".into()),
            at(5),
            &entry(LogEvent::Failed),
        )
        .await
        .unwrap();
    // A released one is still in flight (for recover to settle).
    store
        .release_party_lease(ps[2].id, &holder(3), at(6))
        .await
        .unwrap();
    let in_flight = store.party_in_flight().await.unwrap();
    assert_eq!(
        in_flight.iter().map(|p| p.id).collect::<Vec<_>>(),
        [ps[0].id, ps[2].id],
        "creating ones only, oldest first"
    );
    assert_eq!(in_flight[0], ps[0], "each reads back whole");
    assert_eq!(in_flight[1].lease, None);
    assert!(
        store.promotions_of(a).await.unwrap().is_empty(),
        "party promotions are not customer promotions"
    );
    assert!(store.in_flight().await.unwrap().is_empty());
    assert!(
        store
            .party_promotions_of(AccountId::generate())
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn party_intent_race<S: Store + ?Sized>(store: &S) {
    let (i, _, a, _) = setup(store).await;
    let c1 = customer("C1");
    for round in 0..5_i64 {
        let code = format!("R{round}");
        let one = party_intent(&i, a, &c1, (SHIP_TO, &code), 1, round);
        let two = party_intent(&i, a, &c1, (SHIP_TO, &code), 2, round);
        let (log_one, log_two) = (
            noted(&one, LogEvent::Intent, round),
            noted(&two, LogEvent::Intent, round),
        );
        let (r1, r2) = futures_util::future::join(
            store.record_party_intent(&one, &log_one),
            store.record_party_intent(&two, &log_two),
        )
        .await;
        let (winner, loser, lost) = match (r1, r2) {
            (Ok(()), Err(e)) => (&one, &two, e),
            (Err(e), Ok(())) => (&two, &one, e),
            other => panic!("exactly one of two racing intents wins, got {other:?}"),
        };
        match lost {
            RecordPartyIntentError::Live(live) => assert_eq!(live.id, winner.id),
            other => panic!("the loser is told of the winner, got {other:?}"),
        }
        assert_eq!(store.party_promotion(loser.id).await.unwrap(), None);
        let logged: Vec<_> = store
            .log(Some(a))
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| e.promotion)
            .filter(|p| *p == one.id || *p == two.id)
            .collect();
        assert_eq!(
            logged,
            [winner.id],
            "only the winner's log entry is written"
        );
    }
    let live: Vec<_> = store
        .party_promotions_of(a)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.state.is_live())
        .collect();
    assert_eq!(live.len(), 5, "one per party");
}
