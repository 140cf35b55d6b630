package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/workflows"
)

// TestActionsPerLoan carries a 3-, a 12- and a 36-month loan from application
// to repaid on the happy path (one bid, auto-debit on every due date) and
// counts each one's billable Temporal actions from its real histories.
func TestActionsPerLoan(t *testing.T) {
	needBench(t)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := startStack(t, stackOptions{clockStart: day})
	ctx := context.Background()
	pool, err := db.Open(ctx, s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()

	terms := []int{3, 12, 36}
	const amount = "12000.00"
	inv := s.investor(fmt.Sprintf("%d.00", 12000*len(terms)))
	ids := make([]int64, len(terms))
	for i, term := range terms {
		b := s.signUp("borrower")
		s.call("POST", "/v1/me/recharges", b.token, obj{"amount": "3000.00"}, 201)
		loan := s.call("POST", "/v1/loans", b.token, obj{"amount": amount, "term_months": term,
			"repayment_method": "equal_installment", "purpose": "actions", "monthly_income": "50000.00"}, 201)
		id := int64(loan["loan_id"].(float64))
		ids[i] = id
		s.waitStatus(id, string(lending.StatusListed), 100*time.Millisecond)
		s.call("POST", fmt.Sprintf("/v1/listings/%d/bids", id), inv.token, obj{"amount": amount}, 201)
		s.waitStatus(id, string(lending.StatusFullReview), 100*time.Millisecond)
		s.call("POST", fmt.Sprintf("/v1/ops/loans/%d/full-tender-review", id), s.opsToken, obj{"decision": "approve", "note": "bench"}, 200)
		s.waitStatus(id, string(lending.StatusRepaying), 100*time.Millisecond)
		s.call("POST", fmt.Sprintf("/v1/loans/%d/repayment-authorization", id), b.token, obj{"max_amount": "5000.00", "expires_on": "2030-12-31"}, 201)
	}
	to := day.AddDate(0, terms[len(terms)-1]+1, 0)
	t0 := time.Now()
	s.call("POST", "/v1/ops/clock/advance", s.opsToken, obj{"to": to.Format(time.DateOnly)}, 200)
	t.Logf("clock advanced %s → %s in %s", day.Format(time.DateOnly), to.Format(time.DateOnly), time.Since(t0).Round(100*time.Millisecond))

	rows := [][2]string{}
	for i, id := range ids {
		s.waitStatus(id, string(lending.StatusRepaid), 200*time.Millisecond)
		runs, err := FetchRuns(ctx, s.tc, workflows.LoanWorkflowID(id))
		require.NoError(t, err)
		a := CountActions(runs...)
		rows = append(rows, [2]string{fmt.Sprintf("%d months (loan %d)", terms[i], id), a.String()})
	}
	report(t, "Temporal actions per loan (happy path, auto-debit)", rows)
}
