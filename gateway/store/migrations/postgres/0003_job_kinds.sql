-- Job kinds. `kind` names the work a job does: the processing jobs of before (adapter
-- 'pipeline') become kind 'process' with no adapter or endpoint, every other job kind
-- 'deliver'. A job is unique per (submission_id, kind, adapter), and submission_id no
-- longer references submissions: a 'receive' job holds an inbound message's id there.

ALTER TABLE outbox_jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'deliver';
ALTER TABLE outbox_jobs DROP CONSTRAINT outbox_jobs_submission_id_adapter_key;
ALTER TABLE outbox_jobs DROP CONSTRAINT outbox_jobs_submission_id_fkey;
UPDATE outbox_jobs SET kind = 'process', adapter = '', endpoint = '' WHERE adapter = 'pipeline';
ALTER TABLE outbox_jobs ALTER COLUMN kind DROP DEFAULT;

CREATE UNIQUE INDEX outbox_jobs_once ON outbox_jobs (submission_id, kind, adapter);
DROP INDEX outbox_jobs_due;
CREATE INDEX outbox_jobs_due ON outbox_jobs (next_attempt_at, id) WHERE state = 'pending';
