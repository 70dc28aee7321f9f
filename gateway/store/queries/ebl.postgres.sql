-- Queries of the eBL registry (gateway/store/ebl.py). Parameters are %(named)s (psycopg).

-- name: ebl_get_title
SELECT * FROM ebl_titles WHERE td_checksum = %(td_checksum)s

-- name: ebl_titles_by_reference
SELECT * FROM ebl_titles WHERE reference = %(reference)s ORDER BY created_at

-- name: ebl_lock_reference
-- Issues of one transportDocumentReference, one at a time (till the transaction ends).
SELECT pg_advisory_xact_lock(hashtextextended('lingang-ebl-reference:' || %(reference)s, 0))

-- name: ebl_list_titles
-- The eBLs the registry knows, most recently changed first (before: changed earlier, or at
-- that time with a checksum below before_checksum: the page after the row seen last).
SELECT * FROM ebl_titles
WHERE (%(state)s::text IS NULL OR state = %(state)s)
  AND (%(before)s::timestamptz IS NULL OR updated_at < %(before)s
       OR (updated_at = %(before)s AND td_checksum < %(before_checksum)s::text))
ORDER BY updated_at DESC, td_checksum DESC
LIMIT %(limit)s

-- name: ebl_insert_title
INSERT INTO ebl_titles (td_checksum, reference, state, possessor, head, chain, title,
                        transport_document, version, created_at, updated_at)
VALUES (%(td_checksum)s, %(reference)s, %(state)s, %(possessor)s, %(head)s, %(chain)s, %(title)s,
        %(transport_document)s, 1, %(now)s, %(now)s)
ON CONFLICT (td_checksum) DO NOTHING

-- name: ebl_move_title
UPDATE ebl_titles
SET state = %(state)s, possessor = %(possessor)s, head = %(head)s, chain = %(chain)s, title = %(title)s,
    version = version + 1, updated_at = %(now)s
WHERE td_checksum = %(td_checksum)s AND state = %(from_state)s AND head = %(from_head)s

-- name: ebl_get_accepted
SELECT * FROM ebl_accepted WHERE last_checksum = %(last_checksum)s

-- name: ebl_insert_accepted
INSERT INTO ebl_accepted (last_checksum, td_checksum, last_entry, received, sender, accepted_at)
VALUES (%(last_checksum)s, %(td_checksum)s, %(last_entry)s, %(received)s, %(sender)s, %(now)s)

-- name: ebl_put_inbound
-- A transfer started again (the same last chain entry, e.g. with a corrected manifest after
-- INCD) takes the new envelope and documents; one already accepted is never opened again.
INSERT INTO ebl_inbound (reference, td_checksum, envelope, documents, created_at)
SELECT %(reference)s, %(td_checksum)s, %(envelope)s, %(documents)s, %(now)s
WHERE NOT EXISTS (SELECT 1 FROM ebl_accepted WHERE last_checksum = %(reference)s)
ON CONFLICT (reference) DO UPDATE
SET td_checksum = excluded.td_checksum, envelope = excluded.envelope,
    documents = excluded.documents

-- name: ebl_get_inbound
SELECT * FROM ebl_inbound WHERE reference = %(reference)s

-- name: ebl_delete_inbound
DELETE FROM ebl_inbound WHERE reference = %(reference)s

-- name: ebl_put_document
INSERT INTO ebl_documents (checksum, media_type, data, created_at)
VALUES (%(checksum)s, %(media_type)s, %(data)s, %(now)s)
ON CONFLICT (checksum) DO NOTHING

-- name: ebl_get_document
SELECT * FROM ebl_documents WHERE checksum = %(checksum)s

-- name: ebl_document_present
SELECT checksum FROM ebl_documents WHERE checksum = %(checksum)s

-- name: ebl_insert_outbound
INSERT INTO ebl_outbound (id, td_checksum, platform, base_head, envelope, documents, title,
                          state, created_at, updated_at)
VALUES (%(id)s, %(td_checksum)s, %(platform)s, %(base_head)s, %(envelope)s, %(documents)s, %(title)s,
        'sending', %(now)s, %(now)s)

-- name: ebl_get_outbound
SELECT * FROM ebl_outbound WHERE id = %(id)s

-- name: ebl_close_outbound
UPDATE ebl_outbound
SET state = %(state)s, response_code = %(response_code)s, response = %(response)s, updated_at = %(now)s
WHERE id = %(id)s AND state = 'sending'

