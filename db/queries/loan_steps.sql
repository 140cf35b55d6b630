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

-- name: NotificationListUndelivered :many
-- What is due to reach people and has not yet: its business date has come,
-- and its moment (at) has passed.
SELECT * FROM notifications
WHERE delivered_at IS NULL AND business_date <= sqlc.arg(today) AND at <= sqlc.arg(now)
ORDER BY id LIMIT sqlc.arg(lim);

-- name: NotificationMarkDelivered :exec
UPDATE notifications SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL;
