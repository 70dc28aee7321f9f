-- The operator console's reads. ``document_facts`` keeps each document's profile, receiver
-- and number (the client's metadata at submission, then the flow's facts from its ``queued``
-- event) and its delivery time, filled by triggers in the same transaction as the row that
-- carries them, so the console filters a tenant's documents by profile or receiver, and counts
-- its recent deliveries, through an index. Also: a tenant's documents by state, dead letters
-- by time.

CREATE TABLE document_facts (
    submission_id  TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    profile        TEXT,
    receiver       TEXT,
    number         TEXT,
    delivered_at   TIMESTAMPTZ
);

CREATE INDEX document_facts_by_profile ON document_facts (tenant_id, profile, created_at, submission_id);
CREATE INDEX document_facts_by_receiver ON document_facts (tenant_id, receiver, created_at, submission_id);
CREATE INDEX document_facts_by_delivery ON document_facts (tenant_id, delivered_at);
CREATE INDEX submissions_by_tenant_state ON submissions (tenant_id, state, created_at);
CREATE INDEX outbox_jobs_dead ON outbox_jobs (updated_at) WHERE state = 'dead';

CREATE FUNCTION document_facts_on_submission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver)
    VALUES (NEW.id, NEW.tenant_id, NEW.created_at,
            NEW.metadata->>'profile', NEW.metadata->>'receiver');
    RETURN NULL;
END
$$;

CREATE TRIGGER document_facts_on_submission AFTER INSERT ON submissions
FOR EACH ROW EXECUTE FUNCTION document_facts_on_submission();

CREATE FUNCTION document_facts_on_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE document_facts
    SET profile = COALESCE(NEW.detail->>'profile', profile),
        receiver = COALESCE(NEW.detail->>'receiver', receiver),
        number = COALESCE(NEW.detail->>'number', number)
    WHERE submission_id = NEW.submission_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER document_facts_on_queued AFTER INSERT ON events
FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION document_facts_on_queued();

CREATE FUNCTION document_facts_on_delivered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE document_facts SET delivered_at = NEW.at WHERE submission_id = NEW.submission_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER document_facts_on_delivered AFTER INSERT ON events
FOR EACH ROW WHEN (NEW.state = 'delivered') EXECUTE FUNCTION document_facts_on_delivered();

INSERT INTO document_facts (submission_id, tenant_id, created_at, profile, receiver, number,
                            delivered_at)
SELECT s.id, s.tenant_id, s.created_at,
       COALESCE(q.detail->>'profile', s.metadata->>'profile'),
       COALESCE(q.detail->>'receiver', s.metadata->>'receiver'),
       q.detail->>'number',
       (SELECT MAX(d.at) FROM events d WHERE d.submission_id = s.id AND d.state = 'delivered')
FROM submissions s
LEFT JOIN LATERAL (SELECT e.detail FROM events e
                   WHERE e.submission_id = s.id AND e.state = 'queued'
                   ORDER BY e.id DESC LIMIT 1) q ON TRUE;
