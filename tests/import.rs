//! Issue 19 item 1: the streaming import on the fakes and SQLite — rows taken lazily, a chunk
//! at a time; each row an upsert by reference, so importing again is safe; outcomes in order.

use std::cell::Cell;
use std::sync::Arc;

use crm2sage_domain::fakes::{FakeErp, ManualClock};
use crm2sage_domain::ports::{AccountFilter, AccountStore};
use crm2sage_domain::services::{IMPORT_CHUNK, ImportOutcome, ImportRow, Upserted};
use crm2sage_domain::{InvalidField, InvalidFields, NewAccount};
use crm2sage_tests::{fake_services, valid_account};

fn row(i: usize, name: &str) -> NewAccount {
    let mut input = valid_account();
    input.name = name.into();
    input.reference = Some(format!("IMP-{i:05}"));
    input
}

fn rows(n: usize, name: &str) -> Vec<ImportRow<usize>> {
    (0..n)
        .map(|i| ImportRow::new(i, row(i, &format!("{name} {i}"))))
        .collect()
}

fn how(outcome: &ImportOutcome) -> &'static str {
    match outcome {
        ImportOutcome::Stored(_, how) => how.as_str(),
        ImportOutcome::Rejected(_) => "rejected",
        _ => "other",
    }
}

#[tokio::test]
async fn rows_are_taken_a_chunk_at_a_time_and_reported_in_order() {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let n = 2 * IMPORT_CHUNK + 345;
    let pulled = Cell::new(0usize);
    let mut pulled_at_first_report = None;
    let mut seen = Vec::new();
    let source = rows(n, "Account")
        .into_iter()
        .inspect(|_| pulled.set(pulled.get() + 1));
    let summary = services
        .import_accounts(source, |tag, outcome| {
            pulled_at_first_report.get_or_insert(pulled.get());
            seen.push((tag, how(&outcome)));
        })
        .await
        .unwrap();
    assert_eq!(
        pulled_at_first_report,
        Some(2 * IMPORT_CHUNK),
        "the first chunk is stored and reported once the second is read, before any more"
    );
    assert_eq!(seen.len(), n);
    assert!(
        seen.iter()
            .enumerate()
            .all(|(i, (tag, how))| *tag == i && *how == "created")
    );
    assert_eq!((summary.created, summary.stored()), (n as u64, n as u64));
    assert_eq!(store.accounts(AccountFilter::All).await.unwrap().len(), n);
}

#[tokio::test]
async fn importing_again_leaves_equal_rows_unchanged_and_updates_changed_ones() {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let n = IMPORT_CHUNK + 10;
    services
        .import_accounts(rows(n, "Account"), |_, _| {})
        .await
        .unwrap();
    let mut ids = Vec::new();
    let summary = services
        .import_accounts(rows(n, "Account"), |_, outcome| {
            if let ImportOutcome::Stored(account, _) = outcome {
                ids.push(account.id());
            }
        })
        .await
        .unwrap();
    assert_eq!(summary.unchanged, n as u64, "{summary:?}");
    assert_eq!(summary.created, 0);

    let mut changed = rows(n, "Account");
    changed[3] = ImportRow::new(3, row(3, "Renamed"));
    changed[IMPORT_CHUNK + 2] = ImportRow::new(IMPORT_CHUNK + 2, row(IMPORT_CHUNK + 2, "Renamed"));
    let mut updated = Vec::new();
    let summary = services
        .import_accounts(changed, |tag, outcome| {
            if let ImportOutcome::Stored(account, Upserted::Updated) = outcome {
                assert_eq!(account.id(), ids[tag], "the same account");
                assert_eq!(account.details().name().as_str(), "Renamed");
                updated.push(tag);
            }
        })
        .await
        .unwrap();
    assert_eq!(updated, [3, IMPORT_CHUNK + 2]);
    assert_eq!(summary.unchanged, n as u64 - 2);
    assert_eq!(
        store.accounts(AccountFilter::All).await.unwrap().len(),
        n,
        "never duplicated"
    );
}

