-- Recharges and withdrawals through the custody bank (docs/rules.md "Recharge",
-- "Withdrawal fee", "Withdrawal route"). The request number sent to the bank is
-- derived from the row id, so a retried call cannot move money twice.

CREATE TABLE recharges (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed')),
    business_date DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX recharges_user ON recharges (user_id, id);

CREATE TABLE withdrawals (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    amount NUMERIC(20,2) NOT NULL CHECK (amount > 0),
    fee NUMERIC(20,2) NOT NULL CHECK (fee >= 0),
    route TEXT NOT NULL CHECK (route IN ('super_ebank', 'large_value')),
    status TEXT NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed', 'reversed')),
    business_date DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX withdrawals_user ON withdrawals (user_id, id);
