-- Reconciliation (对账) runs: each comparison of the bank's daily file with
-- the ledger is kept, so ops can see when a day first matched and what
-- differed before it did. A day whose latest run is matched is closed; the
-- worker stops looking at it (docs/reconciliation.md).
CREATE TABLE reconciliation_runs (
    id BIGSERIAL PRIMARY KEY,
    business_date DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('matched', 'mismatched', 'pending')),
    -- [{request_no, kind, account, bank_amount, ledger_amount, reason}], as the API shows them.
    differences JSONB NOT NULL DEFAULT '[]',
    bank_lines INT NOT NULL CHECK (bank_lines >= 0),
    ledger_entries INT NOT NULL CHECK (ledger_entries >= 0),
    -- close: the worker's daily run, which also books the file's reversals;
    -- request: ops asked (GET /v1/ops/reconciliation/{date}).
    origin TEXT NOT NULL CHECK (origin IN ('close', 'request')),
    run_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reconciliation_runs_date ON reconciliation_runs (business_date, id);

-- Reconciliation reads the ledger one business date at a time.
CREATE INDEX journal_entries_business_date ON journal_entries (business_date);
