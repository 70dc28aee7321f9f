-- The console's document facts (0008) are written by the statements that write what they
-- come from (queries/sqlite.sql: a submission's insert adds its row; a ``queued`` event the
-- profile, receiver and number; a ``delivered`` event the delivery time) instead of by row
-- triggers, as PostgreSQL's 0013 did: the same rows in the same transactions. Measured on
-- the writer thread during a burst, the three triggers cost more than the statements that
-- replace them (each fired its own sub-program with its own json_extract per row).

DROP TRIGGER document_facts_on_submission;
DROP TRIGGER document_facts_on_queued;
DROP TRIGGER document_facts_on_delivered;
