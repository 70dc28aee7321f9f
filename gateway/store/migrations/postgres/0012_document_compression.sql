-- Document bytes (5-30 KB of XML or JSON each) and the JSON written with them (metadata,
-- event details with the stage timings and policy facts) are compressed with lz4 instead
-- of pglz when PostgreSQL moves them out of line (TOAST): lz4 spends a fraction of pglz's
-- CPU for a similar ratio on such text, and every document is written several times (the
-- submission, its outputs, the receipt). Values already stored keep pglz and stay
-- readable; durability is unchanged (the same WAL-logged writes).
-- A server built without lz4 (every PGDG, Debian and Docker build of 14+ has it) keeps pglz:
-- slower, never wrong.

DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM pg_settings
        WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)
    ) THEN
        ALTER TABLE submissions ALTER COLUMN data SET COMPRESSION lz4;
        ALTER TABLE outputs ALTER COLUMN data SET COMPRESSION lz4;
        ALTER TABLE receipts ALTER COLUMN data SET COMPRESSION lz4;
        ALTER TABLE inbound_messages ALTER COLUMN data SET COMPRESSION lz4;
        ALTER TABLE ebl_documents ALTER COLUMN data SET COMPRESSION lz4;
        ALTER TABLE submissions ALTER COLUMN metadata SET COMPRESSION lz4;
        ALTER TABLE events ALTER COLUMN detail SET COMPRESSION lz4;
        ALTER TABLE receipts ALTER COLUMN detail SET COMPRESSION lz4;
    END IF;
END
$$;
