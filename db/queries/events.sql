-- name: EventInsert :exec
-- One business event (docs/events.md), in the transaction of its change. The ledger's entries and the
-- loans' history rows write theirs in their own statements
-- (JournalEntryInsert, LoanHistoryInsert).
INSERT INTO events (type, business_date, loan_id, user_id, data)
VALUES (sqlc.arg(type), sqlc.arg(business_date), sqlc.narg(loan_id), sqlc.narg(user_id), sqlc.arg(data));

-- name: EventFeedLock :one
-- Numbering is one transaction at a time: this lock, then EventNumber in a
-- statement of its own, whose snapshot is taken once the lock is held, so it
-- sees every event the previous numbering numbered.
SELECT last_id FROM event_feed_head FOR UPDATE;

-- name: EventNumber :one
-- Numbers up to lim committed events after last_id, in the order they were
-- written, and answers how many and the new last id.
WITH todo AS (
    SELECT s.seq, row_number() OVER (ORDER BY s.seq) AS n
    FROM (SELECT seq FROM events WHERE id IS NULL ORDER BY seq LIMIT sqlc.arg(lim)) s
), done AS (
    UPDATE events e SET id = sqlc.arg(last_id)::bigint + todo.n
    FROM todo WHERE e.seq = todo.seq
    RETURNING e.id
)
SELECT count(*)::int AS numbered, COALESCE(max(id), sqlc.arg(last_id)::bigint)::bigint AS last_id FROM done;

-- name: EventFeedHeadSet :exec
UPDATE event_feed_head SET last_id = $1;

-- name: EventListAfter :many
-- A page of the feed: the events numbered after after, in id order.
SELECT id::bigint AS id, type, at, business_date, loan_id, user_id, data
FROM events WHERE id > sqlc.arg(after)::bigint
ORDER BY id LIMIT sqlc.arg(lim);
