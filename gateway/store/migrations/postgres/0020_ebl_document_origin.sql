-- Where each document an eBL carries came from: 'received' with an envelope from another
-- platform, or 'attached' here (at issue, or with a transaction made here). An onward
-- transfer forwards the supporting documents received from another platform only when its
-- sender asks (PINT leaves that choice to the sender, and a document's details are privy to
-- the two platforms of the transfer that carried it); those attached here go with it.
--
-- Rows linked before: a document one of the eBL's accepted envelopes confirmed
-- (ebl_accepted.received) is 'received' (also one attached here first and received back
-- since: not forwarded unless asked, the safe side); any other was attached here.

ALTER TABLE ebl_title_documents ADD COLUMN origin TEXT NOT NULL DEFAULT 'received'
    CHECK (origin IN ('received', 'attached'));

UPDATE ebl_title_documents AS t SET origin = 'attached'
WHERE NOT EXISTS (
    SELECT 1 FROM ebl_accepted AS a
    CROSS JOIN LATERAL jsonb_array_elements_text(a.received::jsonb) AS r (checksum)
    WHERE a.td_checksum = t.td_checksum AND r.checksum = t.checksum
);
