package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/workflows"
)

// TestExpiryReleasesFreezesAndOverdueEndsInWriteOff carries two loans
// through the unhappy paths, by HTTP and the sandbox clock alone:
//   - a listing that never fills expires (流标) and every investor's freeze is
//     released at the bank;
//   - a loan whose borrower never pays goes overdue the day after its due
//     date, climbs the collection ladder, and once more than 90 days past due
//     ops write it off; a write-off asked for earlier is refused.
func TestExpiryReleasesFreezesAndOverdueEndsInWriteOff(t *testing.T) {
	t.Parallel()
	s := start(t, "2026-03-01")
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)
	borrower := s.signUp("borrower", "钱七")
	inv := s.signUp("investor", "孙八")
	s.call("POST", "/v1/me/risk-assessment", inv.token, obj{"answers": []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4}}, 200)
	s.call("POST", "/v1/me/recharges", inv.token, obj{"amount": "5000.00"}, 201)

	apply := func(amount string) float64 {
		r := s.call("POST", "/v1/loans", borrower.token, obj{"amount": amount, "term_months": 2,
			"repayment_method": "equal_principal", "purpose": "stock", "monthly_income": "30000.00"}, 201)
		id := r["loan_id"].(float64)
		s.waitFor("listed", func() bool { return s.loanStatus(ops, id) == "listed" })
		return id
	}

	// Expiry: 1,000.00 frozen of 3,000.00, then the seven days pass.
	unfilled := apply("3000.00")
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", unfilled), inv.token, obj{"amount": "1000.00"}, 201)
	acct := s.call("GET", "/v1/me/account", inv.token, nil, 200)
	require.Equal(t, "4000.00", acct["available"])
	require.Equal(t, "1000.00", acct["frozen"])
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": "2026-03-08"}, 200)
	require.Equal(t, "expired", s.loanStatus(borrower.token, unfilled))
	require.Equal(t, "5000.00", s.bankBalance(inv.acct), "the freeze is released at the bank")
	acct = s.call("GET", "/v1/me/account", inv.token, nil, 200)
	require.Equal(t, "0.00", acct["frozen"])

	// Overdue: 2,000.00 over 2 months, disbursed on 8 March, due 8 April and 8 May.
	// No authorization and no money: nothing is paid.
	// Small grade A loans are newbie listings (新手标): the investor who bid
	// before is refused; a new one is admitted.
	unpaid := apply("2000.00")
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", unpaid), inv.token, obj{"amount": "2000.00"}, 409)
	newbie := s.signUp("investor", "周九")
	s.call("POST", "/v1/me/risk-assessment", newbie.token, obj{"answers": []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4}}, 200)
	s.call("POST", "/v1/me/recharges", newbie.token, obj{"amount": "2000.00"}, 201)
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", unpaid), newbie.token, obj{"amount": "2000.00"}, 201)
	s.waitFor("review", func() bool { return s.loanStatus(ops, unpaid) == "full_review" })
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", unpaid), ops, obj{"decision": "approve", "note": "ok"}, 200)
	s.waitFor("repaying", func() bool { return s.loanStatus(ops, unpaid) == "repaying" })
	// The borrower spends what was disbursed, so nothing is there on the due date.
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": "2026-04-09"}, 200)
	require.Equal(t, "overdue", s.loanStatus(borrower.token, unpaid), "%v", s.call("GET", fmt.Sprintf("/v1/loans/%.0f", unpaid), ops, nil, 200))
	sched := s.call("GET", fmt.Sprintf("/v1/loans/%.0f/schedule", unpaid), newbie.token, nil, 200)["installments"].([]any)
	first := sched[0].(obj)
	require.Equal(t, "overdue", first["status"])
	// Grade and rate come from screening; the penalty is one day of 0.05 % on principal + interest.
	require.NotEqual(t, "0.00", first["penalty"])

	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/write-off", unpaid), ops, obj{"decision": "approve", "note": "too early"}, 409)
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": "2026-07-08"}, 200) // DPD 91
	hist := s.call("GET", fmt.Sprintf("/v1/loans/%.0f", unpaid), ops, nil, 200)["history"].([]any)
	notes := ""
	for _, h := range hist {
		notes += h.(obj)["note"].(string) + "\n"
	}
	for _, step := range []string{"M1 overdue notice (DPD 1)", "M2 ops collection task opened (DPD 31)", "M3 compensation due (DPD 61)", "ops asked to write off (DPD 91)"} {
		require.Contains(t, notes, step)
	}
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/write-off", unpaid), ops, obj{"decision": "approve", "note": "uncollectable"}, 200)
	require.Equal(t, "written_off", s.loanStatus(ops, unpaid))
	stats := s.call("GET", "/v1/stats", "", nil, 200)
	require.Equal(t, "2000.00", stats["written_off"], "all principal was unpaid")
	require.Equal(t, "0.00", stats["outstanding_principal"])

	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, ledger.CheckConservation(context.Background(), pool))
	recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(unfilled)), "loan_expired")
	recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(unpaid)), "loan_written_off")
}
