-- name: ClockGet :one
SELECT today FROM clock WHERE singleton;

-- name: ClockSet :exec
-- NULL returns the bank to the wall clock.
UPDATE clock SET today = sqlc.narg(today) WHERE singleton;
