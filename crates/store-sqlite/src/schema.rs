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
