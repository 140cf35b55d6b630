-- name: JobInsert :exec
INSERT INTO jobs (kind, request_no, body, state, due_at, due_date, overtakable)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: JobClaim :one
-- A callback waits for the earlier pending callbacks of its request, so a
-- receiver sees a withdrawal's results in order, unless the reorder fault
-- marked the earlier one overtakable.
SELECT j.* FROM jobs j
WHERE j.state = 'pending'
  AND j.due_at <= sqlc.arg(now)
  AND (j.due_date IS NULL OR j.due_date <= sqlc.arg(today)::date)
  AND NOT (j.kind = 'callback' AND EXISTS (
      SELECT 1 FROM jobs e
      WHERE e.request_no = j.request_no AND e.kind = 'callback' AND e.state = 'pending'
        AND e.id < j.id AND NOT e.overtakable))
ORDER BY j.due_at, j.id
LIMIT 1
FOR UPDATE OF j SKIP LOCKED;

-- name: JobFinish :exec
UPDATE jobs SET state = $2, attempts = attempts + 1, last_error = '' WHERE id = $1;

-- name: JobRetry :exec
UPDATE jobs SET attempts = attempts + 1, due_at = $2, last_error = $3 WHERE id = $1;

-- name: JobNextDue :one
-- When the worker should look again; no row when nothing waits. Callbacks
-- waiting behind an earlier one are left out: their time is the earlier one's.
SELECT j.due_at FROM jobs j
WHERE j.state = 'pending' AND (j.due_date IS NULL OR j.due_date <= sqlc.arg(today)::date)
  AND NOT (j.kind = 'callback' AND EXISTS (
      SELECT 1 FROM jobs e
      WHERE e.request_no = j.request_no AND e.kind = 'callback' AND e.state = 'pending'
        AND e.id < j.id AND NOT e.overtakable))
ORDER BY j.due_at LIMIT 1;
