-- The additional documents each eBL carries on this platform (DCSA PINT): those received
-- with an accepted envelope (its manifest's supportingDocuments and eBLVisualisationByCarrier,
-- under the names and media types the manifest gave them) and those attached here. An
-- onward transfer announces them again, so the next platform can ask for the ones it lacks.
-- The bytes stay in ebl_documents (by checksum).
--
-- eBLs accepted before this migration: their manifests were not kept, so the documents their
-- signed answers confirmed (ebl_accepted.received) are linked under a name made from the
-- checksum and the media type they were stored with.

CREATE TABLE ebl_title_documents (
    td_checksum  TEXT NOT NULL,
    checksum     TEXT NOT NULL,
    name         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (td_checksum, checksum)
);

INSERT INTO ebl_title_documents (td_checksum, checksum, name, media_type, created_at)
SELECT a.td_checksum, d.checksum, 'document ' || substr(d.checksum, 1, 16), d.media_type,
       min(a.accepted_at)
FROM ebl_accepted AS a, json_each(a.received) AS r
JOIN ebl_documents AS d ON d.checksum = r.value
GROUP BY a.td_checksum, d.checksum;
