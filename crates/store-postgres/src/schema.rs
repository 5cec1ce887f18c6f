//! The schema and its migrations: versioned SQL steps applied by refinery, each in its own
//! transaction, under a session advisory lock so that several processes starting at once on
//! a new database migrate it once (the others wait, then find nothing to do).
//!
//! The tables mirror the SQLite store's (crates/store-sqlite/src/schema.rs, as of its
//! version 8) and carry the same constraints: one default integration, one running sync per
//! (integration, kind), and **partial unique indexes over the live promotions** (`creating`,
//! `promoted`) per (integration, account) and per (integration, External UID), and over the
//! live party promotions per (integration, account, kind, code). Text that is ordered or
//! compared (names, keys, codes, ids) uses the `"C"` collation, so PostgreSQL orders by bytes
//! as SQLite does, whatever the database's locale. Timestamps are RFC 3339 text with nine
//! fractional digits (exact; `timestamptz` keeps microseconds).
//!
//! One difference, by design: a sync's staged pages live in `sync_staging`, an **UNLOGGED**
//! table keyed by the run's `seq`, not in a connection's TEMP space, so the pages of one run
//! may arrive through any pooled connection, from any process. Unlogged: staging needs no
//! durability (a run that dies is discarded, never resumed), so it costs no WAL.

use refinery::{Migration, Runner};
use tokio_postgres::Client;

use crm2sage_domain::ports::StoreError;

use crate::db::db_err;

/// The table refinery records applied versions in.
pub(crate) const HISTORY_TABLE: &str = "crm2sage_schema_history";

/// The schema version this build writes and reads.
pub(crate) const LATEST: i64 = STEPS.len() as i64;

/// Migration steps: `(name, sql)`; step `i` is version `i + 1`. Append only.
const STEPS: &[(&str, &str)] = &[
    (
        "initial",
        r#"
CREATE TABLE integrations (
    id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name              TEXT COLLATE "C" NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('sage300', 'sage100')),
    base_url          TEXT NOT NULL,
    company           TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    -- `env:NAME` or `external:KEY`: where the password is found, never the password.
    secret_ref        TEXT NOT NULL,
    crm_id_field      TEXT,
    http_policy       TEXT NOT NULL CHECK (http_policy IN ('https_only', 'allow_insecure_http')),
    default_division  TEXT,
    customer_name_max BIGINT,
    is_default        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TEXT NOT NULL,
    timeout_secs      BIGINT CHECK (timeout_secs IS NULL OR timeout_secs BETWEEN 1 AND 600),
    ca_pem            TEXT,
    CHECK ((kind = 'sage100') = (default_division IS NOT NULL)),
    CHECK ((kind = 'sage100') = (customer_name_max IS NOT NULL))
);
-- At most one default integration.
CREATE UNIQUE INDEX integrations_one_default ON integrations (is_default) WHERE is_default;

CREATE TABLE accounts (
    id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
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
    -- The CRM's own key, unique when present (batch files refer to it).
    reference            TEXT COLLATE "C",
    -- A shipping address is all there (its required parts) or absent.
    CHECK ((shipping_line1 IS NULL) = (shipping_city IS NULL)),
    CHECK ((shipping_line1 IS NULL) = (shipping_country IS NULL))
);
CREATE UNIQUE INDEX accounts_by_reference ON accounts (reference) WHERE reference IS NOT NULL;

-- One set per (integration, kind) ever synced; `synced_at`: when its last ok sync finished.
CREATE TABLE reference_sets (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration_id TEXT COLLATE "C" NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    kind           TEXT COLLATE "C" NOT NULL,
    synced_at      TEXT NOT NULL,
    UNIQUE (integration_id, kind)
);

CREATE TABLE reference_records (
    set_id                BIGINT NOT NULL REFERENCES reference_sets (id) ON DELETE CASCADE,
    -- `ReferenceCode::key()`: the case-folded code codes compare by.
    code_key              TEXT COLLATE "C" NOT NULL,
    code                  TEXT COLLATE "C" NOT NULL,
    description           TEXT NOT NULL,
    active                BOOLEAN NOT NULL,
    default_terms         TEXT COLLATE "C",
    default_terms_key     TEXT COLLATE "C",
    default_tax_group     TEXT COLLATE "C",
    default_tax_group_key TEXT COLLATE "C",
    -- The other ERP extras: a JSON object of strings, keys sorted (compared as text).
    extras                TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    -- NULL: returned by the set's last sync, reads as reference_sets.synced_at.
    synced_at             TEXT,
    PRIMARY KEY (set_id, code_key)
);

CREATE TABLE sync_runs (
    seq                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                   TEXT COLLATE "C" NOT NULL UNIQUE,
    integration_id       TEXT COLLATE "C" NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    kind                 TEXT COLLATE "C" NOT NULL,
    started_at           TEXT NOT NULL,
    last_activity        TEXT NOT NULL,
    finished_at          TEXT,
    outcome              TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'unavailable', 'failed')),
    added                BIGINT NOT NULL DEFAULT 0,
    updated              BIGINT NOT NULL DEFAULT 0,
    deactivated          BIGINT NOT NULL DEFAULT 0,
    total                BIGINT NOT NULL DEFAULT 0,
    error                TEXT,
    -- The holder, like a promotion lease, and until when it holds the run.
    holder_host          TEXT,
    holder_pid           BIGINT,
    holder_process_start BIGINT,
    holder_task          BIGINT,
    expires_at           TEXT
);
-- One running sync per (integration, kind).
CREATE UNIQUE INDEX sync_runs_one_running ON sync_runs (integration_id, kind)
    WHERE outcome = 'running';
