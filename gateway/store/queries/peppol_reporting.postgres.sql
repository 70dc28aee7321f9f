-- name: insert_peppol_transmission
INSERT INTO peppol_transmissions (id, direction, transmission_id, instance_id, exchanged_at,
    tenant_id, submission_id, c2_seat, c3_seat, doctype_scheme, doctype, process_scheme,
    process, transport_profile, c1_country, c4_country, end_user_hash)
VALUES (%(id)s, %(direction)s, %(transmission_id)s, %(instance_id)s, %(exchanged_at)s, %(tenant_id)s,
    %(submission_id)s, %(c2_seat)s, %(c3_seat)s, %(doctype_scheme)s, %(doctype)s, %(process_scheme)s, %(process)s,
    %(transport_profile)s, %(c1_country)s, %(c4_country)s, %(end_user_hash)s)
ON CONFLICT (direction, transmission_id) DO NOTHING

-- name: peppol_transmissions_between
SELECT * FROM peppol_transmissions
WHERE exchanged_at >= %(start)s AND exchanged_at < %(end)s
ORDER BY exchanged_at, id

-- name: peppol_sent_by_instance
SELECT * FROM peppol_transmissions
WHERE direction = 'out' AND instance_id = %(instance_id)s
ORDER BY exchanged_at DESC, id DESC
LIMIT 1

-- name: claim_peppol_report_month
INSERT INTO peppol_report_months (month, claimed_at) VALUES (%(month)s, %(now)s)
ON CONFLICT (month) DO NOTHING

-- name: finish_peppol_report_month
UPDATE peppol_report_months SET tsr_id = %(tsr_id)s, eusr_id = %(eusr_id)s, detail = %(detail)s
WHERE month = %(month)s

-- name: get_peppol_report_month
SELECT * FROM peppol_report_months WHERE month = %(month)s

-- name: peppol_transmission_groups
SELECT direction,
       CASE WHEN direction = 'out' THEN c3_seat ELSE c2_seat END AS other_seat,
       doctype_scheme, doctype, process_scheme, process, transport_profile,
       c1_country, c4_country, end_user_hash, COUNT(*) AS count
FROM peppol_transmissions
WHERE exchanged_at >= %(start)s AND exchanged_at < %(end)s
GROUP BY direction, CASE WHEN direction = 'out' THEN c3_seat ELSE c2_seat END,
         doctype_scheme, doctype, process_scheme, process, transport_profile,
         c1_country, c4_country, end_user_hash
