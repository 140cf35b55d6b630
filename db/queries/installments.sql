-- name: InstallmentInsert :exec
INSERT INTO installments (loan_id, no, due_date, principal, interest, status)
VALUES ($1, $2, $3, $4, $5, 'pending');

-- name: InstallmentList :many
SELECT * FROM installments WHERE loan_id = $1 ORDER BY no;

-- name: InstallmentGet :one
SELECT * FROM installments WHERE loan_id = $1 AND no = $2;

-- name: InstallmentPay :one
UPDATE installments
SET paid_principal = sqlc.arg(paid_principal), paid_interest = sqlc.arg(paid_interest),
    penalty = sqlc.arg(penalty), paid_penalty = sqlc.arg(penalty),
    interest = sqlc.arg(interest), status = 'paid', paid_on = sqlc.arg(paid_on)
WHERE loan_id = sqlc.arg(loan_id) AND no = sqlc.arg(no) AND status IN ('pending', 'overdue')
RETURNING *;

-- name: InstallmentSetOverdue :exec
UPDATE installments SET status = 'overdue', penalty = $3 WHERE loan_id = $1 AND no = $2 AND status IN ('pending', 'overdue');

-- name: InstallmentWriteOff :exec
UPDATE installments SET status = 'written_off' WHERE loan_id = $1 AND status IN ('pending', 'overdue');

-- name: InstallmentShareInsert :exec
INSERT INTO installment_shares (loan_id, no, bid_id, investor_id, principal, interest)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: InstallmentShareList :many
SELECT * FROM installment_shares WHERE loan_id = $1 AND no = $2 ORDER BY bid_id;

-- name: InstallmentShareReceive :exec
UPDATE installment_shares
SET received_principal = received_principal + sqlc.arg(principal),
    received_interest = received_interest + sqlc.arg(interest),
    received_penalty = received_penalty + sqlc.arg(penalty)
WHERE loan_id = sqlc.arg(loan_id) AND no = sqlc.arg(no) AND bid_id = sqlc.arg(bid_id);

-- name: InstallmentShareWaiveInterest :exec
-- Early payoff: interest not yet accrued is never owed, so the planned interest shrinks to what was paid.
UPDATE installment_shares SET interest = received_interest WHERE loan_id = $1 AND no = $2;

-- name: HoldingsByInvestor :many
SELECT b.loan_id, b.id AS bid_id, b.amount AS principal, b.status AS bid_status, l.status AS loan_status,
       COALESCE(sum(s.received_principal), 0)::numeric(20,2) AS received_principal,
       COALESCE(sum(s.received_interest), 0)::numeric(20,2) AS received_interest,
       COALESCE(sum(s.principal - s.received_principal) FILTER (WHERE i.status <> 'written_off'), 0)::numeric(20,2) AS pending_principal,
       COALESCE(sum(s.interest - s.received_interest) FILTER (WHERE i.status <> 'written_off'), 0)::numeric(20,2) AS pending_interest
FROM bids b
JOIN loans l ON l.id = b.loan_id
LEFT JOIN installment_shares s ON s.bid_id = b.id
LEFT JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
WHERE b.investor_id = $1 AND b.status IN ('frozen', 'pending', 'disbursed')
GROUP BY b.loan_id, b.id, b.amount, b.status, l.status
ORDER BY b.id DESC;

-- name: InstallmentListPastDue :many
SELECT * FROM installments WHERE loan_id = $1 AND status IN ('pending', 'overdue') AND due_date < $2 ORDER BY no;
