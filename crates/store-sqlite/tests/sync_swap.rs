//! The sync swap (`finish_sync`) over SQLite, against the in-memory fake as the reference:
//! counts, what each record reads afterwards (its `synced_at` included), and that a resync, an
//! aborted sync or a run begun by another store leave the snapshot exactly as it was.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crm2sage_domain::contract::stores::{integration, t0};
use crm2sage_domain::fakes::MemoryStore;
use crm2sage_domain::ports::{
    ErpReferenceRecord, IntegrationStore, ReferenceStore, StoreError, SyncRunError,
};
use crm2sage_domain::{
    Integration, ReferenceCode, ReferenceExtras, ReferenceKind, ReferenceRecord, SyncCounts,
    SyncOutcome, Timestamp,
};
use crm2sage_store_sqlite::SqliteStore;
use tempfile::TempDir;

const KIND: ReferenceKind = ReferenceKind::Category;

fn at(seconds: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap()
}

fn code(raw: &str) -> ReferenceCode {
    ReferenceCode::parse(raw).unwrap()
}

fn group(code_: &str, description: &str, active: bool) -> ErpReferenceRecord {
    ErpReferenceRecord {
        code: code(code_),
        description: description.into(),
        active,
        extras: ReferenceExtras {
            default_terms: Some(code("N30")),
            default_tax_group: Some(code("CALIF")),
            other: [("AccountSet".to_owned(), "USA".to_owned())].into(),
        },
    }
}

/// Everything a reader sees of a record, spellings included (`ReferenceCode` compares by key).
type Seen = (
    String,
    String,
    bool,
    Option<String>,
    Option<String>,
    BTreeMap<String, String>,
    Timestamp,
);

fn seen(records: &[ReferenceRecord]) -> Vec<Seen> {
    records
        .iter()
        .map(|r| {
            (
                r.code.as_str().to_owned(),
                r.description.clone(),
                r.active,
                r.extras
                    .default_terms
                    .as_ref()
                    .map(|c| c.as_str().to_owned()),
                r.extras
                    .default_tax_group
                    .as_ref()
                    .map(|c| c.as_str().to_owned()),
                r.extras.other.clone(),
                r.synced_at,
            )
        })
        .collect()
}

fn counts(c: SyncCounts) -> (u64, u64, u64, u64) {
    (c.added, c.updated, c.deactivated, c.total)
}

struct Db {
    _dir: TempDir,
    path: std::path::PathBuf,
    store: SqliteStore,
    integration: Integration,
}

async fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm2sage.db");
    let store = SqliteStore::open(&path).unwrap();
    let integration = integration("alpha", true);
    store.add_integration(&integration).await.unwrap();
    Db {
        _dir: dir,
        path,
        store,
        integration,
    }
}

/// One sync of [`KIND`]: `pages` staged in order, finished at `at(t + 1)`.
async fn sync<S: ReferenceStore + ?Sized>(
    store: &S,
    i: &Integration,
    t: i64,
    pages: &[Vec<ErpReferenceRecord>],
) -> SyncCounts {
    let run = store
        .begin_sync(
            i.id(),
            KIND,
            &crm2sage_domain::contract::stores::holder(1),
            at(t),
            at(t),
        )
        .await
        .unwrap();
    for page in pages {
        store.stage_page(run, page, at(t), at(t)).await.unwrap();
    }
    store.finish_sync(run, at(t + 1)).await.unwrap()
}

async fn snapshot<S: ReferenceStore + ?Sized>(store: &S, i: &Integration) -> Vec<Seen> {
    seen(&store.reference_records(i.id(), KIND).await.unwrap())
}

