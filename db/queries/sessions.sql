-- name: SessionInsert :exec
INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3);

-- name: SessionGetUser :one
SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.expires_at > now();

-- name: SessionDeleteExpired :execrows
-- Expired sessions are useless; whoever runs housekeeping may drop them.
DELETE FROM sessions WHERE expires_at <= now();

-- name: SessionDelete :execrows
-- Logout: the token stops working at once.
DELETE FROM sessions WHERE token_hash = $1;

-- name: SessionTrim :exec
-- A user keeps the session just made and their @others newest besides
-- (auth.MaxSessionsPerUser): sign-ins cannot pile up rows without end.
DELETE FROM sessions s WHERE s.user_id = @user_id AND s.token_hash <> @newest AND s.token_hash NOT IN (
    SELECT k.token_hash FROM sessions k WHERE k.user_id = @user_id AND k.token_hash <> @newest
    ORDER BY k.seq DESC LIMIT @others::int);
