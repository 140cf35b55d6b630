-- Replicas of a process and what they hold (docs/replicas.md).

-- name: ReplicaInsert :one
-- A replica joins. With succeed, it takes the place of any replica of its
-- kind at the same host (its host name and the address it listens on, which
-- it holds): that one is dead, killed and started again here, and what it
-- held is free at once rather than when its lease runs out.
WITH predecessors AS (
    DELETE FROM replicas WHERE kind = @kind AND host = @host AND sqlc.arg(succeed)::bool
)
INSERT INTO replicas (kind, host, pid, expires_at)
VALUES (@kind, @host, @pid, now() + make_interval(secs => sqlc.arg(lease_seconds)::float8))
RETURNING id;

-- name: ReplicaRenew :one
-- A replica's heartbeat: its lease runs lease_seconds more, and it learns how
-- many replicas of its kind are alive, itself included. renewed is false when
-- its row is gone (housekeeping dropped it after a long stall): the caller
-- joins again.
WITH renewed AS (
    UPDATE replicas SET expires_at = now() + make_interval(secs => sqlc.arg(lease_seconds)::float8)
    WHERE id = @id
    RETURNING id
)
SELECT EXISTS (SELECT 1 FROM renewed) AS renewed,
       ((SELECT count(*) FROM replicas r WHERE r.kind = @kind AND r.expires_at > now() AND r.id <> @id) + 1)::int AS live;

-- name: ReplicaDelete :exec
-- A replica that stops cleanly leaves at once: what it held is free now.
DELETE FROM replicas WHERE id = $1;

-- name: ReplicaDeleteExpiredBefore :execrows
-- Housekeeping: replicas dead for a while. Nothing points at the row with a
-- key, and a row gone reads as dead (replica_alive).
DELETE FROM replicas WHERE expires_at < $1;

-- name: JobLockTry :one
-- replica.Exclusive: a session lock per background job, in class 7433 (7431
-- is the clock's advance, 7432 a user's money). The schema is part of the
-- key, so platforms sharing a database in schemas of their own (the tests)
-- do not exclude each other.
SELECT pg_try_advisory_lock(7433, hashtext(current_schema() || ':' || @job::text));

-- name: JobUnlock :one
SELECT pg_advisory_unlock(7433, hashtext(current_schema() || ':' || @job::text));
