-- Queries of the PostgreSQL store. Parameters are %(named)s (psycopg).

-- name: schema_version_table
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
)

-- name: schema_version
SELECT COALESCE(MAX(version), 0) AS version FROM schema_version

-- name: insert_schema_version
INSERT INTO schema_version (version, name, applied_at) VALUES (%(version)s, %(name)s, %(now)s)

-- name: insert_tenant
INSERT INTO tenants (id, name, created_at) VALUES (%(id)s, %(name)s, %(now)s) RETURNING *

-- name: get_tenant
SELECT * FROM tenants WHERE id = %(id)s

-- name: list_tenants
SELECT * FROM tenants ORDER BY created_at, id

-- name: insert_api_key
INSERT INTO api_keys (id, tenant_id, key_hash, label, created_at, role)
VALUES (%(id)s, %(tenant_id)s, %(key_hash)s, %(label)s, %(now)s, %(role)s) RETURNING *

-- name: api_key_for_hash
SELECT t.id AS t_id, t.name AS t_name, t.created_at AS t_created_at, k.*
FROM tenants t JOIN api_keys k ON k.tenant_id = t.id
WHERE k.key_hash = %(key_hash)s AND k.revoked_at IS NULL

-- name: count_officer_keys
SELECT count(*) AS n FROM api_keys WHERE role = 'officer' AND revoked_at IS NULL

-- name: tenant_for_key_hash
SELECT t.* FROM tenants t JOIN api_keys k ON k.tenant_id = t.id
WHERE k.key_hash = %(key_hash)s AND k.revoked_at IS NULL

-- name: list_api_keys
SELECT * FROM api_keys WHERE tenant_id = %(tenant_id)s ORDER BY created_at, id

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = %(now)s WHERE id = %(id)s AND revoked_at IS NULL

-- name: put_directory_entry
INSERT INTO directory_entries (tenant_id, kind, key, document, updated_at)
VALUES (%(tenant_id)s, %(kind)s, %(key)s, %(document)s, %(now)s)
ON CONFLICT (tenant_id, kind, key) DO UPDATE
SET document = excluded.document, updated_at = excluded.updated_at
RETURNING *

-- name: get_directory_entry
SELECT * FROM directory_entries WHERE tenant_id = %(tenant_id)s AND kind = %(kind)s AND key = %(key)s

-- name: list_directory
SELECT * FROM directory_entries
WHERE tenant_id = %(tenant_id)s AND (%(kind)s::text IS NULL OR kind = %(kind)s)
ORDER BY kind, key

-- name: delete_directory_entry
DELETE FROM directory_entries WHERE tenant_id = %(tenant_id)s AND kind = %(kind)s AND key = %(key)s

-- name: lock_tenant_directory
SELECT pg_advisory_xact_lock(hashtextextended('lingang-directory:' || %(tenant_id)s, 0))

-- name: insert_submission
-- The console's document facts are written with the rows they come from (migration 0013):
-- here the submission's, an event's in the blocks that insert events.
WITH sub AS (
    INSERT INTO submissions (id, tenant_id, idempotency_key, data, content_type, filename,
                             metadata, state, created_at, updated_at)
    SELECT %(id)s, %(tenant_id)s, %(idempotency_key)s, %(data)s, %(content_type)s,
           %(filename)s, %(metadata)s, %(state)s, %(now)s, %(now)s
    WHERE EXISTS (SELECT 1 FROM tenants WHERE id = %(tenant_id)s)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING *
), facts AS (
    INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver)
    SELECT sub.id, sub.tenant_id, sub.created_at, sub.metadata->>'profile',
           sub.metadata->>'receiver'
    FROM sub
)
SELECT * FROM sub

