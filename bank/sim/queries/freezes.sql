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
