-- Coupons and their payments from the bonus account (docs/coupons.md).

-- name: CouponBudgetLock :exec
-- Grants judge the headroom one at a time: two at once would each see the
-- other's liability missing. (7435: this lock's own class, per schema.)
SELECT pg_advisory_xact_lock(7435, hashtext(current_schema()));

-- name: CouponInsert :one
INSERT INTO coupons (user_id, kind, amount, extra_rate, months, min_bid, expires_on, most, note, granted_by, granted_on, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING *;

-- name: CouponByKey :one
-- The coupon an ops user's Idempotency-Key made.
SELECT * FROM coupons WHERE granted_by = $1 AND idempotency_key = $2;

-- name: CouponGet :one
SELECT * FROM coupons WHERE id = $1;

-- name: CouponGetForUpdate :one
SELECT * FROM coupons WHERE id = $1 FOR UPDATE;

-- name: CouponListByUser :many
-- An investor's coupons, newest first, with what each has paid so far.
SELECT c.*, COALESCE((SELECT sum(p.amount) FROM coupon_payments p WHERE p.coupon_id = c.id AND p.status = 'paid'), 0)::numeric(20,2) AS paid
FROM coupons c WHERE c.user_id = $1
ORDER BY c.id DESC;

-- name: CouponLiabilities :one
-- What the bonus account still owes, by the coupons as they stand: an unused
-- or reserved coupon its most (a cash coupon's face; an interest coupon's
-- most, its bid not disbursed yet), a used one the payments not yet paid nor
-- lapsed (planned, due, or failed and waiting for ops).
SELECT (COALESCE((SELECT sum(c.most) FROM coupons c WHERE c.status IN ('unused', 'reserved')), 0)
      + COALESCE((SELECT sum(p.amount) FROM coupon_payments p WHERE p.status IN ('planned', 'due', 'failed')), 0))::numeric(20,2) AS liabilities;

-- name: CouponReserve :one
-- A bid takes the coupon: the guarded update that lets one bid at most have
-- it, however bids race.
UPDATE coupons SET status = 'reserved', bid_id = sqlc.arg(bid_id), loan_id = sqlc.arg(loan_id)
WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id) AND status = 'unused' AND expires_on >= sqlc.arg(today)::date
RETURNING *;

-- name: CouponRelease :many
-- The bid's loan never disbursed (or its freeze was refused): the coupon is
-- unused again.
UPDATE coupons SET status = 'unused', bid_id = NULL, loan_id = NULL
WHERE bid_id = $1 AND status = 'reserved'
RETURNING *;

-- name: CouponListReservedByLoan :many
SELECT * FROM coupons WHERE loan_id = $1 AND status IN ('reserved', 'used') ORDER BY id;

-- name: CouponSetUsed :many
UPDATE coupons SET status = 'used' WHERE id = $1 AND status = 'reserved'
RETURNING *;

-- name: CouponExpire :many
-- The business clock passed the last day a coupon could be attached.
UPDATE coupons SET status = 'expired' WHERE status = 'unused' AND expires_on < sqlc.arg(today)::date
RETURNING *;

-- name: CouponPaymentPlan :exec
-- One payment a used coupon owes; the step retried finds its row.
INSERT INTO coupon_payments (coupon_id, loan_id, bid_id, user_id, installment_no, amount, planned_amount, status, due_on)
VALUES ($1, $2, $3, $4, $5, $6, $6, 'planned', $7)
ON CONFLICT (coupon_id, installment_no) DO NOTHING;

-- name: CouponPaymentsByLoan :many
SELECT * FROM coupon_payments WHERE loan_id = $1 ORDER BY installment_no, coupon_id;

-- name: CouponPaymentsPlannedByLoan :many
SELECT * FROM coupon_payments WHERE loan_id = $1 AND status = 'planned' ORDER BY installment_no, coupon_id FOR UPDATE;

-- name: CouponPaymentEarnable :many
-- The planned payments of a loan whose installment interest their coupon's
-- holder has received in full: the holder's share of it (the bid's, still the
-- coupon owner's) is received, and the installment owed interest or is closed.
SELECT p.* FROM coupon_payments p
JOIN installment_shares s ON s.loan_id = p.loan_id AND s.no = p.installment_no AND s.bid_id = p.bid_id
JOIN installments i ON i.loan_id = p.loan_id AND i.no = p.installment_no
WHERE p.loan_id = $1 AND p.status = 'planned' AND p.installment_no > 0
  AND s.investor_id = p.user_id AND s.received_interest >= s.interest
  AND (s.interest > 0 OR i.status = 'paid')
ORDER BY p.installment_no, p.coupon_id;

