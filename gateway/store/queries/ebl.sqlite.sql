-- Queries of the eBL registry (gateway/store/ebl.py). Parameters are :named.

-- name: ebl_get_title
SELECT * FROM ebl_titles WHERE td_checksum = :td_checksum

-- name: ebl_titles_by_reference
SELECT * FROM ebl_titles WHERE reference = :reference ORDER BY created_at

-- name: ebl_lock_reference
-- (nothing to lock: BEGIN IMMEDIATE serialises every writer)
SELECT 1

-- name: ebl_list_titles
-- The eBLs the registry knows, most recently changed first (before: changed earlier, or at
-- that time with a checksum below before_checksum: the page after the row seen last).
SELECT * FROM ebl_titles
WHERE (:state IS NULL OR state = :state)
  AND (:before IS NULL OR updated_at < :before
       OR (updated_at = :before AND td_checksum < :before_checksum))
ORDER BY updated_at DESC, td_checksum DESC
LIMIT :limit

-- name: ebl_insert_title
INSERT INTO ebl_titles (td_checksum, reference, state, possessor, head, chain, title,
                        transport_document, version, created_at, updated_at)
VALUES (:td_checksum, :reference, :state, :possessor, :head, :chain, :title,
        :transport_document, 1, :now, :now)
ON CONFLICT (td_checksum) DO NOTHING

-- name: ebl_move_title
UPDATE ebl_titles
SET state = :state, possessor = :possessor, head = :head, chain = :chain, title = :title,
    version = version + 1, updated_at = :now
WHERE td_checksum = :td_checksum AND state = :from_state AND head = :from_head

-- name: ebl_get_accepted
SELECT * FROM ebl_accepted WHERE last_checksum = :last_checksum

-- name: ebl_insert_accepted
INSERT INTO ebl_accepted (last_checksum, td_checksum, last_entry, received, sender, accepted_at)
VALUES (:last_checksum, :td_checksum, :last_entry, :received, :sender, :now)

-- name: ebl_put_inbound
-- A transfer started again (the same last chain entry, e.g. with a corrected manifest after
-- INCD) takes the new envelope and documents; one already accepted is never opened again.
INSERT INTO ebl_inbound (reference, td_checksum, envelope, documents, created_at)
SELECT :reference, :td_checksum, :envelope, :documents, :now
WHERE NOT EXISTS (SELECT 1 FROM ebl_accepted WHERE last_checksum = :reference)
ON CONFLICT (reference) DO UPDATE
SET td_checksum = excluded.td_checksum, envelope = excluded.envelope,
    documents = excluded.documents

-- name: ebl_get_inbound
SELECT * FROM ebl_inbound WHERE reference = :reference

-- name: ebl_delete_inbound
DELETE FROM ebl_inbound WHERE reference = :reference

-- name: ebl_put_document
INSERT INTO ebl_documents (checksum, media_type, data, created_at)
VALUES (:checksum, :media_type, :data, :now)
ON CONFLICT (checksum) DO NOTHING

-- name: ebl_get_document
SELECT * FROM ebl_documents WHERE checksum = :checksum

-- name: ebl_document_present
SELECT checksum FROM ebl_documents WHERE checksum = :checksum

-- name: ebl_insert_outbound
INSERT INTO ebl_outbound (id, td_checksum, platform, base_head, envelope, documents, title,
                          state, created_at, updated_at)
VALUES (:id, :td_checksum, :platform, :base_head, :envelope, :documents, :title,
        'sending', :now, :now)

-- name: ebl_get_outbound
SELECT * FROM ebl_outbound WHERE id = :id

-- name: ebl_close_outbound
UPDATE ebl_outbound
SET state = :state, response_code = :response_code, response = :response, updated_at = :now
WHERE id = :id AND state = 'sending'

-- name: ebl_acknowledge_outbound
-- The signed answer to a transfer settled before it came (an envelope continuing its chain).
UPDATE ebl_outbound
SET response_code = :response_code, response = :response, updated_at = :now
WHERE id = :id AND state = 'accepted' AND response IS NULL

-- name: ebl_outbound_of_title
SELECT * FROM ebl_outbound WHERE td_checksum = :td_checksum ORDER BY created_at, id

