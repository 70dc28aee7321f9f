-- name: peppol_replay_by_message_id
SELECT * FROM peppol_replays WHERE channel = %(channel)s AND message_id = %(message_id)s

-- name: peppol_inbound_with_answer
SELECT m.id, m.metadata->'peppol'->>'c2_seat' AS c2_seat, a.answer
FROM inbound_messages m LEFT JOIN inbound_answers a ON a.inbound_id = m.id
WHERE m.channel = %(channel)s AND m.message_id = %(message_id)s

-- name: claim_peppol_instance
-- Claimed at the database's clock unless a time is given (at: a test's clock), so every
-- replica judges a claim's age alike (take_peppol_instance).
INSERT INTO peppol_instances (channel, c2_seat, instance_id, message_id, claimed_at)
VALUES (%(channel)s, %(c2_seat)s, %(instance_id)s, %(message_id)s,
        COALESCE(%(at)s::timestamptz, now()))
ON CONFLICT (channel, c2_seat, instance_id) DO NOTHING

-- name: peppol_instance
SELECT * FROM peppol_instances
WHERE channel = %(channel)s AND c2_seat = %(c2_seat)s AND instance_id = %(instance_id)s

-- name: take_peppol_instance
-- Another MessageId takes over a claim held unstored for longer than in_flight seconds.
UPDATE peppol_instances
SET message_id = %(message_id)s, claimed_at = COALESCE(%(at)s::timestamptz, now())
WHERE channel = %(channel)s AND c2_seat = %(c2_seat)s AND instance_id = %(instance_id)s
  AND message_id = %(claimed_by)s
  AND claimed_at < COALESCE(%(stale_before)s::timestamptz,
                            now() - %(in_flight)s::float8 * interval '1 second')

-- name: insert_peppol_replay
INSERT INTO peppol_replays (channel, message_id, c2_seat, instance_id, first_message_id,
                            received_at, answer)
VALUES (%(channel)s, %(message_id)s, %(c2_seat)s, %(instance_id)s, %(first_message_id)s, %(now)s, %(answer)s)
ON CONFLICT (channel, message_id) DO NOTHING

-- name: peppol_replays_recent
SELECT channel, message_id, c2_seat, instance_id, first_message_id, received_at
FROM peppol_replays ORDER BY received_at DESC, message_id LIMIT %(limit)s

-- name: peppol_inbound_data
SELECT data FROM inbound_messages WHERE channel = %(channel)s AND message_id = %(message_id)s
