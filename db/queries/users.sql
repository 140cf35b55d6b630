-- name: UserInsert :one
INSERT INTO users (email, password_hash, role, name, id_number, phone)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING *;

-- name: UserGet :one
SELECT * FROM users WHERE id = $1;

-- name: UserGetByEmail :one
SELECT * FROM users WHERE email = $1;

-- name: UserSetRiskLevel :exec
UPDATE users SET risk_level = $2 WHERE id = $1;
