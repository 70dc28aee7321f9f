-- The operator console's reads (gateway/store/console.py).

-- name: console_documents
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       COALESCE(json_extract(q.detail, '$.profile'), json_extract(s.metadata, '$.profile')) AS profile,
       COALESCE(json_extract(q.detail, '$.receiver'), json_extract(s.metadata, '$.receiver')) AS receiver,
       json_extract(q.detail, '$.number') AS number
FROM submissions s
LEFT JOIN events q ON q.id = (SELECT MAX(e.id) FROM events e
                              WHERE e.submission_id = s.id AND e.state = 'queued')
WHERE s.tenant_id = :tenant_id
  AND (:state IS NULL OR s.state = :state)
  AND (:since IS NULL OR s.created_at >= :since)
  AND (:until IS NULL OR s.created_at < :until)
  AND (:before_at IS NULL OR s.created_at < :before_at
       OR (s.created_at = :before_at AND s.id < :before_id))
  AND (:profile IS NULL OR COALESCE(json_extract(q.detail, '$.profile'),
                                    json_extract(s.metadata, '$.profile')) = :profile)
  AND (:receiver IS NULL OR COALESCE(json_extract(q.detail, '$.receiver'),
                                     json_extract(s.metadata, '$.receiver')) = :receiver)
ORDER BY s.created_at DESC, s.id DESC
LIMIT :limit

-- name: console_held
SELECT s.id, s.state, s.filename, s.content_type, s.created_at, s.updated_at,
       json_extract(s.metadata, '$.profile') AS profile,
       json_extract(s.metadata, '$.receiver') AS receiver,
       NULL AS number
FROM submissions s
WHERE s.tenant_id = :tenant_id AND s.state = :state
ORDER BY s.created_at, s.id
LIMIT :limit

-- name: console_dead_letters
SELECT j.*, s.filename AS filename, s.state AS document_state
FROM outbox_jobs j JOIN submissions s ON s.id = j.submission_id
WHERE j.state = 'dead' AND s.tenant_id = :tenant_id
ORDER BY j.updated_at DESC, j.id
LIMIT :limit

-- name: console_queue_depths
SELECT kind, state, COUNT(*) AS n FROM outbox_jobs GROUP BY kind, state ORDER BY kind, state

-- name: console_events_since
SELECT e.at FROM events e JOIN submissions s ON s.id = e.submission_id
WHERE e.state = :state AND e.at >= :since AND s.tenant_id = :tenant_id
ORDER BY e.at

-- name: console_endpoints
SELECT DISTINCT j.adapter, j.endpoint
FROM outbox_jobs j JOIN submissions s ON s.id = j.submission_id
WHERE s.tenant_id = :tenant_id AND j.endpoint <> ''
ORDER BY j.adapter, j.endpoint
