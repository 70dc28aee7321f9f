-- Queries of the SQLite store. Parameters are :named; times are ISO 8601 UTC text.

-- name: schema_version_table
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL
)

-- name: schema_version
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- name: insert_schema_version
INSERT INTO schema_version (version, name, applied_at) VALUES (:version, :name, :now)

-- name: insert_tenant
INSERT INTO tenants (id, name, created_at) VALUES (:id, :name, :now) RETURNING *

-- name: get_tenant
SELECT * FROM tenants WHERE id = :id

-- name: list_tenants
SELECT * FROM tenants ORDER BY created_at, id

-- name: insert_api_key
INSERT INTO api_keys (id, tenant_id, key_hash, label, created_at, role)
VALUES (:id, :tenant_id, :key_hash, :label, :now, :role) RETURNING *

-- name: api_key_for_hash
SELECT t.id AS t_id, t.name AS t_name, t.created_at AS t_created_at, k.*
FROM tenants t JOIN api_keys k ON k.tenant_id = t.id
WHERE k.key_hash = :key_hash AND k.revoked_at IS NULL

-- name: count_officer_keys
SELECT count(*) AS n FROM api_keys WHERE role = 'officer' AND revoked_at IS NULL

-- name: tenant_for_key_hash
SELECT t.* FROM tenants t JOIN api_keys k ON k.tenant_id = t.id
WHERE k.key_hash = :key_hash AND k.revoked_at IS NULL

-- name: list_api_keys
SELECT * FROM api_keys WHERE tenant_id = :tenant_id ORDER BY created_at, id

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL

-- name: put_directory_entry
INSERT INTO directory_entries (tenant_id, kind, key, document, updated_at)
VALUES (:tenant_id, :kind, :key, :document, :now)
ON CONFLICT (tenant_id, kind, key) DO UPDATE
SET document = excluded.document, updated_at = excluded.updated_at
RETURNING *

-- name: get_directory_entry
SELECT * FROM directory_entries WHERE tenant_id = :tenant_id AND kind = :kind AND key = :key

-- name: list_directory
SELECT * FROM directory_entries
WHERE tenant_id = :tenant_id AND (:kind IS NULL OR kind = :kind)
ORDER BY kind, key

-- name: delete_directory_entry
DELETE FROM directory_entries WHERE tenant_id = :tenant_id AND kind = :kind AND key = :key

-- name: insert_submission
-- With its console document facts (migration 0014); the row only when it was inserted (the
-- facts insert changes one row exactly then).
INSERT INTO submissions (id, tenant_id, idempotency_key, data, content_type, filename,
                         metadata, state, created_at, updated_at)
SELECT :id, :tenant_id, :idempotency_key, :data, :content_type, :filename,
       :metadata, :state, :now, :now
WHERE EXISTS (SELECT 1 FROM tenants WHERE id = :tenant_id)
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING;
INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver)
SELECT id, tenant_id, created_at, json_extract(metadata, '$.profile'),
       json_extract(metadata, '$.receiver')
FROM submissions WHERE id = :id AND changes() = 1;
SELECT * FROM submissions WHERE id = :id AND changes() = 1;

-- name: insert_submission_with_job
-- The submission with its console document facts (migration 0014), first event and job;
-- with the job's due time and lease expiry (as postgres.sql returns them).
INSERT INTO submissions (id, tenant_id, idempotency_key, data, content_type, filename,
                         metadata, state, created_at, updated_at)
SELECT :id, :tenant_id, :idempotency_key, :data, :content_type, :filename,
       :metadata, :state, :now, :now
WHERE EXISTS (SELECT 1 FROM tenants WHERE id = :tenant_id)
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING;
INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver)
SELECT id, tenant_id, created_at, json_extract(metadata, '$.profile'),
       json_extract(metadata, '$.receiver')
FROM submissions WHERE id = :id;
INSERT INTO events (submission_id, state, at, reason, detail)
SELECT id, :state, :now, :reason, NULL FROM submissions WHERE id = :id;
INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref, message_id,
                         state, attempts, lease_owner, lease_expires_at, next_attempt_at,
                         created_at, updated_at)
SELECT :job_id, :kind, id, :adapter, :endpoint, :payload_ref, :message_id,
       :job_state, :attempts, :lease_owner, :lease_expires_at, :next_attempt_at, :now, :now
