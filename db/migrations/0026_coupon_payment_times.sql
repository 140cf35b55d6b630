-- When each coupon payment was planned, re-planned and settled, so the bonus
-- still to come can be read as of any moment of the books (a fund-log row's
-- journal entry is written at its transaction's now(), as these are):
--   created_at:     planned (the disbursement's transaction);
--   planned_amount: the bonus as planned then;
--   amended_at:     when a payoff accrued it by days (amount is then the new one);
--   settled_at:     paid, or lapsed.
ALTER TABLE coupon_payments
    ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN planned_amount NUMERIC(20,2),
    ADD COLUMN amended_at TIMESTAMPTZ,
    ADD COLUMN settled_at TIMESTAMPTZ;
UPDATE coupon_payments SET planned_amount = amount;
UPDATE coupon_payments SET settled_at = updated_at WHERE status IN ('paid', 'lapsed');
ALTER TABLE coupon_payments ALTER COLUMN planned_amount SET NOT NULL;
