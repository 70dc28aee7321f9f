-- The register of fapiao each tenant has sent (gateway/store/sent_documents.py): one row per
-- submission processed and passed on (queued for delivery, or held by the export gate),
-- written in the transaction that records it; a compliance officer's refusal removes it.
-- A submission of a fapiao already here (same tenant, seller, number and kind) is refused
-- unless it is a deliberate resend. The index answers that lookup; submissions sent before
-- this migration are not registered.

CREATE TABLE sent_documents (
    submission_id  TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    seller_id      TEXT NOT NULL,
    number         TEXT NOT NULL,
    document_type  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE INDEX sent_documents_by_number
ON sent_documents (tenant_id, number, seller_id, document_type, created_at);
