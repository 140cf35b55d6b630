-- Claims of a loan's installments and the money after a missed payment
-- (docs/collection.md).

-- name: ClaimInstallmentsOpen :many
-- The open installments of a loan, oldest first.
SELECT * FROM installments WHERE loan_id = $1 AND status IN ('pending', 'overdue') ORDER BY no;

-- name: ClaimSharesOpen :many
-- Every investor claim on the loan's open installments, with its bid's amount
-- (the weight of the penalty split), earliest bid first.
SELECT s.*, b.amount AS bid_amount, u.custody_account_no
FROM installment_shares s
JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
JOIN bids b ON b.id = s.bid_id
JOIN users u ON u.id = s.investor_id
WHERE s.loan_id = $1 AND i.status IN ('pending', 'overdue')
ORDER BY s.no, s.bid_id;

-- name: ClaimCompensatorOpen :many
SELECT c.*, u.custody_account_no
FROM compensator_claims c
JOIN installments i ON i.loan_id = c.loan_id AND i.no = c.no
LEFT JOIN users u ON u.id = c.user_id
WHERE c.loan_id = $1 AND i.status IN ('pending', 'overdue')
ORDER BY c.no, c.holder;

-- name: ClaimInstallmentSave :exec
-- An installment's figures after a payment, an accrual or a compensation
-- (interest shrinks only at a payoff: later periods' interest is never owed).
UPDATE installments
SET interest = sqlc.arg(interest), penalty = sqlc.arg(penalty), penalty_through = sqlc.arg(penalty_through),
    paid_principal = sqlc.arg(paid_principal), paid_interest = sqlc.arg(paid_interest), paid_penalty = sqlc.arg(paid_penalty),
    compensated = sqlc.arg(compensated), status = sqlc.arg(status), paid_on = sqlc.narg(paid_on)
WHERE loan_id = sqlc.arg(loan_id) AND no = sqlc.arg(no);

-- name: ClaimShareSave :exec
UPDATE installment_shares
SET interest = sqlc.arg(interest), penalty = sqlc.arg(penalty), received_principal = sqlc.arg(received_principal),
    received_interest = sqlc.arg(received_interest), received_penalty = sqlc.arg(received_penalty)
WHERE loan_id = sqlc.arg(loan_id) AND no = sqlc.arg(no) AND bid_id = sqlc.arg(bid_id);

-- name: ClaimCompensatorSave :exec
INSERT INTO compensator_claims (loan_id, no, holder, user_id, principal, interest, penalty,
                                received_principal, received_interest, received_penalty)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (loan_id, no, holder) DO UPDATE
SET principal = EXCLUDED.principal, interest = EXCLUDED.interest, penalty = EXCLUDED.penalty,
    received_principal = EXCLUDED.received_principal, received_interest = EXCLUDED.received_interest,
    received_penalty = EXCLUDED.received_penalty;

-- name: CompensationInsert :exec
INSERT INTO compensations (request_no, loan_id, holder, user_id, amount, business_date)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (request_no) DO NOTHING;

-- name: WriteOffLossInsert :exec
INSERT INTO write_off_losses (loan_id, holder_key, holder, user_id, bid_id, amount)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (loan_id, holder_key) DO NOTHING;

-- name: WriteOffLossList :many
-- What each holder lost and has not yet recovered, in the order a recovery is
-- split (investors by bid, then the guarantor, then the reserve).
SELECT w.*, u.custody_account_no
FROM write_off_losses w LEFT JOIN users u ON u.id = w.user_id
WHERE w.loan_id = $1
ORDER BY CASE w.holder WHEN 'investor' THEN 0 WHEN 'guarantor' THEN 1 ELSE 2 END, w.bid_id NULLS LAST;

-- name: WriteOffLossLock :many
-- A loan's losses, locked until the transaction ends: recoveries of one loan
-- are admitted one at a time, each seeing what the others reserved.
SELECT * FROM write_off_losses
WHERE loan_id = $1
ORDER BY CASE holder WHEN 'investor' THEN 0 WHEN 'guarantor' THEN 1 ELSE 2 END, bid_id NULLS LAST
FOR UPDATE;

-- name: WriteOffLossReserve :exec
UPDATE write_off_losses SET reserved = reserved + sqlc.arg(amount)
WHERE loan_id = sqlc.arg(loan_id) AND holder_key = sqlc.arg(holder_key);

-- name: WriteOffLossRecover :exec
-- A recovery carried out: its reserved share becomes recovered.
UPDATE write_off_losses SET recovered = recovered + sqlc.arg(amount), reserved = reserved - sqlc.arg(amount)
WHERE loan_id = sqlc.arg(loan_id) AND holder_key = sqlc.arg(holder_key);

-- name: RecoveryInsert :one
INSERT INTO recoveries (loan_id, amount, note, ops_user_id, status, business_date, idempotency_key)
VALUES ($1, $2, $3, $4, 'processing', $5, $6)
RETURNING *;

-- name: RecoveryGet :one
SELECT * FROM recoveries WHERE id = $1;

-- name: RecoveryGetByKey :one
SELECT * FROM recoveries WHERE ops_user_id = $1 AND idempotency_key = $2;

-- name: RecoveryListProcessing :many
-- Recoveries recorded more than @older_seconds ago (by the database's clock,
-- which wrote created_at) and still processing: the worker starts the
-- workflow of each (loans.ResumeRecoveries), in case the process that
-- recorded it died before starting it.
SELECT * FROM recoveries
WHERE status = 'processing' AND created_at < now() - make_interval(secs => sqlc.arg(older_seconds)::int)
ORDER BY id LIMIT @lim;

-- name: RecoveryFinish :exec
UPDATE recoveries SET status = sqlc.arg(status), failure = sqlc.arg(failure)
WHERE id = sqlc.arg(id) AND status = 'processing';

-- name: RecoveryShareInsert :exec
INSERT INTO recovery_shares (recovery_id, holder_key, user_id, amount) VALUES ($1, $2, $3, $4)
ON CONFLICT (recovery_id, holder_key) DO NOTHING;

-- name: RecoveryShareList :many
-- A recovery's shares as reserved at admission, in the order of its split,
-- with each holder's custody account.
SELECT s.holder_key, w.holder, s.user_id, s.amount, u.custody_account_no
FROM recovery_shares s
JOIN recoveries r ON r.id = s.recovery_id
JOIN write_off_losses w ON w.loan_id = r.loan_id AND w.holder_key = s.holder_key
LEFT JOIN users u ON u.id = s.user_id
WHERE s.recovery_id = $1
ORDER BY CASE w.holder WHEN 'investor' THEN 0 WHEN 'guarantor' THEN 1 ELSE 2 END, w.bid_id NULLS LAST;

-- name: RecoveryShareRelease :exec
-- A refused recovery gives back what it reserved; a second call finds no
-- shares and changes nothing.
WITH released AS (
    DELETE FROM recovery_shares s WHERE s.recovery_id = sqlc.arg(recovery_id) RETURNING s.holder_key, s.amount
)
UPDATE write_off_losses w SET reserved = w.reserved - r.amount
FROM released r, recoveries rec
WHERE rec.id = sqlc.arg(recovery_id) AND w.loan_id = rec.loan_id AND w.holder_key = r.holder_key;

-- name: GuaranteeListByGuarantor :many
-- A guarantor's guarantees: what each cost (compensations paid) and what came
-- back (the borrower's later payments of the claims it holds, and recoveries).
SELECT l.id AS loan_id, l.status, l.amount,
       COALESCE((SELECT sum(c.amount) FROM compensations c WHERE c.loan_id = l.id AND c.holder = 'guarantor'), 0)::numeric(20,2) AS compensated,
       (COALESCE((SELECT sum(cc.received_principal + cc.received_interest + cc.received_penalty) FROM compensator_claims cc
                  WHERE cc.loan_id = l.id AND cc.holder = 'guarantor'), 0)
        + COALESCE((SELECT sum(w.recovered) FROM write_off_losses w WHERE w.loan_id = l.id AND w.holder = 'guarantor'), 0))::numeric(20,2) AS recovered
FROM loans l
WHERE l.guarantor_id = $1
ORDER BY l.id DESC;

-- name: ClaimsHeldOpen :one
-- Whether a user holds a claim still owed: an investor claim on an open
-- installment, a compensator claim not yet repaid, or a loss not recovered.
SELECT COALESCE(EXISTS (
    SELECT 1 FROM installment_shares s JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
    WHERE s.investor_id = $1 AND i.status IN ('pending', 'overdue')
      AND (s.principal > s.received_principal OR s.interest > s.received_interest OR s.penalty > s.received_penalty))
 OR EXISTS (
    SELECT 1 FROM compensator_claims c JOIN installments i ON i.loan_id = c.loan_id AND i.no = c.no
    WHERE c.user_id = $1 AND i.status IN ('pending', 'overdue')
      AND (c.principal + c.interest + c.penalty > c.received_principal + c.received_interest + c.received_penalty))
 OR EXISTS (SELECT 1 FROM write_off_losses w WHERE w.user_id = $1 AND w.recovered < w.amount), false)::boolean AS holds;

-- name: LoanOwedByBorrower :one
-- Whether a borrower owes anything: a loan being serviced, or one written off
-- with a loss not recovered.
SELECT COALESCE(EXISTS (SELECT 1 FROM loans l WHERE l.borrower_id = $1 AND l.status IN ('repaying', 'overdue', 'disbursing'))
    OR EXISTS (SELECT 1 FROM write_off_losses w JOIN loans l ON l.id = w.loan_id
               WHERE l.borrower_id = $1 AND w.recovered < w.amount), false)::boolean AS owes;

-- name: CardChangeInsert :exec
INSERT INTO card_changes (user_id, attempt, card_number, status) VALUES ($1, $2, $3, 'processing');

-- name: CardChangeFinish :exec
UPDATE card_changes SET status = $3 WHERE user_id = $1 AND attempt = $2;

-- name: UserSetCard :exec
UPDATE users SET card_number = $2 WHERE id = $1;

-- name: LedgerBalanceByCode :one
-- One ledger account's balance (0 if it has never been used).
SELECT COALESCE((SELECT balance FROM ledger_accounts WHERE code = $1), 0)::numeric(20,2) AS balance;

-- name: CardChangeLatest :one
SELECT * FROM card_changes WHERE user_id = $1 ORDER BY attempt DESC LIMIT 1;
