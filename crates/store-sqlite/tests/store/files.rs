//! The file itself: creation, migration, reopening, damage, newer versions.

use crm2sage_domain::contract::stores::{account, entry, holder, integration, intent, t0};
use crm2sage_domain::ports::{
    AccountFilter, AccountStore, ErpReferenceRecord, IntegrationStore, LogEntry, LogEvent,
    PromotionStore, ReferenceStore, StoreError,
};
use crm2sage_domain::{
    Binding, ErpRecord, ErpValue, IntegrationKey, ReferenceCode, ReferenceExtras, ReferenceKind,
};
use crm2sage_store_sqlite::{SCHEMA_VERSION, SqliteStore};

use crate::helpers::{Scratch, raw};

#[test]
fn an_empty_file_is_migrated_to_the_latest_schema() {
    let scratch = Scratch::new();
    let path = scratch.path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"").unwrap();
    drop(SqliteStore::open(&path).unwrap());
    let conn = raw(&path);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in [
        "accounts",
        "bindings",
        "contacts",
        "integrations",
        "party_promotions",
        "promotion_log",
        "promotions",
        "reference_records",
        "reference_sets",
        "ship_tos",
        "sync_runs",
    ] {
        assert!(tables.iter().any(|n| n == t), "{t} missing from {tables:?}");
    }
    // Opening again is a no-op.
    drop(SqliteStore::open(&path).unwrap());
}

#[test]
fn a_file_from_a_newer_crm2sage_is_refused() {
    let scratch = Scratch::new();
    let path = scratch.path();
    drop(SqliteStore::open(&path).unwrap());
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 7)
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(
        err,
        StoreError::TooNew {
            found: SCHEMA_VERSION + 7,
            supported: SCHEMA_VERSION
        }
    );
    assert!(err.to_string().contains("upgrade crm2sage"), "{err}");
}

#[test]
fn garbage_is_corrupt_not_a_panic() {
    let scratch = Scratch::new();
    let path = scratch.path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "this is not a database, just some text\n".repeat(200),
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("damaged"), "{err}");
}

#[test]
fn a_damaged_header_is_corrupt() {
    let scratch = Scratch::new();
    let path = scratch.path();
    drop(SqliteStore::open(&path).unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..16].copy_from_slice(b"definitely nope\0");
    std::fs::write(&path, bytes).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

#[test]
fn another_programs_database_is_refused() {
    let scratch = Scratch::new();
    let path = scratch.path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    raw(&path)
        .execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);")
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    // And the file was left as it was.
    let n: i64 = raw(&path)
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_malformed_file_is_corrupt_not_a_panic() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let store = SqliteStore::open(&path).unwrap();
    store
        .add_integration(&integration("alpha", true))
        .await
        .unwrap();
    drop(store); // the last connection checkpoints the WAL into the file
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192);
    // Keep the 100-byte header, scramble the schema page and the next.
    for (n, b) in bytes[100..8192].iter_mut().enumerate() {
        *b = (n % 251) as u8;
    }
    std::fs::write(&path, bytes).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

#[tokio::test]
async fn removing_an_integration_removes_its_reference_data() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let store = SqliteStore::open(&path).unwrap();
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    let run = store
        .begin_sync(
            i.id(),
            ReferenceKind::Terms,
            &crm2sage_domain::contract::stores::holder(1),
            t0(),
            t0(),
        )
        .await
        .unwrap();
    let n30 = ErpReferenceRecord {
        code: ReferenceCode::parse("N30").unwrap(),
        description: "Net 30".into(),
        active: true,
        extras: ReferenceExtras::default(),
    };
    store.stage_page(run, &[n30], t0(), t0()).await.unwrap();
    store.finish_sync(run, t0()).await.unwrap();
    // A second run left staging behind, as a killed sync would.
    let killed = store
        .begin_sync(
            i.id(),
            ReferenceKind::Tax,
            &crm2sage_domain::contract::stores::holder(1),
            t0(),
            t0(),
        )
        .await
        .unwrap();
    let tax = ErpReferenceRecord {
        code: ReferenceCode::parse("CALIF").unwrap(),
        description: "California".into(),
        active: true,
        extras: ReferenceExtras::default(),
    };
    store.stage_page(killed, &[tax], t0(), t0()).await.unwrap();
    store.remove_integration(i.name()).await.unwrap();
    let conn = raw(&path);
    for table in [
        "reference_records",
        "reference_sets",
        "sync_runs",
        "integrations",
    ] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table} still has rows");
    }
}