-- name: CouponPaymentSetAmount :exec
UPDATE coupon_payments SET amount = $2, amended_at = now(), updated_at = now() WHERE id = $1 AND status = 'planned';

-- name: CouponPaymentDue :exec
-- Earned: the payment's request number is fixed before the bank is asked.
UPDATE coupon_payments SET status = 'due', request_no = $2, due_on = $3, updated_at = now()
WHERE id = $1 AND status = 'planned';

-- name: CouponPaymentLapse :exec
UPDATE coupon_payments SET status = 'lapsed', settled_at = now(), updated_at = now() WHERE id = $1 AND status = 'planned';

-- name: CouponPaymentLapseByLoan :execrows
-- Write-off: every later bonus of the loan lapses.
UPDATE coupon_payments SET status = 'lapsed', settled_at = now(), updated_at = now() WHERE loan_id = $1 AND status = 'planned';

-- name: CouponPaymentLapseByBid :execrows
-- The claim was sold: its coupon's later bonuses lapse, never paid to a buyer.
UPDATE coupon_payments SET status = 'lapsed', settled_at = now(), updated_at = now() WHERE bid_id = $1 AND status = 'planned';

-- name: CouponPaymentsDue :many
-- What is earned and not yet paid, of a loan; with the coupon owner's
-- custody account.
SELECT p.*, u.custody_account_no FROM coupon_payments p JOIN users u ON u.id = p.user_id
WHERE p.loan_id = $1 AND p.status = 'due' ORDER BY p.installment_no, p.coupon_id;

-- name: CouponPaymentGetForUpdate :one
SELECT * FROM coupon_payments WHERE id = $1 FOR UPDATE;

-- name: CouponPaymentGet :one
SELECT p.*, u.custody_account_no FROM coupon_payments p JOIN users u ON u.id = p.user_id WHERE p.id = $1;

-- name: CouponPaymentPaid :execrows
UPDATE coupon_payments SET status = 'paid', paid_on = $2, settled_at = now(), updated_at = now() WHERE id = $1 AND status = 'due';

-- name: CouponPaymentFailed :execrows
UPDATE coupon_payments SET status = 'failed', failure_code = $2, updated_at = now() WHERE id = $1 AND status = 'due';

-- name: CouponPaymentRetry :one
-- Ops send a refused payment again, under the next attempt's number.
UPDATE coupon_payments SET status = 'due', attempt = attempt + 1, request_no = $2, failure_code = NULL, updated_at = now()
WHERE id = $1 AND status = 'failed'
RETURNING *;

-- name: CouponPaymentsFailed :many
-- The ops task list: payments the bank refused (the bonus account was short).
SELECT * FROM coupon_payments WHERE status = 'failed' ORDER BY id;

-- name: BonusTopUpInsert :one
-- A top-up, or none when the ops user's key made one already
-- (BonusTopUpByKey finds it).
INSERT INTO bonus_top_ups (amount, status, ops_id, idempotency_key) VALUES ($1, 'processing', $2, $3)
ON CONFLICT (ops_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING *;

-- name: BonusTopUpByKey :one
SELECT * FROM bonus_top_ups WHERE ops_id = $1 AND idempotency_key = $2;

-- name: BonusTopUpSettle :one
UPDATE bonus_top_ups SET status = $2, failure_code = $3 WHERE id = $1 AND status = 'processing' RETURNING *;

-- name: BonusTopUpGet :one
SELECT * FROM bonus_top_ups WHERE id = $1;

-- name: BonusAccountAvailable :one
SELECT COALESCE((SELECT balance FROM ledger_accounts WHERE code = 'platform:bonus'), 0)::numeric(20,2) AS available;

-- name: CouponIDByBid :one
-- The coupon a bid carries; 0: none.
SELECT COALESCE((SELECT id FROM coupons WHERE bid_id = $1), 0)::bigint AS coupon_id;

-- name: CouponPendingBonusAt :one
-- The bonus a user's interest coupons were still expected to pay at a moment
-- of the books (a journal entry's at): planned by then and not yet paid or
-- lapsed, at the amount of that moment (a payoff's accrual from its moment on).
SELECT COALESCE(sum(CASE WHEN amended_at IS NOT NULL AND amended_at <= sqlc.arg(at)::timestamptz THEN amount ELSE planned_amount END), 0)::numeric(20,2) AS pending
FROM coupon_payments
WHERE user_id = sqlc.arg(user_id) AND installment_no > 0 AND created_at <= sqlc.arg(at)::timestamptz
  AND (settled_at IS NULL OR settled_at > sqlc.arg(at)::timestamptz);
