-- The export ledger and its signed checkpoints are append-only in the database itself, not
-- only by the gateway's habit: an UPDATE, DELETE or TRUNCATE of entries or checkpoints is
-- refused by these triggers, whoever runs it (a bug, a script, an operator at the SQL
-- prompt). The head row (export_ledger_head) moves with every entry and stays writable.
-- Someone who can drop the triggers can still edit rows; the hash chain, the signed
-- checkpoints and the anchor file (`lingang ledger verify`) are what catch that.

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER export_ledger_append_only BEFORE UPDATE OR DELETE ON export_ledger
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER export_ledger_no_truncate BEFORE TRUNCATE ON export_ledger
FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER export_checkpoints_append_only BEFORE UPDATE OR DELETE ON export_checkpoints
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER export_checkpoints_no_truncate BEFORE TRUNCATE ON export_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