FROM submissions WHERE id = :id;
SELECT s.*, j.next_attempt_at AS job_next_attempt_at, j.lease_expires_at AS job_lease_expires_at
FROM submissions s JOIN outbox_jobs j ON j.id = :job_id WHERE s.id = :id;

-- name: submission_by_key
SELECT * FROM submissions WHERE tenant_id = :tenant_id AND idempotency_key = :idempotency_key

-- name: get_submission
SELECT * FROM submissions WHERE id = :id AND tenant_id = :tenant_id

-- name: get_submission_any_tenant
SELECT * FROM submissions WHERE id = :id

-- name: get_submission_summary
SELECT id, tenant_id, idempotency_key, length(data) AS size, content_type, filename, metadata,
       state, created_at, updated_at
FROM submissions WHERE id = :id AND tenant_id = :tenant_id

-- name: list_submissions
SELECT id, tenant_id, idempotency_key, length(data) AS size, content_type, filename, metadata,
       state, created_at, updated_at
FROM submissions
WHERE tenant_id = :tenant_id
  AND (:state IS NULL OR state = :state)
  AND (:before IS NULL OR created_at < :before
       OR (:before_id IS NOT NULL AND created_at = :before AND id < :before_id))
ORDER BY created_at DESC, id DESC
LIMIT :limit

-- name: count_submissions_by_state
SELECT state, COUNT(*) AS n FROM submissions GROUP BY state

-- name: count_jobs_by_state
SELECT state, COUNT(*) AS n FROM outbox_jobs GROUP BY state

-- name: insert_event
-- With the console's document facts a queued, held or delivered event brings (migration 0014).
UPDATE document_facts
SET profile = COALESCE(json_extract(:detail, '$.profile'), profile),
    receiver = COALESCE(json_extract(:detail, '$.receiver'), receiver),
    number = COALESCE(json_extract(:detail, '$.number'), number)
WHERE submission_id = :submission_id AND :state IN ('queued', 'held');
UPDATE document_facts SET delivered_at = :now
WHERE submission_id = :submission_id AND :state = 'delivered';
INSERT INTO events (submission_id, state, at, reason, detail)
VALUES (:submission_id, :state, :now, :reason, :detail)
RETURNING *

-- name: set_submission_state
UPDATE submissions SET state = :state, updated_at = :now WHERE id = :submission_id

-- name: record_state
-- The state, its event and the console's document facts it brings (migration 0014): a
-- queued or held event's profile, receiver and number, a delivered event's time.
UPDATE submissions SET state = :state, updated_at = :now WHERE id = :submission_id;
UPDATE document_facts
SET profile = COALESCE(json_extract(:detail, '$.profile'), profile),
    receiver = COALESCE(json_extract(:detail, '$.receiver'), receiver),
    number = COALESCE(json_extract(:detail, '$.number'), number)
WHERE submission_id = :submission_id AND :state IN ('queued', 'held');
UPDATE document_facts SET delivered_at = :now
WHERE submission_id = :submission_id AND :state = 'delivered';
INSERT INTO events (submission_id, state, at, reason, detail)
VALUES (:submission_id, :state, :now, :reason, :detail);

-- name: list_events
SELECT * FROM events WHERE submission_id = :submission_id ORDER BY id

