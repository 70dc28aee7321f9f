-- The answer a receiving adapter gave the sender of an inbound message (AS4: the signed
-- non-repudiation receipt), stored in the same transaction as the message, so a duplicate
-- (a retry with the same message id, here or at another replica) gets the same answer again.

CREATE TABLE inbound_answers (
    inbound_id  TEXT PRIMARY KEY REFERENCES inbound_messages (id),
    answer      BLOB NOT NULL
);
