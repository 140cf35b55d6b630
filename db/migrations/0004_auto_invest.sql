-- Auto-invest (自动投标): an investor's standing rule, and a queue by
-- queued_at so that rules take turns: a rule that has just invested goes to
-- the back.
CREATE TABLE auto_invest_rules (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    enabled BOOLEAN NOT NULL,
    amount_per_loan NUMERIC(20,2) NOT NULL CHECK (amount_per_loan >= 100),
    min_annual_rate NUMERIC(10,6) NOT NULL CHECK (min_annual_rate >= 0),
    max_term_months INT NOT NULL CHECK (max_term_months BETWEEN 1 AND 36),
    max_grade TEXT NOT NULL CHECK (max_grade IN ('A', 'B', 'C', 'D', 'E')),
    keep_available NUMERIC(20,2) NOT NULL CHECK (keep_available >= 0),
    queued_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A listing is offered to the rules once, when it opens.
ALTER TABLE loans ADD COLUMN auto_invested BOOLEAN NOT NULL DEFAULT false;
