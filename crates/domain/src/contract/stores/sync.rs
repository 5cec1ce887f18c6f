//! The store contract's sync checks: snapshots, one run at a time, aborts.

use super::*;

pub(super) async fn sync_snapshot<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    store.add_integration(&i).await.unwrap();
    let kind = ReferenceKind::Category;
    assert!(store.synced_kinds(i.id()).await.unwrap().is_empty());

    let run = store
        .begin_sync(i.id(), kind, &holder(1), at(0), at(60))
        .await
        .unwrap();
    let mut rtl = record("RTL", "Retail", true);
    rtl.extras.default_terms = Some(ReferenceCode::parse("N30").unwrap());
    rtl.extras.other.insert("AccountSet".into(), "USA".into());
    store
        .stage_page(
            run,
            &[rtl.clone(), record("WHL", "Wholesale", true)],
            at(1),
            at(61),
        )
        .await
        .unwrap();
    store
        .stage_page(
            run,
            &[
                record("INA", "Old", false),
                record("WI MIL", "Milwaukee", true),
            ],
            at(2),
            at(62),
        )
        .await
        .unwrap();
    let counts = store.finish_sync(run, at(3)).await.unwrap();
    assert_eq!(
        (
            counts.added,
            counts.updated,
            counts.deactivated,
            counts.total
        ),
        (4, 0, 0, 4),
        "first sync adds all"
    );
    assert_eq!(
        store
            .synced_kinds(i.id())
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![kind]
    );

    let found = store
        .reference_record(i.id(), kind, &ReferenceCode::parse("rtl").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.code.as_str(),
        "RTL",
        "codes match case-insensitively and keep the ERP's spelling"
    );
    assert_eq!(found.extras, rtl.extras, "extras survive");
    assert!(found.active);
    let wanted = [
        (kind, ReferenceCode::parse("whl").unwrap()),
        (kind, ReferenceCode::parse("NOPE").unwrap()),
        (ReferenceKind::Terms, ReferenceCode::parse("RTL").unwrap()),
        (kind, ReferenceCode::parse("rtl").unwrap()),
    ];
    let many = store
        .reference_records_by_code(i.id(), &wanted)
        .await
        .unwrap();
    let codes: Vec<Option<&str>> = many
        .iter()
        .map(|r| r.as_ref().map(|r| r.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [Some("WHL"), None, None, Some("RTL")],
        "many codes at once, in order, by kind"
    );
    let ina = store
        .reference_record(i.id(), kind, &ReferenceCode::parse("INA").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !ina.active,
        "a record the ERP marks inactive is stored inactive"
    );
    assert!(
        store
            .reference_record(i.id(), kind, &ReferenceCode::parse("wi mil").unwrap())
            .await
            .unwrap()
            .is_some(),
        "inner spaces"
    );

    // Second sync: WHL changed, WI MIL gone, NEW added, RTL unchanged.
    let run = store
        .begin_sync(i.id(), kind, &holder(1), at(10), at(70))
        .await
        .unwrap();
    store
        .stage_page(
            run,
            &[
                rtl.clone(),
                record("WHL", "Wholesale (changed)", true),
                record("INA", "Old", false),
                record("NEW", "New", true),
            ],
            at(11),
            at(71),
        )
        .await
        .unwrap();
    let counts = store.finish_sync(run, at(12)).await.unwrap();
    assert_eq!(
        (
            counts.added,
            counts.updated,
            counts.deactivated,
            counts.total
        ),
        (1, 1, 1, 4),
        "added/updated/deactivated/total"
    );
    let gone = store
        .reference_record(i.id(), kind, &ReferenceCode::parse("WI MIL").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !gone.active,
        "a record the ERP no longer returns is kept, inactive"
    );
    let all = store.reference_records(i.id(), kind).await.unwrap();
    assert_eq!(all.len(), 5, "nothing is deleted");

    let runs = store.sync_runs(i.id()).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].counts.added, 1, "newest first");
    assert!(
        runs.iter()
            .all(|r| r.outcome == SyncOutcome::Ok && r.finished_at.is_some())
    );
}

