package loans

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/users"
	"github.com/lendflow/lendflow/workflows"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// The principal cap (docs/rules.md "Limits"): what the borrower owes with
// the loan applied for may reach 200,000.00 and not pass it; a refusal
// carries the figures the borrower needs.
func TestCheckCap(t *testing.T) {
	for _, c := range []struct {
		outstanding, amount string
		refused             bool
	}{
		{"0.00", "200000.00", false},
		{"150000.00", "50000.00", false}, // exactly the cap passes
		{"150000.00", "50000.01", true},
		{"199999.99", "1000.00", true},
		{"0.00", "200000.01", true},
	} {
		err := CheckCap(d(c.outstanding), d(c.amount))
		if !c.refused {
			assert.NoError(t, err, "%s + %s", c.outstanding, c.amount)
			continue
		}
		require.Equal(t, errs.LimitExceeded, errs.Code(err), "%s + %s", c.outstanding, c.amount)
		var e *errs.Error
		require.ErrorAs(t, err, &e)
		assert.True(t, e.Figures["outstanding"].Equal(d(c.outstanding)), "the borrower's outstanding principal before this loan")
		assert.True(t, e.Figures["cap"].Equal(lending.PrincipalCap))
	}
}

// fixture is a database with a sandbox clock on 2026-01-31 and a borrower
// with a custody account.
type fixture struct {
	ctx      context.Context
	pool     *pgxpool.Pool
	q        *dbq.Queries
	clock    *clock.Clock
	borrower users.User
	ops      users.User
}

func newFixture(t *testing.T) *fixture {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	clk := clock.New(pool, nil, nil, quiet)
	require.NoError(t, clk.Init(ctx, clock.Sandbox, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)))
	f := &fixture{ctx: ctx, pool: pool, q: db.Queries(pool), clock: clk}
	b, err := f.q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: "b@test.cn", PasswordHash: "x", Role: lending.RoleBorrower, Name: "张三",
		IDNumber: "110105198501010011", Phone: "13900000001"}))
	require.NoError(t, err)
	acct, card := "acct-1", "6214830100000000001"
	b, err = f.q.UserSetCustodyAccount(ctx, dbq.UserSetCustodyAccountParams{ID: b.ID, CustodyAccountNo: &acct, CardNumber: pii.SealPtr(&card)})
	require.NoError(t, err)
	f.borrower, err = users.From(b)
	require.NoError(t, err)
	o, err := f.q.UserInsert(ctx, dbq.UserInsertParams{Email: "ops@test.cn", PasswordHash: "x", Role: lending.RoleOps, Name: "ops"})
	require.NoError(t, err)
	f.ops, err = users.From(o)
	require.NoError(t, err)
	return f
}

// loan inserts a loan of the borrower's in status.
func (f *fixture) loan(t *testing.T, amount string, status lending.Status) dbq.Loan {
	t.Helper()
	l, err := f.q.LoanInsert(f.ctx, dbq.LoanInsertParams{BorrowerID: f.borrower.ID, Amount: d(amount), TermMonths: 12,
		RepaymentMethod: "equal_installment", Purpose: "test", MonthlyIncome: d("50000.00"), WorkflowID: "loan-test-" + amount,
		AppliedOn: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `UPDATE loans SET status = $2 WHERE id = $1`, l.ID, status)
	require.NoError(t, err)
	l.Status = status
	return l
}

// Apply refuses an application that would take the borrower past the
// principal cap, before anything is written or started, and takes one
// that reaches it exactly: recorded submitted, its workflow started.
func TestApplyKeepsThePrincipalCap(t *testing.T) {
	f := newFixture(t)
	f.loan(t, "150000.00", lending.StatusListed)
	tc := mocks.NewClient(t)
	svc := New(Deps{Pool: f.pool, Temporal: tc, Clock: f.clock, Log: quiet})
	app := Application{Amount: d("50000.01"), TermMonths: 12, RepaymentMethod: "equal_installment", Purpose: "shop", MonthlyIncome: d("30000.00")}

	_, err := svc.Apply(f.ctx, f.borrower, app, "")
	require.Equal(t, errs.LimitExceeded, errs.Code(err))
	var e *errs.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "150000.00", e.Figures["outstanding"].StringFixed(2))
	assert.Equal(t, "200000.00", e.Figures["cap"].StringFixed(2))
	var n int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM loans`).Scan(&n))
	assert.Equal(t, 1, n, "nothing written")

	var started client.StartWorkflowOptions
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.LoanWorkflowName, mock.Anything).
		Run(func(a mock.Arguments) { started = a.Get(1).(client.StartWorkflowOptions) }).Return(nil, nil).Once()
	app.Amount = d("50000.00")
	loan, err := svc.Apply(f.ctx, f.borrower, app, "")
	require.NoError(t, err)
	assert.Equal(t, lending.StatusSubmitted, loan.Status)
	assert.Equal(t, workflows.LoanWorkflowID(loan.ID), loan.WorkflowID)
	assert.Equal(t, loan.WorkflowID, started.ID, "its workflow started, under the loan's ID")
}
