-- The ops console's read models (docs/console.md) and the disclosure history.

-- name: LoanCountByStatus :many
-- How many loans wait in each of the given statuses (the console's queues).
SELECT status, count(*) AS loans FROM loans
WHERE status = ANY(sqlc.arg(statuses)::text[])
GROUP BY status;

-- name: LoanListFailedDisbursement :many
-- Loans whose disbursement batch the bank refused and which wait for ops to
-- retry it: still disbursing, every batch attempt failed, none in flight. The
-- request numbers are bank.Disbursement's, loan-<id>-disburse-<attempt>.
SELECT l.* FROM loans l
WHERE l.status = 'disbursing'
  AND EXISTS (SELECT 1 FROM bank_requests b
              WHERE b.kind = 'disbursement' AND b.request_no LIKE 'loan-' || l.id || '-disburse-%' AND b.status = 'failed')
  AND NOT EXISTS (SELECT 1 FROM bank_requests b
                  WHERE b.kind = 'disbursement' AND b.request_no LIKE 'loan-' || l.id || '-disburse-%' AND b.status <> 'failed')
ORDER BY l.id
LIMIT sqlc.arg(lim);

-- name: LoanListWriteOffRequested :many
-- Overdue loans ops have been asked to write off and have not declined since:
-- the oldest open installment is due on or before due_by (more than 90 days
-- past due) and the loan's latest ask row comes after its latest decline row
-- (the rows the workflow writes; api writeOffAskNote, writeOffDeclinedNote).
SELECT sqlc.embed(l), o.oldest_due::date AS oldest_due
FROM loans l
JOIN (SELECT loan_id, min(due_date) AS oldest_due FROM installments
      WHERE status IN ('pending', 'overdue') GROUP BY loan_id) o ON o.loan_id = l.id
WHERE l.status = 'overdue' AND o.oldest_due <= sqlc.arg(due_by)::date
  AND COALESCE((SELECT max(h.seq) FROM loan_history h WHERE h.loan_id = l.id AND starts_with(h.note, sqlc.arg(ask_note)::text)), -1)
    > COALESCE((SELECT max(h.seq) FROM loan_history h WHERE h.loan_id = l.id AND starts_with(h.note, sqlc.arg(declined_note)::text)), -1)
ORDER BY o.oldest_due, l.id
LIMIT sqlc.arg(lim);

-- name: InstallmentListForCollection :many
-- Every open installment past its due date, of each disbursed loan whose
-- oldest open installment is due on or before m2_due_by (at least 31 days
-- past due: M2 and beyond), with the loan's borrower. Ordered by loan, then
-- installment, so the caller folds them into one task per loan.
SELECT sqlc.embed(i), u.id AS borrower_id, u.name AS borrower_name, u.phone AS borrower_phone
FROM installments i
JOIN loans l ON l.id = i.loan_id
JOIN users u ON u.id = l.borrower_id
WHERE l.status IN ('repaying', 'overdue')
  AND i.status IN ('pending', 'overdue') AND i.due_date < sqlc.arg(today)::date
  AND (SELECT min(o.due_date) FROM installments o
       WHERE o.loan_id = l.id AND o.status IN ('pending', 'overdue')) <= sqlc.arg(m2_due_by)::date
ORDER BY i.loan_id, i.no;

-- name: BidListWithShares :many
-- A loan's bids with their investor and what each claim has been paid and
-- is still owed (the installments' shares; nothing before disbursement).
SELECT b.id AS bid_id, b.investor_id, u.name AS investor_name, b.amount, b.status, b.created_at,
       COALESCE(sum(s.received_principal), 0)::numeric(20,2) AS received_principal,
       COALESCE(sum(s.received_interest), 0)::numeric(20,2) AS received_interest,
       COALESCE(sum(s.received_penalty), 0)::numeric(20,2) AS received_penalty,
       COALESCE(sum(s.principal - s.received_principal) FILTER (WHERE i.status <> 'written_off'), 0)::numeric(20,2) AS pending_principal,
       COALESCE(sum(s.interest - s.received_interest) FILTER (WHERE i.status <> 'written_off'), 0)::numeric(20,2) AS pending_interest
FROM bids b
JOIN users u ON u.id = b.investor_id
LEFT JOIN installment_shares s ON s.bid_id = b.id
LEFT JOIN installments i ON i.loan_id = s.loan_id AND i.no = s.no
WHERE b.loan_id = $1
GROUP BY b.id, u.name
ORDER BY b.id;

-- name: LoanCountEventsDue :one
-- Loans with a dated event on or before a date: what a clock advance to that
-- date still has to hand out (the console's progress).
SELECT count(*) FROM loans WHERE next_event_on IS NOT NULL AND next_event_on <= $1;

-- name: DisclosureSnapshotInsert :execrows
-- A date's figures are written once: a second writer for the date writes nothing.
INSERT INTO disclosure_snapshots (business_date, cumulative_volume, outstanding_principal,
    overdue_m1, overdue_m2, overdue_m3, overdue_m3_plus, written_off, risk_reserve_balance, borrowers, investors,
    transfer_volume, transfer_fees, transfers_sold)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (business_date) DO NOTHING;

-- name: DisclosureSnapshotList :many
-- The snapshots of a span of dates, oldest first.
SELECT * FROM disclosure_snapshots
WHERE business_date BETWEEN sqlc.arg(from_date)::date AND sqlc.arg(to_date)::date
ORDER BY business_date;
