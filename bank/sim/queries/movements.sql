-- name: MovementInsert :exec
INSERT INTO movements (request_no, item, type, from_account, to_account, amount, freeze_request_no, purpose, business_date)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: MovementListByDate :many
-- status is the request's status now: a withdrawal reversed later shows as
-- reversed in the file of the day it was paid, too.
SELECT m.id, m.request_no, m.item, m.type, m.from_account, m.to_account, m.amount,
       m.freeze_request_no, m.purpose, m.business_date, m.created_at, r.status
FROM movements m JOIN requests r ON r.request_no = m.request_no
WHERE m.business_date = $1
ORDER BY m.id;

-- name: MovementListAll :many
SELECT * FROM movements ORDER BY id;

-- name: MovementGet :one
SELECT * FROM movements WHERE request_no = $1 AND type = $2 AND item = 0;
