-- The register of fapiao a tenant has sent (gateway/store/sent_documents.py, migration 0025).

-- name: lock_sent_document
-- Serialises the transactions registering one fapiao (until each commits): the second then
-- reads the first's row. Keyed by tenant, seller, number and kind.
SELECT pg_advisory_xact_lock(hashtextextended(%(lock_key)s, 0))

-- name: latest_sent_document
-- The latest registration of this tenant's fapiao (sent_documents_by_number), with the
-- state and submission time of its submission.
SELECT d.submission_id, d.created_at, s.state, s.created_at AS submitted_at
FROM sent_documents d
JOIN submissions s ON s.id = d.submission_id
WHERE d.tenant_id = %(tenant_id)s AND d.number = %(number)s AND d.seller_id = %(seller_id)s
  AND d.document_type = %(document_type)s AND d.submission_id <> %(submission_id)s
ORDER BY d.created_at DESC
LIMIT 1

-- name: insert_sent_document
INSERT INTO sent_documents (submission_id, tenant_id, seller_id, number, document_type, created_at)
VALUES (%(submission_id)s, %(tenant_id)s, %(seller_id)s, %(number)s, %(document_type)s, %(now)s)
ON CONFLICT (submission_id) DO NOTHING

-- name: forget_sent_document
DELETE FROM sent_documents WHERE submission_id = %(submission_id)s
