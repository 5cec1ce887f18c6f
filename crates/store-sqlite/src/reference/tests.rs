//! Tests of the SQLite reference store's internals: staging and the swap's plan (its timings are
//! the `sync` benchmark's `final_swap_s`).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use crm2sage_domain::contract::stores::{holder, integration, t0};
use crm2sage_domain::ports::IntegrationStore;

use rusqlite::Connection;

use crm2sage_domain::ports::{BeginSyncError, ErpReferenceRecord, StoreError, SyncRunError};
use crm2sage_domain::{
    IntegrationId, ReferenceCode, ReferenceExtras, ReferenceKind, SyncCounts, SyncOutcome,
    SyncRunId, Timestamp,
};

use super::reads::{RECORD_BY_KEY, record_by_key};
use super::run::{running, staging_table};
use crate::SqliteStore;
use crate::db::{as_one_write, connect};

// The write functions as the writer thread runs them: each in a transaction of its own.
fn begin(
    conn: &mut Connection,
    integration: IntegrationId,
    kind: ReferenceKind,
    now: Timestamp,
) -> Result<SyncRunId, BeginSyncError> {
    let expires = now
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap();
    as_one_write(conn, |c| {
        super::run::begin(c, integration, kind, &holder(1), now, expires)
    })
}

fn stage(
    conn: &mut Connection,
    run: SyncRunId,
    records: &[ErpReferenceRecord],
    now: Timestamp,
) -> Result<(), SyncRunError> {
    let expires = now
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap();
    as_one_write(conn, |c| super::run::stage(c, run, records, now, expires))
}

fn finish(
    conn: &mut Connection,
    run: SyncRunId,
    now: Timestamp,
) -> Result<SyncCounts, SyncRunError> {
    as_one_write(conn, |c| super::swap::finish(c, run, now))
}

fn abort(
    conn: &mut Connection,
    run: SyncRunId,
    outcome: SyncOutcome,
    error: &str,
    now: Timestamp,
) -> Result<(), SyncRunError> {
    as_one_write(conn, |c| super::run::abort(c, run, outcome, error, now))
}

fn at(seconds: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap()
}

/// A store file with one integration, and a writer connection of our own on it.
async fn writer(path: &Path) -> (IntegrationId, Connection) {
    let store = SqliteStore::open(path).unwrap();
    let i = integration("alpha", true);
    store.add_integration(&i).await.unwrap();
    (i.id(), connect(path, false).unwrap())
}

fn temp_tables(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT name FROM temp.sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn record(code: &str) -> ErpReferenceRecord {
    ErpReferenceRecord {
        code: ReferenceCode::parse(code).unwrap(),
        description: format!("{code} description"),
        active: true,
        extras: ReferenceExtras::default(),
    }
}

#[tokio::test]
async fn staging_lives_in_temp_and_goes_at_finish_abort_and_the_next_begin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let (i, mut conn) = writer(&path).await;
    let kind = ReferenceKind::Terms;

    let run = begin(&mut conn, i, kind, at(0)).unwrap();
    stage(&mut conn, run, &[record("N30")], at(1)).unwrap();
    let (seq, _, _) = running(&conn, run).unwrap();
    assert_eq!(temp_tables(&conn), [staging_table(seq)]);
    let staged: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM temp.{}", staging_table(seq)),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(staged, 1);
    finish(&mut conn, run, at(2)).unwrap();
    assert!(temp_tables(&conn).is_empty(), "finish drops the staging");

    let run = begin(&mut conn, i, kind, at(10)).unwrap();
    stage(&mut conn, run, &[record("N60")], at(11)).unwrap();
    abort(&mut conn, run, SyncOutcome::Failed, "boom", at(12)).unwrap();
    assert!(temp_tables(&conn).is_empty(), "abort drops the staging");

    // Abandoned in this process (never finished nor aborted): it blocks its kind until it
    // is abandoned, and the next begin drops its staging.
    let abandoned = begin(&mut conn, i, kind, at(20)).unwrap();
    stage(&mut conn, abandoned, &[record("ZZZ")], at(21)).unwrap();
    assert!(matches!(
        begin(&mut conn, i, kind, at(400)),
        Err(BeginSyncError::AlreadyRunning { run, .. }) if run == abandoned
    ));
    // Closed by another connection (another process abandoned it): this staging stays
    // until this connection begins again.
    let (seq, _, _) = running(&conn, abandoned).unwrap();
    conn.execute(
        "UPDATE sync_runs SET outcome = 'failed' WHERE seq = ?1",
        [seq],
    )
    .unwrap();
    assert_eq!(
        temp_tables(&conn).len(),
        1,
        "closing elsewhere leaves this staging"
    );
    let fresh = begin(&mut conn, i, kind, at(400)).unwrap();
    let (seq, _, _) = running(&conn, fresh).unwrap();
    assert_eq!(temp_tables(&conn), [staging_table(seq)]);
    assert!(matches!(
        stage(&mut conn, abandoned, &[record("ZZZ")], at(401)),
        Err(SyncRunError::NotRunning(_))
    ));
    let counts = finish(&mut conn, fresh, at(402)).unwrap();
    assert_eq!((counts.total, counts.deactivated), (0, 1));

    // The main file holds no staging at all.
    let main_tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM main.sqlite_schema WHERE name LIKE '%stag%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(main_tables, 0);
}

#[tokio::test]
async fn a_run_another_connection_began_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let (i, mut mine) = writer(&path).await;
    let mut other = connect(&path, false).unwrap();
    let kind = ReferenceKind::Terms;
    let run = begin(&mut mine, i, kind, at(0)).unwrap();
    stage(&mut mine, run, &[record("N30")], at(1)).unwrap();

    let err = stage(&mut other, run, &[record("N60")], at(2)).unwrap_err();
    let refused = matches!(&err, SyncRunError::Store(StoreError::Internal(m))
        if m.contains("not on this connection"));
    assert!(refused, "{err:?}");
    let err = finish(&mut other, run, at(3)).unwrap_err();
    assert!(matches!(err, SyncRunError::Store(_)), "{err:?}");
    assert!(temp_tables(&other).is_empty());
    // Still running, and its own connection finishes it with what it staged.
    let counts = finish(&mut mine, run, at(4)).unwrap();
    assert_eq!((counts.added, counts.total), (1, 1));
    // Abort needs no staging: another connection may end a run.
    let run = begin(&mut mine, i, kind, at(10)).unwrap();
    abort(&mut other, run, SyncOutcome::Failed, "stopped", at(11)).unwrap();
    assert!(matches!(
        finish(&mut mine, run, at(12)),
        Err(SyncRunError::NotRunning(_))
    ));
}

#[tokio::test]
async fn a_code_check_reuses_its_statement_whatever_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let (i, mut conn) = writer(&path).await;
    let run = begin(&mut conn, i, ReferenceKind::Terms, at(0)).unwrap();
    stage(&mut conn, run, &[record("N30"), record("N60")], at(1)).unwrap();
    finish(&mut conn, run, at(2)).unwrap();
    let reader = connect(&path, true).unwrap();
    for code in ["N30", "N60", "N90", "n30"] {
        let found =
            record_by_key(&reader, i, ReferenceKind::Terms, &code.to_ascii_uppercase()).unwrap();
        assert_eq!(found.is_some(), code != "N90", "{code}");
        if let Some(r) = &found {
            assert_eq!((r.integration, r.kind), (i, ReferenceKind::Terms));
            assert_eq!(r.synced_at, at(2));
        }
    }
    let stmt = reader.prepare_cached(RECORD_BY_KEY).unwrap();
    assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
}
