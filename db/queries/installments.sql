-- name: InstallmentInsert :exec
INSERT INTO installments (loan_id, no, due_date, principal, interest, status)
VALUES ($1, $2, $3, $4, $5, 'pending');

-- name: InstallmentList :many
SELECT * FROM installments WHERE loan_id = $1 ORDER BY no;

-- name: InstallmentGet :one
SELECT * FROM installments WHERE loan_id = $1 AND no = $2;

-- name: InstallmentWriteOff :exec
UPDATE installments SET status = 'written_off' WHERE loan_id = $1 AND status IN ('pending', 'overdue');

-- name: InstallmentShareInsert :exec
INSERT INTO installment_shares (loan_id, no, bid_id, investor_id, principal, interest)
VALUES ($1, $2, $3, $4, $5, $6);

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
