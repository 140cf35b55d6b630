-- name: AuditInsert :one
-- The audit log is append-only (a trigger refuses UPDATE, DELETE, TRUNCATE).
INSERT INTO audit_log (ops_user_id, action, target, note) VALUES ($1, $2, $3, $4) RETURNING *;

-- name: AuditList :many
-- Newest first, keyset-paginated by id; target and action filter when given.
SELECT * FROM audit_log
WHERE (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
  AND (sqlc.narg(target)::text IS NULL OR target = sqlc.narg(target))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
ORDER BY id DESC
LIMIT sqlc.arg(lim);
