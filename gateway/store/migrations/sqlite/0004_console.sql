-- The operator console's reads: a tenant's documents by state, dead letters newest first,
-- and deliveries over the last hour (events by state and time).

CREATE INDEX submissions_by_tenant_state ON submissions (tenant_id, state, created_at);
CREATE INDEX outbox_jobs_dead ON outbox_jobs (updated_at) WHERE state = 'dead';
CREATE INDEX events_by_state_time ON events (state, at);
