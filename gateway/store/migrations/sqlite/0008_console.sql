-- The operator console's reads. ``document_facts`` keeps each document's profile, receiver
-- and number (the client's metadata at submission, then the flow's facts from its ``queued``
-- event) and its delivery time, filled by triggers in the same transaction as the row that
-- carries them, so the console filters a tenant's documents by profile or receiver, and counts
-- its recent deliveries, through an index. Also: a tenant's documents by state, dead letters
-- by time.

CREATE TABLE document_facts (
    submission_id  TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    profile        TEXT,
    receiver       TEXT,
    number         TEXT,
    delivered_at   TEXT
);

CREATE INDEX document_facts_by_profile ON document_facts (tenant_id, profile, created_at, submission_id);
CREATE INDEX document_facts_by_receiver ON document_facts (tenant_id, receiver, created_at, submission_id);
CREATE INDEX document_facts_by_delivery ON document_facts (tenant_id, delivered_at);
CREATE INDEX submissions_by_tenant_state ON submissions (tenant_id, state, created_at);
CREATE INDEX outbox_jobs_dead ON outbox_jobs (updated_at) WHERE state = 'dead';

CREATE TRIGGER document_facts_on_submission AFTER INSERT ON submissions
BEGIN
    INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver)
    VALUES (NEW.id, NEW.tenant_id, NEW.created_at,
            json_extract(NEW.metadata, '$.profile'), json_extract(NEW.metadata, '$.receiver'));
END;

CREATE TRIGGER document_facts_on_queued AFTER INSERT ON events WHEN NEW.state = 'queued'
BEGIN
    UPDATE document_facts
    SET profile = COALESCE(json_extract(NEW.detail, '$.profile'), profile),
        receiver = COALESCE(json_extract(NEW.detail, '$.receiver'), receiver),
        number = COALESCE(json_extract(NEW.detail, '$.number'), number)
    WHERE submission_id = NEW.submission_id;
END;

CREATE TRIGGER document_facts_on_delivered AFTER INSERT ON events WHEN NEW.state = 'delivered'
BEGIN
    UPDATE document_facts SET delivered_at = NEW.at WHERE submission_id = NEW.submission_id;
END;

INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver, number,
                            delivered_at)
SELECT s.id, s.tenant_id, s.created_at,
       COALESCE(json_extract(q.detail, '$.profile'), json_extract(s.metadata, '$.profile')),
       COALESCE(json_extract(q.detail, '$.receiver'), json_extract(s.metadata, '$.receiver')),
       json_extract(q.detail, '$.number'),
       (SELECT MAX(d.at) FROM events d WHERE d.submission_id = s.id AND d.state = 'delivered')
FROM submissions s
LEFT JOIN events q ON q.id = (SELECT MAX(e.id) FROM events e
                              WHERE e.submission_id = s.id AND e.state = 'queued');
