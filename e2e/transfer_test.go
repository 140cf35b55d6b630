package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/workflows"
)

// holding is the investor's holding of loan id (the held one, if any).
func (s *stack) holding(p person, id float64) obj {
	s.t.Helper()
	var found obj
	for _, it := range s.call("GET", "/v1/me/holdings", p.token, nil, 200)["items"].([]any) {
		h := it.(obj)
		if h["loan_id"].(float64) == id && (found == nil || h["status"] != "transferred") {
			found = h
		}
	}
	require.NotNil(s.t, found, "no holding of loan %.0f", id)
	return found
}

// amounts lists the amounts of a user's notifications of kind, newest first.
func (s *stack) amounts(token, kind string) []string {
	s.t.Helper()
	var out []string
	for _, it := range s.call("GET", "/v1/me/notifications?limit=100", token, nil, 200)["items"].([]any) {
		if n := it.(obj); n["kind"] == kind {
			out = append(out, n["amount"].(string))
		}
	}
	return out
}

// TestATransferredClaim drives one claim through two sales and then a
// default with the risk reserve's compensation, a write-off and a recovery,
// by HTTP and the sandbox clock alone, and checks what every holder got, to
// the fen, when each held it (docs/transfer.md "The worked example" works
// every figure by hand).
func TestATransferredClaim(t *testing.T) {
	t.Parallel()
	s := start(t, "2026-03-02")
	ops := s.opsToken()
	a, b := s.investor("甲出借", "6000.00"), s.investor("乙出借", "6000.00")
	c, d := s.investor("丙受让", "6000.00"), s.investor("丁受让", "4000.00")
	borrower := s.signUp("borrower", "张借款")
	id := s.listed(ops, borrower, "12000.00", 6)
	// A bids first: its claim takes the leftover cents of each split.
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), a.token, obj{"amount": "6000.00"}, 201)
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), b.token, obj{"amount": "6000.00"}, 201)
	s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, id) == "full_review" })
	s.approve(ops, id)
	// The borrower keeps exactly three installments (3 × 2,038.09 of its 11,640.00) and authorizes them.
	s.call("POST", "/v1/me/withdrawals", borrower.token, obj{"amount": "5525.73"}, 201)
	s.waitFor("withdrawn", func() bool { return s.bankBalance(borrower.acct) == "6114.27" })
	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", id), borrower.token,
		obj{"max_amount": "2100.00", "expires_on": "2027-12-31"}, 201)

	// 20 March: A, holding since 2 March (19 days: 1 %), sells at a 1 % discount; C buys.
	s.advance(ops, "2026-03-20")
	ha := s.holding(a, id)
	require.Equal(t, "bid", ha["source"])
	offer := s.call("POST", fmt.Sprintf("/v1/me/holdings/%.0f/transfer", ha["holding_id"]), a.token, obj{"discount_rate": "0.01"}, 201)
	require.Equal(t, []any{"6000.00", "18.87", "5958.68", "60.00", "listed", "2026-03-28"},
		[]any{offer["principal"], offer["accrued_interest"], offer["price"], offer["fee"], offer["status"], offer["expires_on"]})
	t1 := offer["transfer_id"].(float64)
	require.Equal(t, "own_claim", s.call("POST", fmt.Sprintf("/v1/transfers/%.0f/purchase", t1), a.token, obj{}, 409)["code"])
	bought := s.call("POST", fmt.Sprintf("/v1/transfers/%.0f/purchase", t1), c.token, obj{}, 201)
	require.Equal(t, []any{"5958.68", "sold"}, []any{bought["price"], bought["status"]})
	require.Equal(t, "transfer_not_open", s.call("POST", fmt.Sprintf("/v1/transfers/%.0f/purchase", t1), d.token, obj{}, 409)["code"])
	require.Equal(t, "5898.68", s.bankBalance(a.acct), "the price less the 1 % fee")
	require.Equal(t, "41.32", s.bankBalance(c.acct))
	require.Equal(t, "180.00", s.bankBalance(bank.AccountFee), "the disbursement's 120.00 and the transfer's 60.00")
	require.Equal(t, "transferred", s.call("GET", "/v1/me/holdings", a.token, nil, 200)["items"].([]any)[0].(obj)["status"])
	require.Contains(t, s.kinds(a.token), "transfer_sold")
	require.Contains(t, s.kinds(c.token), "transfer_bought")

	// 2 April: installment 1 is C's, whole: 986.55 + 32.50.
	s.advance(ops, "2026-04-02")
	require.Equal(t, "1060.37", s.bankBalance(c.acct))
	require.Equal(t, "5898.68", s.bankBalance(a.acct), "nothing more to A")

	// 20 May: C, holding since 20 March (62 days: 0.5 %), paid installments 1 and 2, sells at 2 %;
	// D buys. B lists its claim too, and nobody buys it before the blackout.
	s.advance(ops, "2026-05-20")
	require.Equal(t, "2079.42", s.bankBalance(c.acct))
	hc := s.holding(c, id)
	require.Equal(t, []any{"transfer", "6000.00", "1978.44", "59.66"},
		[]any{hc["source"], hc["principal"], hc["received_principal"], hc["received_interest"]})
	offer = s.call("POST", fmt.Sprintf("/v1/me/holdings/%.0f/transfer", hc["holding_id"]), c.token, obj{"discount_rate": "0.02"}, 201)
	require.Equal(t, []any{"4021.56", "12.65", "3953.53", "20.11"},
		[]any{offer["principal"], offer["accrued_interest"], offer["price"], offer["fee"]})
	t2 := offer["transfer_id"].(float64)
	s.call("POST", fmt.Sprintf("/v1/transfers/%.0f/purchase", t2), d.token, obj{}, 201)
	require.Equal(t, "6012.84", s.bankBalance(c.acct), "2,079.42 + 3,953.53 − 20.11")
	require.Equal(t, "46.47", s.bankBalance(d.acct))
	hb := s.holding(b, id)
	lapsing := s.call("POST", fmt.Sprintf("/v1/me/holdings/%.0f/transfer", hb["holding_id"]), b.token, obj{"discount_rate": "0.00"}, 201)
	require.Equal(t, "2026-05-28", lapsing["expires_on"])

	// 28 May, the blackout before 2 June: B's listing lapses by itself.
	s.advance(ops, "2026-05-28")
	t3 := lapsing["transfer_id"].(float64)
	require.Equal(t, "lapsed", s.call("GET", fmt.Sprintf("/v1/transfers/%.0f", t3), b.token, nil, 200)["status"])
	require.Contains(t, s.kinds(b.token), "transfer_lapsed")
	require.Equal(t, "transfer_not_allowed", s.call("POST", fmt.Sprintf("/v1/me/holdings/%.0f/transfer", hb["holding_id"]), b.token,
		obj{"discount_rate": "0.00"}, 409)["code"])

	// 2 June: installment 3 is D's. Then the borrower has nothing left: installment 4 (2 July) goes unpaid.
	s.advance(ops, "2026-06-02")
	require.Equal(t, "1065.52", s.bankBalance(d.acct), "46.47 + 997.26 + 21.79")
	// 1 September, DPD 61 of installment 4: the reserve's 240.00 pays D and B by the waterfall,
	// installment 4's penalty 62.22, interest 32.76 and 145.02 of principal, half each:
	// 31.11 + 16.38 + 72.51 = 120.00.
	s.advance(ops, "2026-09-01")
	require.Equal(t, "0.00", s.bankBalance(bank.AccountRiskReserve), "the reserve paid what it had")
	require.Equal(t, "240.00", s.schedule(ops, id)[3]["compensated"])
	require.Equal(t, "1185.52", s.bankBalance(d.acct))
	require.Equal(t, "3177.12", s.bankBalance(b.acct), "3 × 1,019.04 + 120.00")
	require.Equal(t, "6012.84", s.bankBalance(c.acct), "C sold before: nothing of the default is C's")

	// 1 October, DPD 91: written off. What each holder loses is its claims' unpaid principal,
	// interest and penalty to the day: D 3,027.59, B 3,027.59, the reserve 242.67.
	s.advance(ops, "2026-10-01")
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/write-off", id), ops, obj{"decision": "approve", "note": "uncollectable"}, 200)
	require.Equal(t, "written_off", s.loanStatus(ops, id))
	require.Equal(t, []string{"3027.59"}, s.amounts(d.token, "written_off"))
	require.Equal(t, []string{"3027.59"}, s.amounts(b.token, "written_off"))
	require.Empty(t, s.amounts(c.token, "written_off"), "C sold the claim before")
	require.Empty(t, s.amounts(a.token, "written_off"))

	// A recovery of 300.00 goes to the holders on that day, by what each lost: 144.22, 144.22, 11.56.
	s.call("POST", "/v1/me/recharges", borrower.token, obj{"amount": "300.00"}, 201)
	r := s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/recoveries", id), ops, obj{"amount": "300.00", "note": "collected"}, 201)
	var parts []string
	for _, part := range r["distributed"].([]any) {
		p := part.(obj)
		who := "reserve"
		switch p["user_id"] {
		case d.id:
			who = "D"
		case b.id:
			who = "B"
		}
		parts = append(parts, who+" "+p["amount"].(string))
	}
	require.Equal(t, []string{"D 144.22", "B 144.22", "reserve 11.56"}, parts)

	// Every holder to the fen: what it holds, received and has in the bank.
	want := map[string]struct {
		p                               person
		bank, source, principal, rp, ri string
		status                          string
	}{
		"A": {a, "5898.68", "bid", "6000.00", "0.00", "0.00", "transferred"},
		"C": {c, "6012.84", "transfer", "6000.00", "1978.44", "59.66", "transferred"},
		"D": {d, "1329.74", "transfer", "4021.56", "1069.77", "38.17", "written_off"},
		"B": {b, "3321.34", "bid", "6000.00", "3048.20", "97.81", "written_off"},
	}
	for name, w := range want {
		items := s.call("GET", "/v1/me/holdings", w.p.token, nil, 200)["items"].([]any)
		require.Len(t, items, 1, name)
		h := items[0].(obj)
		require.Equal(t, []any{w.source, w.principal, w.rp, w.ri, "0.00", "0.00", w.status},
			[]any{h["source"], h["principal"], h["received_principal"], h["received_interest"], h["pending_principal"],
				h["pending_interest"], h["status"]}, name)
		require.Equal(t, w.bank, s.bankBalance(w.p.acct), name)
	}
	require.Equal(t, "11.56", s.bankBalance(bank.AccountRiskReserve))
	require.Equal(t, "200.11", s.bankBalance(bank.AccountFee), "120.00 + 60.00 + 20.11")
	require.Equal(t, "0.00", s.bankBalance(borrower.acct))
	mine := s.call("GET", "/v1/me/transfers", c.token, nil, 200)["items"].([]any)
	require.Len(t, mine, 2)
	require.Equal(t, []any{t2, "seller", "sold", "3953.53", "20.11"},
		[]any{mine[0].(obj)["transfer_id"], mine[0].(obj)["role"], mine[0].(obj)["status"], mine[0].(obj)["price"], mine[0].(obj)["fee"]})
	require.Equal(t, []any{t1, "buyer", "sold", "5958.68"},
		[]any{mine[1].(obj)["transfer_id"], mine[1].(obj)["role"], mine[1].(obj)["status"], mine[1].(obj)["price"]})

	// The disclosure figures count the two sales: their prices and the sellers' fees.
	stats := s.call("GET", "/v1/stats", "", nil, 200)
	require.Equal(t, []any{2.0, "9912.21", "80.11"}, []any{stats["transfers_sold"], stats["transfer_volume"], stats["transfer_fees"]},
		"5,958.68 + 3,953.53; 60.00 + 20.11")

	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	s.booksAgree(pool)
	require.NoError(t, ledger.CheckConservation(context.Background(), pool))
	require.NoError(t, s.sim.Check(context.Background()))
	recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(id)), "loan_transferred_written_off")
}
