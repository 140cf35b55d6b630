-- name: BankRequestGet :one
SELECT * FROM bank_requests WHERE request_no = $1;

-- name: BankRequestRecord :exec
-- Written in the same transaction as the movement's ledger entry, so its
-- presence means the platform's side of that request is complete.
INSERT INTO bank_requests (request_no, kind, status, detail) VALUES ($1, $2, $3, $4)
ON CONFLICT (request_no) DO UPDATE SET status = EXCLUDED.status, detail = EXCLUDED.detail, updated_at = now();

-- name: UserAccountNos :many
SELECT id, custody_account_no FROM users WHERE id = ANY(sqlc.arg(ids)::bigint[]);
