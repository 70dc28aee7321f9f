-- The first answer to each eBL action sent with an Idempotency-Key (POST /v1/ebls, POST
-- /v1/ebls/{reference}/transfers), per tenant and key: written in the transaction that
-- makes the change, so a client that retries after a lost response is given this answer
-- again (on any replica, after any restart) instead of a 409 or a second action. request is
-- the method and path; fields the SHA-256 of each member of the request body (JSON object),
-- so a reuse of the key for another request names what differs. An action that failed
-- changed nothing and is not kept: its retry runs again.

CREATE TABLE ebl_idempotency (
    tenant_id        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    request          TEXT NOT NULL,
    fields           TEXT NOT NULL,
    status           INTEGER NOT NULL,
    answer           TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
