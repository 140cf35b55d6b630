-- name: LedgerMovementsOn :many
-- Each journal entry of a business date, net per ledger account, with the
-- custody account a user's ledger account mirrors.
SELECT e.request_no, a.code, u.custody_account_no, sum(p.amount)::numeric(20,2) AS net
FROM journal_entries e
JOIN postings p ON p.entry_id = e.id
JOIN ledger_accounts a ON a.id = p.account_id
LEFT JOIN users u ON u.id = a.user_id
WHERE e.business_date = $1
GROUP BY e.request_no, a.code, u.custody_account_no
ORDER BY e.request_no, a.code;
