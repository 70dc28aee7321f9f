-- Queries of the title-token registry (gateway.store.title_tokens). Parameters are
-- %(named)s (psycopg).

-- name: title_token_get
SELECT * FROM title_tokens WHERE registry = %(registry)s AND token_id = %(token_id)s

-- name: title_token_insert
INSERT INTO title_tokens (registry, token_id, beneficiary, holder, nominee, state, remark,
                          version, created_at, updated_at)
VALUES (%(registry)s, %(token_id)s, %(beneficiary)s, %(holder)s, NULL, 'active', %(remark)s, 1, %(now)s, %(now)s)
ON CONFLICT (registry, token_id) DO NOTHING
RETURNING *

-- name: title_token_update
UPDATE title_tokens
SET beneficiary = %(beneficiary)s, holder = %(holder)s, nominee = %(nominee)s, state = %(state)s,
    version = version + 1, updated_at = %(now)s
WHERE registry = %(registry)s AND token_id = %(token_id)s AND version = %(version)s
RETURNING *

-- name: title_token_event_insert
INSERT INTO title_token_events (registry, token_id, seq, action, actor, beneficiary, holder, at)
VALUES (%(registry)s, %(token_id)s, %(seq)s, %(action)s, %(actor)s, %(beneficiary)s, %(holder)s, %(now)s)

-- name: title_token_events
SELECT * FROM title_token_events WHERE registry = %(registry)s AND token_id = %(token_id)s
ORDER BY seq