-- name: ebl_refused_issues
-- Issues straight to another platform that the receiving platform refused: the eBL was not
-- issued (its title row is gone), the transfer keeps the signed refusal. By checksum or by
-- transportDocumentReference, oldest first; none once the eBL is issued after all.
SELECT o.* FROM ebl_outbound AS o
WHERE o.base_head = '' AND o.state = 'rejected'
  AND (o.td_checksum = :key
       OR json_extract(o.envelope, '$.transportDocument.transportDocumentReference') = :key)
  AND NOT EXISTS (SELECT 1 FROM ebl_titles AS t WHERE t.td_checksum = o.td_checksum)
ORDER BY o.created_at, o.id

-- name: ebl_delete_title
DELETE FROM ebl_titles WHERE td_checksum = :td_checksum AND state = :from_state

-- name: ebl_link_document
-- A document the eBL carries here (received with it or attached here); the first name and
-- origin kept.
INSERT INTO ebl_title_documents (td_checksum, checksum, name, media_type, created_at, origin)
VALUES (:td_checksum, :checksum, :name, :media_type, :now, :origin)
ON CONFLICT (td_checksum, checksum) DO NOTHING

-- name: ebl_documents_of_title
-- The documents an eBL carries here, with the size of the bytes held (NULL: not held).
SELECT t.checksum, t.name, t.media_type, t.origin, length(d.data) AS size
FROM ebl_title_documents AS t
LEFT JOIN ebl_documents AS d ON d.checksum = t.checksum
WHERE t.td_checksum = :td_checksum
ORDER BY t.created_at, t.checksum

-- name: ebl_unlink_documents
DELETE FROM ebl_title_documents WHERE td_checksum = :td_checksum

-- name: ebl_unlink_attached_since
-- The documents a transfer that did not happen attached (linked since it began: the eBL
-- was locked meanwhile, so nothing else linked any).
DELETE FROM ebl_title_documents
WHERE td_checksum = :td_checksum AND origin = 'attached' AND created_at >= :since

-- name: ebl_legacy_surrender_titles
-- Migration ebl_surrender_requests (gateway/store/ebl_legacy.py) and what it left:
-- Rows the old surrender rule may have written: 'surrendered', or a title saying surrendered.
SELECT * FROM ebl_titles
WHERE state = 'surrendered' OR title LIKE :surrendered
ORDER BY created_at, td_checksum

-- name: ebl_legacy_surrender_outbound
SELECT * FROM ebl_outbound
WHERE state = 'sending' AND title LIKE :surrendered
ORDER BY created_at, id

-- name: ebl_legacy_move_title
UPDATE ebl_titles
SET state = :state, title = :title, version = version + 1, updated_at = :now
WHERE td_checksum = :td_checksum AND version = :version

-- name: ebl_legacy_outbound_title
UPDATE ebl_outbound SET title = :title, updated_at = :now
WHERE id = :id AND state = 'sending'

-- name: ebl_legacy_record
INSERT INTO ebl_title_migrations (kind, row_key, migration, outcome, reason, reference,
                                  old_state, old_title, new_state, new_title, version,
                                  recorded_at)
VALUES (:kind, :row_key, :migration, :outcome, :reason, :reference,
        :old_state, :old_title, :new_state, :new_title, :version, :now)
ON CONFLICT (kind, row_key, migration) DO NOTHING

-- name: ebl_legacy_left
-- Rows a migration left as they were and that nobody has changed since.
SELECT m.kind, m.row_key, m.migration, m.reason, m.reference, m.old_state
FROM ebl_title_migrations AS m
LEFT JOIN ebl_titles AS t ON m.kind = 'title' AND t.td_checksum = m.row_key
LEFT JOIN ebl_outbound AS o ON m.kind = 'outbound' AND o.id = m.row_key
WHERE m.outcome = 'left'
  AND ((m.kind = 'title' AND t.version = m.version)
       OR (m.kind = 'outbound' AND o.state = 'sending'))
ORDER BY m.recorded_at, m.kind, m.row_key

-- name: ebl_get_idempotent
SELECT * FROM ebl_idempotency WHERE tenant_id = :tenant_id AND idempotency_key = :idempotency_key

-- name: ebl_insert_idempotent
INSERT INTO ebl_idempotency (tenant_id, idempotency_key, request, fields, status, answer, created_at)
VALUES (:tenant_id, :idempotency_key, :request, :fields, :status, :answer, :now)
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
