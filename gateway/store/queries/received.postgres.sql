-- A tenant's received documents (gateway/store/received.py).

-- name: received_list
SELECT m.id, m.channel, m.message_id, m.sender, m.receiver, m.media_type,
       octet_length(m.data) AS size, m.received_at,
       j.state AS job_state, j.attempts, j.last_error, j.retryable,
       (SELECT r.detail FROM receipts r WHERE r.job_id = j.id
        ORDER BY r.received_at DESC, r.id DESC LIMIT 1) AS verdict
FROM inbound_messages m
LEFT JOIN outbox_jobs j ON j.submission_id = m.id AND j.kind = 'receive'
WHERE m.tenant_id = %(tenant_id)s
  AND (%(before)s::timestamptz IS NULL OR m.received_at < %(before)s
       OR (%(before_id)s::text IS NOT NULL AND m.received_at = %(before)s
           AND m.id < %(before_id)s))
ORDER BY m.received_at DESC, m.id DESC
LIMIT %(limit)s

-- name: received_one
SELECT m.id, m.channel, m.message_id, m.sender, m.receiver, m.media_type,
       octet_length(m.data) AS size, m.received_at,
       j.state AS job_state, j.attempts, j.last_error, j.retryable,
       (SELECT r.detail FROM receipts r WHERE r.job_id = j.id
        ORDER BY r.received_at DESC, r.id DESC LIMIT 1) AS verdict
FROM inbound_messages m
LEFT JOIN outbox_jobs j ON j.submission_id = m.id AND j.kind = 'receive'
WHERE m.id = %(id)s AND m.tenant_id = %(tenant_id)s

-- name: received_message
SELECT m.*, a.answer
FROM inbound_messages m
LEFT JOIN inbound_answers a ON a.inbound_id = m.id
WHERE m.id = %(id)s AND m.tenant_id = %(tenant_id)s
