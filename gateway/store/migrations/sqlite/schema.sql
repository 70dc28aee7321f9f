-- The current schema in one file (what migrations 0001.. produce); kept equal by tests.

-- Tenants, API keys (hashes only), the partner directory, submissions, outputs, events.
-- Times are ISO 8601 UTC text with microseconds (sortable); JSON is text.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash    TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    role        TEXT NOT NULL DEFAULT 'submitter' CHECK (role IN ('submitter', 'officer'))
);

CREATE TABLE directory_entries (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    document    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, key)
);

CREATE TABLE submissions (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    idempotency_key  TEXT,
    data             BLOB NOT NULL,
    content_type     TEXT NOT NULL,
    filename         TEXT,
    metadata         TEXT NOT NULL DEFAULT '{}',
    state            TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE INDEX submissions_by_tenant ON submissions (tenant_id, created_at);

CREATE TABLE outputs (
    submission_id  TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    data           BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (submission_id, kind)
);

CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id  TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    state          TEXT NOT NULL,
    at             TEXT NOT NULL,
    reason         TEXT,
    detail         TEXT
);

CREATE INDEX events_by_submission ON events (submission_id, id);

-- The delivery outbox, receipts, shared circuit breakers, inbound messages and keys.

CREATE TABLE outbox_jobs (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    submission_id     TEXT NOT NULL,
    adapter           TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    payload_ref       TEXT,
    message_id        TEXT NOT NULL,
    state             TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'leased', 'done', 'dead')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    last_error        TEXT,
    retryable         INTEGER,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE UNIQUE INDEX outbox_jobs_once ON outbox_jobs (submission_id, kind, adapter);
CREATE INDEX outbox_jobs_due ON outbox_jobs (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_jobs_leases ON outbox_jobs (lease_expires_at) WHERE state = 'leased';

CREATE TABLE receipts (
    id           TEXT PRIMARY KEY,
    job_id       TEXT NOT NULL REFERENCES outbox_jobs (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    data         BLOB NOT NULL,
    media_type   TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}',
    received_at  TEXT NOT NULL
);

CREATE INDEX receipts_by_job ON receipts (job_id, received_at);

CREATE TABLE breakers (
    endpoint   TEXT PRIMARY KEY,
    phase      TEXT NOT NULL CHECK (phase IN ('closed', 'open', 'half_open')),
    failures   INTEGER NOT NULL DEFAULT 0,
    opened_at  TEXT,
    version    INTEGER NOT NULL
);

CREATE TABLE inbound_keys (
    key      TEXT PRIMARY KEY,
    seen_at  TEXT NOT NULL
);

CREATE TABLE inbound_messages (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants (id),
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    sender       TEXT,
    receiver     TEXT,
    data         BLOB NOT NULL,
    media_type   TEXT NOT NULL,
    metadata     TEXT NOT NULL DEFAULT '{}',
    received_at  TEXT NOT NULL,
    UNIQUE (channel, message_id)
);

CREATE INDEX inbound_by_time ON inbound_messages (received_at);
CREATE INDEX inbound_by_tenant_time ON inbound_messages (tenant_id, received_at);


-- The cross-border data gate: the export ledger (append-only, hash-chained), its head and
-- signed checkpoints, the yearly per-exporter counts of individuals with the keyed hashes
-- that deduplicate them, and the documents the policy holds.

CREATE TABLE export_ledger (
    seq             INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    exporter        TEXT NOT NULL,
    destination     TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    submission_id   TEXT NOT NULL,
    document_id     TEXT NOT NULL,
    digest          TEXT NOT NULL,
    categories      TEXT NOT NULL,
    subjects        INTEGER NOT NULL,
    basis           TEXT NOT NULL,
    article         TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    decided_by      TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    entry_hash      TEXT NOT NULL,
    tenant_id       TEXT,
    principal       TEXT
);

CREATE INDEX export_ledger_by_exporter ON export_ledger (exporter, at);
CREATE INDEX export_ledger_by_tenant ON export_ledger (tenant_id, exporter, at);

CREATE TABLE export_ledger_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
);

INSERT INTO export_ledger_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE export_checkpoints (
    seq          INTEGER PRIMARY KEY,
    head_hash    TEXT NOT NULL,
    at           TEXT NOT NULL,
    signature    TEXT NOT NULL,
    certificate  TEXT NOT NULL
);

CREATE TABLE export_subjects (
    tenant_id  TEXT NOT NULL,
    exporter   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    sensitive  INTEGER NOT NULL,
    key_id     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, exporter, year, subject)
);

CREATE TABLE export_counts (
    tenant_id  TEXT NOT NULL,
    exporter   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    personal   INTEGER NOT NULL,
    sensitive  INTEGER NOT NULL,
    documents  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, exporter, year)
);

