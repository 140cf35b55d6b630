-- name: CalendarDaysBetween :many
-- The days ops set from first to last inclusive, in date order.
SELECT day, workday FROM calendar_days
WHERE day BETWEEN sqlc.arg(first)::date AND sqlc.arg(last)::date
ORDER BY day;

-- name: CalendarYearGet :one
SELECT year, updated_by, updated_at FROM calendar_years WHERE year = $1;

-- name: CalendarYearLock :exec
-- Serializes two ops setting the same year: the second replaces the first's
-- whole year, never half of it.
SELECT pg_advisory_xact_lock(7434, sqlc.arg(year)::int);

-- name: CalendarYearClear :exec
DELETE FROM calendar_days
WHERE day >= make_date(sqlc.arg(year)::int, 1, 1) AND day < make_date(sqlc.arg(year)::int + 1, 1, 1);

-- name: CalendarDayInsert :exec
INSERT INTO calendar_days (day, workday) VALUES ($1, $2);

-- name: CalendarYearUpsert :one
INSERT INTO calendar_years (year, updated_by) VALUES ($1, $2)
ON CONFLICT (year) DO UPDATE SET updated_by = EXCLUDED.updated_by, updated_at = now()
RETURNING year, updated_by, updated_at;
