//! The schema and its migrator.
//!
//! Each entry of [`MIGRATIONS`] takes the file from version `i` to `i + 1`. A step runs in its
//! own `BEGIN IMMEDIATE` transaction that also sets `PRAGMA user_version` (the version lives
//! in the file header, so it commits or rolls back with the step). The version is re-read
//! inside the transaction, so two processes opening the same new file at once migrate it once.

use rusqlite::{Connection, TransactionBehavior};

use crm2sage_domain::ports::StoreError;

use crate::db::db_err;

/// `PRAGMA application_id` of a crm2sage database (`c2sS`): tells our file from another
/// program's SQLite file.
pub(crate) const APPLICATION_ID: i32 = 0x6332_7353;

/// The schema version this build writes and reads.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Migration steps; step `i` takes the file from version `i` to `i + 1`. Append only.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r"
CREATE TABLE integrations (
    id                TEXT NOT NULL PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('sage300', 'sage100')),
    base_url          TEXT NOT NULL,
    company           TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    -- `env:NAME` or `external:KEY`: where the password is found, never the password.
    secret_ref        TEXT NOT NULL,
    crm_id_field      TEXT,
    http_policy       TEXT NOT NULL CHECK (http_policy IN ('https_only', 'allow_insecure_http')),
    default_division  TEXT,
    customer_name_max INTEGER,
    is_default        INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at        TEXT NOT NULL,
    CHECK ((kind = 'sage100') = (default_division IS NOT NULL)),
    CHECK ((kind = 'sage100') = (customer_name_max IS NOT NULL))
) STRICT;
-- At most one default integration.
CREATE UNIQUE INDEX integrations_one_default ON integrations (is_default) WHERE is_default = 1;

CREATE TABLE accounts (
    id                   TEXT NOT NULL PRIMARY KEY,
    name                 TEXT NOT NULL,
    billing_line1        TEXT NOT NULL,
    billing_line2        TEXT,
    billing_line3        TEXT,
    billing_city         TEXT NOT NULL,
    billing_state        TEXT,
    billing_postal_code  TEXT,
    billing_country      TEXT NOT NULL,
    shipping_line1       TEXT,
    shipping_line2       TEXT,
    shipping_line3       TEXT,
    shipping_city        TEXT,
    shipping_state       TEXT,
    shipping_postal_code TEXT,
    shipping_country     TEXT,
    phone                TEXT,
    email                TEXT,
    website              TEXT,
    currency             TEXT,
    language             TEXT,
    terms                TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    -- A shipping address is all there (its required parts) or absent.
    CHECK ((shipping_line1 IS NULL) = (shipping_city IS NULL)),
    CHECK ((shipping_line1 IS NULL) = (shipping_country IS NULL))
) STRICT;

CREATE TABLE reference_records (
    integration_id        TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    kind                  TEXT NOT NULL,
    -- `ReferenceCode::key()`: the case-folded code codes compare by.
    code_key              TEXT NOT NULL,
    code                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    active                INTEGER NOT NULL CHECK (active IN (0, 1)),
    default_terms         TEXT,
    default_terms_key     TEXT,
    default_tax_group     TEXT,
    default_tax_group_key TEXT,
    -- The other ERP extras: a JSON object of strings, keys sorted.
    extras                TEXT NOT NULL DEFAULT '{}',
    synced_at             TEXT NOT NULL,
    PRIMARY KEY (integration_id, kind, code_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE sync_runs (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    last_activity  TEXT NOT NULL,
    finished_at    TEXT,
    outcome        TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'unavailable', 'failed')),
    added          INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    deactivated    INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0,
    error          TEXT
) STRICT;
-- One running sync per (integration, kind).
CREATE UNIQUE INDEX sync_runs_one_running ON sync_runs (integration_id, kind)
    WHERE outcome = 'running';
CREATE INDEX sync_runs_by_integration ON sync_runs (integration_id, outcome);

