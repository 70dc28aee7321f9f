-- Peppol Reporting: one record per transmission sent or received (the facts the monthly
-- Transaction Statistics and End User Statistics Reports are counted from), and one row per
-- reported month (so a month is reported once, whoever runs the report job).

CREATE TABLE peppol_transmissions (
    id                 TEXT PRIMARY KEY,
    direction          TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    transmission_id    TEXT NOT NULL,
    instance_id        TEXT NOT NULL,
    exchanged_at       TEXT NOT NULL,
    tenant_id          TEXT,
    submission_id      TEXT,
    c2_seat            TEXT NOT NULL,
    c3_seat            TEXT NOT NULL,
    doctype_scheme     TEXT NOT NULL,
    doctype            TEXT NOT NULL,
    process_scheme     TEXT NOT NULL,
    process            TEXT NOT NULL,
    transport_profile  TEXT NOT NULL,
    c1_country         TEXT NOT NULL,
    c4_country         TEXT,
    end_user_hash      TEXT NOT NULL,
    UNIQUE (direction, transmission_id)
);

CREATE INDEX peppol_transmissions_by_time ON peppol_transmissions (exchanged_at);
CREATE INDEX peppol_transmissions_by_instance ON peppol_transmissions (instance_id);

CREATE TABLE peppol_report_months (
    month          TEXT PRIMARY KEY,
    claimed_at     TEXT NOT NULL,
    tsr_id         TEXT,
    eusr_id        TEXT,
    detail         TEXT NOT NULL DEFAULT '{}'
);
