-- Job kinds. `kind` names the work a job does: the processing jobs of before (adapter
-- 'pipeline') become kind 'process' with no adapter or endpoint, every other job kind
-- 'deliver'. A job is unique per (submission_id, kind, adapter), and submission_id no
-- longer references submissions: a 'receive' job holds an inbound message's id there.
-- SQLite cannot drop a constraint, so the table is rebuilt; the store runs migrations
-- with foreign keys off, so dropping the old table leaves the receipts alone.

CREATE TABLE outbox_jobs_new (
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

INSERT INTO outbox_jobs_new (id, kind, submission_id, adapter, endpoint, payload_ref,
                             message_id, state, attempts, next_attempt_at, lease_owner,
                             lease_expires_at, last_error, retryable, created_at, updated_at)
SELECT id,
       CASE WHEN adapter = 'pipeline' THEN 'process' ELSE 'deliver' END,
       submission_id,
       CASE WHEN adapter = 'pipeline' THEN '' ELSE adapter END,
       CASE WHEN adapter = 'pipeline' THEN '' ELSE endpoint END,
       payload_ref, message_id, state, attempts, next_attempt_at, lease_owner,
       lease_expires_at, last_error, retryable, created_at, updated_at
FROM outbox_jobs;

DROP TABLE outbox_jobs;

ALTER TABLE outbox_jobs_new RENAME TO outbox_jobs;

CREATE UNIQUE INDEX outbox_jobs_once ON outbox_jobs (submission_id, kind, adapter);
CREATE INDEX outbox_jobs_due ON outbox_jobs (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_jobs_leases ON outbox_jobs (lease_expires_at) WHERE state = 'leased';
