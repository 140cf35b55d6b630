package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank/sim"
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
	t.Parallel()
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
	t.Parallel()
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

// TestRejectedGuaranteedAfterDiligenceAndRetriedDisbursement carries a loan
// down each path before repayment that no other test records, by HTTP alone:
//   - rejected at screening: 30,000.00 over 12 months on an income of
//     1,000.00 a month scores 600 − 150 (the burden, 2,500.00 + 275.00, is
//     2.775 times the income) + 30 (age 36) = 480, under 500;
//   - due diligence with a guarantor: 60,000.00 goes to ops (over 50,000.00),
//     who approve it; it then waits for its guarantor, who accepts, and is
//     listed; the borrower cancels it;
//   - a disbursement retried: the bank fails the first batch (nothing moves),
//     ops retry it under a new attempt number, and the loan is paid off the
//     day it was disbursed: its principal and no interest.
func TestRejectedGuaranteedAfterDiligenceAndRetriedDisbursement(t *testing.T) {
	t.Parallel()
	s := start(t, "2026-03-02")
	ops := s.opsToken()

	rejectedBy := s.signUp("borrower", "褚一")
	rejected := s.call("POST", "/v1/loans", rejectedBy.token, obj{"amount": "30000.00", "term_months": 12,
		"repayment_method": "equal_installment", "purpose": "renovation", "monthly_income": "1000.00"}, 201)["loan_id"].(float64)
	s.waitFor("rejected", func() bool { return s.loanStatus(ops, rejected) == "rejected" })
	hist := s.call("GET", fmt.Sprintf("/v1/loans/%.0f", rejected), ops, nil, 200)["history"].([]any)
	require.Equal(t, "credit score 480 below 500", hist[len(hist)-1].(obj)["note"])

	borrower, guarantor := s.signUp("borrower", "卫二"), s.signUp("guarantor", "蒋三")
	guaranteed := s.call("POST", "/v1/loans", borrower.token, obj{"amount": "60000.00", "term_months": 3,
		"repayment_method": "equal_installment", "purpose": "equipment", "monthly_income": "80000.00",
		"guarantor_user_id": guarantor.id}, 201)["loan_id"].(float64)
	s.waitFor("due diligence", func() bool { return s.loanStatus(ops, guaranteed) == "due_diligence" })
	require.Equal(t, "awaiting_guarantor", s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/due-diligence", guaranteed), ops,
		obj{"decision": "approve", "note": "collateral seen"}, 200)["status"])
	require.Equal(t, "listed", s.call("POST", fmt.Sprintf("/v1/loans/%.0f/guarantee", guaranteed), guarantor.token,
		obj{"decision": "accept"}, 200)["status"])
	require.Equal(t, "cancelled", s.call("POST", fmt.Sprintf("/v1/loans/%.0f/cancel", guaranteed), borrower.token, nil, 200)["status"])

	// 12,000.00 over 2 months, grade A: the borrower receives 12,000.00 − 120.00
	// fee − 240.00 reserve = 11,640.00.
	retriedBy := s.signUp("borrower", "沈四")
	a, b := s.investor("韩五", "6000.00"), s.investor("杨六", "6000.00")
	retried := s.listed(ops, retriedBy, "12000.00", 2)
	s.fill(ops, retried, map[*person]string{&a: "6000.00", &b: "6000.00"})
	s.sim.SetFaults(sim.FaultConfig{BatchFail: 1})
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", retried), ops, obj{"decision": "approve", "note": "ok"}, 200)
	s.waitFor("the batch failed", func() bool {
		hist := s.call("GET", fmt.Sprintf("/v1/loans/%.0f", retried), ops, nil, 200)["history"].([]any)
		return strings.Contains(hist[len(hist)-1].(obj)["note"].(string), "waiting for ops to retry")
	})
	require.Equal(t, "0.00", s.bankBalance(retriedBy.acct), "a failed batch moved nothing")
	s.sim.SetFaults(sim.FaultConfig{})
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/disbursement/retry", retried), ops, nil, 202)
	s.waitFor("repaying", func() bool { return s.loanStatus(ops, retried) == "repaying" })
	require.Equal(t, "11640.00", s.bankBalance(retriedBy.acct), "disbursed once")
	s.call("POST", "/v1/me/recharges", retriedBy.token, obj{"amount": "360.00"}, 201)
	require.Equal(t, "12000.00", s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayments", retried), retriedBy.token,
		obj{"kind": "payoff"}, 201)["amount"])
	require.Equal(t, "repaid", s.loanStatus(ops, retried))
	require.Equal(t, "6000.00", s.bankBalance(a.acct))
	require.Equal(t, "6000.00", s.bankBalance(b.acct))

	s.conserved()
	for name, id := range map[string]float64{"loan_screening_rejected": rejected,
		"loan_guaranteed_after_due_diligence": guaranteed, "loan_disbursement_retried": retried} {
		recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(id)), name)
	}
}

// TestWriteOffDeclinedUntilTheLoanContinuesAsNew: 12,000.00 over 3 months,
// disbursed on 2 March and never paid (the borrower withdraws it all and
// authorizes no debit). From DPD 91 (2 July) ops are asked to write it off;
// they decline, and are asked again every 30 days, until the run's history
// is long enough to continue as new (docs/workflow.md "Continue-As-New").
// The next run carries the loan on: asked once more, ops approve, and it is
// written off with every decline in its history.
func TestWriteOffDeclinedUntilTheLoanContinuesAsNew(t *testing.T) {
	t.Parallel()
	s := start(t, "2026-03-02")
	ops := s.opsToken()
	borrower := s.signUp("borrower", "朱七")
	inv := s.investor("秦八", "12000.00")
	id := s.listed(ops, borrower, "12000.00", 3)
	s.fill(ops, id, map[*person]string{&inv: "12000.00"})
	s.approve(ops, id)
	s.call("POST", "/v1/me/withdrawals", borrower.token, obj{"amount": "11640.00"}, 201)
	s.waitFor("withdrawn", func() bool { return s.bankBalance(borrower.acct) == "0.00" })

	path := fmt.Sprintf("/v1/ops/loans/%.0f/write-off", id)
	day := time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC) // DPD 91 of installment 1
	runs := func() int {
		r, err := bench.FetchRuns(context.Background(), s.tc, workflows.LoanWorkflowID(int64(id)))
		require.NoError(t, err)
		return len(r)
	}
	declined := 0
	for runs() == 1 {
		require.Less(t, declined, 40, "the run never continued as new")
		s.advance(ops, day.Format(time.DateOnly))
		require.Equal(t, "overdue", s.call("POST", path, ops, obj{"decision": "reject", "note": "still collecting"}, 200)["status"])
		declined++
		s.call("POST", path, ops, obj{"decision": "approve", "note": "not asked again yet"}, 409)
		day = day.AddDate(0, 0, 30)
	}
	s.advance(ops, day.Format(time.DateOnly))
	require.Equal(t, "written_off", s.call("POST", path, ops, obj{"decision": "approve", "note": "uncollectable"}, 200)["status"])
	t.Logf("%d declines, %d runs", declined, runs())

	notes := 0
	for _, h := range s.call("GET", fmt.Sprintf("/v1/loans/%.0f", id), ops, nil, 200)["history"].([]any) {
		if strings.HasPrefix(h.(obj)["note"].(string), "write-off declined") {
			notes++
		}
	}
	require.Equal(t, declined, notes, "every decline is in the loan's history, across the runs")
	s.conserved()
	recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(id)), "loan_written_off_declined")
}
