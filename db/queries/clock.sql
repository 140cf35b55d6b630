-- name: ClockGet :one
SELECT mode, today FROM platform_clock WHERE singleton;

-- name: ClockInit :one
-- First start wins; later starts keep the stored date so a restart never moves time.
INSERT INTO platform_clock (mode, today) VALUES ($1, $2)
ON CONFLICT (singleton) DO UPDATE SET mode = EXCLUDED.mode
RETURNING mode, today;

-- name: ClockSet :exec
UPDATE platform_clock SET today = $1 WHERE singleton AND today <= $1;