#[tokio::test]
async fn a_resync_that_changes_nothing_adds_and_updates_nothing_and_moves_synced_at() {
    let db = db().await;
    let (store, i) = (&db.store, &db.integration);
    let page = vec![
        group("RTL", "Retail", true),
        group("OLD", "Old", false),
        group("WHL", "Wholesale", true),
    ];
    assert_eq!(
        counts(sync(store, i, 0, std::slice::from_ref(&page)).await),
        (3, 0, 0, 3)
    );
    let first = snapshot(store, i).await;
    assert!(first.iter().all(|r| r.6 == at(1)));

    assert_eq!(
        counts(sync(store, i, 10, &[page]).await),
        (0, 0, 0, 3),
        "nothing added, updated or deactivated"
    );
    let second = snapshot(store, i).await;
    assert_eq!(second.len(), 3);
    for (before, after) in first.iter().zip(&second) {
        assert_eq!(
            (
                &before.0, &before.1, before.2, &before.3, &before.4, &before.5
            ),
            (&after.0, &after.1, after.2, &after.3, &after.4, &after.5),
            "content unchanged"
        );
        assert_eq!(
            after.6,
            at(11),
            "every record the sync returned, inactive ones too, reads the sync's time"
        );
    }
    let one = store
        .reference_record(i.id(), KIND, &code("old"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((one.active, one.synced_at), (false, at(11)));
    let many = store
        .reference_records_by_code(i.id(), &[(KIND, code("whl")), (KIND, code("nope"))])
        .await
        .unwrap();
    assert_eq!(many[0].as_ref().unwrap().synced_at, at(11));
    assert!(many[1].is_none());
}

#[tokio::test]
async fn synced_at_is_when_a_sync_last_wrote_the_record() {
    let db = db().await;
    let (store, i) = (&db.store, &db.integration);
    let synced = |records: Vec<Seen>| -> Vec<(String, bool, Timestamp)> {
        records.into_iter().map(|r| (r.0, r.2, r.6)).collect()
    };
    let a = group("A", "a", true);
    let b_inactive = group("B", "b", false);
    let c = group("C", "c", true);
    sync(
        store,
        i,
        0,
        &[vec![a.clone(), b_inactive.clone(), c.clone()]],
    )
    .await;

    // C goes: deactivated now. B goes too, but it was inactive already: it keeps its time.
    assert_eq!(
        counts(sync(store, i, 10, &[vec![a.clone()]]).await),
        (0, 0, 1, 1)
    );
    assert_eq!(
        synced(snapshot(store, i).await),
        [
            ("A".into(), true, at(11)),
            ("B".into(), false, at(1)),
            ("C".into(), false, at(11))
        ]
    );

    // Both come back: C is active again (an update), B is unchanged (not one) but returned.
    assert_eq!(
        counts(
            sync(
                store,
                i,
                20,
                &[vec![a.clone(), b_inactive.clone(), c.clone()]]
            )
            .await
        ),
        (0, 1, 0, 3)
    );
    assert_eq!(
        synced(snapshot(store, i).await),
        [
            ("A".into(), true, at(21)),
            ("B".into(), false, at(21)),
            ("C".into(), true, at(21))
        ]
    );

    // An empty list: everything active is deactivated, nothing is deleted.
    assert_eq!(counts(sync(store, i, 30, &[]).await), (0, 0, 2, 0));
    assert_eq!(
        synced(snapshot(store, i).await),
        [
            ("A".into(), false, at(31)),
            ("B".into(), false, at(21)),
            ("C".into(), false, at(31))
        ]
    );
}

#[tokio::test]
async fn the_last_staged_record_of_a_code_wins_and_spellings_follow_the_erp() {
    let db = db().await;
    let (store, i) = (&db.store, &db.integration);
    sync(store, i, 0, &[vec![group("Rtl", "Retail", true)]]).await;
    let mut respelled = group("RTL", "Retail", true);
    respelled.extras.default_terms = Some(code("n30"));
    let c = sync(
        store,
        i,
        10,
        &[
            vec![group("rtl", "first", false), group("X", "x", true)],
            vec![group("x", "x again", true), respelled],
        ],
    )
    .await;
    // RTL: the code's spelling changed (an update), the default's spelling did not count.
    // X: new, staged twice, once.
    assert_eq!(counts(c), (1, 1, 0, 2));
    let records = snapshot(store, i).await;
    assert_eq!(records[0].0, "RTL");
    assert_eq!(records[0].1, "Retail", "the later page won");
    assert!(records[0].2);
    assert_eq!(
        records[0].3.as_deref(),
        Some("n30"),
        "a default's new spelling is stored"
    );
    assert_eq!(
        (records[1].0.as_str(), records[1].1.as_str()),
        ("x", "x again")
    );

    // Only a default's spelling changes: written, not counted.
    let mut again = group("RTL", "Retail", true);
    again.extras.default_terms = Some(code("N30"));
    let c = sync(store, i, 20, &[vec![again, group("x", "x again", true)]]).await;
    assert_eq!(counts(c), (0, 0, 0, 2));
    assert_eq!(
        snapshot(store, i).await[0].3.as_deref(),
        Some("N30"),
        "the spelling follows the ERP even when nothing counts as updated"
    );
}

#[tokio::test]
async fn an_aborted_sync_leaves_the_snapshot_exactly_as_it_was() {
    let db = db().await;
    let (store, i) = (&db.store, &db.integration);
    sync(
        store,
        i,
        0,
        &[vec![group("A", "a", true), group("B", "b", false)]],
    )
    .await;
    sync(store, i, 10, &[vec![group("A", "a", true)]]).await;
    let before = snapshot(store, i).await;

    let run = store
        .begin_sync(
            i.id(),
            KIND,
            &crm2sage_domain::contract::stores::holder(1),
            at(20),
            at(20),
        )
        .await
        .unwrap();
    store
        .stage_page(
            run,
            &[group("A", "changed", false), group("NEW", "new", true)],
            at(21),
            at(81),
        )
        .await
        .unwrap();
    store
        .abort_sync(run, SyncOutcome::Failed, "page 2 failed", at(22))
        .await
        .unwrap();
    assert_eq!(
        snapshot(store, i).await,
        before,
        "untouched, synced_at included"
    );
    assert!(matches!(
        store.finish_sync(run, at(23)).await,
        Err(SyncRunError::NotRunning(_))
    ));

    // The next sync sees nothing of the aborted one's staging.
    let c = sync(store, i, 30, &[vec![group("A", "a", true)]]).await;
    assert_eq!(counts(c), (0, 0, 0, 1));
}

#[tokio::test]
async fn a_run_begun_by_another_store_on_the_file_is_refused_there_and_changes_nothing() {
    let db = db().await;
    let (store, i) = (&db.store, &db.integration);
    sync(store, i, 0, &[vec![group("A", "a", true)]]).await;
    let before = snapshot(store, i).await;
    let other = SqliteStore::open(&db.path).unwrap();

    let run = store
        .begin_sync(
            i.id(),
            KIND,
            &crm2sage_domain::contract::stores::holder(1),
            at(10),
            at(10),
        )
        .await
        .unwrap();
    store
        .stage_page(run, &[group("B", "b", true)], at(11), at(11))
        .await
        .unwrap();
    // Its staging lives with the connection that began it.
    let err = other
        .stage_page(run, &[group("C", "c", true)], at(12), at(12))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncRunError::Store(StoreError::Internal(_))),
        "{err:?}"
    );
    let err = other.finish_sync(run, at(12)).await.unwrap_err();
    assert!(
        matches!(err, SyncRunError::Store(StoreError::Internal(_))),
        "{err:?}"
    );
    assert_eq!(snapshot(store, i).await, before);
    assert_eq!(snapshot(&other, i).await, before);

    // The store that began it finishes it, with only what it staged.
    let c = store.finish_sync(run, at(13)).await.unwrap();
    assert_eq!(counts(c), (1, 0, 1, 1));
}

