-- The export ledger and its signed checkpoints are append-only in the database itself, not
-- only by the gateway's habit: an UPDATE or DELETE of an entry or a checkpoint is refused by
-- these triggers, whoever runs it (a bug, a script, an operator at the SQL prompt). The head
-- row (export_ledger_head) moves with every entry and stays writable. Someone who can drop
-- the triggers can still edit rows; the hash chain, the signed checkpoints and the anchor
-- file (`lingang ledger verify`) are what catch that.

CREATE TRIGGER export_ledger_no_update BEFORE UPDATE ON export_ledger
BEGIN
    SELECT RAISE(ABORT, 'export_ledger is append-only: entries cannot be changed');
END;

CREATE TRIGGER export_ledger_no_delete BEFORE DELETE ON export_ledger
BEGIN
    SELECT RAISE(ABORT, 'export_ledger is append-only: entries cannot be deleted');
END;

CREATE TRIGGER export_checkpoints_no_update BEFORE UPDATE ON export_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'export_checkpoints is append-only: checkpoints cannot be changed');
END;

CREATE TRIGGER export_checkpoints_no_delete BEFORE DELETE ON export_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'export_checkpoints is append-only: checkpoints cannot be deleted');
END;
