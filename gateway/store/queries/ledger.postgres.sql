-- The export gate's tables (gateway/store/ledger.py). The head row's lock serialises every
-- entry, so the chain never forks between replicas; a tenant's count row of an exporter
-- (locked after its individuals' keyed hashes) keeps its yearly counts exact.

-- name: ledger_lock_head
SELECT seq, hash FROM export_ledger_head WHERE id = 1 FOR UPDATE

-- name: ledger_head
SELECT seq, hash FROM export_ledger_head WHERE id = 1

-- name: ledger_savepoint
SAVEPOINT ledger_count

-- name: ledger_rollback_to_savepoint
ROLLBACK TO SAVEPOINT ledger_count

-- name: ledger_add_subjects
-- The document's individuals into the tenant's counts of the exporter for the year, in one
-- statement: each keyed hash inserted unless known (ON CONFLICT waits for an uncommitted
-- insert of the same hash, then sees it); a known one is upgraded to sensitive when it is
-- now. The rows returned are the new ones (xmax = 0: inserted) and the upgraded ones. The
-- count row is then created or updated from its latest version (locked until the
-- transaction ends).
WITH changed AS (
    INSERT INTO export_subjects AS known (tenant_id, exporter, year, subject, sensitive, key_id)
    SELECT %(tenant_id)s, %(exporter)s, %(year)s, s.subject, (s.subject = ANY(%(sensitive)s::text[]))::int, %(key_id)s
    FROM unnest(%(subjects)s::text[]) WITH ORDINALITY AS s(subject, n)
    ORDER BY s.n
    ON CONFLICT (tenant_id, exporter, year, subject) DO UPDATE SET sensitive = 1
    WHERE known.sensitive = 0 AND excluded.sensitive = 1
    RETURNING known.xmax = 0 AS inserted, known.sensitive
), added AS (
    SELECT count(*) FILTER (WHERE inserted) AS personal,
           count(*) FILTER (WHERE sensitive = 1) AS sensitive
    FROM changed
)
INSERT INTO export_counts AS c (tenant_id, exporter, year, personal, sensitive, documents)
SELECT %(tenant_id)s, %(exporter)s, %(year)s, added.personal, added.sensitive, 1 FROM added
ON CONFLICT (tenant_id, exporter, year) DO UPDATE
SET personal = c.personal + excluded.personal, sensitive = c.sensitive + excluded.sensitive,
    documents = c.documents + 1
RETURNING c.personal, c.sensitive

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
                               policy_version, decided_by, prev_hash, entry_hash, tenant_id,
                               principal)
    SELECT next.seq, %(at)s, %(exporter)s, %(destination)s, %(recipient)s, %(submission_id)s, %(document_id)s, %(digest)s, %(categories)s, %(subjects)s, %(basis)s, %(article)s, %(policy_version)s, %(decided_by)s, next.prev_hash, next.entry_hash, %(tenant_id)s, %(principal)s
    FROM next
)
UPDATE export_ledger_head SET seq = next.seq, hash = next.entry_hash FROM next
WHERE export_ledger_head.id = 1
RETURNING next.seq

-- name: ledger_entries
SELECT * FROM export_ledger WHERE seq > %(after)s ORDER BY seq LIMIT %(limit)s

-- name: ledger_entries_between
-- An entry written before entries recorded their tenant is attributed to the tenant of its
-- submission (or of the eBL transfer's hold), where one is known.
SELECT l.*, COALESCE(l.tenant_id, s.tenant_id, h.tenant_id, '') AS owner
FROM export_ledger AS l
LEFT JOIN submissions AS s ON l.tenant_id IS NULL AND s.id = l.submission_id
LEFT JOIN export_holds AS h ON l.tenant_id IS NULL AND h.submission_id = l.submission_id
WHERE l.at >= %(start)s AND l.at < %(end)s
  AND (%(exporter)s::text IS NULL OR l.exporter = %(exporter)s)
  AND (%(tenant_id)s::text IS NULL OR COALESCE(l.tenant_id, s.tenant_id, h.tenant_id) = %(tenant_id)s)
ORDER BY l.seq

-- name: ledger_entry_for
SELECT * FROM export_ledger WHERE submission_id = %(submission_id)s ORDER BY seq

-- name: ledger_counts
SELECT * FROM export_counts
WHERE year = %(year)s AND (%(exporter)s::text IS NULL OR exporter = %(exporter)s)
  AND (%(tenant_id)s::text IS NULL OR tenant_id = %(tenant_id)s)
ORDER BY tenant_id, exporter

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
-- Holds as listed: one still releasing whose release job was dead-lettered (its document is
-- back to held; it waits for a new decision) is listed as release_failed, and with the held
-- ones too.
SELECT * FROM (
    SELECT h.*, CASE WHEN j.state = 'dead' THEN 'release_failed' ELSE h.state END AS listed
    FROM export_holds h
    LEFT JOIN outbox_jobs j
      ON h.state = 'releasing' AND j.submission_id = h.submission_id
     AND j.kind = 'release' AND j.adapter = ''
    WHERE (%(state)s::text IS NULL OR h.state = %(state)s
           OR (h.state = 'releasing' AND %(state)s IN ('held', 'release_failed')))
      AND (%(tenant_id)s::text IS NULL OR h.tenant_id = %(tenant_id)s)
) AS holds
WHERE %(state)s::text IS NULL OR listed = %(state)s
   OR (%(state)s = 'held' AND listed = 'release_failed')
ORDER BY held_at, submission_id
LIMIT %(limit)s

-- name: hold_decide
UPDATE export_holds
SET state = %(state)s, decided_by = %(decided_by)s, basis = %(basis)s, decided_at = %(now)s,
    principal = %(principal)s
WHERE submission_id = %(submission_id)s AND state = %(from_state)s
RETURNING *

-- name: hold_rehold
-- A release the re-check at release time stops: back to held with the new reason and
-- decision; the officer decides again (the submission's history keeps the first decision).
UPDATE export_holds
SET state = 'held', reason = %(reason)s, export = %(export)s,
    policy_version = %(policy_version)s, decided_by = NULL, basis = NULL,
    decided_at = NULL, principal = NULL
WHERE submission_id = %(submission_id)s AND state = 'releasing'
RETURNING *

-- name: release_job_requeue
-- The release job of a hold released again after the re-check sent it back to held.
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = COALESCE(%(at)s::timestamptz, now()), attempts = 0, retryable = NULL,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = %(now)s
WHERE id = %(id)s AND state = 'done'
RETURNING *
