-- name: LedgerMovementsOn :many
-- Each journal entry of a business date, net per ledger account, with the
-- custody account a user's ledger account mirrors and the entry's type.
SELECT e.request_no, e.type, a.code, u.custody_account_no, sum(p.amount)::numeric(20,2) AS net
FROM journal_entries e
JOIN postings p ON p.entry_id = e.id
JOIN ledger_accounts a ON a.id = p.account_id
LEFT JOIN users u ON u.id = a.user_id
WHERE e.business_date = $1
GROUP BY e.request_no, e.type, a.code, u.custody_account_no
ORDER BY e.request_no, a.code;

-- name: ReconciliationRunInsert :one
INSERT INTO reconciliation_runs (business_date, status, differences, bank_lines, ledger_entries, origin,
                                 conservation, conservation_violations)
VALUES ($1, $2, $3, $4, $5, $6, sqlc.arg(conservation), sqlc.arg(conservation_violations)) RETURNING *;

-- name: ReconciliationRunLatest :one
SELECT * FROM reconciliation_runs WHERE business_date = $1 ORDER BY id DESC LIMIT 1;

-- name: LedgerFirstBusinessDate :one
-- The platform's first day with money: nothing before it can differ.
SELECT business_date FROM journal_entries ORDER BY business_date LIMIT 1;

-- name: ReconciliationDaysToClose :many
-- Closed days (from_day to to_day) not matched yet and not closed as
-- mismatched since retry_before: a mismatch needs a person, not a run every
-- sweep. Runs ops asked for do not hold a day back: they book no reversals.
SELECT d::date AS business_date
FROM generate_series(sqlc.arg(from_day)::date, sqlc.arg(to_day)::date, interval '1 day') AS d
WHERE NOT EXISTS (
    SELECT 1 FROM reconciliation_runs r
    WHERE r.business_date = d::date
      AND (r.status = 'matched' OR (r.status = 'mismatched' AND r.origin = 'close' AND r.run_at >= sqlc.arg(retry_before)))
)
ORDER BY d
LIMIT sqlc.arg(max_days);

-- name: ReconciliationUnsettledOn :one
-- Recharges and withdrawals of a day still waiting for the bank's answer,
-- sent since sent_after: until they settle, the day's file may hold a
-- movement the ledger has not booked yet, which is no difference. Older
-- ones no longer hold the day back: the mismatch is then real news.
SELECT (SELECT count(*) FROM recharges r
        WHERE r.status = 'processing' AND r.business_date = sqlc.arg(day)::date AND r.created_at > sqlc.arg(sent_after))
     + (SELECT count(*) FROM withdrawals w
        WHERE w.status = 'processing' AND w.business_date = sqlc.arg(day)::date AND w.created_at > sqlc.arg(sent_after)) AS unsettled;

-- name: ReconciliationRunListLatestClose :many
-- Each day's latest close, newest day first, of the given status; keyset-paged
-- by day (GET /v1/ops/reconciliation?status=).
SELECT * FROM reconciliation_runs r
WHERE r.origin = 'close' AND r.status = sqlc.arg(status)
  AND (sqlc.narg(before_day)::date IS NULL OR r.business_date < sqlc.narg(before_day))
  AND NOT EXISTS (SELECT 1 FROM reconciliation_runs n
                  WHERE n.origin = 'close' AND n.business_date = r.business_date AND n.id > r.id)
ORDER BY r.business_date DESC
LIMIT sqlc.arg(lim);
