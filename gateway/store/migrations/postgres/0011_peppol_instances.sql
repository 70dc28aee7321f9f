-- Peppol documents received, by sending access point and SBDH InstanceIdentifier: the AS4
-- MessageId that first carried each one (a claim taken before the message is stored), and
-- the replays, the same document from the same access point under another MessageId, which
-- were answered with a receipt but not stored or handed on again.

CREATE TABLE peppol_instances (
    channel      TEXT NOT NULL,
    c2_seat      TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    claimed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, c2_seat, instance_id)
);

CREATE TABLE peppol_replays (
    channel           TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    c2_seat           TEXT NOT NULL,
    instance_id       TEXT NOT NULL,
    first_message_id  TEXT NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL,
    answer            BYTEA NOT NULL,
    PRIMARY KEY (channel, message_id)
);
