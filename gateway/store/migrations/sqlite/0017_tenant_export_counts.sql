-- The export gate's yearly counts belong to a tenant and an exporter: before this migration
-- they were keyed by the exporter (the seller USCC a tenant's directory names) alone, so a
-- tenant naming another tenant's exporter added to that tenant's counts. New ledger entries
-- record their tenant (an entry's hash covers tenant_id when it is set; entries written
-- before keep NULL and their hashes, unchanged).
--
-- Existing counts cannot be split by tenant (the keyed hashes name no document), so each
-- exporter's count for a year is given to every tenant the ledger shows exporting as that
-- exporter in that year (its documents' submissions; an eBL transfer's hold); a count no
-- tenant can be found for (eBL transfers recorded before, whose tenant was not kept) is
-- given to every tenant, and to the tenant '' (an eBL platform without API tenants exports
-- as '': its counts must not restart at zero). Each tenant's count therefore starts at least at what it exported
-- itself: a threshold is never passed unseen because of the split, and an exporter only one
-- tenant used keeps exactly its figures.

CREATE TEMP TABLE export_owners AS
WITH exported AS (
    SELECT DISTINCT l.exporter,
           CAST(strftime('%Y', substr(l.at, 1, 19), '+8 hours') AS INTEGER) AS year,
           COALESCE(s.tenant_id, h.tenant_id) AS tenant_id
    FROM export_ledger AS l
    LEFT JOIN submissions AS s ON s.id = l.submission_id
    LEFT JOIN export_holds AS h ON h.submission_id = l.submission_id
    WHERE COALESCE(s.tenant_id, h.tenant_id) IS NOT NULL
)
SELECT c.exporter, c.year, e.tenant_id
FROM export_counts AS c JOIN exported AS e ON e.exporter = c.exporter AND e.year = c.year
UNION
SELECT c.exporter, c.year, t.id
FROM export_counts AS c, (SELECT id FROM tenants UNION SELECT '') AS t
WHERE NOT EXISTS (SELECT 1 FROM exported AS e WHERE e.exporter = c.exporter AND e.year = c.year);

ALTER TABLE export_subjects RENAME TO export_subjects_by_exporter;

CREATE TABLE export_subjects (
    tenant_id  TEXT NOT NULL,
    exporter   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    sensitive  INTEGER NOT NULL,
    key_id     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, exporter, year, subject)
);

INSERT INTO export_subjects (tenant_id, exporter, year, subject, sensitive, key_id)
SELECT o.tenant_id, s.exporter, s.year, s.subject, s.sensitive, s.key_id
FROM export_subjects_by_exporter AS s
JOIN export_owners AS o ON o.exporter = s.exporter AND o.year = s.year;

DROP TABLE export_subjects_by_exporter;

ALTER TABLE export_counts RENAME TO export_counts_by_exporter;

CREATE TABLE export_counts (
    tenant_id  TEXT NOT NULL,
    exporter   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    personal   INTEGER NOT NULL,
    sensitive  INTEGER NOT NULL,
    documents  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, exporter, year)
);

INSERT INTO export_counts (tenant_id, exporter, year, personal, sensitive, documents)
SELECT o.tenant_id, c.exporter, c.year, c.personal, c.sensitive, c.documents
FROM export_counts_by_exporter AS c
JOIN export_owners AS o ON o.exporter = c.exporter AND o.year = c.year;

DROP TABLE export_counts_by_exporter;

DROP TABLE export_owners;

ALTER TABLE export_ledger ADD COLUMN tenant_id TEXT;

CREATE INDEX export_ledger_by_tenant ON export_ledger (tenant_id, exporter, at);