#[tokio::test]
async fn a_row_that_no_longer_parses_is_corrupt_naming_table_and_column() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let store = SqliteStore::open(&path).unwrap();
    store
        .add_integration(&integration("alpha", true))
        .await
        .unwrap();
    raw(&path)
        .execute("UPDATE integrations SET base_url = 'not a url'", [])
        .unwrap();
    let err = store.integrations().await.unwrap_err();
    match &err {
        StoreError::Corrupt(msg) => {
            assert!(
                msg.contains("integrations") && msg.contains("base_url"),
                "{msg}"
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_file_is_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new();
    let path = scratch.path();
    let store = SqliteStore::open(&path).unwrap();
    store
        .add_integration(&integration("alpha", true))
        .await
        .unwrap();
    for suffix in ["", "-wal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{p:?} has mode {mode:o}");
    }
    let dir = std::fs::metadata(path.parent().unwrap()).unwrap();
    assert_eq!(
        dir.permissions().mode() & 0o777,
        0o700,
        "a new directory is owner-only"
    );
}

#[test]
fn the_default_location_is_the_platform_data_dir() {
    let path = SqliteStore::default_path().unwrap();
    assert!(path.ends_with("crm2sage.db"), "{path:?}");
    assert!(
        path.parent()
            .unwrap()
            .to_string_lossy()
            .to_lowercase()
            .contains("crm2sage"),
        "{path:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_close_and_reopen_and_the_file_is_healthy() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let i = integration("alpha", true);
    let acc = account("Durable");
    let p = intent(&i, acc.id(), "C1", 1);
    let mut erp_record = ErpRecord::new();
    erp_record.push("CustomerNumber", ErpValue::Text("C1".into()));
    erp_record.push(
        "CreditLimit",
        ErpValue::Number(crm2sage_domain::ErpNumber::parse("1234.56").unwrap()),
    );
    let binding = Binding {
        account: acc.id(),
        integration: i.id(),
        customer_no: p.request.customer_no().clone(),
        external_uid: p.external_uid.clone(),
        integration_key: IntegrationKey::new(i.id(), &p.external_uid),
        promoted_at: t0(),
        origin: crm2sage_domain::BindingOrigin::Created,
        erp_record,
    };
    let logged = LogEntry {
        at: t0(),
        account: acc.id(),
        integration: Some(i.id()),
        promotion: Some(p.id),
        event: LogEvent::Promoted,
        request: "customer_no=C1".into(),
        message: None,
        duration_ms: Some(3),
    };
    let extras = ReferenceExtras {
        default_terms: Some(ReferenceCode::parse("N30").unwrap()),
        other: [("TransactionType".to_owned(), "Sales".to_owned())].into(),
        ..Default::default()
    };
    let record = ErpReferenceRecord {
        code: ReferenceCode::parse("Rtl").unwrap(),
        description: "Retail".into(),
        active: true,
        extras,
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        store.add_integration(&i).await.unwrap();
        store.insert_account(&acc).await.unwrap();
        let run = store
            .begin_sync(
                i.id(),
                ReferenceKind::Category,
                &crm2sage_domain::contract::stores::holder(1),
                t0(),
                t0(),
            )
            .await
            .unwrap();
        store
            .stage_page(run, std::slice::from_ref(&record), t0(), t0())
            .await
            .unwrap();
        store.finish_sync(run, t0()).await.unwrap();
        let intent_log = LogEntry {
            event: LogEvent::Intent,
            ..logged.clone()
        };
        store.record_intent(&p, &intent_log).await.unwrap();
        store
            .confirm(p.id, &holder(1), &binding, t0(), &logged)
            .await
            .unwrap();
        store.append_log(&logged).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.integrations().await.unwrap(), vec![i.clone()]);
    assert_eq!(store.default_integration().await.unwrap(), Some(i.clone()));
    assert_eq!(
        store.accounts(AccountFilter::Promoted).await.unwrap(),
        vec![acc.clone()]
    );
    let promoted = store.promotion(p.id).await.unwrap().unwrap();
    assert_eq!(promoted.state, crm2sage_domain::PromotionState::Promoted);
    assert_eq!(promoted.request, p.request);
    assert_eq!(store.bindings_of(acc.id()).await.unwrap(), vec![binding]);
    let intent_log = LogEntry {
        event: LogEvent::Intent,
        ..logged.clone()
    };
    assert_eq!(
        store.log(Some(acc.id())).await.unwrap(),
        vec![intent_log, logged.clone(), logged],
        "entries written with the intent and the confirm, and appended alone"
    );
    let stored = store
        .reference_record(
            i.id(),
            ReferenceKind::Category,
            &ReferenceCode::parse("RTL").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.code.as_str(), "Rtl");
    assert_eq!(stored.extras, record.extras);
    assert_eq!(
        store
            .synced_kinds(i.id())
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![ReferenceKind::Category]
    );
    drop(store);

    let conn = raw(&path);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let check: String = conn
        .pragma_query_value(None, "integrity_check", |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let fk: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0, "no dangling references");
}

#[test]
fn processes_opening_a_new_file_at_once_migrate_it_once() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let opened: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| SqliteStore::open(&path)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for result in &opened {
        assert!(result.is_ok(), "{result:?}");
    }
    let version: i64 = raw(&path)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[tokio::test]
async fn the_schema_itself_refuses_a_second_live_promotion_and_a_second_default() {
    let scratch = Scratch::new();
    let path = scratch.path();
    let store = SqliteStore::open(&path).unwrap();
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    store
        .add_integration(&integration("beta", false))
        .await
        .unwrap();
    let acc = account("A");
    store.insert_account(&acc).await.unwrap();
    let first = intent(&i, acc.id(), "C1", 1);
    store
        .record_intent(&first, &entry(LogEvent::Intent))
        .await
        .unwrap();
    store
        .fail(first.id, &holder(1), "customer number taken", t0())
        .await
        .unwrap();
    store
        .record_intent(&intent(&i, acc.id(), "C2", 2), &entry(LogEvent::Intent))
        .await
        .unwrap();

    // Even a hand-written UPDATE cannot revive the failed one beside the live one...
    let conn = raw(&path);
    let revive = conn.execute(
        "UPDATE promotions SET state = 'promoted' WHERE state = 'failed'",
        [],
    );
    assert!(revive.is_err(), "a second live promotion of the account");
    // ...nor make both integrations the default.
    let both = conn.execute("UPDATE integrations SET is_default = 1", []);
    assert!(both.is_err(), "two defaults");
}
