-- name: UserInsert :one
INSERT INTO users (email, password_hash, role, name, id_number, phone)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING *;

-- name: UserGet :one
SELECT * FROM users WHERE id = $1;

-- name: UserGetByEmail :one
SELECT * FROM users WHERE email = $1;

-- name: UserSetRiskLevel :exec
UPDATE users SET risk_level = $2 WHERE id = $1;

-- name: SessionInsert :exec
INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3);

-- name: SessionGetUser :one
SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.expires_at > now();

-- name: IdempotencyKeyClaim :one
-- The first request with a key claims it; a concurrent or later one finds the row.
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING user_id;

-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2;

-- name: IdempotencyKeyComplete :exec
UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE user_id = $1 AND key = $2;

-- name: IdempotencyKeyRelease :exec
DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status_code IS NULL;
