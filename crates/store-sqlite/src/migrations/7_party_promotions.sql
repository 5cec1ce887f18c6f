-- Ship-to and contact promotions: one row per attempt, like `promotions`, with the party
-- (kind, code), the ERP customer it is created under (division NULL for Sage 300) and its
-- External UID. A `promoted` row is the party's binding.
CREATE TABLE party_promotions (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    integration_id      TEXT NOT NULL REFERENCES integrations (id),
    kind                TEXT NOT NULL CHECK (kind IN ('ship_to', 'contact')),
    -- `ShipToCode` / `ContactCode`: upper-cased letters and digits.
    code                TEXT NOT NULL,
    division            TEXT,
    customer_no         TEXT NOT NULL,
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
    -- A lease is whole or absent.
    CHECK ((lease_host IS NULL) + (lease_pid IS NULL) + (lease_process_start IS NULL)
        + (lease_task IS NULL) + (lease_expires_at IS NULL) IN (0, 5))
) STRICT;
-- Exactly-once: one live promotion per (integration, account, party); of racing intents the
-- index lets one in.
CREATE UNIQUE INDEX party_promotions_live ON party_promotions
    (integration_id, account_id, kind, code) WHERE state IN ('creating', 'promoted');
CREATE INDEX party_promotions_by_account ON party_promotions (account_id);
CREATE INDEX party_promotions_in_flight ON party_promotions (seq) WHERE state = 'creating';
