-- After a missed payment (docs/collection.md): partial payments, penalty per
-- claim holder, compensation, write-off losses, recoveries, guarantees and
-- card changes.

-- Penalty interest is brought up to a date stretch by stretch, each stretch's
-- base the unpaid principal + interest during it (docs/rules.md "partial
-- payment": penalty accrues only on what is still unpaid). penalty is what
-- has accrued through penalty_through; compensated is what a compensator
-- paid the investors for the installment.
ALTER TABLE installments ADD COLUMN penalty_through DATE;
ALTER TABLE installments ADD COLUMN compensated NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (compensated >= 0);
-- A partly paid installment stays open: paid_* grow payment by payment.
ALTER TABLE installments DROP CONSTRAINT installments_check;
ALTER TABLE installments DROP CONSTRAINT installments_check1;
ALTER TABLE installments DROP CONSTRAINT installments_check2;
ALTER TABLE installments ADD CONSTRAINT installments_paid_within
    CHECK (paid_principal BETWEEN 0 AND principal AND paid_interest BETWEEN 0 AND interest AND paid_penalty BETWEEN 0 AND penalty);

-- Each investor claim's own share of the accrued penalty.
ALTER TABLE installment_shares ADD COLUMN penalty NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (penalty >= 0);
ALTER TABLE installment_shares ADD CONSTRAINT installment_shares_penalty_within CHECK (received_penalty <= penalty);

-- Claims a compensator holds (docs/rules.md "Claim holders"): after an M3
-- compensation the guarantor, or the risk reserve, is owed what it paid the
-- investors of the installment, and the borrower's later payments of it go
-- to it. holder is 'guarantor' (user_id the guarantor) or 'reserve' (no user).
CREATE TABLE compensator_claims (
    loan_id BIGINT NOT NULL,
    no INT NOT NULL,
    holder TEXT NOT NULL CHECK (holder IN ('guarantor', 'reserve')),
    user_id BIGINT REFERENCES users (id),
    principal NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (principal >= 0),
    interest NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (interest >= 0),
    penalty NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (penalty >= 0),
    received_principal NUMERIC(20,2) NOT NULL DEFAULT 0,
    received_interest NUMERIC(20,2) NOT NULL DEFAULT 0,
    received_penalty NUMERIC(20,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (loan_id, no, holder),
    FOREIGN KEY (loan_id, no) REFERENCES installments (loan_id, no),
    CHECK ((holder = 'guarantor') = (user_id IS NOT NULL)),
    CHECK (received_principal BETWEEN 0 AND principal AND received_interest BETWEEN 0 AND interest AND received_penalty BETWEEN 0 AND penalty)
);

-- Each compensation batch, for the guarantor's account of what a guarantee cost.
CREATE TABLE compensations (
    request_no TEXT PRIMARY KEY,
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    holder TEXT NOT NULL CHECK (holder IN ('guarantor', 'reserve')),
    user_id BIGINT REFERENCES users (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    business_date DATE NOT NULL
);
CREATE INDEX compensations_loan ON compensations (loan_id);

-- What each holder lost when the loan was written off (核销): the unpaid
-- principal, interest and penalty of its claims that day. Recoveries are
-- distributed pro rata to what is still unrecovered. holder_key names the
-- holder: 'bid:<id>', 'guarantor:<user id>' or 'reserve'.
CREATE TABLE write_off_losses (
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    holder_key TEXT NOT NULL,
    holder TEXT NOT NULL CHECK (holder IN ('investor', 'guarantor', 'reserve')),
    user_id BIGINT REFERENCES users (id),
    bid_id BIGINT REFERENCES bids (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount >= 0),
    recovered NUMERIC(20,2) NOT NULL DEFAULT 0 CHECK (recovered >= 0 AND recovered <= amount),
    PRIMARY KEY (loan_id, holder_key)
);

-- Money recovered after a write-off, debited from the borrower's available
-- balance and distributed to the holders (docs/rules.md "write-off").
CREATE TABLE recoveries (
    id BIGSERIAL PRIMARY KEY,
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    note TEXT NOT NULL,
    ops_user_id BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
    failure TEXT NOT NULL DEFAULT '',
    business_date DATE NOT NULL,
    -- The ops user's Idempotency-Key: the recovery carries it, so a retried
    -- request finds this row instead of making a second.
    idempotency_key TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (ops_user_id, idempotency_key)
);
CREATE INDEX recoveries_loan ON recoveries (loan_id, id);

CREATE TABLE recovery_shares (
    recovery_id BIGINT NOT NULL REFERENCES recoveries (id),
    holder_key TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (recovery_id, holder_key)
);

-- A guarantee's answer (担保): the named guarantor accepts before the loan is
-- listed, or declines and the loan ends rejected.
ALTER TABLE loans ADD COLUMN guarantee_decided_on DATE;

-- Card changes (换卡): the request number of the n-th attempt is user-N-change-card-n.
CREATE TABLE card_changes (
    user_id BIGINT NOT NULL REFERENCES users (id),
    attempt INT NOT NULL CHECK (attempt >= 1),
    card_number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, attempt)
);

-- Delivery of the outbox to a sender (SMS, e-mail) once one is plugged in.
ALTER TABLE notifications ADD COLUMN delivered_at TIMESTAMPTZ;
