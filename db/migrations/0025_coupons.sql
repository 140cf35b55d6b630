-- Coupons paid from the bonus account (红包 / 加息券, docs/coupons.md).

-- A coupon ops granted to an investor.
--   kind:       cash (a face amount, paid at disbursement) or interest (an
--               extra annual rate, paid with each installment's interest for
--               at most months months);
--   status:     unused → reserved (attached to bid_id, a bid not yet
--               disbursed) → used (the loan disbursed), or back to unused
--               (the listing expired, was cancelled or rejected at review, the
--               freeze was refused); unused → expired (the business clock
--               passed expires_on, the last day it may be attached);
--   most:       what the coupon may cost the bonus account at most, as the
--               grant's headroom check counted it (docs/coupons.md "Headroom").
CREATE TABLE coupons (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('cash', 'interest')),
    amount NUMERIC(20,2) CHECK (amount > 0),
    extra_rate NUMERIC(6,4) CHECK (extra_rate > 0 AND extra_rate <= 0.24),
    months INT CHECK (months BETWEEN 1 AND 36),
    min_bid NUMERIC(20,2) NOT NULL CHECK (min_bid >= 0),
    expires_on DATE NOT NULL,
    most NUMERIC(20,2) NOT NULL CHECK (most > 0),
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'unused' CHECK (status IN ('unused', 'reserved', 'used', 'expired')),
    bid_id BIGINT REFERENCES bids (id),
    loan_id BIGINT REFERENCES loans (id),
    granted_by BIGINT REFERENCES users (id),
    granted_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'cash') = (amount IS NOT NULL)),
    CHECK ((kind = 'interest') = (extra_rate IS NOT NULL AND months IS NOT NULL)),
    CHECK ((status IN ('reserved', 'used')) = (bid_id IS NOT NULL))
);
-- One coupon a bid (docs/rules.md "Coupons").
CREATE UNIQUE INDEX coupons_one_per_bid ON coupons (bid_id) WHERE bid_id IS NOT NULL;
CREATE INDEX coupons_user ON coupons (user_id, id);
CREATE INDEX coupons_unused_expiry ON coupons (expires_on) WHERE status = 'unused';

-- One payment a coupon owes: a cash coupon's face (installment_no 0, at the
-- disbursement), or an interest coupon's bonus of one installment, planned at
-- the disbursement.
--   status:  planned (expected, not yet earned) → due (earned in the step
--            that paid the holder that installment's interest in full; its
--            request number is fixed) → paid, or failed (the bank refused:
--            an ops task; a retry is due again under attempt + 1);
--            planned → lapsed (paid off early, written off, the claim sold);
--   amount:  round(B × e × m / 12), or the accrued part on a payoff;
--   request_no: the bank transfer's number, from (loan, installment, coupon)
--            and the attempt.
CREATE TABLE coupon_payments (
    id BIGSERIAL PRIMARY KEY,
    coupon_id BIGINT NOT NULL REFERENCES coupons (id),
    loan_id BIGINT NOT NULL REFERENCES loans (id),
    bid_id BIGINT NOT NULL REFERENCES bids (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    installment_no INT NOT NULL CHECK (installment_no >= 0),
    amount NUMERIC(20,2) NOT NULL CHECK (amount >= 0),
    status TEXT NOT NULL CHECK (status IN ('planned', 'due', 'paid', 'failed', 'lapsed')),
    attempt INT NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    request_no TEXT,
    failure_code TEXT,
    due_on DATE,
    paid_on DATE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (coupon_id, installment_no),
    CHECK ((status IN ('due', 'paid', 'failed')) = (request_no IS NOT NULL))
);
CREATE INDEX coupon_payments_loan ON coupon_payments (loan_id, installment_no) WHERE status IN ('planned', 'due');
CREATE INDEX coupon_payments_failed ON coupon_payments (id) WHERE status = 'failed';
CREATE INDEX coupon_payments_user ON coupon_payments (user_id);

-- Ops' top-ups of the bonus account from the platform's own card.
CREATE TABLE bonus_top_ups (
    id BIGSERIAL PRIMARY KEY,
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
    failure_code TEXT,
    ops_id BIGINT REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
