-- name: AccountOpen :one
INSERT INTO accounts (account_no, kind, name, id_number, phone, card_number)
VALUES ('CA' || lpad(nextval('account_no_seq')::text, 10, '0'), $1, $2, $3, $4, $5)
RETURNING account_no;

-- name: AccountEnsurePlatform :exec
INSERT INTO accounts (account_no, kind) VALUES ($1, 'platform')
ON CONFLICT (account_no) DO NOTHING;

-- name: AccountGet :one
SELECT * FROM accounts WHERE account_no = $1;

-- name: AccountListForUpdate :many
-- Locked in account-number order, so two requests touching the same accounts
-- in opposite directions queue instead of deadlocking.
SELECT * FROM accounts WHERE account_no = ANY(sqlc.arg(account_nos)::text[])
ORDER BY account_no FOR UPDATE;

-- name: AccountAdjust :exec
-- The CHECKs on the table refuse a negative result, whatever the caller checked.
UPDATE accounts
SET available = available + sqlc.arg(available_delta)::numeric,
    frozen = frozen + sqlc.arg(frozen_delta)::numeric
WHERE account_no = sqlc.arg(account_no);

-- name: AccountSetCard :exec
UPDATE accounts SET card_number = $2 WHERE account_no = $1;

-- name: AccountListAll :many
SELECT * FROM accounts ORDER BY account_no;
