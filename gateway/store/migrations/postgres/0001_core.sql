-- Tenants, API keys (hashes only), the partner directory, submissions, outputs, events.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash    TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE directory_entries (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    document    JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, kind, key)
);

CREATE TABLE submissions (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    idempotency_key  TEXT,
    data             BYTEA NOT NULL,
    content_type     TEXT NOT NULL,
    filename         TEXT,
    metadata         JSONB NOT NULL DEFAULT '{}',
    state            TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE INDEX submissions_by_tenant ON submissions (tenant_id, created_at);

CREATE TABLE outputs (
    submission_id  TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    data           BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (submission_id, kind)
);

CREATE TABLE events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id  TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    state          TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    reason         TEXT,
    detail         JSONB
);

CREATE INDEX events_by_submission ON events (submission_id, id);
