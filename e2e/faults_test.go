package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/ledger"
)

// bankFaults: every fault the simulator has, at a fixed rate, from one seed.
var bankFaults = sim.FaultConfig{
	Latency: 0.2, LatencyDuration: 50 * time.Millisecond,
	ErrorBefore: 0.15, ErrorAfter: 0.15,
	TimeoutAfter: 0.1, TimeoutDuration: 300 * time.Millisecond,
	CallbackDrop: 0.3, CallbackDelay: 0.3, CallbackDelayDuration: 300 * time.Millisecond,
	CallbackDuplicate: 0.3, CallbackReorder: 0.3, ReorderHold: 200 * time.Millisecond,
	BatchFail:          0.25,
	WithdrawalReversal: 0.5,
}

// faultSeed is the run's seed; LENDFLOW_FAULT_SEED replays another. The
// default, 14, drops reversal callbacks, so the file path is exercised.
func faultSeed(t *testing.T) int64 { return envInt(t, "LENDFLOW_FAULT_SEED", 14) }

// try sends a request and returns the status and body, whatever they are.
func (s *stack) try(method, path, token string, body any) (int, obj) {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, s.api+path, bytes.NewReader(b))
	require.NoError(s.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.http.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := obj{}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// untilAnswered repeats a request the bank may not answer (503
// bank_unavailable) — safe because the platform resends under the same
// request number — until it gets want.
func (s *stack) untilAnswered(method, path, token string, body any, want int) obj {
	s.t.Helper()
	var out obj
	testwait.For(s.t, fmt.Sprintf("%s %s to answer %d", method, path, want), func() bool {
		var code int
		code, out = s.try(method, path, token, body)
		if code == want {
			return true
		}
		require.Equal(s.t, http.StatusServiceUnavailable, code, "%s %s: %v", method, path, out)
		return false
	})
	return out
}

func (s *stack) signUpUnderFaults(role, name string) person {
	s.t.Helper()
	seq := s.next()
	body := fmt.Sprintf("33010619900301%03d", seq)
	id := body + string(kyc.IDCheckChar(body))
	email := fmt.Sprintf("%s%d@lendflow.test", role, seq)
	s.call("POST", "/v1/auth/register", "", obj{"email": email, "password": "password-123", "role": role,
		"name": name, "id_number": id, "phone": fmt.Sprintf("1380000%04d", seq)}, 201)
	p := person{}
	p.token = s.call("POST", "/v1/auth/login", "", obj{"email": email, "password": "password-123"}, 200)["token"].(string)
	p.acct = s.untilAnswered("POST", "/v1/me/custody-account", p.token, obj{"card_number": cardFor(seq)}, 201)["account_no"].(string)
	return p
}

func (s *stack) available(token string) decimal.Decimal {
	return decimal.RequireFromString(s.call("GET", "/v1/me/account", token, nil, 200)["available"].(string))
}

// TestLifecycleUnderBankFaults runs a loan from application to repaid, and
// withdrawals after it, with every bank fault switched on. At the end the
// bank's balances and the platform's ledger agree for every account, the
// books conserve money, every day reconciles, and no request number moved
// money twice.
func TestLifecycleUnderBankFaults(t *testing.T) {
	t.Parallel()
	seed := faultSeed(t)
	s := startWith(t, "2026-01-31", func(c *app.Config, sc *sim.Config) {
		sc.Faults, sc.Seed, sc.WithdrawalDelay = bankFaults, seed, 50*time.Millisecond
		c.SweepEvery, c.SettleAfter = 200*time.Millisecond, time.Second
	})
	t.Logf("faults %+v, seed %d", bankFaults, seed)
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)

	borrower := s.signUpUnderFaults("borrower", "吴十")
	investors := []person{s.signUpUnderFaults("investor", "郑一"), s.signUpUnderFaults("investor", "冯二"), s.signUpUnderFaults("investor", "陈三")}
	for _, inv := range investors {
		s.call("POST", "/v1/me/risk-assessment", inv.token, obj{"answers": []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}}, 200)
		s.untilAnswered("POST", "/v1/me/recharges", inv.token, obj{"amount": "4000.00"}, 201)
		s.waitFor("recharge settled", func() bool { return s.available(inv.token).Equal(decimal.NewFromInt(4000)) })
	}

	loan := s.call("POST", "/v1/loans", borrower.token, obj{"amount": "9000.00", "term_months": 3,
		"repayment_method": "equal_installment", "purpose": "inventory", "monthly_income": "40000.00"}, 201)
	id := loan["loan_id"].(float64)
	s.waitFor("listed", func() bool { return s.loanStatus(ops, id) == "listed" })
	for _, inv := range investors {
		// A 202 here means admitted and pending at the bank: never bid again, the sweep settles it.
		code, out := s.try("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), inv.token, obj{"amount": "3000.00"})
		require.Contains(t, []int{201, 202}, code, "%v", out)
	}
	s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, id) == "full_review" })
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", id), ops, obj{"decision": "approve", "note": "ok"}, 200)
	retries := 0
	s.waitFor("disbursed", func() bool {
		loan := s.call("GET", fmt.Sprintf("/v1/loans/%.0f", id), ops, nil, 200)
		if loan["status"] == "repaying" {
			return true
		}
		hist := loan["history"].([]any)
		last := hist[len(hist)-1].(obj)["note"].(string)
		if strings.Contains(last, "waiting for ops to retry") {
			// Ops retry a failed batch; it goes under a new request number.
			if code, _ := s.try("POST", fmt.Sprintf("/v1/ops/loans/%.0f/disbursement/retry", id), ops, nil); code == 202 {
				retries++
			}
		}
		return false
	})
	t.Logf("disbursed after %d ops retries of a failed batch", retries)

	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", id), borrower.token, obj{"max_amount": "5000.00", "expires_on": "2027-12-31"}, 201)
	s.untilAnswered("POST", "/v1/me/recharges", borrower.token, obj{"amount": "1000.00"}, 201)

	// Failed repayment batches leave installments overdue; collection retries
	// the auto-debit until all is paid.
	day := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for s.loanStatus(ops, id) != "repaid" {
		require.True(t, day.Before(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)), "not repaid by %s", day.Format(time.DateOnly))
		s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": day.Format(time.DateOnly)}, 200)
		day = day.AddDate(0, 0, 10)
	}
	last := day.AddDate(0, 0, -10)

	// Withdrawals, with callbacks dropped, late, doubled, reordered, and
	// reversed (冲正) by the bank on its next business day.
	type withdrawal struct{ path, token, reqNo string }
	var wds []withdrawal
	for _, inv := range investors {
		// The month's free one, then one that pays 3.00.
		for _, amount := range []string{"100.00", "200.00"} {
			out := s.untilAnswered("POST", "/v1/me/withdrawals", inv.token, obj{"amount": amount}, 201)
			id := int64(out["id"].(float64))
			wds = append(wds, withdrawal{fmt.Sprintf("/v1/me/withdrawals/%d", id), inv.token, bank.Withdrawal(id)})
		}
	}
	ctx := context.Background()
	// bankStatus asks until the bank answers through its faults.
	bankStatus := func(reqNo string) string {
		for try := 0; ; try++ {
			res, err := s.bank.Query(ctx, reqNo)
			if err == nil {
				return string(res.Status)
			}
			require.Less(t, try, 50, "the bank never answered a query for %s: %v", reqNo, err)
		}
	}
	s.waitFor("the bank paid every withdrawal out", func() bool {
		for _, w := range wds {
			if bankStatus(w.reqNo) == "processing" {
				return false
			}
		}
		return true
	})
	pool, err := db.Open(ctx, s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	// The reversals fall due on the next day; the day after, that day is
	// closed and its file read, which is where the platform learns of a
	// reversal whose callback was dropped.
	last = last.AddDate(0, 0, 1)
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": last.Format(time.DateOnly)}, 200)
	s.waitFor("the bank's reversals", func() bool {
		var due int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM banksim.jobs WHERE kind = 'withdrawal_reverse' AND state = 'pending'`).Scan(&due))
		return due == 0
	})
	last = last.AddDate(0, 0, 1)
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": last.Format(time.DateOnly)}, 200)
	reversed := 0
	for _, w := range wds {
		s.waitFor("the platform agrees with the bank on "+w.reqNo, func() bool {
			return s.call("GET", w.path, w.token, nil, 200)["status"] == bankStatus(w.reqNo)
		})
		if bankStatus(w.reqNo) == "reversed" {
			reversed++
		}
	}
	var dropped, reversalsDropped, duplicated int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'dropped'),
		count(*) FILTER (WHERE state = 'dropped' AND (convert_from(body, 'UTF8')::jsonb ->> 'seq') = '2'),
		count(*) - count(DISTINCT (request_no, body)) FROM banksim.jobs WHERE kind = 'callback'`).Scan(&dropped, &reversalsDropped, &duplicated))
	t.Logf("%d withdrawals, %d reversed by the bank; callbacks: %d dropped (%d of them a reversal's, learned from the file), %d sent twice",
		len(wds), reversed, dropped, reversalsDropped, duplicated)

	// Quiet the bank, let the last callbacks land (a callback's job is done
	// once the platform has taken it), then compare the books.
	s.sim.SetFaults(sim.FaultConfig{})
	testwait.For(t, "the bank's last callbacks to land", func() bool {
		idle, err := s.sim.Idle(ctx)
		require.NoError(t, err)
		return idle
	})
	require.GreaterOrEqual(t, s.booksAgree(pool), 6)
	require.NoError(t, ledger.CheckConservation(ctx, pool))
	require.NoError(t, s.sim.Check(ctx))

	// Every day reconciles, and no request number's item appears twice in the bank's files.
	seen := map[string]bool{}
	days := 0
	for d := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC); d.Before(last); d = d.AddDate(0, 0, 1) {
		rec := s.call("GET", "/v1/ops/reconciliation/"+d.Format(time.DateOnly), ops, nil, 200)
		require.Equal(t, "matched", rec["status"], "%s: %v", d.Format(time.DateOnly), rec["differences"])
		lines, err := s.bank.Reconciliation(ctx, d)
		require.NoError(t, err)
		for _, l := range lines {
			key := fmt.Sprintf("%s/%d/%s", l.RequestNo, l.Item, l.Type)
			require.False(t, seen[key], "request %s moved money twice", key)
			seen[key] = true
		}
		days++
	}
	t.Logf("%d bank movements over %d business days, each once; every day matched", len(seen), days)

	// The worker closed the days on its own as the clock passed them.
	var closed, closedMismatched int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT business_date), count(*) FILTER (WHERE status = 'mismatched')
		FROM reconciliation_runs WHERE origin = 'close'`).Scan(&closed, &closedMismatched))
	t.Logf("the worker closed %d days (%d runs mismatched at first, while results were still unsettled)", closed, closedMismatched)
	require.Positive(t, closed)
}