CREATE INDEX sync_runs_by_integration ON sync_runs (integration_id, outcome);

-- Pages of running syncs, from any connection; swapped in by finish_sync. Not durable.
CREATE UNLOGGED TABLE sync_staging (
    run_seq               BIGINT NOT NULL,
    code_key              TEXT COLLATE "C" NOT NULL,
    code                  TEXT COLLATE "C" NOT NULL,
    description           TEXT NOT NULL,
    active                BOOLEAN NOT NULL,
    default_terms         TEXT COLLATE "C",
    default_terms_key     TEXT COLLATE "C",
    default_tax_group     TEXT COLLATE "C",
    default_tax_group_key TEXT COLLATE "C",
    extras                TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_seq, code_key)
);

CREATE TABLE promotions (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id          TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    integration_id      TEXT COLLATE "C" NOT NULL REFERENCES integrations (id),
    erp_kind            TEXT NOT NULL CHECK (erp_kind IN ('sage300', 'sage100')),
    customer_no         TEXT NOT NULL,
    category            TEXT,
    tax_group           TEXT,
    terms               TEXT,
    division            TEXT,
    salesperson         TEXT,
    ship_method         TEXT,
    tax_schedule        TEXT,
    external_uid        TEXT COLLATE "C" NOT NULL,
    state               TEXT NOT NULL
        CHECK (state IN ('creating', 'promoted', 'failed', 'needs_review')),
    lease_host          TEXT,
    lease_pid           BIGINT,
    lease_process_start BIGINT,
    lease_task          BIGINT,
    lease_expires_at    TEXT,
    error               TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (erp_kind <> 'sage300' OR (category IS NOT NULL AND tax_group IS NOT NULL)),
    CHECK (erp_kind <> 'sage100'
        OR (division IS NOT NULL AND salesperson IS NOT NULL AND tax_schedule IS NOT NULL)),
    -- A lease is whole or absent.
    CHECK (num_nulls(lease_host, lease_pid, lease_process_start, lease_task, lease_expires_at)
        IN (0, 5))
);
-- Exactly-once: one live promotion per (integration, account) and per (integration, UID).
CREATE UNIQUE INDEX promotions_live_account ON promotions (integration_id, account_id)
    WHERE state IN ('creating', 'promoted');
CREATE UNIQUE INDEX promotions_live_uid ON promotions (integration_id, external_uid)
    WHERE state IN ('creating', 'promoted');
CREATE INDEX promotions_by_account ON promotions (account_id, seq);
CREATE INDEX promotions_in_flight ON promotions (seq) WHERE state = 'creating';

CREATE TABLE bindings (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    integration_id  TEXT COLLATE "C" NOT NULL REFERENCES integrations (id),
    erp_kind        TEXT NOT NULL CHECK (erp_kind IN ('sage300', 'sage100')),
    customer_no     TEXT NOT NULL,
    external_uid    TEXT NOT NULL,
    integration_key TEXT COLLATE "C" NOT NULL UNIQUE,
    promoted_at     TEXT NOT NULL,
    -- The ERP record: a JSON array of [name, type, value], in the ERP's order.
    erp_record      TEXT NOT NULL,
    UNIQUE (account_id, integration_id)
);