/// A small deterministic generator (xorshift), so the comparison below needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A record of the ERP's list: each field is picked from a few values, so syncs in a row
/// repeat, change, drop and bring back records, and respell codes and defaults.
fn random_record(rng: &mut Rng) -> ErpReferenceRecord {
    let n = rng.below(40);
    let spelled = if rng.below(4) == 0 {
        format!("g{n:02}")
    } else {
        format!("G{n:02}")
    };
    let terms = match rng.below(4) {
        0 => None,
        1 => Some(code("n30")),
        _ => Some(code("N30")),
    };
    let mut other = BTreeMap::new();
    if rng.below(3) == 0 {
        other.insert("AccountSet".to_owned(), format!("S{}", rng.below(2)));
    }
    ErpReferenceRecord {
        code: code(&spelled),
        description: format!("group {n} v{}", rng.below(2)),
        active: rng.below(5) != 0,
        extras: ReferenceExtras {
            default_terms: terms,
            default_tax_group: (rng.below(2) == 0).then(|| code("CALIF")),
            other,
        },
    }
}

#[tokio::test]
async fn many_syncs_in_a_row_match_the_reference_fake() {
    let db = db().await;
    let sqlite = &db.store;
    let fake = MemoryStore::new();
    let i = &db.integration;
    fake.add_integration(i).await.unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..60_i64 {
        let t = round * 10;
        let pages: Vec<Vec<ErpReferenceRecord>> = (0..rng.below(4))
            .map(|_| {
                (0..rng.below(25))
                    .map(|_| random_record(&mut rng))
                    .collect()
            })
            .collect();
        if rng.below(6) == 0 {
            // An aborted sync changes nothing, on either side.
            for store in [sqlite as &dyn ReferenceStore, &fake] {
                let run = store
                    .begin_sync(
                        i.id(),
                        KIND,
                        &crm2sage_domain::contract::stores::holder(1),
                        at(t),
                        at(t),
                    )
                    .await
                    .unwrap();
                for page in &pages {
                    store.stage_page(run, page, at(t), at(t)).await.unwrap();
                }
                store
                    .abort_sync(run, SyncOutcome::Failed, "stopped", at(t + 1))
                    .await
                    .unwrap();
            }
        } else {
            let expected = sync(&fake, i, t, &pages).await;
            let got = sync(sqlite, i, t, &pages).await;
            assert_eq!(counts(got), counts(expected), "round {round}: counts");
        }
        assert_eq!(
            snapshot(sqlite, i).await,
            snapshot(&fake, i).await,
            "round {round}: records"
        );
    }
}