-- Pages of a running sync, swapped into reference_records by finish_sync.
CREATE TABLE sync_staging (
    run_seq               INTEGER NOT NULL REFERENCES sync_runs (seq) ON DELETE CASCADE,
    code_key              TEXT NOT NULL,
    code                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    active                INTEGER NOT NULL CHECK (active IN (0, 1)),
    default_terms         TEXT,
    default_terms_key     TEXT,
    default_tax_group     TEXT,
    default_tax_group_key TEXT,
    extras                TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_seq, code_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE promotions (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    integration_id      TEXT NOT NULL REFERENCES integrations (id),
    erp_kind            TEXT NOT NULL CHECK (erp_kind IN ('sage300', 'sage100')),
    customer_no         TEXT NOT NULL,
    category            TEXT,
    tax_group           TEXT,
    terms               TEXT,
    division            TEXT,
    salesperson         TEXT,
    ship_method         TEXT,
    tax_schedule        TEXT,
    external_uid        TEXT NOT NULL,
    state               TEXT NOT NULL
        CHECK (state IN ('creating', 'promoted', 'failed', 'needs_review')),
    lease_host          TEXT,
    lease_pid           INTEGER,
    lease_process_start INTEGER,
    lease_task          INTEGER,
    lease_expires_at    TEXT,
    error               TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (erp_kind <> 'sage300' OR (category IS NOT NULL AND tax_group IS NOT NULL)),
    CHECK (erp_kind <> 'sage100'
        OR (division IS NOT NULL AND salesperson IS NOT NULL AND tax_schedule IS NOT NULL)),
    -- A lease is whole or absent.
    CHECK ((lease_host IS NULL) + (lease_pid IS NULL) + (lease_process_start IS NULL)
        + (lease_task IS NULL) + (lease_expires_at IS NULL) IN (0, 5))
) STRICT;
-- Exactly-once: one live promotion per (integration, account) and per (integration, UID).
CREATE UNIQUE INDEX promotions_live_account ON promotions (integration_id, account_id)
    WHERE state IN ('creating', 'promoted');
CREATE UNIQUE INDEX promotions_live_uid ON promotions (integration_id, external_uid)
    WHERE state IN ('creating', 'promoted');
CREATE INDEX promotions_by_account ON promotions (account_id);
CREATE INDEX promotions_in_flight ON promotions (seq) WHERE state = 'creating';

CREATE TABLE bindings (
    seq             INTEGER PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    integration_id  TEXT NOT NULL REFERENCES integrations (id),
    erp_kind        TEXT NOT NULL CHECK (erp_kind IN ('sage300', 'sage100')),
    customer_no     TEXT NOT NULL,
    external_uid    TEXT NOT NULL,
    integration_key TEXT NOT NULL UNIQUE,
    promoted_at     TEXT NOT NULL,
    -- The ERP record: a JSON array of [name, type, value], in the ERP's order.
    erp_record      TEXT NOT NULL,
    UNIQUE (account_id, integration_id)
) STRICT;

-- The audit trail. No foreign keys: refused attempts name accounts that may not exist.
CREATE TABLE promotion_log (
    seq            INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    integration_id TEXT,
    promotion_id   TEXT,
    event          TEXT NOT NULL,
    request        TEXT NOT NULL,
    message        TEXT,
    duration_ms    INTEGER
) STRICT;
CREATE INDEX promotion_log_by_account ON promotion_log (account_id, seq);
",
    // 2: accounts carry the CRM's own key, unique when present (batch files refer to it).
    r"
ALTER TABLE accounts ADD COLUMN reference TEXT;
CREATE UNIQUE INDEX accounts_by_reference ON accounts (reference) WHERE reference IS NOT NULL;
",
    // 3: reference records hang off a small integer set id per (integration, kind) instead of
    // repeating the integration id and kind in every row, and the time of a set's last sync is
    // kept once: a record that sync returned has a NULL `synced_at`, which reads as the set's
    // (so a sync need not rewrite the records it returns unchanged). Staging moves to the
    // writer connection's TEMP database (see reference/mod.rs): `sync_staging` goes, and a sync
    // still running from before the upgrade, whose staging goes with it, is closed.
    r"
CREATE TABLE reference_sets (
    id             INTEGER PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    -- When the set's last successful sync finished: the synced_at of every record it returned.
    synced_at      TEXT NOT NULL,
    UNIQUE (integration_id, kind)
) STRICT;
INSERT INTO reference_sets (integration_id, kind, synced_at)
SELECT r.integration_id, r.kind, coalesce(
    (SELECT s.finished_at FROM sync_runs AS s
     WHERE s.integration_id = r.integration_id AND s.kind = r.kind AND s.outcome = 'ok'
     ORDER BY s.seq DESC LIMIT 1),
    max(r.synced_at))
FROM reference_records AS r
GROUP BY r.integration_id, r.kind;

CREATE TABLE reference_records_v3 (
    set_id                INTEGER NOT NULL REFERENCES reference_sets (id) ON DELETE CASCADE,
    -- `ReferenceCode::key()`: the case-folded code codes compare by.
    code_key              TEXT NOT NULL,
    code                  TEXT NOT NULL,
    description           TEXT NOT NULL,
    active                INTEGER NOT NULL CHECK (active IN (0, 1)),
    default_terms         TEXT,
    default_terms_key     TEXT,
    default_tax_group     TEXT,
    default_tax_group_key TEXT,
    -- The other ERP extras: a JSON object of strings, keys sorted.
    extras                TEXT NOT NULL DEFAULT '{}',
    -- NULL: returned by the set's last sync, reads as reference_sets.synced_at. Otherwise
    -- when the sync that last wrote it finished (it deactivated it, or returned it inactive).
    synced_at             TEXT,
    PRIMARY KEY (set_id, code_key)
) STRICT, WITHOUT ROWID;
INSERT INTO reference_records_v3 (set_id, code_key, code, description, active, default_terms,
    default_terms_key, default_tax_group, default_tax_group_key, extras, synced_at)
SELECT s.id, r.code_key, r.code, r.description, r.active, r.default_terms,
    r.default_terms_key, r.default_tax_group, r.default_tax_group_key, r.extras,
    nullif(r.synced_at, s.synced_at)
FROM reference_records AS r
JOIN reference_sets AS s ON s.integration_id = r.integration_id AND s.kind = r.kind;
DROP TABLE reference_records;
ALTER TABLE reference_records_v3 RENAME TO reference_records;

UPDATE sync_runs
SET outcome = 'failed',
    finished_at = strftime('%Y-%m-%dT%H:%M:%f000000Z', 'now'),
    error = 'abandoned: crm2sage was upgraded while it ran'
WHERE outcome = 'running';
DROP TABLE sync_staging;
",
    // 4: a sync run records its holder like a promotion lease (host, process, its start, task)
    // and until when it holds the run (each staged page extends it), so a killed or dropped
    // sync is told from a live one by its holder, not by 5 minutes of silence. A sync still
    // running from before the upgrade has no holder: it is closed (its process, an older
    // crm2sage, fails at its next page).
    r"
ALTER TABLE sync_runs ADD COLUMN holder_host TEXT;
ALTER TABLE sync_runs ADD COLUMN holder_pid INTEGER;
ALTER TABLE sync_runs ADD COLUMN holder_process_start INTEGER;
ALTER TABLE sync_runs ADD COLUMN holder_task INTEGER;
ALTER TABLE sync_runs ADD COLUMN expires_at TEXT;
UPDATE sync_runs
SET outcome = 'failed',
    finished_at = strftime('%Y-%m-%dT%H:%M:%f000000Z', 'now'),
    error = 'abandoned: crm2sage was upgraded while it ran'
WHERE outcome = 'running';
",
    // 5: an integration's own request timeout (whole seconds; NULL: the connector's default)
    // and the PEM text of the private CA certificates it trusts (NULL: the built-in roots only).
    r"
ALTER TABLE integrations ADD COLUMN timeout_secs INTEGER
    CHECK (timeout_secs IS NULL OR timeout_secs BETWEEN 1 AND 600);
ALTER TABLE integrations ADD COLUMN ca_pem TEXT;
",
    // 6: an account's ship-to addresses and contacts, each keyed by (account, code), at most
    // one primary of each per account; they go when their account goes.
    r"
CREATE TABLE ship_tos (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- `ShipToCode`: upper-cased letters and digits.
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    line1       TEXT NOT NULL,
    line2       TEXT,
    line3       TEXT,
    city        TEXT NOT NULL,
    state       TEXT,
    postal_code TEXT,
    country     TEXT NOT NULL,
    phone       TEXT,
    email       TEXT,
    is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    UNIQUE (account_id, code)
) STRICT;
CREATE UNIQUE INDEX ship_tos_one_primary ON ship_tos (account_id) WHERE is_primary = 1;

CREATE TABLE contacts (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- `ContactCode`: upper-cased letters and digits.
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    title       TEXT,
    phone       TEXT,
    email       TEXT,
    is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    UNIQUE (account_id, code)
) STRICT;
CREATE UNIQUE INDEX contacts_one_primary ON contacts (account_id) WHERE is_primary = 1;
",
    // 7: ship-to and contact promotions, fenced like a customer's; a promoted row is the
    // party's binding.
    include_str!("migrations/7_party_promotions.sql"),
    // 8: a binding's origin (created or linked), the `unlinked` promotion state (the table is
    // rebuilt for its CHECK), and the customer index with its lookup keys and sync state.
    include_str!("migrations/8_links_and_customer_index.sql"),
];

fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(db_err("reading the schema version"))
}

fn application_id(conn: &Connection) -> Result<i32, StoreError> {
    conn.pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(db_err("reading the application id"))
}

fn too_new(found: i64) -> StoreError {
    StoreError::TooNew {
        found,
        supported: LATEST,
    }
}

/// Refuses a file that is not ours: another program's application id, or tables in a file
/// that claims no schema version.
fn check_identity(conn: &Connection, version: i64) -> Result<(), StoreError> {
    let app = application_id(conn)?;
    if app == APPLICATION_ID {
        return Ok(());
    }
    if app != 0 {
        return Err(StoreError::Corrupt(format!(
            "the file belongs to another program (application id {app:#x})"
        )));
    }
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
            [],
            |row| row.get(0),
        )
        .map_err(db_err("reading the schema"))?;
    if version != 0 || tables != 0 {
        return Err(StoreError::Corrupt(format!(
            "the file is an SQLite database without crm2sage's application id \
             (schema version {version}, {tables} tables)"
        )));
    }
    Ok(())
}

/// Brings the file to [`LATEST`], one transaction per step.
///
/// # Errors
/// [`StoreError::TooNew`] for a file from a newer crm2sage, [`StoreError::Corrupt`] for a file
/// that is not ours, or whatever SQLite reports.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let version = user_version(conn)?;
        if version > LATEST {
            return Err(too_new(version));
        }
        check_identity(conn, version)?;
        if version == LATEST {
            return Ok(());
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err("starting a migration"))?;
        // Another process may have migrated while we waited for the lock.
        let now = user_version(&tx)?;
        if now != version {
            continue;
        }
        check_identity(&tx, now)?;
        let step = usize::try_from(now)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
            .ok_or_else(|| StoreError::Internal(format!("no migration from version {now}")))?;
        tx.execute_batch(step)
            .map_err(db_err(&format!("migrating to version {}", now + 1)))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(db_err("setting the application id"))?;
        tx.pragma_update(None, "user_version", now + 1)
            .map_err(db_err("setting the schema version"))?;
        tx.commit()
            .map_err(db_err(&format!("committing version {}", now + 1)))?;
    }
}

