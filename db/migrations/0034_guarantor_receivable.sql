-- A guarantor that compensated holds the compensated part of the claims
-- (docs/rules.md "Claim holders"): what the borrower still owes it of that
-- principal and interest is its pending receivable too, in the fund log
-- (docs/money.md "Fund log") as in ledger.AccountSummary
-- (CompensatorClaimPendingByUser). The risk reserve's part is no user's.
CREATE OR REPLACE FUNCTION pending_receivable(uid BIGINT) RETURNS NUMERIC AS $$
    SELECT (
        (SELECT COALESCE(SUM(GREATEST(s.principal - s.received_principal, 0)
                           + GREATEST(s.interest - s.received_interest, 0)), 0)
         FROM installment_shares s
         JOIN loans l ON l.id = s.loan_id
         JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
         WHERE s.investor_id = uid AND l.status <> 'written_off' AND i.status <> 'written_off')
      + (SELECT COALESCE(SUM(GREATEST(c.principal - c.received_principal, 0)
                           + GREATEST(c.interest - c.received_interest, 0)), 0)
         FROM compensator_claims c
         JOIN loans l ON l.id = c.loan_id
         JOIN installments i ON i.loan_id = c.loan_id AND i.no = c.no
         WHERE c.holder = 'guarantor' AND c.user_id = uid AND l.status <> 'written_off' AND i.status <> 'written_off')
      + (SELECT COALESCE(SUM(p.amount), 0) FROM coupon_payments p
         WHERE p.user_id = uid AND p.status IN ('planned', 'due', 'failed'))
    )::numeric(20,2);
$$ LANGUAGE sql STABLE;
