package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bench"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/workflows"
)

// investor signs up an investor with money and a risk level that covers every grade.
func (s *stack) investor(name, money string) person {
	s.t.Helper()
	p := s.signUp("investor", name)
	s.call("POST", "/v1/me/risk-assessment", p.token, obj{"answers": []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4}}, 200)
	if money != "" {
		s.call("POST", "/v1/me/recharges", p.token, obj{"amount": money}, 201)
	}
	return p
}

// listed applies for a loan and waits until it is listed.
func (s *stack) listed(ops string, borrower person, amount string, term int) float64 {
	s.t.Helper()
	r := s.call("POST", "/v1/loans", borrower.token, obj{"amount": amount, "term_months": term,
		"repayment_method": "equal_installment", "purpose": "working capital", "monthly_income": "80000.00"}, 201)
	id := r["loan_id"].(float64)
	s.waitFor("listed", func() bool { return s.loanStatus(ops, id) == "listed" })
	return id
}

// fill has each investor bid its amount and waits for full-tender review.
func (s *stack) fill(ops string, id float64, bids map[*person]string) {
	s.t.Helper()
	for inv, amt := range bids {
		s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), inv.token, obj{"amount": amt}, 201)
	}
	s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, id) == "full_review" })
}

func (s *stack) approve(ops string, id float64) {
	s.t.Helper()
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", id), ops, obj{"decision": "approve", "note": "ok"}, 200)
	s.waitFor("repaying", func() bool { return s.loanStatus(ops, id) == "repaying" })
}

func (s *stack) advance(ops, to string) {
	s.t.Helper()
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": to}, 200)
}

func (s *stack) opsToken() string {
	return s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)
}

func (s *stack) conserved() {
	s.t.Helper()
	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(s.t, err)
	defer pool.Close()
	require.NoError(s.t, ledger.CheckConservation(context.Background(), pool))
}

// TestCancelReviewRejectCurePayoff carries a loan down each remaining path
// of the lifecycle, by HTTP and the sandbox clock alone, and records each
// history for the replay test:
//   - cancelled while listed: the borrower cancels, the bid's freeze is released;
//   - review rejected: ops reject the full listing, every freeze is released;
//   - overdue then cured: no money on the due date, overdue on DPD 1, the
//     borrower pays by hand on DPD 5 (one penalty day per day late) and is
//     current again; the second installment is auto-debited and the loan repaid;
//   - payoff: paid off by hand ten days in, with interest accrued by days.
func TestCancelReviewRejectCurePayoff(t *testing.T) {
	s := start(t, "2026-03-02")
	ops := s.opsToken()
	borrower := s.signUp("borrower", "陈一")
	a, b := s.investor("吴二", "20000.00"), s.investor("郑三", "20000.00")

	// Cancelled while listed: 12,000.00, one bid of 1,000.00, released at once.
	cancelled := s.listed(ops, borrower, "12000.00", 2)
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", cancelled), a.token, obj{"amount": "1000.00"}, 201)
	require.Equal(t, "cancelled", s.call("POST", fmt.Sprintf("/v1/loans/%.0f/cancel", cancelled), borrower.token, nil, 200)["status"])
	require.Equal(t, "20000.00", s.bankBalance(a.acct))
	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/cancel", cancelled), borrower.token, nil, 409)

	// Review rejected: both freezes released.
	rejected := s.listed(ops, borrower, "12000.00", 2)
	s.fill(ops, rejected, map[*person]string{&a: "6000.00", &b: "6000.00"})
	require.Equal(t, "review_rejected", s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", rejected), ops,
		obj{"decision": "reject", "note": "documents inconsistent"}, 200)["status"])
	s.waitFor("released", func() bool { return s.call("GET", "/v1/me/account", b.token, nil, 200)["frozen"] == "0.00" })
	require.Equal(t, "20000.00", s.bankBalance(a.acct))
	require.Equal(t, "20000.00", s.bankBalance(b.acct))

	// Overdue then cured: 12,000.00 over 2 months at grade A 6.5 %, disbursed 2 March.
	// r = 0.065/12; A = round(12000·r·(1+r)^2/((1+r)^2−1)) = round(6048.7939) = 6048.79;
	// 1: interest round(12000·r) = 65.00, principal 5983.79;
	// 2: interest round(6016.21·r) = 32.59, principal 6016.21 (the rest), payment 6048.80.
	cured := s.listed(ops, borrower, "12000.00", 2)
	s.fill(ops, cured, map[*person]string{&a: "8000.00", &b: "4000.00"})
	s.approve(ops, cured)
	// The borrower keeps 12,000 − fee 1 % 120.00 − reserve 2 % 240.00 = 11,640.00, and spends
	// all but 40.00 of it, so the due-date auto-debit on 2 April takes those 40.00 (a partial
	// payment, to the interest first) and the rest of installment 1 is overdue from 3 April.
	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", cured), borrower.token, obj{"max_amount": "7000.00", "expires_on": "2026-12-31"}, 201)
	s.call("POST", "/v1/me/withdrawals", borrower.token, obj{"amount": "11600.00"}, 201)
	s.waitFor("withdrawn", func() bool { return s.bankBalance(borrower.acct) == "40.00" })
	s.advance(ops, "2026-04-07") // DPD 5
	require.Equal(t, "overdue", s.loanStatus(borrower.token, cured))
	// Five days late, penalty on what is unpaid only: 5 × round(6008.79 × 0.0005) = 5 × 3.00 = 15.00;
	// by hand the borrower pays the rest: 6008.79 + 15.00 = 6023.79.
	s.call("POST", "/v1/me/recharges", borrower.token, obj{"amount": "12200.00"}, 201)
	paid := s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayments", cured), borrower.token, obj{"kind": "next"}, 201)
	require.Equal(t, "6023.79", paid["amount"])
	require.Equal(t, "repaying", s.loanStatus(borrower.token, cured))
	s.advance(ops, "2026-05-02")
	require.Equal(t, "repaid", s.loanStatus(borrower.token, cured))
	sched := s.call("GET", fmt.Sprintf("/v1/loans/%.0f/schedule", cured), borrower.token, nil, 200)["installments"].([]any)
	require.Equal(t, "15.00", sched[0].(obj)["penalty"])
	require.Equal(t, "6063.79", sched[0].(obj)["paid"], "40.00 on the due date, 6023.79 by hand")
	require.Equal(t, "6048.80", sched[1].(obj)["paid"], "6016.21 + 32.59")

	// Payoff: 12,000.00 over 3 months disbursed 2 May; paid off on 12 May:
	// principal 12,000.00 + round(65.00 × 10/31) = 20.97.
	payoff := s.listed(ops, borrower, "12000.00", 3)
	s.fill(ops, payoff, map[*person]string{&a: "6000.00", &b: "6000.00"})
	s.approve(ops, payoff)
	s.advance(ops, "2026-05-12")
	s.call("POST", "/v1/me/recharges", borrower.token, obj{"amount": "1000.00"}, 201)
	got := s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayments", payoff), borrower.token, obj{"kind": "payoff"}, 201)
	require.Equal(t, "12020.97", got["amount"])
	require.Equal(t, "repaid", s.loanStatus(borrower.token, payoff))
	s.advance(ops, "2026-06-03")
	for _, n := range s.notifications(borrower.token) {
		require.NotContains(t, n, fmt.Sprintf("repayment_reminder loan %.0f ", payoff), "the reminders of a loan paid off are withdrawn")
	}

	s.conserved()
	for name, id := range map[string]float64{"loan_cancelled": cancelled, "loan_review_rejected": rejected, "loan_overdue_cured": cured, "loan_payoff": payoff} {
		recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(id)), name)
	}
}

