-- Queries of the title-token registry (gateway.store.title_tokens).

-- name: title_token_get
SELECT * FROM title_tokens WHERE registry = :registry AND token_id = :token_id

-- name: title_token_insert
INSERT INTO title_tokens (registry, token_id, beneficiary, holder, nominee, state, remark,
                          version, created_at, updated_at)
VALUES (:registry, :token_id, :beneficiary, :holder, NULL, 'active', :remark, 1, :now, :now)
ON CONFLICT (registry, token_id) DO NOTHING
RETURNING *

-- name: title_token_update
UPDATE title_tokens
SET beneficiary = :beneficiary, holder = :holder, nominee = :nominee, state = :state,
    version = version + 1, updated_at = :now
WHERE registry = :registry AND token_id = :token_id AND version = :version
RETURNING *

-- name: title_token_event_insert
INSERT INTO title_token_events (registry, token_id, seq, action, actor, beneficiary, holder, at)
VALUES (:registry, :token_id, :seq, :action, :actor, :beneficiary, :holder, :now)

-- name: title_token_events
SELECT * FROM title_token_events WHERE registry = :registry AND token_id = :token_id
ORDER BY seq
