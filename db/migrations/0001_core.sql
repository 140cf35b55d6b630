-- Core platform schema. Money is NUMERIC(20,2), rates NUMERIC(10,6): never float.
-- Business dates (due dates, listing expiry) are DATE in the platform time zone
-- Asia/Shanghai; they come from the platform clock, not from now().

CREATE TABLE platform_clock (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    mode TEXT NOT NULL CHECK (mode IN ('wall', 'sandbox')),
    today DATE NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('borrower', 'investor', 'ops')),
    name TEXT NOT NULL,
    id_number TEXT NOT NULL,
    phone TEXT NOT NULL,
    risk_level TEXT CHECK (risk_level IN ('C1', 'C2', 'C3', 'C4', 'C5')),
    locked BOOLEAN NOT NULL DEFAULT false,
    custody_account_no TEXT UNIQUE,
    card_number TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX users_id_number ON users (id_number);
CREATE INDEX users_phone ON users (phone);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    expires_at TIMESTAMPTZ NOT NULL
);

-- Idempotency-Key replay store (docs/api.md "Conventions").
CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INT,          -- NULL while the first request is in flight
    response BYTEA,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE TABLE blacklist (
    id_number TEXT PRIMARY KEY,
    reason TEXT NOT NULL
);

CREATE TABLE loans (
    id BIGSERIAL PRIMARY KEY,
    borrower_id BIGINT NOT NULL REFERENCES users (id),
    guarantor_id BIGINT REFERENCES users (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    term_months INT NOT NULL CHECK (term_months BETWEEN 1 AND 36),
    repayment_method TEXT NOT NULL,
    purpose TEXT NOT NULL,
    monthly_income NUMERIC(20,2) NOT NULL,
    status TEXT NOT NULL,
    grade TEXT CHECK (grade IN ('A', 'B', 'C', 'D', 'E')),
    annual_rate NUMERIC(10,6),
    credit_score INT,
    -- raised is the single authority on bid admission: a bid is admitted only by
    -- the guarded increment in BidAdmit, so a listing can never be oversubscribed.
    raised NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (raised >= 0 AND raised <= amount),
    newbie BOOLEAN NOT NULL DEFAULT false,
    listed_on DATE,
    listing_expires_on DATE,
    disbursed_on DATE,
    -- next_event_on is the next business date on which the workflow has work of
    -- its own (expiry, due date, collection step); the clock advance waits on it.
    next_event_on DATE,
    workflow_id TEXT NOT NULL UNIQUE,
    applied_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX loans_borrower ON loans (borrower_id);
CREATE INDEX loans_status ON loans (status);
CREATE INDEX loans_next_event ON loans (next_event_on) WHERE next_event_on IS NOT NULL;

CREATE TABLE loan_history (
    id BIGSERIAL PRIMARY KEY,
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    -- seq comes from the workflow, so an activity retried after a lost answer
    -- cannot write the same step twice.
    seq INT NOT NULL,
    status TEXT NOT NULL,
    business_date DATE NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (loan_id, seq)
);

CREATE TABLE bids (
    id BIGSERIAL PRIMARY KEY,
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    investor_id BIGINT NOT NULL REFERENCES users (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    -- pending: admitted, freeze not yet confirmed; frozen; failed: the bank refused
    -- the freeze; unfrozen: released (流标, review rejected, cancelled);
    -- disbursed: spent into the loan, now a claim.
    status TEXT NOT NULL CHECK (status IN ('pending', 'frozen', 'failed', 'unfrozen', 'disbursed')),
    auto BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX bids_loan ON bids (loan_id, id);
CREATE INDEX bids_investor ON bids (investor_id);

CREATE TABLE installments (
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    no INT NOT NULL CHECK (no >= 1),
    due_date DATE NOT NULL,
    principal NUMERIC(20,2) NOT NULL CHECK (principal >= 0),
    interest NUMERIC(20,2) NOT NULL CHECK (interest >= 0),
    penalty NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (penalty >= 0),
    paid_principal NUMERIC(20,2) NOT NULL DEFAULT 0,
    paid_interest NUMERIC(20,2) NOT NULL DEFAULT 0,
    paid_penalty NUMERIC(20,2) NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'overdue', 'written_off')),
    paid_on DATE,
    PRIMARY KEY (loan_id, no),
    CHECK (paid_principal BETWEEN 0 AND principal),
    CHECK (paid_interest BETWEEN 0 AND interest),
    CHECK (paid_penalty BETWEEN 0 AND penalty)
);

-- Each claim holder's part of each installment: the pro-rata split by largest
-- remainder (docs/rules.md "Investor shares"), planned at disbursement; received_*
-- grow as the borrower (or a compensator) pays. Pending = planned - received.
CREATE TABLE installment_shares (
    loan_id BIGINT NOT NULL,
    no INT NOT NULL,
    bid_id BIGINT NOT NULL REFERENCES bids (id),
    investor_id BIGINT NOT NULL REFERENCES users (id),
    principal NUMERIC(20,2) NOT NULL CHECK (principal >= 0),
    interest NUMERIC(20,2) NOT NULL CHECK (interest >= 0),
    received_principal NUMERIC(20,2) NOT NULL DEFAULT 0,
    received_interest NUMERIC(20,2) NOT NULL DEFAULT 0,
    received_penalty NUMERIC(20,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (loan_id, no, bid_id),
    FOREIGN KEY (loan_id, no) REFERENCES installments (loan_id, no),
    CHECK (received_principal BETWEEN 0 AND principal),
    -- no upper bound on interest: an early payoff re-plans it to what was received.
    CHECK (received_interest >= 0),
    CHECK (received_penalty >= 0)
);
CREATE INDEX installment_shares_investor ON installment_shares (investor_id);

CREATE TABLE repayment_authorizations (
    loan_id BIGINT PRIMARY KEY REFERENCES loans (id),
    max_amount NUMERIC(20,2) NOT NULL CHECK (max_amount > 0),
    expires_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every bank request the platform sent, keyed by its request number (流水号).
CREATE TABLE bank_requests (
    request_no TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    detail JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