CREATE TABLE export_holds (
    submission_id  TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('held', 'releasing', 'released', 'refused')),
    reason         TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    export         TEXT NOT NULL,
    job            TEXT NOT NULL,
    held_at        TEXT NOT NULL,
    decided_by     TEXT,
    basis          TEXT,
    decided_at     TEXT,
    principal      TEXT
);

CREATE INDEX export_holds_by_state ON export_holds (state, held_at);
CREATE TABLE title_tokens (
    registry     TEXT NOT NULL,
    token_id     TEXT NOT NULL,
    beneficiary  TEXT NOT NULL,
    holder       TEXT NOT NULL,
    nominee      TEXT,
    state        TEXT NOT NULL CHECK (state IN ('active', 'surrendered', 'burned')),
    remark       TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (registry, token_id)
);

CREATE TABLE title_token_events (
    registry     TEXT NOT NULL,
    token_id     TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    action       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    beneficiary  TEXT NOT NULL,
    holder       TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (registry, token_id, seq),
    FOREIGN KEY (registry, token_id) REFERENCES title_tokens (registry, token_id)
);

CREATE TABLE peppol_transmissions (
    id                 TEXT PRIMARY KEY,
    direction          TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    transmission_id    TEXT NOT NULL,
    instance_id        TEXT NOT NULL,
    exchanged_at       TEXT NOT NULL,
    tenant_id          TEXT,
    submission_id      TEXT,
    c2_seat            TEXT NOT NULL,
    c3_seat            TEXT NOT NULL,
    doctype_scheme     TEXT NOT NULL,
    doctype            TEXT NOT NULL,
    process_scheme     TEXT NOT NULL,
    process            TEXT NOT NULL,
    transport_profile  TEXT NOT NULL,
    c1_country         TEXT NOT NULL,
    c4_country         TEXT,
    end_user_hash      TEXT NOT NULL,
    UNIQUE (direction, transmission_id)
);

CREATE INDEX peppol_transmissions_by_time ON peppol_transmissions (exchanged_at);
CREATE INDEX peppol_transmissions_by_instance ON peppol_transmissions (instance_id);

CREATE TABLE peppol_report_months (
    month          TEXT PRIMARY KEY,
    claimed_at     TEXT NOT NULL,
    tsr_id         TEXT,
    eusr_id        TEXT,
    detail         TEXT NOT NULL DEFAULT '{}'
);

-- The eBL registry (DCSA PINT).

CREATE TABLE ebl_titles (
    td_checksum         TEXT PRIMARY KEY,
    reference           TEXT NOT NULL,
    state               TEXT NOT NULL
                        CHECK (state IN ('held', 'sending', 'transferred', 'surrendered')),
    possessor           TEXT NOT NULL,
    head                TEXT NOT NULL,
    chain               TEXT NOT NULL,
    title               TEXT NOT NULL,
    transport_document  TEXT NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE INDEX ebl_titles_by_reference ON ebl_titles (reference);

CREATE TABLE ebl_accepted (
    last_checksum  TEXT PRIMARY KEY,
    td_checksum    TEXT NOT NULL,
    last_entry     TEXT NOT NULL,
    received       TEXT NOT NULL,
    sender         TEXT NOT NULL,
    accepted_at    TEXT NOT NULL
);

CREATE TABLE ebl_inbound (
    reference      TEXT PRIMARY KEY,
    td_checksum    TEXT NOT NULL,
    envelope       TEXT NOT NULL,
    documents      TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE ebl_outbound (
    id             TEXT PRIMARY KEY,
    td_checksum    TEXT NOT NULL,
    platform       TEXT NOT NULL,
    base_head      TEXT NOT NULL,
    envelope       TEXT NOT NULL,
    documents      TEXT NOT NULL,
    title          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('sending', 'accepted', 'rejected')),
    response_code  TEXT,
    response       TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE INDEX ebl_outbound_by_title ON ebl_outbound (td_checksum, created_at);

CREATE TABLE ebl_documents (
    checksum     TEXT PRIMARY KEY,
    media_type   TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   TEXT NOT NULL
);

-- What data migrations did to eBL registry rows (0016: surrenders recorded as final under the
-- old rule): each row's state and title before, after, or why it was left as it was.

CREATE TABLE ebl_title_migrations (
    kind         TEXT NOT NULL CHECK (kind IN ('title', 'outbound')),
    row_key      TEXT NOT NULL,
    migration    TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('migrated', 'left')),
    reason       TEXT NOT NULL,
    reference    TEXT NOT NULL,
    old_state    TEXT NOT NULL,
    old_title    TEXT NOT NULL,
    new_state    TEXT,
    new_title    TEXT,
    version      INTEGER,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (kind, row_key, migration)
);

-- The additional documents each eBL carries here (0015): received with it or attached here
-- (origin, 0017), announced again by an onward transfer (one received: when its sender asks).

CREATE TABLE ebl_title_documents (
    td_checksum  TEXT NOT NULL,
    checksum     TEXT NOT NULL,
    name         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    origin       TEXT NOT NULL DEFAULT 'received' CHECK (origin IN ('received', 'attached')),
    PRIMARY KEY (td_checksum, checksum)
);

-- The operator console's reads (0008): document facts (written by the statements that write
-- what they come from, 0014), and indexes.