#[tokio::test]
async fn a_repeated_reference_is_applied_in_order_and_bad_rows_are_rejected_in_place() {
    let (services, store) = fake_services(FakeErp::sage300_demo());
    let mut bad = valid_account();
    bad.billing.country = "XX".into();
    let input = vec![
        ImportRow::new(0, row(1, "First")),
        ImportRow::new(1, row(1, "Second")),
        ImportRow::new(2, row(1, "Second")),
        ImportRow::new(3, bad),
        ImportRow::refused(
            4,
            InvalidFields::single(InvalidField::new("name", "unreadable")),
        ),
        ImportRow::new(5, {
            let mut no_reference = row(9, "Loose");
            no_reference.reference = None;
            no_reference
        }),
    ];
    let mut seen = Vec::new();
    let summary = services
        .import_accounts(input, |tag, outcome| seen.push((tag, how(&outcome))))
        .await
        .unwrap();
    assert_eq!(
        seen,
        [
            (0, "created"),
            (1, "updated"),
            (2, "unchanged"),
            (3, "rejected"),
            (4, "rejected"),
            (5, "created")
        ]
    );
    assert_eq!(
        (
            summary.created,
            summary.updated,
            summary.unchanged,
            summary.rejected
        ),
        (2, 1, 1, 2)
    );
    let all = store.accounts(AccountFilter::All).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all.iter().any(|a| a.details().name().as_str() == "Second"),
        "the later row won"
    );
}

/// Two imports of one file at once, on SQLite: a chunk whose write loses the race for a
/// reference is stored row by row as upserts — one account per reference, no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_of_one_file_make_one_account_per_reference() {
    let dir = tempfile::tempdir().unwrap();
    let (services, store) = crm2sage_tests::real_services(dir.path(), "UNUSED", "unused");
    let services = Arc::new(services.with_clock(Arc::new(ManualClock::default())));
    let n = IMPORT_CHUNK + 500;
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let services = Arc::clone(&services);
            tokio::spawn(async move { services.import_accounts(rows(n, "Racer"), |_, _| {}).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let summary = task.await.unwrap().unwrap();
        assert_eq!(summary.stored(), n as u64, "{summary:?}");
        created += summary.created;
    }
    assert_eq!(created, n as u64, "each reference created once");
    assert_eq!(store.accounts(AccountFilter::All).await.unwrap().len(), n);
}

/// A reference the chunk before created or changed comes again in the next chunk, which is
/// decided while that one is written: on the fake and on SQLite the later row is applied to
/// the account the earlier row left (updated, or unchanged when equal), never a second account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_repeated_across_a_chunk_boundary_is_one_account() {
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, sqlite_store) = crm2sage_tests::real_services(dir.path(), "UNUSED", "unused");
    let (fake, fake_store) = fake_services(FakeErp::sage300_demo());
    // Chunk 1 creates IMP-00000..; chunk 2 repeats IMP-00001 changed, IMP-00002 unchanged.
    let mut input = rows(IMPORT_CHUNK, "First");
    input.push(ImportRow::new(IMPORT_CHUNK, row(1, "Renamed")));
    input.push(ImportRow::new(IMPORT_CHUNK + 1, row(2, "First 2")));
    input.push(ImportRow::new(IMPORT_CHUNK + 2, row(IMPORT_CHUNK, "New")));
    macro_rules! check {
        ($services:expr, $store:expr) => {{
            let mut tail = Vec::new();
            let summary = $services
                .import_accounts(input.clone(), |tag, outcome| {
                    if tag >= IMPORT_CHUNK {
                        tail.push((tag, how(&outcome)));
                    }
                })
                .await
                .unwrap();
            assert_eq!(
                tail,
                [
                    (IMPORT_CHUNK, "updated"),
                    (IMPORT_CHUNK + 1, "unchanged"),
                    (IMPORT_CHUNK + 2, "created")
                ]
            );
            assert_eq!(
                (summary.created, summary.updated, summary.unchanged),
                (IMPORT_CHUNK as u64 + 1, 1, 1)
            );
            let all = $store.accounts(AccountFilter::All).await.unwrap();
            assert_eq!(all.len(), IMPORT_CHUNK + 1);
            let renamed: Vec<_> = all
                .iter()
                .filter(|a| a.details().reference().map(|r| r.as_str()) == Some("IMP-00001"))
                .collect();
            assert_eq!(renamed.len(), 1);
            assert_eq!(renamed[0].details().name().as_str(), "Renamed");
        }};
    }
    check!(sqlite, sqlite_store);
    check!(fake, fake_store);
}
