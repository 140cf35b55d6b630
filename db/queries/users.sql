-- name: UserInsert :one
-- id_number and phone come sealed (pii.Seal) with their keyed hashes.
INSERT INTO users (email, password_hash, role, name, id_number, phone, id_number_hash, phone_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *;

-- name: UserGet :one
SELECT * FROM users WHERE id = $1;

-- name: UserGetByEmail :one
SELECT * FROM users WHERE email = $1;

-- name: UserSetRiskLevel :exec
UPDATE users SET risk_level = $2 WHERE id = $1;

-- name: UserVerifiedIDNumberTaken :one
-- An ID number is someone's once they verified it at the bank (the
-- four-factor account opening); except_id is the asker, who may hold it.
SELECT EXISTS (
    SELECT 1 FROM users
    WHERE id_number_hash = @id_number_hash AND custody_account_no IS NOT NULL AND id <> @except_id
);

-- name: UserSetLocked :one
-- A locked user cannot bid or withdraw (account_locked); ops set it.
UPDATE users SET locked = $2 WHERE id = $1 RETURNING *;

-- name: ServerKeyEnsure :one
-- The key named, made by whoever asks first: a second maker's key is
-- dropped and the first one's answered, so every replica uses one key. The
-- conflict's no-op update is what answers the first one's row when both make
-- it at once: a read in the same statement would not see a row committed
-- while it waited (auth.TestServerKeysAreOneForTheFleet).
INSERT INTO server_keys (name, key) VALUES (@name, @key)
ON CONFLICT (name) DO UPDATE SET key = server_keys.key
RETURNING key;
