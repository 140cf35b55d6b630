-- The fund log as the page shows it (docs/money.md "Fund log"): every row
-- says what kind of movement it is, and what the holder is still owed after it.

-- kind tells apart the movements one entry makes for one user: a repayment's
-- principal, interest and penalty; a disbursement's gross amount, service fee
-- and risk-reserve contribution; a withdrawal's amount and fee. '' is the
-- entry's type (a recharge, a freeze, a transfer, a compensation…).
ALTER TABLE postings ADD COLUMN kind TEXT NOT NULL DEFAULT '';

-- pending_receivable is what the user is still to receive: principal +
-- interest, planned − received on every installment share the user holds, on
-- loans and installments not written off (the sum ledger.AccountSummary reads,
-- InstallmentSharePendingByInvestor), + the bonus of the user's coupons not
-- yet paid (coupon_payments planned, due or failed: docs/coupons.md; the
-- same as CouponBonusPendingByUser).
CREATE FUNCTION pending_receivable(uid BIGINT) RETURNS NUMERIC AS $$
    SELECT (
        (SELECT COALESCE(SUM(GREATEST(s.principal - s.received_principal, 0)
                           + GREATEST(s.interest - s.received_interest, 0)), 0)
         FROM installment_shares s
         JOIN loans l ON l.id = s.loan_id
         JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
         WHERE s.investor_id = uid AND l.status <> 'written_off' AND i.status <> 'written_off')
      + (SELECT COALESCE(SUM(p.amount), 0) FROM coupon_payments p
         WHERE p.user_id = uid AND p.status IN ('planned', 'due', 'failed'))
    )::numeric(20,2);
$$ LANGUAGE sql STABLE;

-- receivable_snapshots: each user's pending receivable after each journal
-- entry that touched their balances, taken when the entry's transaction
-- commits, so that it sees the claims the same transaction planned, paid or
-- moved (a disbursement writes its entry before the shares it plans).
CREATE TABLE receivable_snapshots (
    entry_id BIGINT NOT NULL REFERENCES journal_entries (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    pending NUMERIC(20,2) NOT NULL,
    PRIMARY KEY (entry_id, user_id)
);

CREATE FUNCTION receivable_snapshot() RETURNS trigger AS $$
DECLARE
    uid BIGINT;
BEGIN
    SELECT user_id INTO uid FROM ledger_accounts WHERE id = NEW.account_id;
    IF uid IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM receivable_snapshots WHERE entry_id = NEW.entry_id AND user_id = uid) THEN
        INSERT INTO receivable_snapshots (entry_id, user_id, pending)
        VALUES (NEW.entry_id, uid, pending_receivable(uid));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Deferred to the commit: by then the transaction has written every change
-- of the claims its entries pay for.
CREATE CONSTRAINT TRIGGER postings_receivable_snapshot AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION receivable_snapshot();

-- Entries before this migration: the pending receivable as of now.
INSERT INTO receivable_snapshots (entry_id, user_id, pending)
SELECT DISTINCT p.entry_id, a.user_id, pending_receivable(a.user_id)
FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
WHERE a.user_id IS NOT NULL;
