-- The console's clock advance, shared by the API's replicas (clock/ops.go).

-- name: ConsoleAdvanceStart :one
-- Starts recording an advance unless one is running: unfinished, its replica
-- alive, and started within max_seconds (an advance's whole allowance; a
-- process that joined no fleet and died leaves its row running until then).
-- No rows: one is running.
INSERT INTO console_clock_advance AS a (singleton, from_date, to_date, replica_id)
VALUES (true, @from_date, @to_date, sqlc.narg(replica_id))
ON CONFLICT (singleton) DO UPDATE
SET run = a.run + 1, from_date = EXCLUDED.from_date, to_date = EXCLUDED.to_date, started_at = now(),
    finished_at = NULL, error = NULL, replica_id = EXCLUDED.replica_id
WHERE a.finished_at IS NOT NULL
   OR NOT replica_alive(a.replica_id)
   OR a.started_at < now() - make_interval(secs => sqlc.arg(max_seconds)::float8)
RETURNING run, from_date, to_date, started_at;

-- name: ConsoleAdvanceFinish :exec
-- error NULL: done.
UPDATE console_clock_advance SET finished_at = now(), error = sqlc.narg(error)
WHERE singleton AND finished_at IS NULL AND run = @run;

-- name: ConsoleAdvanceGet :one
-- The last advance started, and whether it still runs; orphaned: it stopped
-- with its process, unfinished.
SELECT run, from_date, to_date, started_at, error,
       (finished_at IS NULL AND replica_alive(replica_id)
        AND started_at >= now() - make_interval(secs => sqlc.arg(max_seconds)::float8))::bool AS running,
       (finished_at IS NULL AND NOT (replica_alive(replica_id)
        AND started_at >= now() - make_interval(secs => sqlc.arg(max_seconds)::float8)))::bool AS orphaned
FROM console_clock_advance WHERE singleton;
