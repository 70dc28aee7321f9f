-- The eBL registry (DCSA PINT): one row per eBL with its possessor and verified transfer
-- chain; the envelopes accepted (DUPE answers); envelope transfers in progress (both ways);
-- additional documents by checksum.

CREATE TABLE ebl_titles (
    td_checksum         TEXT PRIMARY KEY,
    reference           TEXT NOT NULL,
    state               TEXT NOT NULL
                        CHECK (state IN ('held', 'sending', 'transferred', 'surrendered')),
    possessor           TEXT NOT NULL,
    head                TEXT NOT NULL,
    chain               TEXT NOT NULL,
    title               TEXT NOT NULL,
    transport_document  TEXT NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX ebl_titles_by_reference ON ebl_titles (reference);

CREATE TABLE ebl_accepted (
    last_checksum  TEXT PRIMARY KEY,
    td_checksum    TEXT NOT NULL,
    last_entry     TEXT NOT NULL,
    received       TEXT NOT NULL,
    sender         TEXT NOT NULL,
    accepted_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE ebl_inbound (
    reference      TEXT PRIMARY KEY,
    td_checksum    TEXT NOT NULL,
    envelope       TEXT NOT NULL,
    documents      TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE ebl_outbound (
    id             TEXT PRIMARY KEY,
    td_checksum    TEXT NOT NULL,
    platform       TEXT NOT NULL,
    base_head      TEXT NOT NULL,
    envelope       TEXT NOT NULL,
    documents      TEXT NOT NULL,
    title          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('sending', 'accepted', 'rejected')),
    response_code  TEXT,
    response       TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE INDEX ebl_outbound_by_title ON ebl_outbound (td_checksum, created_at);

CREATE TABLE ebl_documents (
    checksum     TEXT PRIMARY KEY,
    media_type   TEXT NOT NULL,
    data         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