// notifications lists a user's notifications as "kind loan L #installment business_date".
func (s *stack) notifications(token string) []string {
	s.t.Helper()
	var out []string
	path := "/v1/me/notifications"
	for {
		page := s.call("GET", path, token, nil, 200)
		for _, it := range page["items"].([]any) {
			n := it.(obj)
			line := n["kind"].(string)
			if l, ok := n["loan_id"].(float64); ok {
				line += fmt.Sprintf(" loan %.0f", l)
			}
			if i, ok := n["installment_no"].(float64); ok {
				line += fmt.Sprintf(" #%.0f", i)
			}
			out = append(out, line+" "+n["business_date"].(string))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return out
		}
		path = "/v1/me/notifications?cursor=" + next
	}
}

// TestActionsPerLoan measures what a loan costs in Temporal actions on the
// happy path: 3-, 12- and 36-month loans of two investors each, repaid by the
// due-date auto-debit, the clock advanced to each due date in turn (as ops or
// the wall clock would). It also shows every pre-due reminder going out: the
// rebuilt workflow's old self recorded reminders for installments 1 and 2
// only, because a clock update that reached a new run before its first step
// made it skip the reminder.
func TestActionsPerLoan(t *testing.T) {
	s := start(t, "2026-01-31")
	ops := s.opsToken()
	type loan struct {
		term     int
		id       float64
		borrower person
	}
	loans := []*loan{{term: 3}, {term: 12}, {term: 36}}
	for i, l := range loans {
		l.borrower = s.signUp("borrower", fmt.Sprintf("借款人%d", i))
		s.call("POST", "/v1/me/recharges", l.borrower.token, obj{"amount": "20000.00"}, 201)
		a, b := s.investor("投资人甲", "6000.00"), s.investor("投资人乙", "6000.00")
		l.id = s.listed(ops, l.borrower, "12000.00", l.term)
		s.fill(ops, l.id, map[*person]string{&a: "6000.00", &b: "6000.00"})
		s.approve(ops, l.id)
		s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", l.id), l.borrower.token, obj{"max_amount": "5000.00", "expires_on": "2029-12-31"}, 201)
	}
	start := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	for k := 1; k <= 36; k++ {
		due := start.AddDate(0, k, 0)
		if due.Day() != 31 { // clamped to the month's last day
			due = time.Date(due.Year(), due.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		}
		s.advance(ops, due.Format(time.DateOnly))
	}
	for _, l := range loans {
		require.Equal(t, "repaid", s.loanStatus(ops, l.id), "%d months", l.term)
		var reminders []string
		for _, n := range s.notifications(l.borrower.token) {
			if len(n) > 18 && n[:18] == "repayment_reminder" {
				reminders = append(reminders, n)
			}
		}
		assert.Len(t, reminders, l.term, "a reminder 3 days before every due date: %v", reminders)

		runs, err := bench.FetchRuns(context.Background(), s.tc, workflows.LoanWorkflowID(int64(l.id)))
		require.NoError(t, err)
		total := bench.CountActions(runs...)
		t.Logf("%2d months: %v", l.term, total)
		assert.Less(t, total.MaxRunEvents, 500, "every run stays under 500 events")
		switch l.term {
		case 12:
			assert.LessOrEqual(t, total.Total(), 60)
		case 36:
			assert.LessOrEqual(t, total.Total(), 150)
		}
		recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(l.id)), fmt.Sprintf("loan_repaid_%dm", l.term))
	}
	s.conserved()
}