-- name: queued_details_by_number
-- What the flow recorded (its ``queued`` event's detail) for each of a tenant's documents
-- with this number, newest first: a credit note's job reads the issue date of the invoice it
-- credits from it (the tenant's rows through document_facts_by_profile's leading tenant_id,
-- each one's events through events_by_submission).
SELECT e.submission_id, e.detail
FROM document_facts f
JOIN events e ON e.submission_id = f.submission_id AND e.state = 'queued'
WHERE f.tenant_id = :tenant_id AND f.number = :number
ORDER BY e.id DESC
LIMIT 20

-- name: put_output
INSERT INTO outputs (submission_id, kind, media_type, data, created_at)
VALUES (:submission_id, :kind, :media_type, :data, :now)
ON CONFLICT (submission_id, kind) DO UPDATE
SET media_type = excluded.media_type, data = excluded.data, created_at = excluded.created_at
RETURNING *

-- name: put_output_rows
-- put_output for QueryMany (see connector.py): the same upsert, sending nothing back.
INSERT INTO outputs (submission_id, kind, media_type, data, created_at)
VALUES (:submission_id, :kind, :media_type, :data, :now)
ON CONFLICT (submission_id, kind) DO UPDATE
SET media_type = excluded.media_type, data = excluded.data, created_at = excluded.created_at

-- name: get_output
SELECT * FROM outputs WHERE submission_id = :submission_id AND kind = :kind

-- name: get_outputs
SELECT * FROM outputs
WHERE submission_id = :submission_id AND kind IN (SELECT value FROM json_each(:kinds))

-- name: list_output_summaries
SELECT submission_id, kind, media_type, created_at, length(data) AS size,
       CASE WHEN kind IN (SELECT value FROM json_each(:kinds)) THEN data END AS data
FROM outputs WHERE submission_id = :submission_id ORDER BY kind

-- name: list_outputs
SELECT * FROM outputs WHERE submission_id = :submission_id ORDER BY kind

-- name: insert_job
INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref, message_id,
                         state, attempts, next_attempt_at, created_at, updated_at)
VALUES (:id, :kind, :submission_id, :adapter, :endpoint, :payload_ref,
        :message_id, 'pending', 0, :next_attempt_at, :now, :now)
ON CONFLICT (submission_id, kind, adapter) DO NOTHING
RETURNING *

-- name: insert_job_leased
INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref, message_id,
                         state, attempts, lease_owner, lease_expires_at, next_attempt_at,
                         created_at, updated_at)
VALUES (:id, :kind, :submission_id, :adapter, :endpoint, :payload_ref,
        :message_id, 'leased', 1, :lease_owner, :lease_expires_at, :next_attempt_at,
        :now, :now)
ON CONFLICT (submission_id, kind, adapter) DO NOTHING
RETURNING *

-- name: job_by_key
SELECT * FROM outbox_jobs
WHERE submission_id = :submission_id AND kind = :kind AND adapter = :adapter

-- name: get_job
SELECT * FROM outbox_jobs WHERE id = :id

-- name: list_jobs
SELECT * FROM outbox_jobs
WHERE (:submission_id IS NULL OR submission_id = :submission_id)
  AND (:state IS NULL OR state = :state)
ORDER BY created_at, id
LIMIT :limit

-- name: claim_jobs
UPDATE outbox_jobs
SET state = 'leased', lease_owner = :worker_id, lease_expires_at = :lease_expires_at,
    attempts = attempts + 1, updated_at = :now
WHERE id IN (
    -- each branch walks its partial index and stops at :limit (one OR over both made
    -- SQLite collect and sort every due job: slow with a backlog of thousands)
    SELECT id FROM (
        SELECT * FROM (
            SELECT id, next_attempt_at FROM outbox_jobs
            WHERE state = 'pending' AND next_attempt_at <= :at
              AND endpoint NOT IN (SELECT value FROM json_each(:excluded))
              AND (:kinds IS NULL OR kind IN (SELECT value FROM json_each(:kinds)))
            ORDER BY next_attempt_at, id
            LIMIT :limit
        )
        UNION ALL
        SELECT * FROM (
            SELECT id, next_attempt_at FROM outbox_jobs
            WHERE state = 'leased' AND lease_expires_at <= :at
              AND endpoint NOT IN (SELECT value FROM json_each(:excluded))
              AND (:kinds IS NULL OR kind IN (SELECT value FROM json_each(:kinds)))
            ORDER BY next_attempt_at, id
            LIMIT :limit
        )
    )
    ORDER BY next_attempt_at, id
    LIMIT :limit
)
RETURNING *

-- name: renew_lease
UPDATE outbox_jobs SET lease_expires_at = :lease_expires_at, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id
RETURNING *

-- name: complete_job
UPDATE outbox_jobs
SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
    retryable = NULL, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id
RETURNING *

-- name: finish_and_queue
-- A process job's end (see postgres.sql): each statement fenced by the job's lease (the
-- console's document facts too, migration 0014), the job marked done last; the final SELECT
-- returns the job queued or found (inserted: whether it is new) only when that update
-- changed the job, i.e. the lease was the worker's.
INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref, message_id,
                         state, attempts, lease_owner, lease_expires_at, next_attempt_at,
                         created_at, updated_at)