-- name: insert_submission_with_job
-- The submission, its first event, its console facts and its job (pending, or leased to the
-- worker it is handed to at ingest) in one statement; with the job's due time and lease
-- expiry (the database's clock decides them when no time is given, see insert_job).
WITH sub AS (
    INSERT INTO submissions (id, tenant_id, idempotency_key, data, content_type, filename,
                             metadata, state, created_at, updated_at)
    SELECT %(id)s, %(tenant_id)s, %(idempotency_key)s, %(data)s, %(content_type)s,
           %(filename)s, %(metadata)s, %(state)s, %(now)s, %(now)s
    WHERE EXISTS (SELECT 1 FROM tenants WHERE id = %(tenant_id)s)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING *
), event AS (
    INSERT INTO events (submission_id, state, at, reason, detail)
    SELECT sub.id, %(state)s, %(now)s, %(reason)s, NULL FROM sub
), facts AS (
    INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver)
    SELECT sub.id, sub.tenant_id, sub.created_at, sub.metadata->>'profile',
           sub.metadata->>'receiver'
    FROM sub
), job AS (
    INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref,
                             message_id, state, attempts, lease_owner, lease_expires_at,
                             next_attempt_at, created_at, updated_at)
    SELECT %(job_id)s, %(kind)s, sub.id, %(adapter)s, %(endpoint)s, %(payload_ref)s,
           %(message_id)s, %(job_state)s, %(attempts)s, %(lease_owner)s,
           COALESCE(%(lease_expires_at)s::timestamptz,
                    now() + %(lease_seconds)s::float8 * interval '1 second'),
           COALESCE(%(next_attempt_at)s::timestamptz, LEAST(%(ordered_at)s::timestamptz, now())),
           %(now)s, %(now)s
    FROM sub
    RETURNING next_attempt_at, lease_expires_at
)
SELECT sub.*, job.next_attempt_at AS job_next_attempt_at,
       job.lease_expires_at AS job_lease_expires_at
FROM sub CROSS JOIN job

-- name: submission_by_key
SELECT * FROM submissions WHERE tenant_id = %(tenant_id)s AND idempotency_key = %(idempotency_key)s

-- name: get_submission
SELECT * FROM submissions WHERE id = %(id)s AND tenant_id = %(tenant_id)s

-- name: get_submission_any_tenant
SELECT * FROM submissions WHERE id = %(id)s

-- name: get_submission_summary
SELECT id, tenant_id, idempotency_key, octet_length(data) AS size, content_type, filename,
       metadata, state, created_at, updated_at
FROM submissions WHERE id = %(id)s AND tenant_id = %(tenant_id)s

-- name: list_submissions
SELECT id, tenant_id, idempotency_key, octet_length(data) AS size, content_type, filename,
       metadata, state, created_at, updated_at
