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

-- name: FreezeApply :one
-- A freeze's whole work and its result in one statement, for the path that
-- is not refused: the account's amount moved from available to frozen when
-- its available covers it and it is not the fee account, the freeze and its
-- movement recorded, the request succeeded. No row: nothing was written, and
-- the caller finds the refusal (no such account, the fee account, not
-- enough) the long way.
WITH a AS (
  UPDATE accounts SET available = accounts.available - sqlc.arg(amount)::numeric, frozen = accounts.frozen + sqlc.arg(amount)::numeric
  WHERE accounts.account_no = sqlc.arg(account_no)::text AND accounts.account_no <> sqlc.arg(fee_account)::text
    AND accounts.available >= sqlc.arg(amount)::numeric
  RETURNING accounts.account_no
), f AS (
  INSERT INTO freezes (request_no, account_no, amount)
  SELECT sqlc.arg(request_no)::text, a.account_no, sqlc.arg(amount)::numeric FROM a
  RETURNING freezes.request_no
), m AS (
  INSERT INTO movements (request_no, item, type, from_account, to_account, amount, freeze_request_no, purpose, business_date)
  SELECT sqlc.arg(request_no)::text, 0, sqlc.arg(movement_type)::text, a.account_no, a.account_no, sqlc.arg(amount)::numeric,
         sqlc.arg(request_no)::text, '', sqlc.arg(business_date)::date FROM a
  RETURNING movements.id
)
UPDATE requests SET status = sqlc.arg(status)::text, account_no = sqlc.arg(account_no)::text, amount = sqlc.arg(amount)::numeric, updated_at = now()
WHERE requests.request_no = sqlc.arg(request_no)::text AND EXISTS (SELECT 1 FROM a) AND EXISTS (SELECT 1 FROM f) AND EXISTS (SELECT 1 FROM m)
RETURNING requests.*;
