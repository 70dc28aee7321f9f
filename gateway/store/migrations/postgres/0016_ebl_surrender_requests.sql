-- Surrenders recorded under the old rule (before PINT's SACC/SREJ were followed, a surrender
-- was final: the carrier's platform stored the eBL 'surrendered' on the request itself, and
-- the requester's platform kept a title saying surrendered) become what the rule now gives:
-- a request the carrier answers. The data step (gateway/store/ebl_legacy.py, run in the same
-- transaction) replays each such chain under the current title rules: the carrier's platform
-- holds the eBL again with the request pending, the requester's keeps it 'transferred' with
-- the request in its title, and a transfer still being sent takes the new title. The chains
-- are not touched; what each row was, and why it changed or was left alone, is kept here.

CREATE TABLE ebl_title_migrations (
    kind         TEXT NOT NULL CHECK (kind IN ('title', 'outbound')),
    row_key      TEXT NOT NULL,
    migration    TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('migrated', 'left')),
    reason       TEXT NOT NULL,
    reference    TEXT NOT NULL,
    old_state    TEXT NOT NULL,
    old_title    TEXT NOT NULL,
    new_state    TEXT,
    new_title    TEXT,
    version      INTEGER,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, row_key, migration)
);
