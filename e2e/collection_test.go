package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/workflows"
)

// TestAfterAMissedPayment carries two loans whose borrowers stop paying
// through the whole path after a missed payment, by HTTP and the sandbox
// clock alone (docs/rules.md "overdue", "compensation", "write-off"):
//   - a guaranteed loan: the guarantor accepts it; at M3 (DPD 61) the
//     guarantor pays the investors every overdue installment's unpaid
//     principal + interest + penalty in one batch; the borrower's later
//     payment of those claims goes to the guarantor;
//   - an unguaranteed one: at M3 the risk reserve pays what it holds, never
//     below zero; at DPD 91 ops write it off, every claim closing as a loss;
//     two recoveries debited from the borrower go to the holders pro rata to
//     what each lost.
//
// Every party's bank balance ends equal to the ledger, and money is conserved.
//
// The figures, worked by hand (and by an independent fractions model of the
// rules, which gave the same cents): 12,000.00 over 3 months at 6.5 %,
// r = 0.065/12, A = round(12000·r·(1+r)^3/((1+r)^3−1)) = 4043.41;
// installment 1 principal 3978.41 + interest 65.00, 2: 3999.96 + 43.45,
// 3: 4021.63 + 21.78. On 2 June (DPD 61) installment 1 carries 61 days of
// penalty, 61 × round(4043.41 × 0.05 %) = 61 × 2.02 = 123.22, installment 2
// 31 × 2.02 = 62.62: the investors are owed 4043.41 + 123.22 + 4043.41 + 62.62
// = 8272.66. On 5 June installment 1 costs its 4043.41 + 123.22 + 3 × 2.02 =
// 4172.69, all the guarantor's. The reserve's 480.00 pays loan B's installment
// 1 penalty 123.22, interest 65.00 and 291.78 of principal (the waterfall);
// at the write-off on 2 July the two investors have lost 6006.27 and 6006.25
// and the reserve 485.35 (its 480.00 and the penalty accrued on its part since),
// so 300.00 recovered is 144.18 / 144.17 / 11.65 (largest remainder) and
// 200.00 then 96.12 / 96.11 / 7.77.
func TestAfterAMissedPayment(t *testing.T) {
	t.Parallel()
	s := start(t, "2026-03-02")
	ops := s.opsToken()
	guarantor := s.signUp("guarantor", "担保人")
	s.call("POST", "/v1/me/recharges", guarantor.token, obj{"amount": "10000.00"}, 201)
	a1, a2 := s.investor("投资甲", "6000.00"), s.investor("投资乙", "6000.00")
	b1, b2 := s.investor("投资丙", "6000.00"), s.investor("投资丁", "6000.00")

	// The guaranteed loan waits for its guarantor; a user who is not one cannot be named.
	ba := s.signUp("borrower", "王借款")
	apply := obj{"amount": "12000.00", "term_months": 3, "repayment_method": "equal_installment", "purpose": "inventory",
		"monthly_income": "80000.00", "guarantor_user_id": a1.id}
	require.Equal(t, "not_guarantor", s.call("POST", "/v1/loans", ba.token, apply, 403)["code"])
	apply["guarantor_user_id"] = guarantor.id
	ga := s.call("POST", "/v1/loans", ba.token, apply, 201)["loan_id"].(float64)
	s.waitFor("awaiting the guarantor", func() bool { return s.loanStatus(ops, ga) == "awaiting_guarantor" })
	other := s.signUp("guarantor", "别的担保人")
	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/guarantee", ga), other.token, obj{"decision": "accept"}, 404)
	require.Equal(t, "listed", s.call("POST", fmt.Sprintf("/v1/loans/%.0f/guarantee", ga), guarantor.token, obj{"decision": "accept"}, 200)["status"])
	require.Equal(t, guarantor.id, s.call("GET", fmt.Sprintf("/v1/loans/%.0f", ga), guarantor.token, nil, 200)["guarantor_user_id"])
	s.fill(ops, ga, map[*person]string{&a1: "6000.00", &a2: "6000.00"})
	s.approve(ops, ga)

	bb := s.signUp("borrower", "李借款")
	gb := s.listed(ops, bb, "12000.00", 3)
	s.fill(ops, gb, map[*person]string{&b1: "6000.00", &b2: "6000.00"})
	s.approve(ops, gb)

	// Grade A, 6.5 %, disbursed 2 March: due 2 April, 2 May, 2 June; each borrower keeps
	// 12,000 − fee 120.00 − reserve 240.00 = 11,640.00 and takes it all out, so nothing is paid.
	for _, b := range []person{ba, bb} {
		s.call("POST", "/v1/me/withdrawals", b.token, obj{"amount": "11640.00"}, 201)
	}
	s.waitFor("withdrawn", func() bool { return s.bankBalance(ba.acct) == "0.00" && s.bankBalance(bb.acct) == "0.00" })
	require.Equal(t, "480.00", s.bankBalance(bank.AccountRiskReserve), "2 % of each loan")

	// M3 on 2 June, DPD 61 of installment 1; installment 2 is 31 days past due.
	s.advance(ops, "2026-06-02")
	for _, id := range []float64{ga, gb} {
		require.Equal(t, "overdue", s.loanStatus(ops, id))
	}
	schedA := s.schedule(ops, ga)
	owedA := decimal.Zero
	for _, i := range schedA[:2] {
		owedA = owedA.Add(dec(i["principal"])).Add(dec(i["interest"])).Add(dec(i["penalty"]))
		require.Equal(t, "0.00", i["paid"].(string))
	}
	compA := dec(schedA[0]["compensated"]).Add(dec(schedA[1]["compensated"]))
	require.Equal(t, "8272.66", owedA.StringFixed(2))
	require.Equal(t, []string{"4166.63", "4106.03"}, []string{schedA[0]["compensated"].(string), schedA[1]["compensated"].(string)})
	require.Equal(t, owedA.StringFixed(2), compA.StringFixed(2), "the guarantor compensated every overdue installment in full")
	require.Equal(t, "0.00", schedA[2]["compensated"], "installment 3 is not overdue yet")
	require.Equal(t, decimal.RequireFromString("10000.00").Sub(owedA).StringFixed(2), s.bankBalance(guarantor.acct))
	g := s.call("GET", "/v1/me/guarantees", guarantor.token, nil, 200)["items"].([]any)[0].(obj)
	require.Equal(t, owedA.StringFixed(2), g["compensated"])
	require.Equal(t, "0.00", g["recovered"])
	require.Contains(t, s.kinds(guarantor.token), "compensation_paid")
	require.Contains(t, s.kinds(a1.token), "compensation_received")

	// The reserve held 480.00, less than loan B's investors were owed: it pays all it has.
	schedB := s.schedule(ops, gb)
	compB := dec(schedB[0]["compensated"]).Add(dec(schedB[1]["compensated"]))
	require.Equal(t, "480.00", compB.StringFixed(2))
	require.Equal(t, "0.00", s.bankBalance(bank.AccountRiskReserve), "never below zero")

	// The guaranteed loan's borrower pays installment 1 on 5 June: all of it goes to the
	// guarantor, who holds the claim, penalty included (61 days compensated, 3 more its own).
	s.advance(ops, "2026-06-05")
	s.call("POST", "/v1/me/recharges", ba.token, obj{"amount": "6000.00"}, 201)
	before := dec(s.bankBalance(guarantor.acct))
	a1Before := dec(s.bankBalance(a1.acct))
	paid := dec(s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayments", ga), ba.token, obj{"kind": "next"}, 201)["amount"])
	require.Equal(t, "4172.69", paid.StringFixed(2))
	require.Equal(t, before.Add(paid).StringFixed(2), s.bankBalance(guarantor.acct))
	require.Equal(t, a1Before.StringFixed(2), s.bankBalance(a1.acct), "the investors were paid at M3; the borrower now pays the guarantor")
	g = s.call("GET", "/v1/me/guarantees", guarantor.token, nil, 200)["items"].([]any)[0].(obj)
	require.Equal(t, paid.StringFixed(2), g["recovered"])
	t.Logf("guaranteed loan %.0f: the guarantor compensated %s at M3 and got back %s on 5 June", ga, owedA.StringFixed(2), paid.StringFixed(2))

	// The unguaranteed loan reaches DPD 91 on 2 July and is written off.
	s.advance(ops, "2026-07-02")
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/write-off", gb), ops, obj{"decision": "approve", "note": "uncollectable"}, 200)
	require.Equal(t, "written_off", s.loanStatus(ops, gb))
	require.Contains(t, s.kinds(b1.token), "written_off")

	// Two recoveries, each split among the holders pro rata to what each has still to recover.
	s.call("POST", "/v1/me/recharges", bb.token, obj{"amount": "1000.00"}, 201)
	short := s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/recoveries", gb), ops, obj{"amount": "2000.00", "note": "too much"}, 409)
	require.Equal(t, "insufficient_balance", short["code"])
	require.Equal(t, "1000.00", short["available"], "the borrower's balance, not the ops user's")
	var recovered []string
	want := map[string]string{"300.00": "investor 144.18, investor 144.17, reserve 11.65", "200.00": "investor 96.12, investor 96.11, reserve 7.77"}
	for _, amount := range []string{"300.00", "200.00"} {
		r := s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/recoveries", gb), ops, obj{"amount": amount, "note": "collected"}, 201)
		sum := decimal.Zero
		var parts []string
		for _, d := range r["distributed"].([]any) {
			part := d.(obj)
			sum = sum.Add(dec(part["amount"]))
			parts = append(parts, fmt.Sprintf("%s %s", part["holder"], part["amount"]))
		}
		require.Equal(t, amount, sum.StringFixed(2), "each cent of the recovery reaches a holder")
		require.Equal(t, want[amount], strings.Join(parts, ", "))
		recovered = append(recovered, amount+" → "+strings.Join(parts, ", "))
	}
	t.Logf("written-off loan %.0f, recoveries: %s", gb, strings.Join(recovered, "; "))
	require.Contains(t, s.kinds(b2.token), "recovery_received")
	require.Equal(t, "500.00", s.bankBalance(bb.acct))

	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	s.booksAgree(pool)
	require.NoError(t, ledger.CheckConservation(context.Background(), pool))
	require.NoError(t, s.sim.Check(context.Background()))
	recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(ga)), "loan_guaranteed_compensated")
	recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(gb)), "loan_reserve_compensated_written_off")
}

func dec(v any) decimal.Decimal { return decimal.RequireFromString(v.(string)) }

func (s *stack) schedule(token string, id float64) []obj {
	s.t.Helper()
	var out []obj
	for _, i := range s.call("GET", fmt.Sprintf("/v1/loans/%.0f/schedule", id), token, nil, 200)["installments"].([]any) {
		out = append(out, i.(obj))
	}
	return out
}

// kinds lists the kinds of a user's notifications.
func (s *stack) kinds(token string) []string {
	s.t.Helper()
	var out []string
	for _, n := range s.notifications(token) {
		kind, _, _ := strings.Cut(n, " ")
		out = append(out, kind)
	}
	return out
}
