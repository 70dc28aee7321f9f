-- Deciding a hold needs an officer: an API key has a role, 'submitter' (what every key was
-- before: submits documents, reads the tenant's records) or 'officer' (may also release and
-- refuse the tenant's held documents). A hold and a ledger entry record the authenticated
-- principal that decided (e.g. 'api-key:<key id>', 'cli:<user>'; '' for the policy's own
-- decisions) beside the officer's name as given (decided_by). Holds decided and entries
-- written before keep NULL: who decided was not authenticated then. An entry's hash covers
-- principal when it is set (gateway/store/ledger_chain.py), so older entries keep theirs.

ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'submitter'
    CHECK (role IN ('submitter', 'officer'));

ALTER TABLE export_holds ADD COLUMN principal TEXT;

ALTER TABLE export_ledger ADD COLUMN principal TEXT;