-- The audit trail. No foreign keys: refused attempts name accounts that may not exist.
CREATE TABLE promotion_log (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             TEXT NOT NULL,
    account_id     TEXT COLLATE "C" NOT NULL,
    integration_id TEXT,
    promotion_id   TEXT,
    event          TEXT NOT NULL,
    request        TEXT NOT NULL,
    message        TEXT,
    duration_ms    BIGINT
);
CREATE INDEX promotion_log_by_account ON promotion_log (account_id, seq);
"#,
    ),
    (
        // An account's ship-to addresses and contacts (the SQLite store's version 6): each
        // keyed by (account, code), at most one primary of each per account; they go when
        // their account goes.
        "ship_tos_and_contacts",
        r#"
CREATE TABLE ship_tos (
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- `ShipToCode`: upper-cased letters and digits.
    code        TEXT COLLATE "C" NOT NULL,
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
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT ship_tos_code_unique UNIQUE (account_id, code)
);
CREATE UNIQUE INDEX ship_tos_one_primary ON ship_tos (account_id) WHERE is_primary;

CREATE TABLE contacts (
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- `ContactCode`: upper-cased letters and digits.
    code        TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL,
    title       TEXT,
    phone       TEXT,
    email       TEXT,
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT contacts_code_unique UNIQUE (account_id, code)
);
CREATE UNIQUE INDEX contacts_one_primary ON contacts (account_id) WHERE is_primary;
"#,
    ),
    (
        // Ship-to and contact promotions (the SQLite store's version 7): one row per attempt,
        // fenced like a customer's; a promoted row is the party's binding.
        "party_promotions",
        r#"
CREATE TABLE party_promotions (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id          TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    integration_id      TEXT COLLATE "C" NOT NULL REFERENCES integrations (id),
    kind                TEXT COLLATE "C" NOT NULL CHECK (kind IN ('ship_to', 'contact')),
    -- `ShipToCode` / `ContactCode`: upper-cased letters and digits.
    code                TEXT COLLATE "C" NOT NULL,
    -- NULL for Sage 300.
    division            TEXT,
    customer_no         TEXT NOT NULL,
    external_uid        TEXT COLLATE "C" NOT NULL,
    state               TEXT NOT NULL
        CHECK (state IN ('creating', 'promoted', 'failed', 'needs_review')),
    lease_host          TEXT,
    lease_pid           BIGINT,
    lease_process_start BIGINT,
    lease_task          BIGINT,
    lease_expires_at    TEXT,
    error               TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    -- A lease is whole or absent.
    CHECK (num_nulls(lease_host, lease_pid, lease_process_start, lease_task, lease_expires_at)
        IN (0, 5))
);
-- Exactly-once: one live promotion per (integration, account, party).
CREATE UNIQUE INDEX party_promotions_live ON party_promotions
    (integration_id, account_id, kind, code) WHERE state IN ('creating', 'promoted');
CREATE INDEX party_promotions_by_account ON party_promotions (account_id, seq);
CREATE INDEX party_promotions_in_flight ON party_promotions (seq) WHERE state = 'creating';
"#,
    ),
    (
        // Issue 21 (the SQLite store's version 8): a binding's origin, the `unlinked` state,
        // and the customer index with its lookup keys and sync state.
        "links_and_customer_index",
        r#"
-- How a binding came to be: a promotion created the customer, or `link` bound an existing one.
ALTER TABLE bindings ADD COLUMN origin TEXT NOT NULL DEFAULT 'created'
    CHECK (origin IN ('created', 'linked'));
-- `record_intent` and `link` look a customer's binding up by its External UID too.
CREATE INDEX bindings_by_uid ON bindings (integration_id, external_uid);

-- A promotion whose binding `unlink` removed is `unlinked` (not live).
ALTER TABLE promotions DROP CONSTRAINT promotions_state_check;
ALTER TABLE promotions ADD CONSTRAINT promotions_state_check
    CHECK (state IN ('creating', 'promoted', 'failed', 'needs_review', 'unlinked'));

-- The ERP's customers per integration, as the last syncs listed them: a cache, rebuilt from the
-- ERP by a full sync (so `db copy` leaves it out). `division` is '' for Sage 300 (no
-- division), so the key is unique without NULLs. The lookup keys are `MatchKeys` (NULL: none).
CREATE TABLE customer_index (
    integration_id  TEXT COLLATE "C" NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    division        TEXT COLLATE "C" NOT NULL,
    customer_no     TEXT COLLATE "C" NOT NULL,
    name            TEXT NOT NULL,
    address_line1   TEXT,
    address_line2   TEXT,
    address_line3   TEXT,
    city            TEXT,
    state           TEXT,
    postal_code     TEXT,
    country         TEXT,
    phone           TEXT,
    email           TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    on_hold         BOOLEAN NOT NULL,
    -- YYYY-MM-DD.
    last_maintained TEXT,
    crm_id          TEXT,
    norm_name       TEXT COLLATE "C",
    phone_key       TEXT COLLATE "C",
    email_key       TEXT COLLATE "C",
    -- When the sync that last listed it started.
    seen_at         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (integration_id, division, customer_no)
);
CREATE INDEX customer_index_by_name ON customer_index (integration_id, norm_name);
CREATE INDEX customer_index_by_phone ON customer_index (integration_id, phone_key);
CREATE INDEX customer_index_by_email ON customer_index (integration_id, email_key);

-- Where each integration's index stands: written by every finished customer sync, with how
-- many customers the index held then.
CREATE TABLE customer_index_state (
    integration_id TEXT COLLATE "C" NOT NULL PRIMARY KEY
        REFERENCES integrations (id) ON DELETE CASCADE,
    synced_from    TEXT NOT NULL,
    full_from      TEXT NOT NULL,
    finished_at    TEXT NOT NULL,
    customers      BIGINT NOT NULL CHECK (customers >= 0)
);
"#,
    ),
];

