-- The operator console's reads (gateway/store/console.py).

-- name: console_documents
-- A tenant's documents newest first (no fact filter): submissions_by_tenant(_state).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM submissions s
LEFT JOIN document_facts f ON f.submission_id = s.id
WHERE s.tenant_id = %(tenant_id)s
  AND (%(state)s::text IS NULL OR s.state = %(state)s)
  AND (%(since)s::timestamptz IS NULL OR s.created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR s.created_at < %(until)s)
  AND (%(before_at)s::timestamptz IS NULL OR s.created_at < %(before_at)s
       OR (s.created_at = %(before_at)s AND s.id < %(before_id)s))
ORDER BY s.created_at DESC, s.id DESC
LIMIT %(limit)s

-- name: console_documents_by_state
-- A tenant's documents in one state, newest first: walks submissions_by_tenant_state.
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM submissions s
LEFT JOIN document_facts f ON f.submission_id = s.id
WHERE s.tenant_id = %(tenant_id)s AND s.state = %(state)s
  AND (%(since)s::timestamptz IS NULL OR s.created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR s.created_at < %(until)s)
  AND (%(before_at)s::timestamptz IS NULL OR s.created_at < %(before_at)s
       OR (s.created_at = %(before_at)s AND s.id < %(before_id)s))
ORDER BY s.created_at DESC, s.id DESC
LIMIT %(limit)s

-- name: console_documents_by_profile
-- Walks document_facts_by_profile newest first (equality on profile).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM document_facts f
JOIN submissions s ON s.id = f.submission_id
WHERE f.tenant_id = %(tenant_id)s AND f.profile = %(profile)s
  AND (%(receiver)s::text IS NULL OR f.receiver = %(receiver)s)
  AND (%(state)s::text IS NULL OR s.state = %(state)s)
  AND (%(since)s::timestamptz IS NULL OR f.created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR f.created_at < %(until)s)
  AND (%(before_at)s::timestamptz IS NULL OR f.created_at < %(before_at)s
       OR (f.created_at = %(before_at)s AND f.submission_id < %(before_id)s))
ORDER BY f.created_at DESC, f.submission_id DESC
LIMIT %(limit)s

-- name: console_documents_by_receiver
-- Walks document_facts_by_receiver newest first (equality on receiver).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM document_facts f
JOIN submissions s ON s.id = f.submission_id
WHERE f.tenant_id = %(tenant_id)s AND f.receiver = %(receiver)s
  AND (%(profile)s::text IS NULL OR f.profile = %(profile)s)
  AND (%(state)s::text IS NULL OR s.state = %(state)s)
  AND (%(since)s::timestamptz IS NULL OR f.created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR f.created_at < %(until)s)
  AND (%(before_at)s::timestamptz IS NULL OR f.created_at < %(before_at)s
       OR (f.created_at = %(before_at)s AND f.submission_id < %(before_id)s))
ORDER BY f.created_at DESC, f.submission_id DESC
LIMIT %(limit)s

-- name: console_documents_by_number
-- A fapiao's (or an eBL's) number, exactly: the tenant's facts newest first, equality on
-- number (a number is on one or a few documents; no index of its own, the tenant's rows
-- are read through document_facts_by_profile's leading tenant_id).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM document_facts f
JOIN submissions s ON s.id = f.submission_id
WHERE f.tenant_id = %(tenant_id)s AND f.number = %(number)s
  AND (%(receiver)s::text IS NULL OR f.receiver = %(receiver)s)
  AND (%(profile)s::text IS NULL OR f.profile = %(profile)s)
  AND (%(state)s::text IS NULL OR s.state = %(state)s)
  AND (%(since)s::timestamptz IS NULL OR f.created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR f.created_at < %(until)s)
  AND (%(before_at)s::timestamptz IS NULL OR f.created_at < %(before_at)s
       OR (f.created_at = %(before_at)s AND f.submission_id < %(before_id)s))
ORDER BY f.created_at DESC, f.submission_id DESC
LIMIT %(limit)s

-- name: console_held
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM submissions s
LEFT JOIN document_facts f ON f.submission_id = s.id
WHERE s.tenant_id = %(tenant_id)s AND s.state = %(state)s
ORDER BY s.created_at, s.id
LIMIT %(limit)s

-- name: console_dead_letters
SELECT j.*, s.filename AS filename, s.state AS document_state
FROM outbox_jobs j JOIN submissions s ON s.id = j.submission_id
WHERE j.state = 'dead' AND s.tenant_id = %(tenant_id)s
ORDER BY j.updated_at DESC, j.id
LIMIT %(limit)s

-- name: console_queue_depths
-- Waiting work only (each state through its partial index); done jobs are history.
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs WHERE state = 'pending' GROUP BY kind, state
UNION ALL
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs WHERE state = 'leased' GROUP BY kind, state
UNION ALL
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs WHERE state = 'dead' GROUP BY kind, state

-- name: console_delivered_per_bucket
-- A tenant's deliveries since a time, counted per bucket of seconds (document_facts_by_delivery).
SELECT FLOOR(EXTRACT(EPOCH FROM f.delivered_at - %(since)s) / %(bucket_seconds)s)::int AS bucket, COUNT(*) AS n
FROM document_facts f
WHERE f.tenant_id = %(tenant_id)s AND f.delivered_at >= %(since)s
GROUP BY 1

-- name: console_endpoints
-- The endpoints of the tenant's most recent documents' deliveries: one probe of
-- outbox_jobs_once per recent document (LATERAL; OFFSET 0 keeps the planner from flattening
-- it back into a join, for which it hashed the whole outbox_jobs table: a sequential scan
-- growing with every job ever queued, 15 ms at 10,000 documents).
SELECT DISTINCT j.adapter, j.endpoint
FROM (SELECT id FROM submissions WHERE tenant_id = %(tenant_id)s
      ORDER BY created_at DESC LIMIT %(recent)s) s
CROSS JOIN LATERAL (SELECT adapter, endpoint FROM outbox_jobs
                    WHERE submission_id = s.id AND kind = 'deliver' AND endpoint <> '' OFFSET 0) j
ORDER BY j.adapter, j.endpoint

-- name: console_signout
-- Remember a signed-out session (a second sign-out of it changes nothing), and forget the
-- ones that have expired meanwhile, in one statement.
WITH gone AS (DELETE FROM console_signouts WHERE expires < %(now)s)
INSERT INTO console_signouts (nonce, expires) VALUES (%(nonce)s, %(expires)s)
ON CONFLICT (nonce) DO NOTHING

-- name: console_signed_out
SELECT 1 AS ended FROM console_signouts WHERE nonce = %(nonce)s