CREATE TABLE document_facts (
    submission_id  TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    profile        TEXT,
    receiver       TEXT,
    number         TEXT,
    delivered_at   TEXT
);

CREATE INDEX document_facts_by_profile ON document_facts (tenant_id, profile, created_at, submission_id);
CREATE INDEX document_facts_by_receiver ON document_facts (tenant_id, receiver, created_at, submission_id);
CREATE INDEX document_facts_by_delivery ON document_facts (tenant_id, delivered_at);
CREATE INDEX submissions_by_tenant_state ON submissions (tenant_id, state, created_at);
CREATE INDEX outbox_jobs_dead ON outbox_jobs (updated_at) WHERE state = 'dead';

-- The answer a receiving adapter gave the sender of an inbound message (AS4: the signed
-- non-repudiation receipt), stored in the same transaction as the message, so a duplicate
-- (a retry with the same message id, here or at another replica) gets the same answer again.

CREATE TABLE inbound_answers (
    inbound_id  TEXT PRIMARY KEY REFERENCES inbound_messages (id),
    answer      BLOB NOT NULL
);

-- Peppol documents received, by sending access point and SBDH InstanceIdentifier: the AS4
-- MessageId that first carried each one (a claim taken before the message is stored), and
-- the replays, the same document from the same access point under another MessageId, which
-- were answered with a receipt but not stored or handed on again.

CREATE TABLE peppol_instances (
    channel      TEXT NOT NULL,
    c2_seat      TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    claimed_at   TEXT NOT NULL,
    PRIMARY KEY (channel, c2_seat, instance_id)
);

CREATE TABLE peppol_replays (
    channel           TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    c2_seat           TEXT NOT NULL,
    instance_id       TEXT NOT NULL,
    first_message_id  TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    answer            BLOB NOT NULL,
    PRIMARY KEY (channel, message_id)
);

-- Console sessions signed out (0017): the nonce, until the session would have expired.

CREATE TABLE console_signouts (
    nonce    TEXT PRIMARY KEY,
    expires  INTEGER NOT NULL
);

CREATE INDEX console_signouts_by_expiry ON console_signouts (expires);

-- The export ledger and its checkpoints are append-only (0022).

CREATE TRIGGER export_ledger_no_update BEFORE UPDATE ON export_ledger
BEGIN
    SELECT RAISE(ABORT, 'export_ledger is append-only: entries cannot be changed');
END;

CREATE TRIGGER export_ledger_no_delete BEFORE DELETE ON export_ledger
BEGIN
    SELECT RAISE(ABORT, 'export_ledger is append-only: entries cannot be deleted');
END;

CREATE TRIGGER export_checkpoints_no_update BEFORE UPDATE ON export_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'export_checkpoints is append-only: checkpoints cannot be changed');
END;

CREATE TRIGGER export_checkpoints_no_delete BEFORE DELETE ON export_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'export_checkpoints is append-only: checkpoints cannot be deleted');
END;

-- The first answer to each eBL action sent with an Idempotency-Key, per tenant and key
-- (0023): the request (method, path, a digest per body member) and the answer replayed.

CREATE TABLE ebl_idempotency (
    tenant_id        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    request          TEXT NOT NULL,
    fields           TEXT NOT NULL,
    status           INTEGER NOT NULL,
    answer           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);

CREATE INDEX submissions_expiring_keys ON submissions (created_at)
WHERE idempotency_key IS NOT NULL
  AND idempotency_key NOT LIKE 'mls:%'
  AND idempotency_key NOT LIKE 'peppol-tsr:%'
  AND idempotency_key NOT LIKE 'peppol-eusr:%';

CREATE INDEX ebl_idempotency_by_age ON ebl_idempotency (created_at);

-- The register of fapiao each tenant has sent, one row per submission queued or held (0025),
-- and its lookup by number.

CREATE TABLE sent_documents (
    submission_id  TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    seller_id      TEXT NOT NULL,
    number         TEXT NOT NULL,
    document_type  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE INDEX sent_documents_by_number
ON sent_documents (tenant_id, number, seller_id, document_type, created_at);
