-- The export gate's subject key can be rotated: each counted individual keeps the id of the
-- key its keyed hash was made with (gateway/policy/keys.py), so a count can be checked
-- against the right key. Rows counted before this migration carry ''.

ALTER TABLE export_subjects ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
