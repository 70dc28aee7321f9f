-- Console sessions signed out: a session cookie is stateless (HMAC-signed, its expiry
-- inside), so signing out must be remembered where every replica and every restart sees
-- it. One row per signed-out session's nonce until the session would have expired anyway
-- (expires: Unix seconds, from the cookie); sign-outs delete the rows past it.

CREATE TABLE console_signouts (
    nonce    TEXT PRIMARY KEY,
    expires  BIGINT NOT NULL
);

CREATE INDEX console_signouts_by_expiry ON console_signouts (expires);
