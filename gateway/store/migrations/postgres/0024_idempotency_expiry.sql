-- Idempotency keys are forgotten once older than [limits] idempotency_hours (the
-- housekeeping job, `lingang idempotency expire`): these indexes find the keys past that
-- age without reading every stored document. The gateway's own keys (Message Level Status
-- `mls:`, the monthly reports `peppol-tsr:` / `peppol-eusr:`) are kept for good: they are
-- what makes each of those messages be sent once.

CREATE INDEX submissions_expiring_keys ON submissions (created_at)
WHERE idempotency_key IS NOT NULL
  AND idempotency_key NOT LIKE 'mls:%'
  AND idempotency_key NOT LIKE 'peppol-tsr:%'
  AND idempotency_key NOT LIKE 'peppol-eusr:%';

CREATE INDEX ebl_idempotency_by_age ON ebl_idempotency (created_at);