fn migrations() -> Result<Vec<Migration>, StoreError> {
    STEPS
        .iter()
        .enumerate()
        .map(|(i, (name, sql))| {
            Migration::unapplied(&format!("V{}__{name}", i + 1), sql)
                .map_err(|e| StoreError::Internal(format!("migration {}: {e}", i + 1)))
        })
        .collect()
}

/// Quotes `name` as an SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The newest version applied to the schema `client` works in, 0 for a new one.
async fn applied_version(client: &Client) -> Result<i64, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&HISTORY_TABLE])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err("reading the schema version"))?;
    if !exists {
        return Ok(0);
    }
    let version: Option<i32> = client
        .query_one(&format!("SELECT max(version) FROM {HISTORY_TABLE}"), &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err("reading the schema version"))?;
    Ok(version.map_or(0, i64::from))
}

/// Creates `schema` when given and missing, and brings it (or the connection's current
/// schema) to [`LATEST`], holding a session advisory lock throughout, on `client`, a
/// connection of its own whose `search_path` is already the schema.
///
/// # Errors
/// [`StoreError::TooNew`] for a schema a newer crm2sage wrote; [`StoreError::Internal`] or
/// [`StoreError::Busy`] for what the server reports.
pub(crate) async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<(), StoreError> {
    let key = format!("crm2sage migrate {}", schema.unwrap_or("(search_path)"));
    client
        .execute("SELECT pg_advisory_lock(hashtext($1))", &[&key])
        .await
        .map_err(db_err("waiting for the migration lock"))?;
    let result = migrate_locked(client, schema).await;
    let unlock = client
        .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&key])
        .await
        .map_err(db_err("releasing the migration lock"));
    result?;
    unlock.map(|_| ())
}

async fn migrate_locked(client: &mut Client, schema: Option<&str>) -> Result<(), StoreError> {
    if let Some(schema) = schema {
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_ident(schema)
            ))
            .await
            .map_err(db_err("creating the schema"))?;
    }
    let found = applied_version(client).await?;
    if found > LATEST {
        return Err(StoreError::TooNew {
            found,
            supported: LATEST,
        });
    }
    if found == LATEST {
        return Ok(());
    }
    let migrations = migrations()?;
    let mut runner = Runner::new(&migrations).set_grouped(false);
    runner.set_migration_table_name(HISTORY_TABLE);
    runner
        .run_async(client)
        .await
        .map_err(|e| StoreError::Internal(format!("migrating the schema: {e}")))?;
    Ok(())
}

// The dev-dependency on this crate turns the feature on for its unit tests.
#[cfg(all(test, feature = "test-support"))]
mod migration_8;
