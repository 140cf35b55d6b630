package events_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

// A loan's history row that changes its status is the event
// loan.<status>, with the status before it and the row's note, for the
// borrower; a row that keeps the status (an auto-debit noted) or is written
// again (a retried step) is none.
func TestEveryStatusChangeIsAnEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.Queries(pool)
	u, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: "b@test", PasswordHash: "x", Role: lending.RoleBorrower, Name: "n", IDNumber: "1", Phone: "1"}))
	require.NoError(t, err)
	loan, err := q.LoanInsert(ctx, dbq.LoanInsertParams{BorrowerID: u.ID, Amount: decimal.RequireFromString("1000.00"), TermMonths: 3,
		RepaymentMethod: "bullet", Purpose: "p", MonthlyIncome: decimal.RequireFromString("1.00"), WorkflowID: "w", AppliedOn: day})
	require.NoError(t, err)
	for _, r := range []struct {
		seq    int32
		status lending.Status
		note   string
	}{
		{0, lending.StatusSubmitted, "application received"},
		{1, lending.StatusScreening, "screening"},
		{2, lending.StatusScreening, "score 700"},
		{2, lending.StatusScreening, "score 700"},
		{3, lending.StatusApproved, "approved"},
		{3, lending.StatusApproved, "approved"},
	} {
		require.NoError(t, q.LoanHistoryInsert(ctx, dbq.LoanHistoryInsertParams{LoanID: loan.ID, Seq: r.seq, Status: r.status, BusinessDate: day, Note: r.note}))
	}
	feed, err := events.Feed(ctx, pool, 0, 10)
	require.NoError(t, err)
	type data struct {
		Status         lending.Status  `json:"status"`
		PreviousStatus *lending.Status `json:"previous_status"`
		Note           string          `json:"note"`
	}
	var types []string
	var got []data
	for _, e := range feed {
		types = append(types, e.Type)
		assert.Equal(t, loan.ID, e.LoanID)
		assert.Equal(t, u.ID, e.UserID, "the borrower")
		var d data
		require.NoError(t, json.Unmarshal(e.Data, &d))
		got = append(got, d)
	}
	assert.Equal(t, []string{events.LoanType(lending.StatusSubmitted), events.LoanType(lending.StatusScreening), events.LoanType(lending.StatusApproved)}, types)
	submitted, screening := lending.StatusSubmitted, lending.StatusScreening
	assert.Equal(t, []data{
		{Status: lending.StatusSubmitted, Note: "application received"},
		{Status: lending.StatusScreening, PreviousStatus: &submitted, Note: "screening"},
		{Status: lending.StatusApproved, PreviousStatus: &screening, Note: "approved"},
	}, got)
}

// The types a webhook may ask for, and what each matches.
func TestTypesAndSubscriptions(t *testing.T) {
	for _, p := range []string{"*", "loan.*", "ledger.*", "loan.repaid", "ledger.freeze", "ledger.bonus_top_up", "coupon.*", "coupon.payment_failed"} {
		assert.True(t, events.Subscribable(p), p)
	}
	for _, p := range []string{"", "loan", "loan.paid", "Loan.repaid", "report.*", "ledger.", "ledger.a.b", "*.*", "loan.repaid "} {
		assert.False(t, events.Subscribable(p), "%q", p)
	}
	assert.True(t, events.Matches("*", "loan.listed"))
	assert.True(t, events.Matches("loan.*", "loan.listed"))
	assert.False(t, events.Matches("loan.*", "ledger.freeze"))
	assert.True(t, events.Matches("ledger.freeze", "ledger.freeze"))
	assert.False(t, events.Matches("ledger.freeze", "ledger.unfreeze"))
	assert.False(t, events.Matches("loan.*", "loanx.listed"))
}