FROM submissions
WHERE tenant_id = %(tenant_id)s
  AND (%(state)s::text IS NULL OR state = %(state)s)
  AND (%(before)s::timestamptz IS NULL OR created_at < %(before)s
       OR (%(before_id)s::text IS NOT NULL AND created_at = %(before)s AND id < %(before_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s

-- name: count_submissions_by_state
-- For /metrics, at a cost bounded by the work in progress, not by the history (no pass over
-- the table). The (tenant, state) pairs present are found by skipping through the index
-- submissions_by_tenant_state, one probe per pair; each pair is counted on that index, exactly,
-- except the two states every finished document ends in and that grow for ever, delivered and
-- converted: those are the planner's estimate (the table's row estimate times the state's
-- share among its most common values, kept by autovacuum / ANALYZE), and counted only while
-- the table has no statistics yet (it is small then) or the state is too rare to be among them.
WITH RECURSIVE pairs AS (
    (SELECT tenant_id, state FROM submissions ORDER BY tenant_id, state LIMIT 1)
    UNION ALL
    SELECT next.tenant_id, next.state
    FROM pairs, LATERAL (
        SELECT s.tenant_id, s.state FROM submissions s
        WHERE (s.tenant_id, s.state) > (pairs.tenant_id, pairs.state)
        ORDER BY s.tenant_id, s.state
        LIMIT 1
    ) AS next
),
estimated AS (
    SELECT common.state, round(c.reltuples * common.freq)::bigint AS n
    FROM pg_class c
    JOIN pg_namespace ns ON ns.oid = c.relnamespace
    JOIN pg_stats st ON st.schemaname = ns.nspname AND st.tablename = c.relname
                    AND st.attname = 'state'
    CROSS JOIN LATERAL unnest(st.most_common_vals::text::text[], st.most_common_freqs)
        AS common (state, freq)
    WHERE c.oid = 'submissions'::regclass AND c.reltuples >= 0
      AND common.state IN ('delivered', 'converted')
)
SELECT state, n FROM estimated
UNION ALL
SELECT pairs.state,
       SUM((SELECT COUNT(*) FROM submissions s
            WHERE s.tenant_id = pairs.tenant_id AND s.state = pairs.state)) AS n
FROM pairs
WHERE pairs.state NOT IN (SELECT state FROM estimated)
GROUP BY pairs.state

-- name: count_jobs_by_state
-- For /metrics, bounded like count_submissions_by_state: pending, leased and dead are counted
-- exactly on their partial indexes (outbox_jobs_due, outbox_jobs_leases, outbox_jobs_dead);
-- done, every job ever finished, is the table's row estimate (pg_class.reltuples, kept by
-- autovacuum / ANALYZE) less those, and counted only while the table has no estimate yet.
WITH open AS (
    SELECT (SELECT COUNT(*) FROM outbox_jobs WHERE state = 'pending') AS pending,
           (SELECT COUNT(*) FROM outbox_jobs WHERE state = 'leased') AS leased,
           (SELECT COUNT(*) FROM outbox_jobs WHERE state = 'dead') AS dead,
           (SELECT reltuples FROM pg_class WHERE oid = 'outbox_jobs'::regclass) AS rows
)
SELECT 'pending' AS state, pending AS n FROM open
UNION ALL SELECT 'leased', leased FROM open
UNION ALL SELECT 'dead', dead FROM open
UNION ALL
SELECT 'done',
       CASE WHEN rows < 0 THEN (SELECT COUNT(*) FROM outbox_jobs WHERE state = 'done')
            ELSE GREATEST(0, rows::bigint - pending - leased - dead) END
FROM open

-- name: insert_event
-- With the console's document facts a queued, held or delivered event brings (migration 0013).
WITH event AS (
    INSERT INTO events (submission_id, state, at, reason, detail)
    VALUES (%(submission_id)s, %(state)s, %(now)s, %(reason)s, %(detail)s)
    RETURNING *
), queued_facts AS (
    UPDATE document_facts
    SET profile = COALESCE(%(detail)s::jsonb->>'profile', profile),
        receiver = COALESCE(%(detail)s::jsonb->>'receiver', receiver),
        number = COALESCE(%(detail)s::jsonb->>'number', number)
    WHERE submission_id = %(submission_id)s AND %(state)s::text IN ('queued', 'held')
), delivered_facts AS (
    UPDATE document_facts SET delivered_at = %(now)s
    WHERE submission_id = %(submission_id)s AND %(state)s::text = 'delivered'
)
SELECT * FROM event

-- name: set_submission_state
UPDATE submissions SET state = %(state)s, updated_at = %(now)s WHERE id = %(submission_id)s

-- name: record_state
-- The state, its event and the console's document facts it brings (migration 0013): a
-- queued or held event's profile, receiver and number, a delivered event's time.
WITH changed AS (
    UPDATE submissions SET state = %(state)s, updated_at = %(now)s WHERE id = %(submission_id)s
), queued_facts AS (
    UPDATE document_facts
    SET profile = COALESCE(%(detail)s::jsonb->>'profile', profile),
        receiver = COALESCE(%(detail)s::jsonb->>'receiver', receiver),
        number = COALESCE(%(detail)s::jsonb->>'number', number)
    WHERE submission_id = %(submission_id)s AND %(state)s::text IN ('queued', 'held')
), delivered_facts AS (
    UPDATE document_facts SET delivered_at = %(now)s
    WHERE submission_id = %(submission_id)s AND %(state)s::text = 'delivered'
)
INSERT INTO events (submission_id, state, at, reason, detail)
VALUES (%(submission_id)s, %(state)s, %(now)s, %(reason)s, %(detail)s)

-- name: list_events
SELECT * FROM events WHERE submission_id = %(submission_id)s ORDER BY id

-- name: queued_details_by_number
-- What the flow recorded (its ``queued`` event's detail) for each of a tenant's documents
-- with this number, newest first: a credit note's job reads the issue date of the invoice it
-- credits from it (the tenant's rows through document_facts_by_profile's leading tenant_id,
-- each one's events through events_by_submission).
SELECT e.submission_id, e.detail
FROM document_facts f
JOIN events e ON e.submission_id = f.submission_id AND e.state = 'queued'
WHERE f.tenant_id = %(tenant_id)s AND f.number = %(number)s
ORDER BY e.id DESC
LIMIT 20

-- name: put_output
INSERT INTO outputs (submission_id, kind, media_type, data, created_at)
VALUES (%(submission_id)s, %(kind)s, %(media_type)s, %(data)s, %(now)s)
ON CONFLICT (submission_id, kind) DO UPDATE
SET media_type = excluded.media_type, data = excluded.data, created_at = excluded.created_at
RETURNING *

-- name: put_output_rows
-- put_output for several outputs in one statement (see QueryMany): each parameter an array,
-- one element per output, kinds distinct. The data array is sent in binary (the b placeholder): as
-- text, psycopg escapes every byte of every document.
INSERT INTO outputs (submission_id, kind, media_type, data, created_at)
SELECT * FROM unnest(%(submission_id)s::text[], %(kind)s::text[], %(media_type)s::text[],
                     %(data)b::bytea[], %(now)s::timestamptz[])
ON CONFLICT (submission_id, kind) DO UPDATE
SET media_type = excluded.media_type, data = excluded.data, created_at = excluded.created_at

-- name: get_output
SELECT * FROM outputs WHERE submission_id = %(submission_id)s AND kind = %(kind)s

-- name: get_outputs
SELECT * FROM outputs WHERE submission_id = %(submission_id)s AND kind = ANY(%(kinds)s::text[])

-- name: list_output_summaries
SELECT submission_id, kind, media_type, created_at, octet_length(data) AS size,
       CASE WHEN kind = ANY(%(kinds)s::text[]) THEN data END AS data
FROM outputs WHERE submission_id = %(submission_id)s ORDER BY kind

-- name: list_outputs
SELECT * FROM outputs WHERE submission_id = %(submission_id)s ORDER BY kind

-- name: insert_job
-- The job queue runs on the database's clock: a time the gateway gives (next_attempt_at,
-- lease_expires_at, at: a schedule, or a clock a test moves) is taken as it is; without
-- one, now() decides, so replicas whose clocks disagree agree on what is due and which
-- lease is live. A job due now but ordered_at an earlier time is due at that time.
INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref, message_id,
                         state, attempts, next_attempt_at, created_at, updated_at)
VALUES (%(id)s, %(kind)s, %(submission_id)s, %(adapter)s, %(endpoint)s, %(payload_ref)s,
        %(message_id)s, 'pending', 0,
        COALESCE(%(next_attempt_at)s::timestamptz, LEAST(%(ordered_at)s::timestamptz, now())),
        %(now)s, %(now)s)
ON CONFLICT (submission_id, kind, adapter) DO NOTHING
RETURNING *

-- name: insert_job_leased
INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref, message_id,
                         state, attempts, lease_owner, lease_expires_at, next_attempt_at,
                         created_at, updated_at)
