-- The ops console (docs/console.md): the history of the disclosure figures.

-- One row per business date: the published figures (docs/rules.md "Disclosure")
-- as they stood once that date's scheduled events were all handled. The
-- worker writes a date once (the primary key makes a second write a no-op),
-- so the row is what the platform published that day, never recomputed;
-- the console charts overdue amounts by DPD bucket over time from it.
CREATE TABLE disclosure_snapshots (
    business_date DATE PRIMARY KEY,
    cumulative_volume NUMERIC(20,2) NOT NULL,
    outstanding_principal NUMERIC(20,2) NOT NULL,
    overdue_m1 NUMERIC(20,2) NOT NULL,
    overdue_m2 NUMERIC(20,2) NOT NULL,
    overdue_m3 NUMERIC(20,2) NOT NULL,
    overdue_m3_plus NUMERIC(20,2) NOT NULL,
    written_off NUMERIC(20,2) NOT NULL,
    risk_reserve_balance NUMERIC(20,2) NOT NULL,
    borrowers BIGINT NOT NULL,
    investors BIGINT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