-- name: ebl_acknowledge_outbound
-- The signed answer to a transfer settled before it came (an envelope continuing its chain).
UPDATE ebl_outbound
SET response_code = %(response_code)s, response = %(response)s, updated_at = %(now)s
WHERE id = %(id)s AND state = 'accepted' AND response IS NULL

-- name: ebl_outbound_of_title
SELECT * FROM ebl_outbound WHERE td_checksum = %(td_checksum)s ORDER BY created_at, id

-- name: ebl_refused_issues
-- Issues straight to another platform that the receiving platform refused (see
-- ebl.sqlite.sql).
SELECT o.* FROM ebl_outbound AS o
WHERE o.base_head = '' AND o.state = 'rejected'
  AND (o.td_checksum = %(key)s
       OR o.envelope::jsonb -> 'transportDocument' ->> 'transportDocumentReference' = %(key)s)
  AND NOT EXISTS (SELECT 1 FROM ebl_titles AS t WHERE t.td_checksum = o.td_checksum)
ORDER BY o.created_at, o.id

-- name: ebl_delete_title
DELETE FROM ebl_titles WHERE td_checksum = %(td_checksum)s AND state = %(from_state)s

-- name: ebl_link_document
-- A document the eBL carries here (received with it or attached here); the first name and
-- origin kept.
INSERT INTO ebl_title_documents (td_checksum, checksum, name, media_type, created_at, origin)
VALUES (%(td_checksum)s, %(checksum)s, %(name)s, %(media_type)s, %(now)s, %(origin)s)
ON CONFLICT (td_checksum, checksum) DO NOTHING

-- name: ebl_documents_of_title
-- The documents an eBL carries here, with the size of the bytes held (NULL: not held).
SELECT t.checksum, t.name, t.media_type, t.origin, octet_length(d.data) AS size
FROM ebl_title_documents AS t
LEFT JOIN ebl_documents AS d ON d.checksum = t.checksum
WHERE t.td_checksum = %(td_checksum)s
ORDER BY t.created_at, t.checksum

-- name: ebl_unlink_documents
DELETE FROM ebl_title_documents WHERE td_checksum = %(td_checksum)s

-- name: ebl_unlink_attached_since
-- The documents a transfer that did not happen attached (linked since it began: the eBL
-- was locked meanwhile, so nothing else linked any).
DELETE FROM ebl_title_documents
WHERE td_checksum = %(td_checksum)s AND origin = 'attached' AND created_at >= %(since)s

-- name: ebl_legacy_surrender_titles
-- Migration ebl_surrender_requests (gateway/store/ebl_legacy.py) and what it left:
-- Rows the old surrender rule may have written: 'surrendered', or a title saying surrendered.
SELECT * FROM ebl_titles
WHERE state = 'surrendered' OR title LIKE %(surrendered)s
ORDER BY created_at, td_checksum

-- name: ebl_legacy_surrender_outbound
SELECT * FROM ebl_outbound
WHERE state = 'sending' AND title LIKE %(surrendered)s
ORDER BY created_at, id

-- name: ebl_legacy_move_title
UPDATE ebl_titles
SET state = %(state)s, title = %(title)s, version = version + 1, updated_at = %(now)s
WHERE td_checksum = %(td_checksum)s AND version = %(version)s

-- name: ebl_legacy_outbound_title
UPDATE ebl_outbound SET title = %(title)s, updated_at = %(now)s
WHERE id = %(id)s AND state = 'sending'

-- name: ebl_legacy_record
INSERT INTO ebl_title_migrations (kind, row_key, migration, outcome, reason, reference,
                                  old_state, old_title, new_state, new_title, version,
                                  recorded_at)
VALUES (%(kind)s, %(row_key)s, %(migration)s, %(outcome)s, %(reason)s, %(reference)s,
        %(old_state)s, %(old_title)s, %(new_state)s, %(new_title)s, %(version)s, %(now)s)
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
SELECT * FROM ebl_idempotency
WHERE tenant_id = %(tenant_id)s AND idempotency_key = %(idempotency_key)s

-- name: ebl_insert_idempotent
INSERT INTO ebl_idempotency (tenant_id, idempotency_key, request, fields, status, answer, created_at)
VALUES (%(tenant_id)s, %(idempotency_key)s, %(request)s, %(fields)s, %(status)s, %(answer)s, %(now)s)
ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
