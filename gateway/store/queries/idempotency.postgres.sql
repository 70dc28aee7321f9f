-- Forgetting idempotency keys past their age (gateway/store/idempotency.py). Each statement
-- changes at most one batch of rows, oldest first, in its own short transaction; rows another
-- transaction holds (a replica forgetting too, a submission changing state) are skipped and
-- left to the next run. The key terms repeat the partial index submissions_expiring_keys
-- word for word, so it is used.

-- name: forget_submission_keys
UPDATE submissions SET idempotency_key = NULL
WHERE id IN (
    SELECT id FROM submissions
    WHERE idempotency_key IS NOT NULL
      AND idempotency_key NOT LIKE 'mls:%%'
      AND idempotency_key NOT LIKE 'peppol-tsr:%%'
      AND idempotency_key NOT LIKE 'peppol-eusr:%%'
      AND created_at < %(before)s
    ORDER BY created_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)

-- name: forget_ebl_answers
DELETE FROM ebl_idempotency
WHERE (tenant_id, idempotency_key) IN (
    SELECT tenant_id, idempotency_key FROM ebl_idempotency
    WHERE created_at < %(before)s
    ORDER BY created_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