VALUES (%(id)s, %(kind)s, %(submission_id)s, %(adapter)s, %(endpoint)s, %(payload_ref)s,
        %(message_id)s, 'leased', 1, %(lease_owner)s,
        COALESCE(%(lease_expires_at)s::timestamptz,
                 now() + %(lease_seconds)s::float8 * interval '1 second'),
        COALESCE(%(next_attempt_at)s::timestamptz, LEAST(%(ordered_at)s::timestamptz, now())),
        %(now)s, %(now)s)
ON CONFLICT (submission_id, kind, adapter) DO NOTHING
RETURNING *

-- name: job_by_key
SELECT * FROM outbox_jobs
WHERE submission_id = %(submission_id)s AND kind = %(kind)s AND adapter = %(adapter)s

-- name: get_job
SELECT * FROM outbox_jobs WHERE id = %(id)s

-- name: list_jobs
SELECT * FROM outbox_jobs
WHERE (%(submission_id)s::text IS NULL OR submission_id = %(submission_id)s)
  AND (%(state)s::text IS NULL OR state = %(state)s)
ORDER BY created_at, id
LIMIT %(limit)s

-- name: claim_jobs
-- Each branch walks its partial index in claim order and stops at the limit (one OR over
-- both states made PostgreSQL collect and sort every due job, dead index entries included);
-- a branch locks at most :limit rows it may then leave unclaimed, until this commits.
WITH pending AS (
    SELECT id, next_attempt_at FROM outbox_jobs
    WHERE state = 'pending' AND next_attempt_at <= COALESCE(%(at)s::timestamptz, now())
      AND NOT (endpoint = ANY(%(excluded)s::text[]))
      AND (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s::text[]))
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), expired AS (
    SELECT id, next_attempt_at FROM outbox_jobs
    WHERE state = 'leased' AND lease_expires_at <= COALESCE(%(at)s::timestamptz, now())
      AND NOT (endpoint = ANY(%(excluded)s::text[]))
      AND (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s::text[]))
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), due AS (
    SELECT id FROM (SELECT * FROM pending UNION ALL SELECT * FROM expired) AS candidates
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
)
UPDATE outbox_jobs j
SET state = 'leased', lease_owner = %(worker_id)s,
    lease_expires_at = COALESCE(%(lease_expires_at)s::timestamptz,
                                now() + %(lease_seconds)s::float8 * interval '1 second'),
    attempts = j.attempts + 1, updated_at = %(now)s
