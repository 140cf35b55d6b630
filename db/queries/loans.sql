-- name: LoanInsert :one
-- next_event_on = applied_on: a new loan has work today, so a clock advance
-- waits for its workflow to reach its first wait.
INSERT INTO loans (borrower_id, guarantor_id, amount, term_months, repayment_method, purpose,
                   monthly_income, status, workflow_id, applied_on, next_event_on, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $9, $9, sqlc.narg(idempotency_key))
RETURNING *;

-- name: LoanGetByKey :one
-- The loan a borrower's Idempotency-Key created, if any (docs/idempotency.md).
SELECT * FROM loans WHERE borrower_id = $1 AND idempotency_key = $2;

-- name: LoanSetWorkflowID :exec
UPDATE loans SET workflow_id = $2 WHERE id = $1;

-- name: LoanGet :one
SELECT * FROM loans WHERE id = $1;

-- name: LoanGetForUpdate :one
SELECT * FROM loans WHERE id = $1 FOR UPDATE;

-- name: LoanListByStatus :many
-- Oldest first (the ops work queue), keyset-paginated by id.
SELECT * FROM loans WHERE status = @status AND id > @after_id ORDER BY id LIMIT @lim;

-- name: LoanListByBorrower :many
SELECT * FROM loans WHERE borrower_id = $1 ORDER BY id DESC;

-- name: LoanSetStatus :one
-- from guards the transition: a stale workflow retry cannot move a loan backwards.
UPDATE loans SET status = sqlc.arg(to_status)
WHERE id = sqlc.arg(id) AND status = ANY(sqlc.arg(from_statuses)::text[])
RETURNING *;

-- name: LoanSetScreening :exec
UPDATE loans SET credit_score = $2, grade = $3, annual_rate = $4 WHERE id = $1;

-- name: LoanList :one
UPDATE loans
SET status = 'listed', grade = $2, annual_rate = $3, newbie = $4,
    listed_on = $5, listing_expires_on = $6, next_event_on = $5
WHERE id = $1 AND status = 'approved'
RETURNING *;

-- name: LoanSetDisbursed :exec
UPDATE loans SET status = 'repaying', disbursed_on = $2, next_event_on = $2 WHERE id = $1 AND status = 'disbursing';

-- name: LoanCloseListing :one
-- Expiry (流标) and cancellation only while not full: the same row guard the bids
-- use, so a bid and the close can never both win.
UPDATE loans SET status = sqlc.arg(to_status), next_event_on = NULL
WHERE id = sqlc.arg(id) AND status = ANY(sqlc.arg(from_statuses)::text[]) AND raised < amount
RETURNING *;

-- name: LoanMarkFull :one
UPDATE loans SET status = 'full' WHERE loans.id = $1 AND status = 'listed' AND raised = amount
  AND NOT EXISTS (SELECT 1 FROM bids WHERE bids.loan_id = loans.id AND bids.status = 'pending')
RETURNING *;

-- name: LoanReturnBid :exec
UPDATE loans SET raised = raised - sqlc.arg(amount) WHERE id = sqlc.arg(id);

-- name: LoanListDueEvents :many
SELECT id, workflow_id, next_event_on FROM loans
WHERE next_event_on IS NOT NULL AND next_event_on <= $1
ORDER BY id;

-- name: LoanMinNextEvent :one
SELECT next_event_on FROM loans WHERE next_event_on IS NOT NULL ORDER BY next_event_on LIMIT 1;

-- name: LoanHistoryInsert :exec
-- A history row, once per (loan, seq); a row whose status differs from the
-- row before it (by seq) is a status change and writes its event
-- (loan.<status>, docs/events.md) in the same statement: every status
-- change writes its row, and a row written again writes nothing.
WITH h AS (
    INSERT INTO loan_history (loan_id, seq, status, business_date, note)
    VALUES (sqlc.arg(loan_id), sqlc.arg(seq), sqlc.arg(status), sqlc.arg(business_date), sqlc.arg(note))
    ON CONFLICT (loan_id, seq) DO NOTHING
    RETURNING loan_id, status, business_date, note
), prev AS (
    SELECT p.status FROM loan_history p
    WHERE p.loan_id = sqlc.arg(loan_id) AND p.seq < sqlc.arg(seq)
    ORDER BY p.seq DESC LIMIT 1
)
INSERT INTO events (type, business_date, loan_id, user_id, data)
SELECT 'loan.' || h.status, h.business_date, h.loan_id, l.borrower_id,
       jsonb_build_object('status', h.status, 'previous_status', prev.status, 'note', h.note)
