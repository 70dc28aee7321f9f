-- The operator console's reads (gateway/store/console.py).

-- name: console_documents
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       COALESCE((q.detail->>'profile'), (s.metadata->>'profile')) AS profile,
       COALESCE((q.detail->>'receiver'), (s.metadata->>'receiver')) AS receiver,
       (q.detail->>'number') AS number
FROM submissions s
LEFT JOIN events q ON q.id = (SELECT MAX(e.id) FROM events e
                              WHERE e.submission_id = s.id AND e.state = 'queued')
WHERE s.tenant_id = %(tenant_id)s
  AND (%(state)s::text IS NULL OR s.state = %(state)s)
  AND (%(since)s::timestamptz IS NULL OR s.created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR s.created_at < %(until)s)
  AND (%(before_at)s::timestamptz IS NULL OR s.created_at < %(before_at)s
       OR (s.created_at = %(before_at)s AND s.id < %(before_id)s))
  AND (%(profile)s::text IS NULL OR COALESCE((q.detail->>'profile'),
                                    (s.metadata->>'profile')) = %(profile)s)
  AND (%(receiver)s::text IS NULL OR COALESCE((q.detail->>'receiver'),
                                     (s.metadata->>'receiver')) = %(receiver)s)
ORDER BY s.created_at DESC, s.id DESC
LIMIT %(limit)s

-- name: console_held
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       (s.metadata->>'profile') AS profile,
       (s.metadata->>'receiver') AS receiver,
       NULL AS number
FROM submissions s
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
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs GROUP BY kind, state ORDER BY kind, state

-- name: console_events_since
SELECT e.at FROM events e JOIN submissions s ON s.id = e.submission_id
WHERE e.state = %(state)s AND e.at >= %(since)s AND s.tenant_id = %(tenant_id)s
ORDER BY e.at

-- name: console_endpoints
SELECT DISTINCT j.adapter, j.endpoint
FROM outbox_jobs j JOIN submissions s ON s.id = j.submission_id
WHERE s.tenant_id = %(tenant_id)s AND j.endpoint <> ''
ORDER BY j.adapter, j.endpoint
