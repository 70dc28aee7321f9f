-- A tenant's received documents (gateway/store/received.py). A NULL :tenant_id reads the
-- documents no tenant claims (the operator's view). The status is worked out here, so the
-- list can be filtered by it: ``processing`` until the ``receive`` job ends, then the
-- verdict it kept; a dead-lettered job is ``failed``, or ``rejected`` when its sender was
-- told so (the verdict its last attempt kept: an MLS ``RE``).

-- name: received_list
SELECT * FROM (
    SELECT m.id, m.channel, m.message_id, m.sender, m.receiver, m.media_type,
           length(m.data) AS size, m.received_at,
           j.state AS job_state, j.attempts, j.last_error, j.retryable,
           (SELECT r.detail FROM receipts r WHERE r.job_id = j.id
            ORDER BY r.received_at DESC, r.id DESC LIMIT 1) AS verdict
    FROM inbound_messages m
    LEFT JOIN outbox_jobs j ON j.submission_id = m.id AND j.kind = 'receive'
    WHERE (m.tenant_id = :tenant_id OR (:tenant_id IS NULL AND m.tenant_id IS NULL))
      AND (:before IS NULL OR m.received_at < :before
           OR (:before_id IS NOT NULL AND m.received_at = :before AND m.id < :before_id))
) AS found
WHERE :status IS NULL
   OR (CASE
         WHEN job_state = 'dead' THEN
           CASE WHEN json_extract(verdict, '$.verdict') = 'rejected' THEN 'rejected'
                ELSE 'failed' END
         WHEN job_state = 'done' AND json_extract(verdict, '$.verdict') IS NOT NULL
           THEN json_extract(verdict, '$.verdict')
         ELSE 'processing'
       END) = :status
ORDER BY received_at DESC, id DESC
LIMIT :limit

-- name: received_one
SELECT m.id, m.channel, m.message_id, m.sender, m.receiver, m.media_type,
       length(m.data) AS size, m.received_at,
       j.state AS job_state, j.attempts, j.last_error, j.retryable,
       (SELECT r.detail FROM receipts r WHERE r.job_id = j.id
        ORDER BY r.received_at DESC, r.id DESC LIMIT 1) AS verdict
FROM inbound_messages m
LEFT JOIN outbox_jobs j ON j.submission_id = m.id AND j.kind = 'receive'
WHERE m.id = :id AND (m.tenant_id = :tenant_id OR (:tenant_id IS NULL AND m.tenant_id IS NULL))

-- name: received_message
SELECT m.*, a.answer
FROM inbound_messages m
LEFT JOIN inbound_answers a ON a.inbound_id = m.id
WHERE m.id = :id AND (m.tenant_id = :tenant_id OR (:tenant_id IS NULL AND m.tenant_id IS NULL))