FROM h JOIN loans l ON l.id = h.loan_id LEFT JOIN prev ON true
WHERE prev.status IS DISTINCT FROM h.status;

-- name: LoanHistoryList :many
SELECT * FROM loan_history WHERE loan_id = $1 ORDER BY seq;

-- name: LoanOutstandingPrincipalByBorrower :one
-- Principal the borrower owes or has asked for: unpaid principal of disbursed
-- loans plus the full amount of loans still in application or listing.
SELECT (COALESCE((SELECT sum(i.principal - i.paid_principal) FROM installments i JOIN loans l ON l.id = i.loan_id
          WHERE l.borrower_id = $1 AND l.status IN ('repaying', 'overdue') AND i.status <> 'written_off'), 0)
      + COALESCE((SELECT sum(l.amount) FROM loans l WHERE l.borrower_id = $1
          AND l.status IN ('submitted', 'screening', 'due_diligence', 'approved', 'listed', 'full', 'full_review', 'disbursing')
          AND l.id <> $2), 0))::numeric(20,2) AS outstanding;

-- name: LoanCountRecentApplications :one
SELECT count(*) FROM loans WHERE borrower_id = $1 AND applied_on > $2 AND id <> $3;

-- name: LoanCountOverdueByBorrower :one
SELECT count(*) FROM loans WHERE borrower_id = $1 AND status = 'overdue';

-- name: UserCountSharingIdentity :one
-- Only verified identities count (docs/security.md "Identities"): a stranger
-- who merely typed someone's ID number or phone at sign-up blocks nobody.
SELECT count(*) FROM users
WHERE id <> $1 AND custody_account_no IS NOT NULL AND (id_number_hash = $2 OR phone_hash = $3);

-- name: LoanCountWrittenOffByBorrower :one
SELECT count(*) FROM loans WHERE borrower_id = $1 AND status = 'written_off';

-- name: BlacklistHas :one
SELECT EXISTS (SELECT 1 FROM blacklist WHERE id_number_hash = $1);

-- name: BlacklistInsert :one
-- A number already listed inserts nothing and answers no row.
-- id_number comes sealed, with its keyed hash.
INSERT INTO blacklist (id_number, id_number_hash, reason, added_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (id_number_hash) DO NOTHING
RETURNING *;

-- name: RepaymentAuthorizationUpsert :one
INSERT INTO repayment_authorizations (loan_id, max_amount, expires_on) VALUES ($1, $2, $3)
ON CONFLICT (loan_id) DO UPDATE SET max_amount = EXCLUDED.max_amount, expires_on = EXCLUDED.expires_on, created_at = now()
RETURNING *;

-- name: RepaymentAuthorizationGet :one
SELECT * FROM repayment_authorizations WHERE loan_id = $1;

-- name: ListingList :many
-- Open listings, newest first, keyset-paginated by id.
SELECT sqlc.embed(l), u.name AS borrower_name, u.id_number AS borrower_id_number, u.phone AS borrower_phone
FROM loans l JOIN users u ON u.id = l.borrower_id
WHERE l.status = 'listed' AND (sqlc.narg(before_id)::bigint IS NULL OR l.id < sqlc.narg(before_id))
ORDER BY l.id DESC
LIMIT sqlc.arg(lim);

-- name: ListingGet :one
SELECT sqlc.embed(l), u.name AS borrower_name, u.id_number AS borrower_id_number, u.phone AS borrower_phone
FROM loans l JOIN users u ON u.id = l.borrower_id
WHERE l.id = $1 AND l.listed_on IS NOT NULL;
