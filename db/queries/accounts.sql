-- name: UserSetCustodyAccount :one
UPDATE users SET custody_account_no = $2, card_number = $3 WHERE id = $1 AND custody_account_no IS NULL
RETURNING *;

-- name: RechargeInsert :one
INSERT INTO recharges (user_id, amount, status, business_date, idempotency_key)
VALUES ($1, $2, 'processing', $3, sqlc.narg(idempotency_key)) RETURNING *;

-- name: RechargeGetByKey :one
SELECT * FROM recharges WHERE user_id = $1 AND idempotency_key = $2;

-- name: RechargeSetStatus :one
UPDATE recharges SET status = $2 WHERE id = $1 AND status = 'processing' RETURNING *;

-- name: RechargeGet :one
SELECT * FROM recharges WHERE id = $1;

-- name: WithdrawalInsert :one
INSERT INTO withdrawals (user_id, amount, fee, route, status, business_date, idempotency_key)
VALUES ($1, $2, $3, $4, 'processing', $5, sqlc.narg(idempotency_key)) RETURNING *;

-- name: WithdrawalGetByKey :one
SELECT * FROM withdrawals WHERE user_id = $1 AND idempotency_key = $2;

-- name: WithdrawalGet :one
SELECT * FROM withdrawals WHERE id = $1;

-- name: WithdrawalSetStatus :one
UPDATE withdrawals SET status = sqlc.arg(to_status), updated_at = now()
WHERE id = sqlc.arg(id) AND status = ANY(sqlc.arg(from_statuses)::text[]) RETURNING *;

-- name: WithdrawalFreeInMonth :one
-- The month's free withdrawals that stand: those without a fee, neither
-- failed nor reversed (冲正). A reversed free withdrawal gives the free one
-- back; a reversed paid one leaves it used by the free one before it.
SELECT count(*) FROM withdrawals
WHERE user_id = $1 AND fee = 0 AND status NOT IN ('failed', 'reversed')
  AND business_date >= date_trunc('month', sqlc.arg(on_date)::date)
  AND business_date < date_trunc('month', sqlc.arg(on_date)::date) + interval '1 month';


-- name: UserLockForMoney :exec
-- Serializes what one user spends (withdrawals and bids) until the
-- transaction ends, so two at once cannot both pass the balance check, both
-- take the month's free withdrawal, or both be the first bid on a newbie
-- listing. One user's lock: other users' bids on the same listing never wait.
SELECT pg_advisory_xact_lock(7432, $1::int);

-- name: UserSpendable :one
-- What the user may still spend, in one snapshot: the ledger's available
-- balance minus what is in flight at the bank and not booked yet: bids whose
-- freeze the bank has not answered, and withdrawals (amount + fee) still
-- processing whose acceptance is not in the ledger. Read under
-- UserLockForMoney; one statement, so a movement booked meanwhile is seen
-- either in flight or in the ledger, never in neither.
SELECT
  COALESCE((SELECT a.balance FROM ledger_accounts a WHERE a.code = 'user:' || sqlc.arg(user_id)::bigint || ':available'), 0)::numeric(20,2) AS available,
  (COALESCE((SELECT sum(b.amount) FROM bids b WHERE b.investor_id = sqlc.arg(user_id)::bigint AND b.status = 'pending'), 0)
   + COALESCE((SELECT sum(w.amount + w.fee) FROM withdrawals w
               WHERE w.user_id = sqlc.arg(user_id)::bigint AND w.status = 'processing'
                 AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.request_no = 'withdrawal-' || w.id)), 0))::numeric(20,2) AS in_flight;

-- name: RechargeListProcessing :many
SELECT * FROM recharges WHERE status = 'processing' AND created_at < $1 ORDER BY id LIMIT 100;

-- name: WithdrawalListProcessingBefore :many
SELECT * FROM withdrawals WHERE status = 'processing' AND updated_at < $1 ORDER BY id LIMIT 100;