FROM due
WHERE j.id = due.id
RETURNING j.*

-- name: renew_lease
UPDATE outbox_jobs
SET lease_expires_at = COALESCE(%(lease_expires_at)s::timestamptz,
                                now() + %(lease_seconds)s::float8 * interval '1 second'),
    updated_at = %(now)s
WHERE id = %(id)s AND state = 'leased' AND lease_owner = %(worker_id)s
RETURNING *

-- name: complete_job
UPDATE outbox_jobs
SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
    retryable = NULL, updated_at = %(now)s
WHERE id = %(id)s AND state = 'leased' AND lease_owner = %(worker_id)s
RETURNING *

-- name: finish_and_queue
-- A process job's end in one statement: the job done (owner-fenced: nothing happens unless
-- it is leased to the worker), the next job queued on its submission (leased to the worker
-- for a hand-off, else pending; a job of the same kind and adapter already there is
-- returned as it is: the no-op update only takes its row, latest version), the
-- submission's state and its event, whose detail gains that job's id and message id, and
-- the console's document facts the event brings (migration 0013). Returns the job queued
-- or found, with inserted (whether it is new); no row when the lease was lost.
WITH done AS (
    UPDATE outbox_jobs
    SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
        retryable = NULL, updated_at = %(now)s
    WHERE id = %(done_id)s AND state = 'leased' AND lease_owner = %(worker_id)s
    RETURNING submission_id
), job AS (
    INSERT INTO outbox_jobs (id, kind, submission_id, adapter, endpoint, payload_ref,
                             message_id, state, attempts, lease_owner, lease_expires_at,
                             next_attempt_at, created_at, updated_at)
    SELECT %(id)s, %(kind)s, done.submission_id, %(adapter)s, %(endpoint)s, %(payload_ref)s,
           %(message_id)s, %(job_state)s, %(attempts)s, %(lease_owner)s,
           COALESCE(%(lease_expires_at)s::timestamptz,
                    now() + %(lease_seconds)s::float8 * interval '1 second'),
           COALESCE(%(next_attempt_at)s::timestamptz, LEAST(%(ordered_at)s::timestamptz, now())),
           %(now)s, %(now)s
    FROM done
    ON CONFLICT (submission_id, kind, adapter) DO UPDATE SET updated_at = outbox_jobs.updated_at
    RETURNING *
), changed AS (
    UPDATE submissions SET state = %(state)s, updated_at = %(now)s
    FROM done WHERE submissions.id = done.submission_id
), event AS (
    INSERT INTO events (submission_id, state, at, reason, detail)
    SELECT job.submission_id, %(state)s, %(now)s, %(reason)s,
           jsonb_build_object('job_id', job.id, 'message_id', job.message_id)
           || COALESCE(%(detail)s::jsonb, '{}'::jsonb)
    FROM job
), queued_facts AS (
    UPDATE document_facts
    SET profile = COALESCE(%(detail)s::jsonb->>'profile', profile),
        receiver = COALESCE(%(detail)s::jsonb->>'receiver', receiver),
        number = COALESCE(%(detail)s::jsonb->>'number', number)
    FROM done
    WHERE document_facts.submission_id = done.submission_id AND %(state)s::text = 'queued'
), delivered_facts AS (
    UPDATE document_facts SET delivered_at = %(now)s
    FROM done
    WHERE document_facts.submission_id = done.submission_id AND %(state)s::text = 'delivered'
)
SELECT job.*, job.id = %(id)s AS inserted FROM job