pub(super) async fn sync_concurrency_and_abort<S: Store + ?Sized>(store: &S) {
    let i = integration("alpha", false);
    store.add_integration(&i).await.unwrap();
    let kind = ReferenceKind::Terms;
    let run = store
        .begin_sync(i.id(), kind, &holder(1), at(0), at(60))
        .await
        .unwrap();
    store
        .stage_page(run, &[record("N30", "Net 30", true)], at(1), at(61))
        .await
        .unwrap();
    store.finish_sync(run, at(2)).await.unwrap();

    let run = store
        .begin_sync(i.id(), kind, &holder(1), at(10), at(70))
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .begin_sync(i.id(), kind, &holder(1), at(11), at(71))
                .await,
            Err(BeginSyncError::AlreadyRunning { .. })
        ),
        "one sync of a kind at a time"
    );
    // Another kind may sync meanwhile.
    let other = store
        .begin_sync(i.id(), ReferenceKind::Tax, &holder(1), at(11), at(71))
        .await
        .unwrap();
    store
        .abort_sync(other, SyncOutcome::Unavailable, "not offered", at(12))
        .await
        .unwrap();
    assert!(
        !store
            .synced_kinds(i.id())
            .await
            .unwrap()
            .contains(&ReferenceKind::Tax),
        "unavailable is not synced"
    );

    store
        .stage_page(run, &[record("N60", "Net 60", true)], at(12), at(72))
        .await
        .unwrap();
    store
        .abort_sync(run, SyncOutcome::Failed, "page 3 failed", at(13))
        .await
        .unwrap();
    let terms = store.reference_records(i.id(), kind).await.unwrap();
    assert_eq!(terms.len(), 1, "a failed sync changes nothing");
    assert!(terms[0].active && terms[0].code.as_str() == "N30");
    assert!(matches!(
        store.stage_page(run, &[], at(14), at(74)).await,
        Err(SyncRunError::NotRunning(_))
    ));
    assert!(matches!(
        store.finish_sync(run, at(14)).await,
        Err(SyncRunError::NotRunning(_))
    ));
    let failed = store
        .sync_runs(i.id())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == run)
        .unwrap();
    assert_eq!(failed.outcome, SyncOutcome::Failed);
    assert_eq!(failed.error.as_deref(), Some("page 3 failed"));

    // A run never finished (its process killed, its future dropped) blocks its kind, whoever
    // asks and however long ago it expired: the caller judges its holder, not the store.
    let killed = store
        .begin_sync(i.id(), kind, &holder(7), at(20), at(80))
        .await
        .unwrap();
    store
        .stage_page(
            killed,
            &[record("ZZZ", "From the killed run", true)],
            at(21),
            at(90),
        )
        .await
        .unwrap();
    for now in [30, 10_000] {
        match store
            .begin_sync(i.id(), kind, &holder(8), at(now), at(now + 60))
            .await
        {
            Err(BeginSyncError::AlreadyRunning {
                kind: k,
                run,
                holder: h,
                expires_at,
                since,
            }) => {
                assert_eq!(
                    (k, run, h, expires_at, since),
                    (kind, killed, holder(7), at(90), at(20)),
                    "the running run, its holder, the expiry its last page set, its start"
                );
            }
            other => panic!("expected AlreadyRunning at {now}, got {other:?}"),
        }
    }
    // Its holder judged gone, the run is abandoned: closed as failed, its staging discarded.
    store
        .abandon_sync(killed, "abandoned: the process running it stopped", at(31))
        .await
        .unwrap();
    assert!(matches!(
        store.abandon_sync(killed, "again", at(32)).await,
        Err(SyncRunError::NotRunning(_))
    ));
    let fresh = store
        .begin_sync(i.id(), kind, &holder(8), at(40), at(100))
        .await
        .unwrap();
    store
        .stage_page(fresh, &[record("N30", "Net 30", true)], at(41), at(101))
        .await
        .unwrap();
    let counts = store.finish_sync(fresh, at(42)).await.unwrap();
    assert_eq!(counts.total, 1, "the killed run's staging was discarded");
    assert!(
        store
            .reference_record(i.id(), kind, &ReferenceCode::parse("ZZZ").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.finish_sync(killed, at(43)).await,
        Err(SyncRunError::NotRunning(_))
    ));
    assert!(matches!(
        store.stage_page(killed, &[], at(43), at(103)).await,
        Err(SyncRunError::NotRunning(_))
    ));
    let abandoned = store
        .sync_runs(i.id())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == killed)
        .unwrap();
    assert_eq!(abandoned.outcome, SyncOutcome::Failed);
    assert_eq!(abandoned.finished_at, Some(at(31)));
    assert_eq!(
        abandoned.error.as_deref(),
        Some("abandoned: the process running it stopped")
    );
}
