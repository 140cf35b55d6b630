-- name: UserSetCustodyAccount :one
UPDATE users SET custody_account_no = $2, card_number = $3 WHERE id = $1 AND custody_account_no IS NULL
RETURNING *;

-- name: RechargeInsert :one
INSERT INTO recharges (user_id, amount, status, business_date) VALUES ($1, $2, 'processing', $3) RETURNING *;

-- name: RechargeSetStatus :one
UPDATE recharges SET status = $2 WHERE id = $1 AND status = 'processing' RETURNING *;

-- name: RechargeGet :one
SELECT * FROM recharges WHERE id = $1;

-- name: WithdrawalInsert :one
INSERT INTO withdrawals (user_id, amount, fee, route, status, business_date)
VALUES ($1, $2, $3, $4, 'processing', $5) RETURNING *;

-- name: WithdrawalGet :one
SELECT * FROM withdrawals WHERE id = $1;

-- name: WithdrawalSetStatus :one
UPDATE withdrawals SET status = sqlc.arg(to_status), updated_at = now()
WHERE id = sqlc.arg(id) AND status = ANY(sqlc.arg(from_statuses)::text[]) RETURNING *;

-- name: WithdrawalCountInMonth :one
-- Withdrawals that count against the one free withdrawal a calendar month.
SELECT count(*) FROM withdrawals
WHERE user_id = $1 AND status <> 'failed'
  AND business_date >= date_trunc('month', sqlc.arg(on_date)::date)
  AND business_date < date_trunc('month', sqlc.arg(on_date)::date) + interval '1 month';


-- name: UserLockForMoney :exec
-- Serializes one user's withdrawals, so two at once cannot both pass the
-- balance check or both take the month's free withdrawal.
SELECT pg_advisory_xact_lock(7432, $1::int);

-- name: RechargeListProcessing :many
SELECT * FROM recharges WHERE status = 'processing' AND created_at < $1 ORDER BY id LIMIT 100;

-- name: WithdrawalListProcessingBefore :many
SELECT * FROM withdrawals WHERE status = 'processing' AND updated_at < $1 ORDER BY id LIMIT 100;
