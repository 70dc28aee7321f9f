-- The console's document facts (0008) are written by the statements that write what they
-- come from (queries/postgres.sql: a submission's insert adds its row, a ``queued`` event
-- the profile, receiver and number, a ``delivered`` event the delivery time) instead of by
-- row triggers: the same rows in the same transactions, without a PL/pgSQL call and a
-- statement of its own per document, three times per document.

DROP TRIGGER document_facts_on_submission ON submissions;
DROP TRIGGER document_facts_on_queued ON events;
DROP TRIGGER document_facts_on_delivered ON events;
DROP FUNCTION document_facts_on_submission();
DROP FUNCTION document_facts_on_queued();
DROP FUNCTION document_facts_on_delivered();
