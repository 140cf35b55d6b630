-- Sign-in throttling (docs/security.md "Sign-in"; auth/throttle.go).

-- name: LoginThrottleLock :exec
-- Serializes the attempts charged to one key, so attempts arriving together
-- cannot all be admitted on one count. The caller takes its keys in a fixed
-- order (never deadlocks); the lock ends with the transaction.
SELECT pg_advisory_xact_lock(7433, hashtext(@scope::text || ' ' || @key::text));

-- name: LoginFailureCount :one
-- The failures charged to a key in the window, and the latest of them
-- (@since when there is none).
SELECT count(*)::int AS failures, coalesce(max(at), @since)::timestamptz AS last_at
FROM login_failures WHERE scope = @scope AND key = @key AND at > @since;

-- name: LoginFailureInsert :one
INSERT INTO login_failures (scope, key, at) VALUES (@scope, @key, @at) RETURNING id;

-- name: LoginFailureDeleteIDs :exec
-- A right password takes back the failures its attempt was charged when admitted.
DELETE FROM login_failures WHERE id = ANY(@ids::bigint[]);

-- name: LoginFailureClear :exec
-- The owner signed in through this key: the failures charged to it end.
DELETE FROM login_failures WHERE scope = @scope AND key = @key;

-- name: LoginFailureDeleteBefore :execrows
-- Failures older than the window count for nothing; housekeeping drops them.
DELETE FROM login_failures WHERE at < $1;

-- name: LoginKnownAddressUpsert :exec
INSERT INTO login_known_addresses (user_id, address, last_at) VALUES ($1, $2, $3)
ON CONFLICT (user_id, address) DO UPDATE SET last_at = EXCLUDED.last_at;

-- name: LoginKnownAddressExists :one
SELECT EXISTS (SELECT 1 FROM login_known_addresses WHERE user_id = $1 AND address = $2 AND last_at >= $3);

-- name: LoginKnownAddressDeleteBefore :execrows
DELETE FROM login_known_addresses WHERE last_at < $1;

-- name: LoginDeviceGet :one
-- The user's device whose token this is, if it was used since @since.
SELECT * FROM login_devices WHERE token_hash = @token_hash AND user_id = @user_id AND last_at >= @since;

-- name: LoginDeviceInsert :one
INSERT INTO login_devices (user_id, token_hash, created_at, last_at) VALUES (@user_id, @token_hash, @at, @at) RETURNING *;

-- name: LoginDeviceTouch :exec
UPDATE login_devices SET last_at = @at WHERE id = @id;

-- name: LoginDeviceTrim :exec
-- A user keeps their most recently used devices only: sign-ins from scripts
-- that drop the cookie each time must not grow the table without end.
DELETE FROM login_devices d WHERE d.user_id = @user_id AND d.id NOT IN (
    SELECT id FROM login_devices WHERE user_id = @user_id ORDER BY last_at DESC, id DESC LIMIT @keep::int);

-- name: LoginDeviceDeleteBefore :execrows
DELETE FROM login_devices WHERE last_at < $1;
