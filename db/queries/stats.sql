-- name: StatsVolume :one
-- Disclosure figures (docs/rules.md "Disclosure"): everything ever disbursed, and who took part.
SELECT COALESCE(sum(amount), 0)::numeric(20,2) AS cumulative_volume,
       count(DISTINCT borrower_id) AS borrowers,
       (SELECT count(DISTINCT b.investor_id) FROM bids b WHERE b.status = 'disbursed') AS investors
FROM loans WHERE disbursed_on IS NOT NULL;

-- name: StatsOutstanding :one
SELECT COALESCE(sum(i.principal - i.paid_principal), 0)::numeric(20,2) AS outstanding_principal
FROM installments i JOIN loans l ON l.id = i.loan_id
WHERE l.status IN ('repaying', 'overdue') AND i.status IN ('pending', 'overdue');

-- name: StatsOverdueBuckets :many
-- Unpaid principal + interest of overdue installments by days past due of each installment.
SELECT CASE WHEN sqlc.arg(today)::date - i.due_date <= 30 THEN 'M1'
            WHEN sqlc.arg(today)::date - i.due_date <= 60 THEN 'M2'
            WHEN sqlc.arg(today)::date - i.due_date <= 90 THEN 'M3'
            ELSE 'M3+' END::text AS bucket,
       COALESCE(sum(i.principal - i.paid_principal + i.interest - i.paid_interest), 0)::numeric(20,2) AS amount
FROM installments i JOIN loans l ON l.id = i.loan_id
WHERE l.status IN ('repaying', 'overdue') AND i.status IN ('pending', 'overdue') AND i.due_date < sqlc.arg(today)::date
GROUP BY 1 ORDER BY 1;

-- name: StatsWrittenOff :one
SELECT COALESCE(sum(i.principal - i.paid_principal), 0)::numeric(20,2) AS written_off
FROM installments i WHERE i.status = 'written_off';

-- name: StatsAccountBalance :one
SELECT COALESCE((SELECT balance FROM ledger_accounts WHERE code = $1), 0)::numeric(20,2) AS balance;

-- name: StatsTransfers :one
-- Debt transfer (docs/transfer.md "Books"): the claims sold on or before the date, the prices
-- their buyers paid (the transfer volume) and the fees their sellers paid.
SELECT count(*) AS sold,
       COALESCE(sum(price), 0)::numeric(20,2) AS volume,
       COALESCE(sum(fee), 0)::numeric(20,2) AS fees
FROM transfers WHERE status = 'sold' AND closed_on <= sqlc.arg(today)::date;
