package e2e

import (
	"context"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/ledger"
)

// booksAgree requires every custody account's balance in the platform's
// ledger to equal the bank's (available + frozen), logs each, and answers how
// many accounts it compared.
func (s *stack) booksAgree(pool *pgxpool.Pool) int {
	s.t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT COALESCE(u.custody_account_no, a.code), sum(a.balance)::numeric(20,2)
		FROM ledger_accounts a LEFT JOIN users u ON u.id = a.user_id
		WHERE a.code <> $1 GROUP BY 1`, ledger.ExternalCards)
	require.NoError(s.t, err)
	ledgerBal := map[string]string{}
	for rows.Next() {
		var acct string
		var bal decimal.Decimal
		require.NoError(s.t, rows.Scan(&acct, &bal))
		ledgerBal[acct] = bal.StringFixed(2)
	}
	require.NoError(s.t, rows.Err())
	bankAcct := map[string]string{ledger.PlatformFee: bank.AccountFee, ledger.PlatformRiskReserve: bank.AccountRiskReserve,
		ledger.PlatformBonus: bank.AccountBonus, ledger.PlatformSummary: bank.AccountSummary}
	accts := make([]string, 0, len(ledgerBal))
	for acct := range ledgerBal {
		accts = append(accts, acct)
	}
	sort.Strings(accts)
	differ := 0
	for _, acct := range accts {
		want, no := ledgerBal[acct], acct
		if b, ok := bankAcct[acct]; ok {
			no = b
		}
		bal, err := s.bank.Balance(ctx, no)
		require.NoError(s.t, err)
		got := bal.Available.Add(bal.Frozen).StringFixed(2)
		mark := "="
		if got != want {
			mark, differ = "≠", differ+1
		}
		s.t.Logf("%-14s ledger %10s %s bank %10s", no, want, mark, got)
	}
	require.Zero(s.t, differ, "ledger and bank balances differ")
	return len(accts)
}