#[cfg(test)]
mod migration_8;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crm2sage_domain::contract::stores::t0;
    use crm2sage_domain::ports::{ErpReferenceRecord, ReferenceStore};
    use crm2sage_domain::{
        IntegrationId, ReferenceCode, ReferenceExtras, ReferenceKind, SyncOutcome, Timestamp,
    };
    use rusqlite::params;

    use super::*;
    use crate::SqliteStore;
    use crate::db::{connect, ts};

    fn at(seconds: i64) -> Timestamp {
        t0().checked_add(jiff::SignedDuration::from_secs(seconds))
            .unwrap()
    }

    /// A file at schema version 2, with reference data as version 2 kept it.
    fn version_2(path: &std::path::Path, i: IntegrationId) {
        std::fs::File::create(path).unwrap();
        let conn = connect(path, false).unwrap();
        for step in &MIGRATIONS[..2] {
            conn.execute_batch(step).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO integrations (id, name, kind, base_url, company, user_name, secret_ref, \
             http_policy, is_default, created_at) VALUES (?1, 'alpha', 'sage300', \
             'https://erp.example.com/', 'SAMLTD', 'WEBAPI', 'env:PW', 'https_only', 1, ?2)",
            params![i.to_string(), ts(t0())],
        )
        .unwrap();
        // Terms: two ok syncs (the last at 11) and one running when the file was upgraded.
        // Tax: records but (as never happens) no ok run.
        conn.execute_batch(&format!(
            "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, \
             finished_at, outcome, added, total) VALUES
             ('00000000-0000-4000-8000-000000000001', '{i}', 'terms', '{t0}', '{t1}', '{t1}', \
              'ok', 3, 3),
             ('00000000-0000-4000-8000-000000000002', '{i}', 'terms', '{t10}', '{t11}', '{t11}', \
              'ok', 0, 2),
             ('00000000-0000-4000-8000-000000000003', '{i}', 'terms', '{t20}', '{t20}', NULL, \
              'running', 0, 0);
             INSERT INTO sync_staging (run_seq, code_key, code, description, active, extras)
             VALUES (3, 'ZZZ', 'ZZZ', 'staged by the old version', 1, '{{}}');
             INSERT INTO reference_records (integration_id, kind, code_key, code, description, \
             active, default_terms, default_terms_key, extras, synced_at) VALUES
             ('{i}', 'terms', 'N30', 'N30', 'Net 30', 1, NULL, NULL, '{{\"Due\":\"30\"}}', '{t11}'),
             ('{i}', 'terms', 'OLD', 'Old', 'Old terms', 0, NULL, NULL, '{{}}', '{t1}'),
             ('{i}', 'terms', 'GONE', 'gone', 'Deactivated at 11', 0, 'n30', 'N30', '{{}}', \
              '{t11}'),
             ('{i}', 'tax', 'CALIF', 'CALIF', 'California', 1, NULL, NULL, '{{}}', '{t5}');",
            t0 = ts(t0()),
            t1 = ts(at(1)),
            t5 = ts(at(5)),
            t10 = ts(at(10)),
            t11 = ts(at(11)),
            t20 = ts(at(20)),
        ))
        .unwrap();
    }

    #[tokio::test]
    async fn a_version_3_integration_reads_with_no_timeout_or_ca_and_can_be_changed() {
        use crm2sage_domain::IntegrationChanges;
        use crm2sage_domain::ports::IntegrationStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm2sage.db");
        let i = IntegrationId::generate();
        {
            std::fs::File::create(&path).unwrap();
            let conn = connect(&path, false).unwrap();
            for step in &MIGRATIONS[..3] {
                conn.execute_batch(step).unwrap();
            }
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute(
                "INSERT INTO integrations (id, name, kind, base_url, company, user_name, \
                 secret_ref, http_policy, is_default, created_at) VALUES (?1, 'alpha', \
                 'sage300', 'https://erp.example.com/', 'SAMLTD', 'WEBAPI', 'env:PW', \
                 'https_only', 1, ?2)",
                params![i.to_string(), ts(t0())],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let old = store
            .integration(i)
            .await
            .unwrap()
            .expect("the old row reads");
        assert_eq!(old.name().as_str(), "alpha");
        assert_eq!(old.timeout(), None, "NULL: the connector's default");
        assert!(old.trusted_ca().is_none());
        let mut changes = IntegrationChanges::default();
        changes.timeout_secs = Some(120);
        store
            .update_integration(&changes.apply(&old).unwrap())
            .await
            .unwrap();
        let new = store.default_integration().await.unwrap().unwrap();
        assert_eq!(new.timeout().map(|t| t.as_secs()), Some(120));
        assert_eq!(new.base_url(), old.base_url());
    }

    fn record(code: &str, description: &str) -> ErpReferenceRecord {
        ErpReferenceRecord {
            code: ReferenceCode::parse(code).unwrap(),
            description: description.into(),
            active: true,
            extras: ReferenceExtras {
                other: [("Due".to_owned(), "30".to_owned())].into(),
                ..ReferenceExtras::default()
            },
        }
    }

    #[tokio::test]
    async fn a_version_2_file_migrates_and_keeps_its_reference_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm2sage.db");
        let i = IntegrationId::generate();
        version_2(&path, i);
        let store = SqliteStore::open(&path).unwrap();
        let read = |kind| {
            let store = store.clone();
            async move {
                store
                    .reference_records(i, kind)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| {
                        (
                            r.code.as_str().to_owned(),
                            r.description,
                            r.active,
                            r.extras.default_terms.map(|c| c.as_str().to_owned()),
                            r.extras.other.len(),
                            r.synced_at,
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            read(ReferenceKind::Terms).await,
            [
                (
                    "gone".into(),
                    "Deactivated at 11".into(),
                    false,
                    Some("n30".into()),
                    0,
                    at(11)
                ),
                ("N30".into(), "Net 30".into(), true, None, 1, at(11)),
                ("Old".into(), "Old terms".into(), false, None, 0, at(1)),
            ],
            "every record reads as before, synced_at included"
        );
        assert_eq!(
            read(ReferenceKind::Tax).await,
            [("CALIF".into(), "California".into(), true, None, 0, at(5))]
        );
        let conn = connect(&path, false).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, LATEST);
        let staging: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'sync_staging'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(staging, 0, "staging left the file");
        let runs = store.sync_runs(i).await.unwrap();
        assert_eq!(runs.len(), 3);
        assert_eq!(
            runs[0].outcome,
            SyncOutcome::Failed,
            "the running one closed"
        );
        assert!(runs[0].finished_at.is_some());
        assert!(runs[0].error.as_deref().unwrap().contains("upgraded"));
        assert!(runs[1..].iter().all(|r| r.outcome == SyncOutcome::Ok));

        // A sync right away (nothing blocks it) behaves as version 2 did: N30 unchanged,
        // NEW added, nothing active went; the inactive ones keep their times.
        let run = store
            .begin_sync(
                i,
                ReferenceKind::Terms,
                &crm2sage_domain::contract::stores::holder(1),
                at(30),
                at(90),
            )
            .await
            .unwrap();
        store
            .stage_page(
                run,
                &[record("N30", "Net 30"), record("NEW", "New")],
                at(31),
                at(91),
            )
            .await
            .unwrap();
        let counts = store.finish_sync(run, at(32)).await.unwrap();
        assert_eq!(
            (
                counts.added,
                counts.updated,
                counts.deactivated,
                counts.total
            ),
            (1, 0, 0, 2)
        );
        let synced: Vec<(String, Timestamp)> = read(ReferenceKind::Terms)
            .await
            .into_iter()
            .map(|r| (r.0, r.5))
            .collect();
        assert_eq!(
            synced,
            [
                ("gone".into(), at(11)),
                ("N30".into(), at(32)),
                ("NEW".into(), at(32)),
                ("Old".into(), at(1)),
            ]
        );
    }

    #[tokio::test]
    async fn a_sync_running_at_version_3_is_closed_and_one_without_a_holder_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm2sage.db");
        let i = IntegrationId::generate();
        version_2(&path, i);
        {
            let conn = connect(&path, false).unwrap();
            conn.execute_batch(MIGRATIONS[2]).unwrap();
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute(
                "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, \
                 outcome) VALUES ('00000000-0000-4000-8000-000000000009', ?1, 'tax', ?2, ?2, \
                 'running')",
                params![i.to_string(), ts(at(40))],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let runs = store.sync_runs(i).await.unwrap();
        assert_eq!(runs[0].kind, ReferenceKind::Tax);
        assert_eq!(
            runs[0].outcome,
            SyncOutcome::Failed,
            "closed at the upgrade"
        );
        assert!(runs[0].error.as_deref().unwrap().contains("upgraded"));

        // A running row without a holder (an older crm2sage that opened the file before the
        // upgrade) is treated as expired: the next begin closes it and starts.
        let conn = connect(&path, false).unwrap();
        conn.execute(
            "INSERT INTO sync_runs (id, integration_id, kind, started_at, last_activity, \
             outcome) VALUES ('00000000-0000-4000-8000-00000000000a', ?1, 'tax', ?2, ?2, \
             'running')",
            params![i.to_string(), ts(at(50))],
        )
        .unwrap();
        let holder = crm2sage_domain::contract::stores::holder(1);
        let run = store
            .begin_sync(i, ReferenceKind::Tax, &holder, at(51), at(111))
            .await
            .unwrap();
        let runs = store.sync_runs(i).await.unwrap();
        assert_eq!((runs[0].id, runs[0].outcome), (run, SyncOutcome::Running));
        assert_eq!(runs[1].outcome, SyncOutcome::Failed);
        assert!(runs[1].error.as_deref().unwrap().contains("older crm2sage"));
        let (host, task, expires): (String, i64, String) = conn
            .query_row(
                "SELECT holder_host, holder_task, expires_at FROM sync_runs WHERE id = ?1",
                [run.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((host, task, expires), (holder.host, 1, ts(at(111))));
    }
}
