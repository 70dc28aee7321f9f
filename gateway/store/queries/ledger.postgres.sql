-- The export gate's tables (gateway/store/ledger.py). The head row's lock serialises every
-- export, so the chain and the yearly counts never lose an update between replicas.

-- name: ledger_lock_head
SELECT seq, hash FROM export_ledger_head WHERE id = 1 FOR UPDATE

-- name: ledger_head
SELECT seq, hash FROM export_ledger_head WHERE id = 1

-- name: ledger_claim_counts
-- The exporter's counts for the year, created at zero if new, the row locked (an upsert that
-- updates locks the row it returns) until the transaction ends.
INSERT INTO export_counts (exporter, year, personal, sensitive, documents)
VALUES (%(exporter)s, %(year)s, 0, 0, 0)
ON CONFLICT (exporter, year) DO UPDATE SET documents = export_counts.documents
RETURNING personal, sensitive, documents

-- name: ledger_known_subjects
SELECT subject, sensitive FROM export_subjects
WHERE exporter = %(exporter)s AND year = %(year)s AND subject = ANY(%(subjects)s::text[])

-- name: ledger_insert_subject
INSERT INTO export_subjects (exporter, year, subject, sensitive, key_id)
VALUES (%(exporter)s, %(year)s, %(subject)s, %(sensitive)s, %(key_id)s)
ON CONFLICT (exporter, year, subject) DO UPDATE SET sensitive = GREATEST(export_subjects.sensitive, excluded.sensitive)

-- name: ledger_update_counts
UPDATE export_counts SET personal = %(personal)s, sensitive = %(sensitive)s, documents = documents + 1
WHERE exporter = %(exporter)s AND year = %(year)s

-- name: ledger_chain_entry
-- Append the entry after the head and move the head, in one statement: the head's row lock is
-- taken here and the entry's hash made here (SHA-256 over the previous hash, a line feed and
-- the entry's canonical JSON, as gateway/store/ledger_chain.py makes it), so the gateway sends
-- this with the COMMIT and the lock is held for no round trip.
WITH head AS (
    SELECT seq, hash FROM export_ledger_head WHERE id = 1 FOR UPDATE
), next AS (
    SELECT seq + 1 AS seq, hash AS prev_hash,
           encode(sha256(convert_to(hash || chr(10) || %(entry_text)s, 'UTF8')), 'hex') AS entry_hash
    FROM head
), entry AS (
    INSERT INTO export_ledger (seq, at, exporter, destination, recipient, submission_id,
                               document_id, digest, categories, subjects, basis, article,
                               policy_version, decided_by, prev_hash, entry_hash)
    SELECT next.seq, %(at)s, %(exporter)s, %(destination)s, %(recipient)s, %(submission_id)s, %(document_id)s, %(digest)s, %(categories)s, %(subjects)s, %(basis)s, %(article)s, %(policy_version)s, %(decided_by)s, next.prev_hash, next.entry_hash
    FROM next
)
UPDATE export_ledger_head SET seq = next.seq, hash = next.entry_hash FROM next
WHERE export_ledger_head.id = 1
RETURNING next.seq

-- name: ledger_entries
SELECT * FROM export_ledger WHERE seq > %(after)s ORDER BY seq LIMIT %(limit)s

-- name: ledger_entries_between
SELECT * FROM export_ledger
WHERE at >= %(start)s AND at < %(end)s AND (%(exporter)s::text IS NULL OR exporter = %(exporter)s)
ORDER BY seq

-- name: ledger_entry_for
SELECT * FROM export_ledger WHERE submission_id = %(submission_id)s ORDER BY seq

-- name: ledger_counts
SELECT * FROM export_counts
WHERE year = %(year)s AND (%(exporter)s::text IS NULL OR exporter = %(exporter)s)
ORDER BY exporter

-- name: ledger_insert_checkpoint
INSERT INTO export_checkpoints (seq, head_hash, at, signature, certificate)
VALUES (%(seq)s, %(head_hash)s, %(at)s, %(signature)s, %(certificate)s)
ON CONFLICT (seq) DO NOTHING

-- name: ledger_checkpoints
SELECT * FROM export_checkpoints ORDER BY seq

-- name: hold_insert
INSERT INTO export_holds (submission_id, tenant_id, state, reason, policy_version, export, job,
                          held_at)
VALUES (%(submission_id)s, %(tenant_id)s, 'held', %(reason)s, %(policy_version)s, %(export)s, %(job)s, %(now)s)
ON CONFLICT (submission_id) DO NOTHING

-- name: hold_get
SELECT * FROM export_holds WHERE submission_id = %(submission_id)s

-- name: hold_list
SELECT * FROM export_holds
WHERE (%(state)s::text IS NULL OR state = %(state)s)
  AND (%(tenant_id)s::text IS NULL OR tenant_id = %(tenant_id)s)
ORDER BY held_at, submission_id
LIMIT %(limit)s

-- name: hold_decide
UPDATE export_holds
SET state = %(state)s, decided_by = %(decided_by)s, basis = %(basis)s, decided_at = %(now)s
WHERE submission_id = %(submission_id)s AND state = %(from_state)s
RETURNING *
