-- The custody bank simulator's own books (docs/rules.md "Custody bank accounts").
-- This schema is the bank's record, which is the truth the platform reconciles
-- against; nothing of the platform's schema is visible from here.
--
-- Invariants held by the database, not only by Go:
--   * available and frozen balances are never negative;
--   * a request number is recorded once, with the hash of its content, so a
--     repeat can be told from a reuse and the work of a number happens once;
--   * a freeze is closed (released or spent) once;
--   * a movement is recorded once per (request, type, item).

-- The bank's business date. NULL follows the wall clock in China Standard
-- Time; the platform's sandbox sets it explicitly.
CREATE TABLE clock (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    today DATE
);
INSERT INTO clock (singleton, today) VALUES (true, NULL);

CREATE SEQUENCE account_no_seq;

CREATE TABLE accounts (
    account_no TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('investor', 'borrower', 'guarantor', 'platform')),
    name TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    -- the bound card (同卡进出); platform accounts have none.
    card_number TEXT NOT NULL DEFAULT '',
    available NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (available >= 0),
    frozen NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (frozen >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'platform') = (card_number = ''))
);

-- Every request number the bank has answered with a result, refusals included:
-- a refusal is final for its number.
CREATE TABLE requests (
    request_no TEXT PRIMARY KEY CHECK (request_no <> ''),
    kind TEXT NOT NULL CHECK (kind IN (
        'open_account', 'change_card', 'recharge', 'withdrawal', 'freeze', 'unfreeze',
        'transfer', 'batch', 'deposit')),
    -- sha256 of the canonical request: same number + same hash is a repeat,
    -- same number + other hash is refused as request_no_reused.
    content_hash TEXT NOT NULL,
    content JSONB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed', 'reversed')),
    code TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    -- the account the request is about (the new account for open_account).
    account_no TEXT NOT NULL DEFAULT '',
    amount NUMERIC(20,2) NOT NULL DEFAULT 0,
    fee NUMERIC(20,2) NOT NULL DEFAULT 0,
    business_date DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'failed') = (code <> ''))
);
CREATE INDEX requests_withdrawals_processing ON requests (account_no) WHERE kind = 'withdrawal' AND status = 'processing';

-- A freeze is named by the request number that made it (投标冻结).
CREATE TABLE freezes (
    request_no TEXT PRIMARY KEY REFERENCES requests (request_no),
    account_no TEXT NOT NULL REFERENCES accounts (account_no),
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'released', 'spent')),
    -- the unfreeze or batch/transfer request that closed it.
    closed_by TEXT NOT NULL DEFAULT '',
    CHECK ((state = 'active') = (closed_by = ''))
);
CREATE INDEX freezes_account_active ON freezes (account_no) WHERE state = 'active';

-- Every movement of money, the rows of the daily reconciliation file (对账文件).
-- from_account / to_account hold an account number, 'card:<number>' for the
-- world outside the bank, or 'external' for the platform's own deposits.
CREATE TABLE movements (
    id BIGSERIAL PRIMARY KEY,
    request_no TEXT NOT NULL REFERENCES requests (request_no),
    item INT NOT NULL DEFAULT 0,
    type TEXT NOT NULL CHECK (type IN (
        'recharge', 'withdrawal', 'withdrawal_fee', 'withdrawal_reversal', 'freeze', 'unfreeze',
        'transfer', 'batch', 'deposit')),
    from_account TEXT NOT NULL,
    to_account TEXT NOT NULL,
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    freeze_request_no TEXT NOT NULL DEFAULT '',
    purpose TEXT NOT NULL DEFAULT '',
    business_date DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (request_no, type, item)
);
CREATE INDEX movements_date ON movements (business_date, id);

-- Deferred work: completing withdrawals, reversing them, and delivering
-- callbacks. Rows are claimed with FOR UPDATE SKIP LOCKED, so any number of
-- simulator processes may share the schema.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('withdrawal_complete', 'withdrawal_reverse', 'callback')),
    request_no TEXT NOT NULL REFERENCES requests (request_no),
    -- the signed body of a callback.
    body BYTEA,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dropped')),
    due_at TIMESTAMPTZ NOT NULL,
    -- work that waits for a business date (a next-day reversal).
    due_date DATE,
    -- a callback held back by the reorder fault: later callbacks of its request
    -- do not wait for it.
    overtakable BOOLEAN NOT NULL DEFAULT false,
    attempts INT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX jobs_pending ON jobs (due_at, id) WHERE state = 'pending';
CREATE INDEX jobs_request ON jobs (request_no, id) WHERE state = 'pending';
