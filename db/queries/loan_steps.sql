-- Queries of the rebuilt loan workflow's steps (docs/workflow.md).

-- name: LoanPublishNextEvent :exec
-- The loan's next dated step, as of workflow step seq: a publication computed
-- at an older step is ignored (docs/workflow.md "The business clock").
UPDATE loans SET next_event_on = sqlc.narg(next_event_on), next_event_seq = sqlc.arg(seq)
WHERE id = sqlc.arg(id) AND next_event_seq <= sqlc.arg(seq);

-- name: NotificationInsert :exec
INSERT INTO notifications (user_id, kind, loan_id, installment_no, amount, business_date, at, message, dedupe)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (dedupe) DO NOTHING;

-- name: NotificationWithdrawReminders :exec
-- A reminder whose installment closed before its date is never sent.
-- Reminders go to the borrower alone: naming them lets the delete find the
-- rows by notifications_user, where by the loan alone it read the whole
-- table on every repayment (no index leads with loan_id).
DELETE FROM notifications
WHERE user_id = sqlc.arg(borrower_id) AND loan_id = sqlc.arg(loan_id) AND kind = 'repayment_reminder'
  AND installment_no <= sqlc.arg(closed_through) AND business_date > sqlc.arg(today);

-- name: NotificationListByUser :many
-- A user's notifications up to the business date, newest first, keyset-paginated
-- by (business_date, id): reminders are written ahead, so ids alone are not in date order.
SELECT * FROM notifications
WHERE user_id = sqlc.arg(user_id) AND business_date <= sqlc.arg(today)
  AND (sqlc.narg(before_id)::bigint IS NULL
       OR (business_date, id) < (sqlc.narg(before_date)::date, sqlc.narg(before_id)::bigint))
ORDER BY business_date DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: NotificationClaim :many
-- Takes up to lim notices due to go out, for lease_seconds: their business
-- date has come; their moment (at) has passed, unless whole_day (a sandbox
-- day goes out whole); a borrower's only when borrowers_open (contact hours);
-- not waiting for a retry; not claimed by a live lease. Each claim counts an
-- attempt. SKIP LOCKED: two workers claiming at once take different notices.
UPDATE notifications n
SET claimed_until = now() + sqlc.arg(lease_seconds)::float8 * interval '1 second',
    attempts = n.attempts + 1,
    first_attempt_at = COALESCE(n.first_attempt_at, now())
FROM users u
WHERE u.id = n.user_id AND n.id IN (
    SELECT c.id FROM notifications c JOIN users cu ON cu.id = c.user_id
    WHERE c.delivered_at IS NULL AND c.failed_at IS NULL
      AND c.business_date <= sqlc.arg(today)
      AND (sqlc.arg(whole_day)::bool OR c.at <= sqlc.arg(due))
      AND (cu.role <> 'borrower' OR sqlc.arg(borrowers_open)::bool)
      AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= now())
      AND (c.claimed_until IS NULL OR c.claimed_until < now())
    ORDER BY c.id
    LIMIT sqlc.arg(lim)
    FOR UPDATE OF c SKIP LOCKED)
RETURNING n.id, n.user_id, n.kind, n.loan_id, n.installment_no, n.amount, n.business_date, n.at, n.message,
    n.attempts, n.first_attempt_at, u.email, u.name, u.role;

-- name: NotificationMarkSent :exec
UPDATE notifications SET delivered_at = now(), claimed_until = NULL, last_error = NULL
WHERE id = $1 AND delivered_at IS NULL;

-- name: NotificationMarkUnsent :exec
-- The attempt-th send failed: the notice is due again at next_attempt_at,
-- or given up (failed_at). Only the attempt's own claim marks it.
UPDATE notifications
SET claimed_until = NULL, next_attempt_at = sqlc.arg(next_attempt_at), failed_at = sqlc.narg(failed_at), last_error = sqlc.arg(last_error)
WHERE id = sqlc.arg(id) AND attempts = sqlc.arg(attempt) AND delivered_at IS NULL;
