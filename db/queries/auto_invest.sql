-- name: AutoInvestRuleUpsert :one
INSERT INTO auto_invest_rules (user_id, enabled, amount_per_loan, min_annual_rate, max_term_months, max_grade, keep_available)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (user_id) DO UPDATE SET enabled = EXCLUDED.enabled, amount_per_loan = EXCLUDED.amount_per_loan,
    min_annual_rate = EXCLUDED.min_annual_rate, max_term_months = EXCLUDED.max_term_months,
    max_grade = EXCLUDED.max_grade, keep_available = EXCLUDED.keep_available
RETURNING *;

-- name: AutoInvestRuleListFor :many
-- Enabled rules a listing satisfies, in queue order.
SELECT * FROM auto_invest_rules
WHERE enabled AND min_annual_rate <= sqlc.arg(rate) AND max_term_months >= sqlc.arg(term)
  AND max_grade >= sqlc.arg(grade)::text
ORDER BY queued_at, user_id;

-- name: AutoInvestRuleRequeue :exec
UPDATE auto_invest_rules SET queued_at = now() WHERE user_id = $1;

-- name: LoanListAwaitingAutoInvest :many
SELECT * FROM loans WHERE status = 'listed' AND NOT auto_invested ORDER BY id LIMIT 50;

-- name: LoanSetAutoInvested :exec
UPDATE loans SET auto_invested = true WHERE id = $1;
