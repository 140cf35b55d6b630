-- name: RequestGet :one
SELECT * FROM requests WHERE request_no = $1;

-- name: RequestGetForUpdate :one
SELECT * FROM requests WHERE request_no = $1 FOR UPDATE;

-- name: RequestSetStatus :execrows
UPDATE requests SET status = sqlc.arg(to_status), updated_at = now()
WHERE request_no = sqlc.arg(request_no) AND status = sqlc.arg(from_status);

-- name: RequestCountProcessingWithdrawals :one
SELECT count(*) FROM requests
WHERE kind = 'withdrawal' AND status = 'processing' AND account_no = $1;

-- name: RequestInsertToday :one
-- A request's row, 'processing', on the bank's business date read in the same
-- statement: the set date, or wall_today (China Standard Time) when none is
-- set. No row back means the number is taken: a concurrent duplicate waits
-- here on the primary key until the first transaction ends, then sees its row.
INSERT INTO requests (request_no, kind, content_hash, content, status, business_date)
SELECT sqlc.arg(request_no)::text, sqlc.arg(kind)::text, sqlc.arg(content_hash)::text, sqlc.arg(content)::jsonb, 'processing',
       COALESCE((SELECT c.today FROM clock c WHERE c.singleton), sqlc.arg(wall_today)::date)
ON CONFLICT (request_no) DO NOTHING
RETURNING business_date;

-- name: RequestFinish :one
-- A request's result, answering the row as it is now.
UPDATE requests
SET status = $2, code = $3, message = $4, account_no = $5, amount = $6, fee = $7, updated_at = now()
WHERE request_no = $1
RETURNING *;