-- name: complete_delivery
WITH done AS (
    UPDATE outbox_jobs
    SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
        retryable = NULL, updated_at = %(now)s
    WHERE id = %(id)s AND state = 'leased' AND lease_owner = %(worker_id)s
    RETURNING *
), receipt AS (
    INSERT INTO receipts (id, job_id, kind, data, media_type, detail, received_at)
    SELECT %(receipt_id)s, done.id, %(kind)s, %(data)s, %(media_type)s, %(receipt_detail)s, %(now)s
    FROM done
), changed AS (
    UPDATE submissions SET state = %(state)s, updated_at = %(now)s
    FROM done WHERE submissions.id = done.submission_id
), event AS (
    INSERT INTO events (submission_id, state, at, reason, detail)
    SELECT done.submission_id, %(state)s, %(now)s, %(reason)s, %(detail)s FROM done
), queued_facts AS (
    UPDATE document_facts
    SET profile = COALESCE(%(detail)s::jsonb->>'profile', profile),
        receiver = COALESCE(%(detail)s::jsonb->>'receiver', receiver),
        number = COALESCE(%(detail)s::jsonb->>'number', number)
    FROM done
    WHERE document_facts.submission_id = done.submission_id AND %(state)s::text = 'queued'
), delivered_facts AS (
    UPDATE document_facts SET delivered_at = %(now)s
    FROM done
    WHERE document_facts.submission_id = done.submission_id AND %(state)s::text = 'delivered'
)
SELECT * FROM done

-- name: fail_job
UPDATE outbox_jobs
SET state = %(state)s,
    next_attempt_at = COALESCE(%(next_attempt_at)s::timestamptz,
                               now() + %(retry_after)s::float8 * interval '1 second',
                               next_attempt_at),
    lease_owner = NULL, lease_expires_at = NULL, last_error = %(error)s,
    retryable = %(retryable)s, updated_at = %(now)s
WHERE id = %(id)s AND state = 'leased' AND lease_owner = %(worker_id)s
RETURNING *

-- name: defer_job
UPDATE outbox_jobs
SET state = 'pending',
    next_attempt_at = COALESCE(%(until)s::timestamptz,
                               now() + %(seconds)s::float8 * interval '1 second'),
    attempts = GREATEST(attempts - 1, 0),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = %(now)s
WHERE id = %(id)s AND state = 'leased' AND lease_owner = %(worker_id)s
RETURNING *

-- name: retry_job
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = COALESCE(%(at)s::timestamptz, now()), attempts = 0,
    retryable = NULL,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = %(now)s
WHERE id = %(id)s AND state IN ('pending', 'dead')
RETURNING *

-- name: retry_submission
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = COALESCE(%(at)s::timestamptz, now()), attempts = 0,
    retryable = NULL,
    updated_at = %(now)s
WHERE submission_id = %(submission_id)s AND state = 'dead' AND kind <> %(skip_kind)s
RETURNING *

-- name: release_jobs
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = COALESCE(%(at)s::timestamptz, now()),
    attempts = GREATEST(attempts - 1, 0),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = %(now)s
WHERE state = 'leased' AND lease_owner = %(worker_id)s

-- name: insert_receipt
INSERT INTO receipts (id, job_id, kind, data, media_type, detail, received_at)
VALUES (%(id)s, %(job_id)s, %(kind)s, %(data)s, %(media_type)s, %(detail)s, %(now)s)
RETURNING *

