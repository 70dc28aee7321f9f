-- The export gate's tables (gateway/store/ledger.py). BEGIN IMMEDIATE serialises writers,
-- so the head needs no row lock here.

-- name: ledger_lock_head
SELECT seq, hash FROM export_ledger_head WHERE id = 1

-- name: ledger_head
SELECT seq, hash FROM export_ledger_head WHERE id = 1

-- name: ledger_savepoint
SAVEPOINT ledger_count

-- name: ledger_rollback_to_savepoint
ROLLBACK TO ledger_count

-- name: ledger_add_subjects
-- The document's individuals into the tenant's counts of the exporter for the year (the
-- single writer serialises it): the count row created at zero if new, then increased by the
-- hashes not known yet and the ones newly sensitive, then the hashes stored; the totals
-- returned.
INSERT INTO export_counts (tenant_id, exporter, year, personal, sensitive, documents)
VALUES (:tenant_id, :exporter, :year, 0, 0, 0)
ON CONFLICT (tenant_id, exporter, year) DO NOTHING;
UPDATE export_counts
SET personal = personal + (
        SELECT count(*) FROM json_each(:subjects) AS s
        WHERE NOT EXISTS (SELECT 1 FROM export_subjects AS k WHERE k.tenant_id = :tenant_id
                          AND k.exporter = :exporter AND k.year = :year
                          AND k.subject = s.value)),
    sensitive = sensitive + (
        SELECT count(*) FROM json_each(:sensitive) AS s
        WHERE NOT EXISTS (SELECT 1 FROM export_subjects AS k WHERE k.tenant_id = :tenant_id
                          AND k.exporter = :exporter AND k.year = :year
                          AND k.subject = s.value AND k.sensitive = 1)),
    documents = documents + 1
WHERE tenant_id = :tenant_id AND exporter = :exporter AND year = :year;
INSERT INTO export_subjects (tenant_id, exporter, year, subject, sensitive, key_id)
SELECT :tenant_id, :exporter, :year, s.value,
       s.value IN (SELECT value FROM json_each(:sensitive)), :key_id
FROM json_each(:subjects) AS s WHERE true
ON CONFLICT (tenant_id, exporter, year, subject)
DO UPDATE SET sensitive = MAX(sensitive, excluded.sensitive);
SELECT personal, sensitive FROM export_counts
WHERE tenant_id = :tenant_id AND exporter = :exporter AND year = :year;

-- name: ledger_chain_entry
-- Append the entry after the head and move the head (the single writer serialises exports);
-- lingang_sha256 is SHA-256 in hex over UTF-8 text, registered on every connection.
INSERT INTO export_ledger (seq, at, exporter, destination, recipient, submission_id, document_id,
                           digest, categories, subjects, basis, article, policy_version,
                           decided_by, prev_hash, entry_hash, tenant_id, principal)
SELECT seq + 1, :at, :exporter, :destination, :recipient, :submission_id, :document_id, :digest, :categories, :subjects, :basis, :article, :policy_version, :decided_by, hash, lingang_sha256(hash || char(10) || :entry_text), :tenant_id, :principal
FROM export_ledger_head WHERE id = 1;
UPDATE export_ledger_head
SET seq = seq + 1,
    hash = (SELECT entry_hash FROM export_ledger WHERE seq = export_ledger_head.seq + 1)
WHERE id = 1;
SELECT seq FROM export_ledger_head WHERE id = 1;

-- name: ledger_entries
SELECT * FROM export_ledger WHERE seq > :after ORDER BY seq LIMIT :limit

-- name: ledger_entries_between
-- An entry written before entries recorded their tenant is attributed to the tenant of its
-- submission (or of the eBL transfer's hold), where one is known.
SELECT l.*, COALESCE(l.tenant_id, s.tenant_id, h.tenant_id, '') AS owner
FROM export_ledger AS l
LEFT JOIN submissions AS s ON l.tenant_id IS NULL AND s.id = l.submission_id
LEFT JOIN export_holds AS h ON l.tenant_id IS NULL AND h.submission_id = l.submission_id
WHERE l.at >= :start AND l.at < :end AND (:exporter IS NULL OR l.exporter = :exporter)
  AND (:tenant_id IS NULL OR COALESCE(l.tenant_id, s.tenant_id, h.tenant_id) = :tenant_id)
ORDER BY l.seq

-- name: ledger_entry_for
SELECT * FROM export_ledger WHERE submission_id = :submission_id ORDER BY seq

-- name: ledger_counts
SELECT * FROM export_counts
WHERE year = :year AND (:exporter IS NULL OR exporter = :exporter)
  AND (:tenant_id IS NULL OR tenant_id = :tenant_id)
ORDER BY tenant_id, exporter

-- name: ledger_insert_checkpoint
INSERT INTO export_checkpoints (seq, head_hash, at, signature, certificate)
VALUES (:seq, :head_hash, :at, :signature, :certificate)
ON CONFLICT (seq) DO NOTHING

-- name: ledger_checkpoints
SELECT * FROM export_checkpoints ORDER BY seq

-- name: hold_insert
INSERT INTO export_holds (submission_id, tenant_id, state, reason, policy_version, export, job,
                          held_at)
VALUES (:submission_id, :tenant_id, 'held', :reason, :policy_version, :export, :job, :now)
ON CONFLICT (submission_id) DO NOTHING

-- name: hold_get
SELECT * FROM export_holds WHERE submission_id = :submission_id

-- name: hold_list
-- Holds as listed (see ledger.postgres.sql): a releasing one whose release job is dead is
-- release_failed, listed with the held ones too.
SELECT * FROM (
    SELECT h.*, CASE WHEN j.state = 'dead' THEN 'release_failed' ELSE h.state END AS listed
    FROM export_holds h
    LEFT JOIN outbox_jobs j
      ON h.state = 'releasing' AND j.submission_id = h.submission_id
     AND j.kind = 'release' AND j.adapter = ''
    WHERE (:state IS NULL OR h.state = :state
           OR (h.state = 'releasing' AND :state IN ('held', 'release_failed')))
      AND (:tenant_id IS NULL OR h.tenant_id = :tenant_id)
)
WHERE :state IS NULL OR listed = :state OR (:state = 'held' AND listed = 'release_failed')
ORDER BY held_at, submission_id
LIMIT :limit

-- name: hold_decide
UPDATE export_holds
SET state = :state, decided_by = :decided_by, basis = :basis, decided_at = :now,
    principal = :principal
WHERE submission_id = :submission_id AND state = :from_state
RETURNING *

-- name: hold_rehold
-- A release the re-check at release time stops: back to held with the new reason and
-- decision; the officer decides again (the submission's history keeps the first decision).
UPDATE export_holds
SET state = 'held', reason = :reason, export = :export,
    policy_version = :policy_version, decided_by = NULL, basis = NULL,
    decided_at = NULL, principal = NULL
WHERE submission_id = :submission_id AND state = 'releasing'
RETURNING *

-- name: release_job_requeue
-- The release job of a hold released again after the re-check sent it back to held.
UPDATE outbox_jobs
SET state = 'pending', next_attempt_at = :at, attempts = 0, retryable = NULL,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE id = :id AND state = 'done'
RETURNING *
