-- The cross-border data gate: the export ledger (append-only, hash-chained), its head and
-- signed checkpoints, the yearly per-exporter counts of individuals with the keyed hashes
-- that deduplicate them, and the documents the policy holds.

CREATE TABLE export_ledger (
    seq             BIGINT PRIMARY KEY,
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
    entry_hash      TEXT NOT NULL
);

CREATE INDEX export_ledger_by_exporter ON export_ledger (exporter, at);

CREATE TABLE export_ledger_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);

INSERT INTO export_ledger_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE export_checkpoints (
    seq          BIGINT PRIMARY KEY,
    head_hash    TEXT NOT NULL,
    at           TEXT NOT NULL,
    signature    TEXT NOT NULL,
    certificate  TEXT NOT NULL
);

CREATE TABLE export_subjects (
    exporter   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    sensitive  INTEGER NOT NULL,
    PRIMARY KEY (exporter, year, subject)
);

CREATE TABLE export_counts (
    exporter   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    personal   INTEGER NOT NULL,
    sensitive  INTEGER NOT NULL,
    documents  INTEGER NOT NULL,
    PRIMARY KEY (exporter, year)
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
    decided_at     TEXT
);

CREATE INDEX export_holds_by_state ON export_holds (state, held_at);