SELECT :id, :kind, submission_id, :adapter, :endpoint, :payload_ref, :message_id,
       :job_state, :attempts, :lease_owner, :lease_expires_at, :next_attempt_at, :now, :now
FROM outbox_jobs WHERE id = :done_id AND state = 'leased' AND lease_owner = :worker_id
ON CONFLICT (submission_id, kind, adapter) DO NOTHING;
UPDATE submissions SET state = :state, updated_at = :now
WHERE id = (SELECT submission_id FROM outbox_jobs
            WHERE id = :done_id AND state = 'leased' AND lease_owner = :worker_id);
INSERT INTO events (submission_id, state, at, reason, detail)
SELECT j.submission_id, :state, :now, :reason,
       json_insert(COALESCE(:detail, '{}'), '$.job_id', j.id, '$.message_id', j.message_id)
FROM outbox_jobs p JOIN outbox_jobs j
  ON j.submission_id = p.submission_id AND j.kind = :kind AND j.adapter = :adapter
WHERE p.id = :done_id AND p.state = 'leased' AND p.lease_owner = :worker_id;
UPDATE document_facts
SET profile = COALESCE(json_extract(:detail, '$.profile'), profile),
    receiver = COALESCE(json_extract(:detail, '$.receiver'), receiver),
    number = COALESCE(json_extract(:detail, '$.number'), number)
WHERE :state = 'queued' AND submission_id = (
    SELECT submission_id FROM outbox_jobs
    WHERE id = :done_id AND state = 'leased' AND lease_owner = :worker_id);
UPDATE document_facts SET delivered_at = :now
WHERE :state = 'delivered' AND submission_id = (
    SELECT submission_id FROM outbox_jobs
    WHERE id = :done_id AND state = 'leased' AND lease_owner = :worker_id);
UPDATE outbox_jobs
SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
    retryable = NULL, updated_at = :now
WHERE id = :done_id AND state = 'leased' AND lease_owner = :worker_id;
SELECT j.*, j.id = :id AS inserted
FROM outbox_jobs p JOIN outbox_jobs j
  ON j.submission_id = p.submission_id AND j.kind = :kind AND j.adapter = :adapter
WHERE changes() = 1 AND p.id = :done_id;

-- name: complete_delivery
-- A delivery's end, each statement fenced by the job's lease: receipt, state, event, the
-- console's document facts (migration 0014), the job done last (its row is the result).
INSERT INTO receipts (id, job_id, kind, data, media_type, detail, received_at)
SELECT :receipt_id, id, :kind, :data, :media_type, :receipt_detail, :now
FROM outbox_jobs WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id;
UPDATE submissions SET state = :state, updated_at = :now
WHERE id = (SELECT submission_id FROM outbox_jobs
            WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id);
INSERT INTO events (submission_id, state, at, reason, detail)
SELECT submission_id, :state, :now, :reason, :detail
FROM outbox_jobs WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id;
UPDATE document_facts
SET profile = COALESCE(json_extract(:detail, '$.profile'), profile),
    receiver = COALESCE(json_extract(:detail, '$.receiver'), receiver),
    number = COALESCE(json_extract(:detail, '$.number'), number)
WHERE :state = 'queued' AND submission_id = (
    SELECT submission_id FROM outbox_jobs
    WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id);
UPDATE document_facts SET delivered_at = :now
WHERE :state = 'delivered' AND submission_id = (
    SELECT submission_id FROM outbox_jobs
    WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id);
UPDATE outbox_jobs
SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
    retryable = NULL, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id
RETURNING *;

-- name: fail_job
UPDATE outbox_jobs
SET state = :state, next_attempt_at = COALESCE(:next_attempt_at, next_attempt_at),
    lease_owner = NULL, lease_expires_at = NULL, last_error = :error,
    retryable = :retryable, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id
RETURNING *

-- name: defer_job
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = :until, attempts = MAX(attempts - 1, 0),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE id = :id AND state = 'leased' AND lease_owner = :worker_id
RETURNING *

-- name: retry_job
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = :at, attempts = 0, retryable = NULL,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE id = :id AND state IN ('pending', 'dead')
RETURNING *

-- name: retry_submission
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = :at, attempts = 0, retryable = NULL,
    updated_at = :now
