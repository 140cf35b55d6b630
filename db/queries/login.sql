-- Login throttling (docs/security.md "Sign-in"). One row per (scope, key):
-- scope account keyed by the normalized email, scope address by the client
-- address. A row is read FOR UPDATE, so two attempts at once cannot both be
-- admitted on the same count.

-- name: LoginThrottleEnsure :exec
INSERT INTO login_throttle (scope, key) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: LoginThrottleGetForUpdate :one
SELECT * FROM login_throttle WHERE scope = $1 AND key = $2 FOR UPDATE;

-- name: LoginThrottleSet :exec
UPDATE login_throttle SET failures = $3, last_failure_at = $4, locked_until = $5
WHERE scope = $1 AND key = $2;

-- name: LoginThrottleDelete :exec
-- The owner signed in: the account's count starts again.
DELETE FROM login_throttle WHERE scope = $1 AND key = $2;

-- name: LoginThrottleForgive :exec
-- An attempt is counted before its password is checked; a right password
-- takes its count back.
UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE scope = $1 AND key = $2;

-- name: LoginThrottleDeleteStale :execrows
-- Rows whose failures are forgotten and whose lock is over carry nothing.
DELETE FROM login_throttle
WHERE last_failure_at < @before AND (locked_until IS NULL OR locked_until < @before);

-- name: LoginKnownAddressUpsert :exec
INSERT INTO login_known_addresses (user_id, address, last_at) VALUES ($1, $2, $3)
ON CONFLICT (user_id, address) DO UPDATE SET last_at = EXCLUDED.last_at;

-- name: LoginKnownAddressExists :one
SELECT EXISTS (SELECT 1 FROM login_known_addresses WHERE user_id = $1 AND address = $2 AND last_at >= $3);

-- name: LoginKnownAddressDeleteBefore :execrows
DELETE FROM login_known_addresses WHERE last_at < $1;
