-- name: BidInsert :one
INSERT INTO bids (loan_id, investor_id, amount, status, auto, idempotency_key)
VALUES ($1, $2, $3, 'pending', $4, sqlc.narg(idempotency_key))
RETURNING *;

-- name: BidGetByKey :one
-- The bid an investor's Idempotency-Key created, if any (docs/idempotency.md).
SELECT * FROM bids WHERE investor_id = $1 AND idempotency_key = $2;

-- name: BidSetFailed :one
-- The bank refused the freeze: the bid fails with the bank's code, once.
UPDATE bids SET status = 'failed', failure_code = sqlc.arg(failure_code)
WHERE id = sqlc.arg(id) AND status = 'pending'
RETURNING *;

-- name: BidPageByInvestor :many
-- An investor's bids newest first, keyset-paged by id (GET /v1/me/bids).
SELECT * FROM bids
WHERE investor_id = sqlc.arg(investor_id) AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: BidGet :one
SELECT * FROM bids WHERE id = $1;

-- name: BidSetStatus :one
UPDATE bids SET status = sqlc.arg(to_status)
WHERE id = sqlc.arg(id) AND status = ANY(sqlc.arg(from_statuses)::text[])
RETURNING *;

-- name: BidListByLoan :many
SELECT * FROM bids WHERE loan_id = $1 ORDER BY id;

-- name: BidListByLoanStatus :many
SELECT * FROM bids WHERE loan_id = $1 AND status = $2 ORDER BY id;

-- name: BidCountByInvestor :one
-- Bids that count against the newbie rule: any bid the bank did not refuse.
SELECT count(*) FROM bids WHERE investor_id = $1 AND status <> 'failed';

-- name: BidListByInvestor :many
SELECT * FROM bids WHERE investor_id = $1 ORDER BY id DESC;

-- name: BidSetDisbursed :exec
UPDATE bids SET status = 'disbursed' WHERE loan_id = $1 AND status = 'frozen';

-- name: BidExistsForInvestor :one
SELECT EXISTS (SELECT 1 FROM bids WHERE loan_id = $1 AND investor_id = $2 AND status IN ('frozen', 'disbursed'));

-- name: BidListPendingBefore :many
-- Bids whose freeze the bank has not answered, oldest first.
SELECT b.*, u.custody_account_no FROM bids b JOIN users u ON u.id = b.investor_id
WHERE b.status = 'pending' AND b.created_at < $1
ORDER BY b.id LIMIT 100;
