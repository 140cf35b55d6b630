// Package testenv builds a platform for database tests: a schema of its own,
// the bank simulator on another, and helpers to make users and loans. Only
// tests import it.
package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

// APIKey is the key the platform signs its bank requests with in tests.
var APIKey = []byte("testenv-bank-api-key")

// Env is one platform database and one bank.
type Env struct {
	T        *testing.T
	Ctx      context.Context
	Pool     *pgxpool.Pool
	Q        *dbq.Queries
	Bank     *bank.HTTPClient
	Sim      *sim.Sim
	Accounts *accounts.Service
	Log      *slog.Logger
	Today    time.Time
	n        atomic.Int64
}

// New starts an environment; at cleanup the platform's ledger and the bank's
// books must both be coherent.
func New(t *testing.T) *Env {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	bankPool := dbtest.NewWith(t, dbtest.Migration{FS: sim.Migrations(), Table: sim.MigrationTable})
	s, err := sim.Open(ctx, sim.Config{Pool: bankPool, APIKey: APIKey, WithdrawalDelay: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bc := bank.NewHTTPClient(srv.URL, &http.Client{Timeout: 10 * time.Second}, bank.WithAPIKey(APIKey))
	e := &Env{T: t, Ctx: ctx, Pool: pool, Q: db.Queries(pool), Bank: bc, Sim: s, Accounts: accounts.New(pool, bc, log), Log: log,
		Today: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)}
	require.NoError(t, bc.SetClock(ctx, e.Today))
	t.Cleanup(func() {
		require.NoError(t, ledger.CheckConservation(ctx, pool), "platform ledger after %s", t.Name())
		require.NoError(t, s.Check(ctx), "bank books after %s", t.Name())
	})
	return e
}

// User registers a user with a valid identity; with an amount it also opens
// a custody account and recharges it.
func (e *Env) User(role lending.Role, recharge string) dbq.User {
	e.T.Helper()
	n := e.n.Add(1)
	body := fmt.Sprintf("11010519850101%03d", n)
	u, err := e.Q.UserInsert(e.Ctx, pii.SealUser(dbq.UserInsertParams{
		Email: fmt.Sprintf("%s%d@test", role, n), PasswordHash: "x", Role: role, Name: "测试" + fmt.Sprint(n),
		IDNumber: body + string(kyc.IDCheckChar(body)), Phone: fmt.Sprintf("1390000%04d", n),
	}))
	require.NoError(e.T, err)
	if recharge == "" {
		return u
	}
	card := fmt.Sprintf("62148301%09d", n)
	card += string(kyc.LuhnCheckDigit(card))
	_, err = e.Accounts.OpenCustody(e.Ctx, u.ID, card)
	require.NoError(e.T, err)
	if amt := decimal.RequireFromString(recharge); amt.Sign() > 0 {
		rc, err := e.Accounts.Recharge(e.Ctx, u.ID, amt, e.Today)
		require.NoError(e.T, err)
		require.Equal(e.T, "succeeded", rc.Status)
	}
	u, err = e.Q.UserGet(e.Ctx, u.ID)
	require.NoError(e.T, err)
	return u
}

// Investor is an investor with a risk level.
func (e *Env) Investor(level, recharge string) dbq.User {
	e.T.Helper()
	u := e.User(lending.RoleInvestor, recharge)
	require.NoError(e.T, e.Q.UserSetRiskLevel(e.Ctx, dbq.UserSetRiskLevelParams{ID: u.ID, RiskLevel: &level}))
	u.RiskLevel = &level
	return u
}

// ListedLoan makes a loan already screened and listed until expires.
func (e *Env) ListedLoan(borrower dbq.User, amount, grade, rate string, term int, newbie bool) dbq.Loan {
	e.T.Helper()
	loan, err := e.Q.LoanInsert(e.Ctx, dbq.LoanInsertParams{
		BorrowerID: borrower.ID, Amount: decimal.RequireFromString(amount), TermMonths: int32(term),
		RepaymentMethod: "equal_installment", Purpose: "test", MonthlyIncome: decimal.RequireFromString("50000.00"),
		WorkflowID: fmt.Sprintf("loan-test-%d", e.n.Add(1)), AppliedOn: e.Today,
	})
	require.NoError(e.T, err)
	_, err = e.Pool.Exec(e.Ctx, `UPDATE loans SET status = 'approved' WHERE id = $1`, loan.ID)
	require.NoError(e.T, err)
	r := decimal.RequireFromString(rate)
	exp := e.Today.AddDate(0, 0, 7)
	loan, err = e.Q.LoanList(e.Ctx, dbq.LoanListParams{ID: loan.ID, Grade: &grade, AnnualRate: &r, Newbie: newbie, ListedOn: &e.Today, ListingExpiresOn: &exp})
	require.NoError(e.T, err)
	return loan
}

// Balance is an account's balance at the bank, available and frozen.
func (e *Env) Balance(accountNo string) (string, string) {
	e.T.Helper()
	b, err := e.Bank.Balance(e.Ctx, accountNo)
	require.NoError(e.T, err)
	return b.Available.StringFixed(2), b.Frozen.StringFixed(2)
}
