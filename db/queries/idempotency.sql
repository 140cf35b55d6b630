-- name: IdempotencyKeyClaim :one
-- The first request with a key claims it; a concurrent or later one finds the
-- row and gets no rows back. The claim carries the claiming replica (NULL: a
-- process in no fleet). The same request takes a claim over when it was
-- released (its answer was not final: 5xx, 202, a panic), when the replica
-- that claimed it is gone (its process died mid-request: a crash, a lost
-- node; replica_alive), or when it is still unanswered after stale_seconds.
-- Taking over never repeats an effect: each effect carries its key
-- (docs/idempotency.md).
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, replica_id)
VALUES (@user_id, @key, @method, @path, @request_hash, sqlc.narg(replica_id))
ON CONFLICT (user_id, key) DO UPDATE SET created_at = now(), released_at = NULL, replica_id = EXCLUDED.replica_id
WHERE idempotency_keys.status_code IS NULL
  AND idempotency_keys.request_hash = EXCLUDED.request_hash
  AND (idempotency_keys.released_at IS NOT NULL
       OR NOT replica_alive(idempotency_keys.replica_id)
       OR idempotency_keys.created_at < now() - make_interval(secs => sqlc.arg(stale_seconds)::int))
RETURNING user_id;

-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2;

-- name: IdempotencyKeyComplete :exec
UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE user_id = $1 AND key = $2;

-- name: IdempotencyKeyRelease :exec
-- An answer that is not final leaves nothing to replay: the same request may
-- run again under the key (and finds the effect it made, if any); another
-- request under it is still refused, as the row keeps its hash.
UPDATE idempotency_keys SET released_at = now() WHERE user_id = $1 AND key = $2 AND status_code IS NULL;

-- name: IdempotencyKeyDeleteBefore :execrows
-- Answers are replayable for as long as the rows are kept; housekeeping drops
-- old ones. The effects keep their keys, so a retry after that still finds
-- its effect.
DELETE FROM idempotency_keys WHERE created_at < $1 AND (status_code IS NOT NULL OR released_at IS NOT NULL);
