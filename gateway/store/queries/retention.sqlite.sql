-- Deleting what is old enough to go (gateway/store/retention.py). Each selection takes at
-- most :batch rows, oldest first; the deletes that follow run in the same short transaction.
-- The document selection runs per tenant so the index submissions_by_tenant_state
-- (tenant_id, state, created_at) bounds it; export_ledger_by_tenant finds the entries
-- written before entries recorded their tenant (their submission attributes them).

-- name: retention_documents_due
SELECT s.id FROM submissions AS s
WHERE s.tenant_id = :tenant_id
  AND s.state IN ('delivered', 'converted', 'rejected', 'failed', 'refused')
  AND s.created_at < :before
  AND s.updated_at < :before
  AND (s.idempotency_key IS NULL OR (
       s.idempotency_key NOT LIKE 'mls:%'
       AND s.idempotency_key NOT LIKE 'peppol-tsr:%'
       AND s.idempotency_key NOT LIKE 'peppol-eusr:%'))
  AND NOT EXISTS (
      SELECT 1 FROM outbox_jobs AS j
      WHERE j.submission_id = s.id AND j.state IN ('pending', 'leased', 'dead'))
  AND NOT EXISTS (
      SELECT 1 FROM outbox_jobs AS j JOIN receipts AS r ON r.job_id = j.id
      WHERE j.submission_id = s.id
        AND (:receipts_before IS NULL OR r.received_at >= :receipts_before))
  AND s.id NOT IN (SELECT submission_id FROM export_ledger WHERE tenant_id IS NULL)
  AND s.id NOT IN (
      SELECT submission_id FROM export_holds WHERE state IN ('held', 'releasing'))
ORDER BY s.created_at
LIMIT :batch

-- name: retention_delete_document_receipts
DELETE FROM receipts WHERE job_id IN (
    SELECT id FROM outbox_jobs WHERE submission_id IN (SELECT value FROM json_each(:ids)))

-- name: retention_delete_document_jobs
DELETE FROM outbox_jobs WHERE submission_id IN (SELECT value FROM json_each(:ids))

-- name: retention_delete_document_events
DELETE FROM events WHERE submission_id IN (SELECT value FROM json_each(:ids))

-- name: retention_delete_document_outputs
DELETE FROM outputs WHERE submission_id IN (SELECT value FROM json_each(:ids))

-- name: retention_delete_document_facts
DELETE FROM document_facts WHERE submission_id IN (SELECT value FROM json_each(:ids))

-- name: retention_delete_documents
DELETE FROM submissions WHERE id IN (SELECT value FROM json_each(:ids))

-- name: retention_jobs_due
SELECT id FROM outbox_jobs
WHERE kind = 'housekeeping' AND state = 'done' AND updated_at < :before
ORDER BY updated_at
LIMIT :batch

-- name: retention_delete_job_receipts
DELETE FROM receipts WHERE job_id IN (SELECT value FROM json_each(:ids))

-- name: retention_delete_jobs
DELETE FROM outbox_jobs WHERE id IN (SELECT value FROM json_each(:ids))
