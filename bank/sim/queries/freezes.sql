-- name: FreezeInsert :exec
INSERT INTO freezes (request_no, account_no, amount) VALUES ($1, $2, $3);

-- name: FreezeGetForUpdate :one
SELECT * FROM freezes WHERE request_no = $1 FOR UPDATE;

-- name: FreezeClose :execrows
-- Only an active freeze closes: released or spent, once.
UPDATE freezes SET state = sqlc.arg(to_state), closed_by = sqlc.arg(closed_by)
WHERE request_no = sqlc.arg(request_no) AND state = 'active';

-- name: FreezeListActive :many
SELECT * FROM freezes WHERE state = 'active' ORDER BY request_no;

-- name: FreezeGet :one
SELECT * FROM freezes WHERE request_no = $1;

-- name: FreezeApply :batchone
-- A freeze that is not refused, whole, in one statement, batched with the
-- others of its group (bank/sim/freeze.go): the account's amount moved from
-- available to frozen when its available covers it and it is not the fee
-- account, the freeze and its movement, and the request's row inserted with
-- its result on the bank's business date (RequestInsertToday's). No row:
-- nothing was written, and the caller finds the refusal (no such account,
-- the fee account, not enough) the long way. A number taken already fails
-- the statement on the request's primary key (a concurrent holder of it
-- first commits or rolls back), which undoes the whole statement's work: the
-- long way then answers the recorded row.
WITH a AS (
  UPDATE accounts SET available = accounts.available - sqlc.arg(amount)::numeric, frozen = accounts.frozen + sqlc.arg(amount)::numeric
  WHERE accounts.account_no = sqlc.arg(account_no)::text AND accounts.account_no <> sqlc.arg(fee_account)::text
    AND accounts.available >= sqlc.arg(amount)::numeric
  RETURNING accounts.account_no
), d AS (
  SELECT COALESCE((SELECT c.today FROM clock c WHERE c.singleton), sqlc.arg(wall_today)::date) AS today
), f AS (
  INSERT INTO freezes (request_no, account_no, amount)
  SELECT sqlc.arg(request_no)::text, a.account_no, sqlc.arg(amount)::numeric FROM a
), m AS (
  INSERT INTO movements (request_no, item, type, from_account, to_account, amount, freeze_request_no, purpose, business_date)
  SELECT sqlc.arg(request_no)::text, 0, sqlc.arg(movement_type)::text, a.account_no, a.account_no, sqlc.arg(amount)::numeric,
         sqlc.arg(request_no)::text, '', d.today FROM a, d
)
INSERT INTO requests (request_no, kind, content_hash, content, status, account_no, amount, business_date)
SELECT sqlc.arg(request_no)::text, sqlc.arg(kind)::text, sqlc.arg(content_hash)::text, sqlc.arg(content)::jsonb, sqlc.arg(status)::text,
       a.account_no, sqlc.arg(amount)::numeric, d.today
FROM a, d
RETURNING *;
