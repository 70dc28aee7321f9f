-- The operator console's reads (gateway/store/console.py).

-- name: console_documents
-- A tenant's documents newest first (no fact filter): submissions_by_tenant(_state).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM submissions s
LEFT JOIN document_facts f ON f.submission_id = s.id
WHERE s.tenant_id = :tenant_id
  AND (:state IS NULL OR s.state = :state)
  AND (:since IS NULL OR s.created_at >= :since)
  AND (:until IS NULL OR s.created_at < :until)
  AND (:before_at IS NULL OR s.created_at < :before_at
       OR (s.created_at = :before_at AND s.id < :before_id))
ORDER BY s.created_at DESC, s.id DESC
LIMIT :limit

-- name: console_documents_by_state
-- A tenant's documents in one state, newest first: walks submissions_by_tenant_state.
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM submissions s
LEFT JOIN document_facts f ON f.submission_id = s.id
WHERE s.tenant_id = :tenant_id AND s.state = :state
  AND (:since IS NULL OR s.created_at >= :since)
  AND (:until IS NULL OR s.created_at < :until)
  AND (:before_at IS NULL OR s.created_at < :before_at
       OR (s.created_at = :before_at AND s.id < :before_id))
ORDER BY s.created_at DESC, s.id DESC
LIMIT :limit

-- name: console_documents_by_profile
-- Walks document_facts_by_profile newest first (equality on profile).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM document_facts f
JOIN submissions s ON s.id = f.submission_id
WHERE f.tenant_id = :tenant_id AND f.profile = :profile
  AND (:receiver IS NULL OR f.receiver = :receiver)
  AND (:state IS NULL OR s.state = :state)
  AND (:since IS NULL OR f.created_at >= :since)
  AND (:until IS NULL OR f.created_at < :until)
  AND (:before_at IS NULL OR f.created_at < :before_at
       OR (f.created_at = :before_at AND f.submission_id < :before_id))
ORDER BY f.created_at DESC, f.submission_id DESC
LIMIT :limit

-- name: console_documents_by_receiver
-- Walks document_facts_by_receiver newest first (equality on receiver).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM document_facts f
JOIN submissions s ON s.id = f.submission_id
WHERE f.tenant_id = :tenant_id AND f.receiver = :receiver
  AND (:profile IS NULL OR f.profile = :profile)
  AND (:state IS NULL OR s.state = :state)
  AND (:since IS NULL OR f.created_at >= :since)
  AND (:until IS NULL OR f.created_at < :until)
  AND (:before_at IS NULL OR f.created_at < :before_at
       OR (f.created_at = :before_at AND f.submission_id < :before_id))
ORDER BY f.created_at DESC, f.submission_id DESC
LIMIT :limit

-- name: console_documents_by_number
-- A fapiao's (or an eBL's) number, exactly: the tenant's facts newest first, equality on
-- number (a number is on one or a few documents; no index of its own, the tenant's rows
-- are read through document_facts_by_profile's leading tenant_id).
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM document_facts f
JOIN submissions s ON s.id = f.submission_id
WHERE f.tenant_id = :tenant_id AND f.number = :number
  AND (:receiver IS NULL OR f.receiver = :receiver)
  AND (:profile IS NULL OR f.profile = :profile)
  AND (:state IS NULL OR s.state = :state)
  AND (:since IS NULL OR f.created_at >= :since)
  AND (:until IS NULL OR f.created_at < :until)
  AND (:before_at IS NULL OR f.created_at < :before_at
       OR (f.created_at = :before_at AND f.submission_id < :before_id))
ORDER BY f.created_at DESC, f.submission_id DESC
LIMIT :limit

-- name: console_held
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       f.profile, f.receiver, f.number
FROM submissions s
LEFT JOIN document_facts f ON f.submission_id = s.id
WHERE s.tenant_id = :tenant_id AND s.state = :state
ORDER BY s.created_at, s.id
LIMIT :limit

-- name: console_dead_letters
-- CROSS JOIN keeps the dead jobs (partial index, newest first) as the outer loop.
SELECT j.*, s.filename AS filename, s.state AS document_state
FROM outbox_jobs j CROSS JOIN submissions s
WHERE s.id = j.submission_id AND j.state = 'dead' AND s.tenant_id = :tenant_id
ORDER BY j.updated_at DESC, j.id
LIMIT :limit

-- name: console_queue_depths
-- Waiting work only (each state through its partial index); done jobs are history.
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs WHERE state = 'pending' GROUP BY kind, state
UNION ALL
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs WHERE state = 'leased' GROUP BY kind, state
UNION ALL
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs WHERE state = 'dead' GROUP BY kind, state

-- name: console_delivered_per_bucket
-- A tenant's deliveries since a time, counted per bucket of seconds (document_facts_by_delivery).
SELECT CAST((julianday(f.delivered_at) - julianday(:since)) * 86400 / :bucket_seconds AS INTEGER) AS bucket, COUNT(*) AS n
FROM document_facts f
WHERE f.tenant_id = :tenant_id AND f.delivered_at >= :since
GROUP BY 1

-- name: console_endpoints
-- The endpoints of the tenant's most recent documents' deliveries.
SELECT DISTINCT j.adapter, j.endpoint
FROM (SELECT id FROM submissions WHERE tenant_id = :tenant_id
      ORDER BY created_at DESC LIMIT :recent) s
JOIN outbox_jobs j ON j.submission_id = s.id
WHERE j.kind = 'deliver' AND j.endpoint <> ''
ORDER BY j.adapter, j.endpoint

-- name: console_signout
-- Remember a signed-out session (a second sign-out of it changes nothing), and forget the
-- ones that have expired meanwhile.
INSERT INTO console_signouts (nonce, expires) VALUES (:nonce, :expires)
ON CONFLICT (nonce) DO NOTHING;
DELETE FROM console_signouts WHERE expires < :now

-- name: console_signed_out
SELECT 1 AS ended FROM console_signouts WHERE nonce = :nonce