WHERE submission_id = :submission_id AND state = 'dead' AND kind <> :skip_kind
RETURNING *

-- name: release_jobs
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = :at, attempts = MAX(attempts - 1, 0),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE state = 'leased' AND lease_owner = :worker_id

-- name: insert_receipt
INSERT INTO receipts (id, job_id, kind, data, media_type, detail, received_at)
VALUES (:id, :job_id, :kind, :data, :media_type, :detail, :now)
RETURNING *

-- name: list_receipts
SELECT r.* FROM receipts r JOIN outbox_jobs j ON j.id = r.job_id
WHERE (:job_id IS NULL OR r.job_id = :job_id)
  AND (:submission_id IS NULL OR j.submission_id = :submission_id)
ORDER BY r.received_at, r.id

-- name: get_breaker
SELECT * FROM breakers WHERE endpoint = :endpoint

-- name: insert_breaker
INSERT INTO breakers (endpoint, phase, failures, opened_at, version)
VALUES (:endpoint, :phase, :failures, :opened_at, 1)
ON CONFLICT (endpoint) DO NOTHING

-- name: update_breaker
UPDATE breakers
SET phase = :phase, failures = :failures, opened_at = :opened_at, version = version + 1
WHERE endpoint = :endpoint AND version = :expected_version

-- name: open_breakers
SELECT * FROM breakers WHERE phase <> 'closed' ORDER BY endpoint

-- name: remember_inbound
INSERT INTO inbound_keys (key, seen_at) VALUES (:key, :now) ON CONFLICT (key) DO NOTHING

-- name: insert_inbound
INSERT INTO inbound_messages (id, tenant_id, channel, message_id, sender, receiver, data,
                              media_type, metadata, received_at)
VALUES (:id, :tenant_id, :channel, :message_id, :sender, :receiver, :data,
        :media_type, :metadata, :now)
ON CONFLICT (channel, message_id) DO NOTHING
RETURNING *

-- name: inbound_by_message_id
SELECT * FROM inbound_messages WHERE channel = :channel AND message_id = :message_id

-- name: insert_inbound_answer
INSERT INTO inbound_answers (inbound_id, answer) VALUES (:inbound_id, :answer)
ON CONFLICT (inbound_id) DO NOTHING

-- name: inbound_answer
SELECT answer FROM inbound_answers WHERE inbound_id = :inbound_id

-- name: get_inbound
SELECT * FROM inbound_messages WHERE id = :id

-- name: claim_inbound
UPDATE inbound_messages SET tenant_id = :tenant_id WHERE id = :id AND tenant_id IS NULL
RETURNING id

-- name: spis_inbound_with_tenant
SELECT id, tenant_id FROM inbound_messages
WHERE tenant_id IS NOT NULL AND substr(lower(receiver), 1, 5) = '0242:'
ORDER BY received_at, id

-- name: move_inbound
UPDATE inbound_messages SET tenant_id = :to_tenant
WHERE id = :id AND tenant_id = :from_tenant
RETURNING id

-- name: list_inbound
SELECT * FROM inbound_messages
WHERE (:tenant_id IS NULL OR tenant_id = :tenant_id)
ORDER BY received_at DESC, id DESC
LIMIT :limit

-- name: schema_version_exists
SELECT COUNT(*) > 0 AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'

-- name: migration_try_lock
-- (the migration's BEGIN IMMEDIATE already holds the write lock)
SELECT 1 AS locked

-- name: migration_lock
-- (nothing to lock: the migration's BEGIN IMMEDIATE already holds the write lock)
SELECT 1

-- name: lock_tenant_directory
-- (nothing to lock: BEGIN IMMEDIATE serialises every writer)
SELECT 1

-- name: ping
SELECT 1 AS ok

-- name: ready
-- Readiness: reads what taking and delivering a document reads first (no row of the
-- submissions or the outbox). In WAL mode a reader waits for no writer, a migration's
-- included: the check fails when the tables cannot be read (busy timeout, missing file).
SELECT (SELECT COALESCE(MAX(version), 0) FROM schema_version) AS version,
       NOT EXISTS (SELECT 1 FROM submissions LIMIT 0)
       AND NOT EXISTS (SELECT 1 FROM outbox_jobs LIMIT 0) AS ok
