-- name: insert_peppol_transmission
INSERT INTO peppol_transmissions (id, direction, transmission_id, instance_id, exchanged_at,
    tenant_id, submission_id, c2_seat, c3_seat, doctype_scheme, doctype, process_scheme,
    process, transport_profile, c1_country, c4_country, end_user_hash)
VALUES (:id, :direction, :transmission_id, :instance_id, :exchanged_at, :tenant_id,
    :submission_id, :c2_seat, :c3_seat, :doctype_scheme, :doctype, :process_scheme, :process,
    :transport_profile, :c1_country, :c4_country, :end_user_hash)
ON CONFLICT (direction, transmission_id) DO NOTHING

-- name: peppol_transmissions_between
SELECT * FROM peppol_transmissions
WHERE exchanged_at >= :start AND exchanged_at < :end
ORDER BY exchanged_at, id

-- name: peppol_sent_by_instance
SELECT * FROM peppol_transmissions
WHERE direction = 'out' AND instance_id = :instance_id
ORDER BY exchanged_at DESC, id DESC
LIMIT 1

-- name: claim_peppol_report_month
INSERT INTO peppol_report_months (month, claimed_at) VALUES (:month, :now)
ON CONFLICT (month) DO NOTHING

-- name: finish_peppol_report_month
UPDATE peppol_report_months SET tsr_id = :tsr_id, eusr_id = :eusr_id, detail = :detail
WHERE month = :month

-- name: get_peppol_report_month
SELECT * FROM peppol_report_months WHERE month = :month

-- name: peppol_transmission_groups
SELECT direction,
       CASE WHEN direction = 'out' THEN c3_seat ELSE c2_seat END AS other_seat,
       doctype_scheme, doctype, process_scheme, process, transport_profile,
       c1_country, c4_country, end_user_hash, COUNT(*) AS count
FROM peppol_transmissions
WHERE exchanged_at >= :start AND exchanged_at < :end
GROUP BY direction, CASE WHEN direction = 'out' THEN c3_seat ELSE c2_seat END,
         doctype_scheme, doctype, process_scheme, process, transport_profile,
         c1_country, c4_country, end_user_hash
