-- Title tokens of transferable records (eBL): the gateway's own token registry, and each
-- token's history. A change is fenced by `version` (optimistic concurrency).

CREATE TABLE title_tokens (
    registry     TEXT NOT NULL,
    token_id     TEXT NOT NULL,
    beneficiary  TEXT NOT NULL,
    holder       TEXT NOT NULL,
    nominee      TEXT,
    state        TEXT NOT NULL CHECK (state IN ('active', 'surrendered', 'burned')),
    remark       TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (registry, token_id)
);

CREATE TABLE title_token_events (
    registry     TEXT NOT NULL,
    token_id     TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    action       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    beneficiary  TEXT NOT NULL,
    holder       TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (registry, token_id, seq),
    FOREIGN KEY (registry, token_id) REFERENCES title_tokens (registry, token_id)
);
