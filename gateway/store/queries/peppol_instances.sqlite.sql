-- name: peppol_replay_by_message_id
SELECT * FROM peppol_replays WHERE channel = :channel AND message_id = :message_id

-- name: peppol_inbound_with_answer
SELECT m.id, json_extract(m.metadata, '$.peppol.c2_seat') AS c2_seat, a.answer
FROM inbound_messages m LEFT JOIN inbound_answers a ON a.inbound_id = m.id
WHERE m.channel = :channel AND m.message_id = :message_id

-- name: claim_peppol_instance
INSERT INTO peppol_instances (channel, c2_seat, instance_id, message_id, claimed_at)
VALUES (:channel, :c2_seat, :instance_id, :message_id, :at)
ON CONFLICT (channel, c2_seat, instance_id) DO NOTHING

-- name: peppol_instance
SELECT * FROM peppol_instances
WHERE channel = :channel AND c2_seat = :c2_seat AND instance_id = :instance_id

-- name: take_peppol_instance
-- Another MessageId takes over a claim held unstored since before stale_before.
UPDATE peppol_instances SET message_id = :message_id, claimed_at = :at
WHERE channel = :channel AND c2_seat = :c2_seat AND instance_id = :instance_id
  AND message_id = :claimed_by AND claimed_at < :stale_before

-- name: insert_peppol_replay
INSERT INTO peppol_replays (channel, message_id, c2_seat, instance_id, first_message_id,
                            received_at, answer)
VALUES (:channel, :message_id, :c2_seat, :instance_id, :first_message_id, :now, :answer)
ON CONFLICT (channel, message_id) DO NOTHING

-- name: peppol_replays_recent
SELECT channel, message_id, c2_seat, instance_id, first_message_id, received_at
FROM peppol_replays ORDER BY received_at DESC, message_id LIMIT :limit

-- name: peppol_inbound_data
SELECT data FROM inbound_messages WHERE channel = :channel AND message_id = :message_id
