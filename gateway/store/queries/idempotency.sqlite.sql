-- Forgetting idempotency keys past their age (gateway/store/idempotency.py). Each statement
-- changes at most :batch rows, oldest first, in its own short transaction. The key terms
-- repeat the partial index submissions_expiring_keys word for word, so it is used.

-- name: forget_submission_keys
UPDATE submissions SET idempotency_key = NULL
WHERE id IN (
    SELECT id FROM submissions
    WHERE idempotency_key IS NOT NULL
      AND idempotency_key NOT LIKE 'mls:%'
      AND idempotency_key NOT LIKE 'peppol-tsr:%'
      AND idempotency_key NOT LIKE 'peppol-eusr:%'
      AND created_at < :before
    ORDER BY created_at
    LIMIT :batch
)

-- name: forget_ebl_answers
DELETE FROM ebl_idempotency
WHERE rowid IN (
    SELECT rowid FROM ebl_idempotency WHERE created_at < :before ORDER BY created_at LIMIT :batch
)
