-- The delivery outbox, receipts, shared circuit breakers, inbound messages and keys.

CREATE TABLE outbox_jobs (
    id                TEXT PRIMARY KEY,
    submission_id     TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
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
    updated_at        TEXT NOT NULL,
    UNIQUE (submission_id, adapter)
);

CREATE INDEX outbox_jobs_due ON outbox_jobs (next_attempt_at) WHERE state = 'pending';
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
