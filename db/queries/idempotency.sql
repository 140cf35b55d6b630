-- name: IdempotencyKeyClaim :one
-- The first request with a key claims it; a concurrent or later one finds the
-- row and gets no rows back. A claim still unanswered after stale_seconds is
-- taken over by the same request: its process died mid-request (a deploy, a
-- crash) and would otherwise hold the key as "in flight" forever.
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)
VALUES (@user_id, @key, @method, @path, @request_hash)
ON CONFLICT (user_id, key) DO UPDATE SET created_at = now()
WHERE idempotency_keys.status_code IS NULL
  AND idempotency_keys.request_hash = EXCLUDED.request_hash
  AND idempotency_keys.created_at < now() - make_interval(secs => sqlc.arg(stale_seconds)::int)
RETURNING user_id;

-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2;

-- name: IdempotencyKeyComplete :exec
UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE user_id = $1 AND key = $2;

-- name: IdempotencyKeyRelease :exec
-- A 5xx or a panic leaves nothing to replay: the client may retry under the same key.
DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status_code IS NULL;

-- name: IdempotencyKeyDeleteBefore :execrows
-- Answers are replayable for as long as the rows are kept; housekeeping drops old ones.
DELETE FROM idempotency_keys WHERE created_at < $1 AND status_code IS NOT NULL;
