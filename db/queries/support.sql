-- Customer service (support/, docs/support.md).

-- name: UserSearch :many
-- One user by id, e-mail, or the keyed hash of an ID number or a phone
-- (pii.Hash): the numbers themselves are sealed and cannot be compared.
SELECT * FROM users
WHERE id = sqlc.arg(id) OR lower(email) = lower(sqlc.arg(email)) OR id_number_hash = sqlc.arg(hash) OR phone_hash = sqlc.arg(hash)
ORDER BY id
LIMIT 50;

-- name: WithdrawalListByUser :many
SELECT * FROM withdrawals WHERE user_id = $1 ORDER BY id DESC LIMIT sqlc.arg(lim);
