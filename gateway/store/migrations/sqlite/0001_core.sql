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
    revoked_at  TEXT
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
