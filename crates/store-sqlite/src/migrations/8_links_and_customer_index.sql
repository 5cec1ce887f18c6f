-- Issue 21: bindings made by hand (`link`) and removed (`unlink`), and the local index of the
-- ERP's customers the duplicate guard and `match` look customers up in.

-- How a binding came to be: a promotion created the customer, or `link` bound an existing one.
ALTER TABLE bindings ADD COLUMN origin TEXT NOT NULL DEFAULT 'created'
    CHECK (origin IN ('created', 'linked'));
-- `record_intent` and `link` look a customer's binding up by its External UID too.
CREATE INDEX bindings_by_uid ON bindings (integration_id, external_uid);

-- A promotion whose binding `unlink` removed is `unlinked` (not live). SQLite cannot alter a
-- CHECK, so the table is rebuilt with the wider one; nothing refers to `promotions`, and
-- every row, `seq` included, is copied as it is.
CREATE TABLE promotions_v8 (
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
        CHECK (state IN ('creating', 'promoted', 'failed', 'needs_review', 'unlinked')),
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
INSERT INTO promotions_v8 (seq, id, account_id, integration_id, erp_kind, customer_no, category,
    tax_group, terms, division, salesperson, ship_method, tax_schedule, external_uid, state,
    lease_host, lease_pid, lease_process_start, lease_task, lease_expires_at, error, created_at,
    updated_at)
SELECT seq, id, account_id, integration_id, erp_kind, customer_no, category, tax_group, terms,
    division, salesperson, ship_method, tax_schedule, external_uid, state, lease_host, lease_pid,
    lease_process_start, lease_task, lease_expires_at, error, created_at, updated_at
FROM promotions;
DROP TABLE promotions;
ALTER TABLE promotions_v8 RENAME TO promotions;
-- Exactly-once: one live promotion per (integration, account) and per (integration, UID).
CREATE UNIQUE INDEX promotions_live_account ON promotions (integration_id, account_id)
    WHERE state IN ('creating', 'promoted');
CREATE UNIQUE INDEX promotions_live_uid ON promotions (integration_id, external_uid)
    WHERE state IN ('creating', 'promoted');
CREATE INDEX promotions_by_account ON promotions (account_id);
CREATE INDEX promotions_in_flight ON promotions (seq) WHERE state = 'creating';

-- The ERP's customers per integration, as the last syncs listed them: a cache, rebuilt from the
-- ERP by a full sync (so `db copy` leaves it out). `division` is '' for Sage 300 (no
-- division), so the key is unique without NULLs. The lookup keys are `MatchKeys` (NULL: none).
CREATE TABLE customer_index (
    integration_id  TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    division        TEXT NOT NULL,
    customer_no     TEXT NOT NULL,
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
    on_hold         INTEGER NOT NULL CHECK (on_hold IN (0, 1)),
    -- YYYY-MM-DD.
    last_maintained TEXT,
    crm_id          TEXT,
    norm_name       TEXT,
    phone_key       TEXT,
    email_key       TEXT,
    -- When the sync that last listed it started.
    seen_at         TEXT NOT NULL,
    PRIMARY KEY (integration_id, division, customer_no)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_index_by_name ON customer_index (integration_id, norm_name);
CREATE INDEX customer_index_by_phone ON customer_index (integration_id, phone_key);
CREATE INDEX customer_index_by_email ON customer_index (integration_id, email_key);

-- Where each integration's index stands: written by every finished customer sync, with how
-- many customers the index held then.
CREATE TABLE customer_index_state (
    integration_id TEXT NOT NULL PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    synced_from    TEXT NOT NULL,
    full_from      TEXT NOT NULL,
    finished_at    TEXT NOT NULL,
    customers      INTEGER NOT NULL CHECK (customers >= 0)
) STRICT;