-- name: list_receipts
SELECT r.* FROM receipts r JOIN outbox_jobs j ON j.id = r.job_id
WHERE (%(job_id)s::text IS NULL OR r.job_id = %(job_id)s)
  AND (%(submission_id)s::text IS NULL OR j.submission_id = %(submission_id)s)
ORDER BY r.received_at, r.id

-- name: get_breaker
-- One row even when the endpoint has none yet (its columns NULL), with the database's time
-- of the read: the breakers run on the database's clock, as the queue does.
SELECT breakers.*, now() AS seen_at
FROM (SELECT 1) AS one LEFT JOIN breakers ON breakers.endpoint = %(endpoint)s

-- name: insert_breaker
INSERT INTO breakers (endpoint, phase, failures, opened_at, version)
VALUES (%(endpoint)s, %(phase)s, %(failures)s, %(opened_at)s, 1)
ON CONFLICT (endpoint) DO NOTHING

-- name: update_breaker
UPDATE breakers
SET phase = %(phase)s, failures = %(failures)s, opened_at = %(opened_at)s, version = version + 1
WHERE endpoint = %(endpoint)s AND version = %(expected_version)s

-- name: open_breakers
SELECT *, now() AS seen_at FROM breakers WHERE phase <> 'closed' ORDER BY endpoint

-- name: remember_inbound
INSERT INTO inbound_keys (key, seen_at) VALUES (%(key)s, %(now)s) ON CONFLICT (key) DO NOTHING

-- name: insert_inbound
INSERT INTO inbound_messages (id, tenant_id, channel, message_id, sender, receiver, data,
                              media_type, metadata, received_at)
VALUES (%(id)s, %(tenant_id)s, %(channel)s, %(message_id)s, %(sender)s, %(receiver)s, %(data)s,
        %(media_type)s, %(metadata)s, %(now)s)
ON CONFLICT (channel, message_id) DO NOTHING
RETURNING *

-- name: inbound_by_message_id
SELECT * FROM inbound_messages WHERE channel = %(channel)s AND message_id = %(message_id)s

-- name: insert_inbound_answer
INSERT INTO inbound_answers (inbound_id, answer) VALUES (%(inbound_id)s, %(answer)s)
ON CONFLICT (inbound_id) DO NOTHING

-- name: inbound_answer
SELECT answer FROM inbound_answers WHERE inbound_id = %(inbound_id)s

-- name: get_inbound
SELECT * FROM inbound_messages WHERE id = %(id)s

-- name: claim_inbound
UPDATE inbound_messages SET tenant_id = %(tenant_id)s WHERE id = %(id)s AND tenant_id IS NULL
RETURNING id

-- name: spis_inbound_with_tenant
SELECT id, tenant_id FROM inbound_messages
WHERE tenant_id IS NOT NULL AND substr(lower(receiver), 1, 5) = '0242:'
ORDER BY received_at, id

-- name: move_inbound
UPDATE inbound_messages SET tenant_id = %(to_tenant)s
WHERE id = %(id)s AND tenant_id = %(from_tenant)s
RETURNING id

-- name: list_inbound
SELECT * FROM inbound_messages
WHERE (%(tenant_id)s::text IS NULL OR tenant_id = %(tenant_id)s)
ORDER BY received_at DESC, id DESC
LIMIT %(limit)s

-- name: migration_try_lock
SELECT pg_try_advisory_xact_lock(7460323091) AS locked

-- name: migration_lock
SELECT pg_advisory_xact_lock(7460323091)

-- name: schema_version_exists
SELECT to_regclass('schema_version') IS NOT NULL AS present

-- name: ping
SELECT 1 AS ok

-- name: ready
-- Readiness: reads what taking and delivering a document reads first (no row of the
-- submissions or the outbox: LIMIT 0 still takes their shared lock, so a migration's
-- exclusive lock on either makes it wait, until its lock_timeout ends it).
SELECT (SELECT COALESCE(MAX(version), 0) FROM schema_version) AS version,
       NOT EXISTS (SELECT 1 FROM submissions LIMIT 0)
       AND NOT EXISTS (SELECT 1 FROM outbox_jobs LIMIT 0) AS ok
