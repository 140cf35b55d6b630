-- The daily and monthly reports (reports/, docs/reports.md).

-- name: ReportPostingSums :many
-- The ledger's movements of the dates from_date..to_date by entry type,
-- account (users' accounts together: user_available, user_frozen) and
-- posting kind (a repayment's principal, interest, penalty): what was
-- credited (positive postings) and debited (negative, as a positive sum).
SELECT e.type::text AS entry_type,
       (CASE WHEN a.code LIKE 'user:%:available' THEN 'user_available'
             WHEN a.code LIKE 'user:%:frozen' THEN 'user_frozen'
             ELSE a.code END)::text AS account,
       p.kind::text AS kind,
       COALESCE(sum(p.amount) FILTER (WHERE p.amount > 0), 0)::numeric(20,2) AS credits,
       COALESCE(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)::numeric(20,2) AS debits
FROM postings p
JOIN journal_entries e ON e.id = p.entry_id
JOIN ledger_accounts a ON a.id = p.account_id
WHERE e.business_date BETWEEN sqlc.arg(from_date) AND sqlc.arg(to_date)
GROUP BY 1, 2, 3;

-- name: ReportCustodyBalance :one
-- Everything in custody (every account but external:cards) at the end of a
-- business date: the sum of its postings of that date and before.
SELECT COALESCE(sum(p.amount), 0)::numeric(20,2)
FROM postings p
JOIN journal_entries e ON e.id = p.entry_id
JOIN ledger_accounts a ON a.id = p.account_id
WHERE e.business_date <= sqlc.arg(as_of) AND a.code <> 'external:cards';

-- name: ReportWrittenOff :one
-- A write-off moves no money, so the ledger has no line for it: the
-- principal written off is the holders' losses of the loans whose history
-- went written_off on those dates.
SELECT COALESCE(sum(w.amount), 0)::numeric(20,2)
FROM write_off_losses w
WHERE w.loan_id IN (SELECT h.loan_id FROM loan_history h
                    WHERE h.status = 'written_off' AND h.business_date BETWEEN sqlc.arg(from_date) AND sqlc.arg(to_date));
