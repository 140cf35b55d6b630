package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/ledger"
)

// raceSeed is the seed of the race suite's offsets and amounts;
// LENDFLOW_RACE_SEED replays another.
func raceSeed(t *testing.T) int64 { return envInt(t, "LENDFLOW_RACE_SEED", 26) }

// raceTrials is how many times each pair meets; LENDFLOW_RACE_TRIALS changes it.
func raceTrials(t *testing.T) int { return int(envInt(t, "LENDFLOW_RACE_TRIALS", 10)) }

// reply is a request's final answer.
type reply struct {
	name   string // who sent what: "cancel", "bid", "approve"…
	status int
	code   string
	body   obj
	waits  int    // 202 processing answers before it
	fault  string // no final answer, a 5xx, or a retry that answered otherwise
}

func (r reply) String() string {
	if r.code != "" {
		return fmt.Sprintf("%s %d %s", r.name, r.status, r.code)
	}
	return fmt.Sprintf("%s %d", r.name, r.status)
}

// ok reports that the request was done (200 or 201: final, not 202).
func (r reply) ok() bool {
	return r.fault == "" && (r.status == http.StatusOK || r.status == http.StatusCreated)
}

// final sends a request under key and again under the same key while it is
// answered 202 processing, until it has its final answer; then once more,
// which must answer the same. A 5xx is a fault: a business refusal is never
// a 500. It fails no test itself, so that it may run on any goroutine.
func (s *stack) final(name, method, path, token, key string, body any) reply {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	r := reply{name: name}
	var b []byte
	answered := testwait.Every(100 * time.Millisecond).Until(func() bool {
		status, got, err := s.sendKeyed(method, path, token, key, raw)
		if err != nil {
			r.fault = err.Error()
			return true
		}
		r.status, b = status, got
		if status != http.StatusAccepted || key == "" {
			return true
		}
		r.waits++
		return false
	})
	switch {
	case r.fault != "":
		return r
	case !answered:
		r.fault = "still 202 processing after 90 s of retries: never answered"
		return r
	}
	r.body = obj{}
	_ = json.Unmarshal(b, &r.body)
	r.code, _ = r.body["code"].(string)
	if r.status >= 500 {
		r.fault = fmt.Sprintf("%d: %s", r.status, b)
		return r
	}
	if key != "" {
		again, raw2, err := s.sendKeyed(method, path, token, key, raw)
		if err != nil || again != r.status {
			r.fault = fmt.Sprintf("answered %d, then %d %s under the same key (%v)", r.status, again, raw2, err)
		}
	}
	return r
}

// meet sends two requests at once, the second after a seeded offset of −150
// to +150 ms (negative: the first waits instead). The offsets spread the
// requests' meeting over every point of each other's work, so each side wins
// some; nothing waits on time for a result.
func meet(rng *rand.Rand, a, b func() reply) (reply, reply) {
	offset := time.Duration(rng.Intn(301)-150) * time.Millisecond
	var ra, rb reply
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if offset < 0 {
			time.Sleep(-offset)
		}
		ra = a()
	}()
	go func() {
		defer wg.Done()
		if offset > 0 {
			time.Sleep(offset)
		}
		rb = b()
	}()
	wg.Wait()
	return ra, rb
}

// againstTheClock sends the clock's advance to day and, meanwhile, send(i)
// for each i < k after a seeded offset of −150 to +400 ms from the advance
// (negative: before it), so the requests meet the advance at every point of
// it. It answers the advance's reply and each request's.
func (s *stack) againstTheClock(rng *rand.Rand, ops, day string, k int, send func(i int) reply) (reply, []reply) {
	const before = 150 * time.Millisecond
	offsets := make([]time.Duration, k)
	for i := range offsets {
		offsets[i] = time.Duration(rng.Intn(551)) * time.Millisecond
	}
	var clock reply
	replies := make([]reply, k)
	var wg sync.WaitGroup
	wg.Add(1 + k)
	go func() {
		defer wg.Done()
		time.Sleep(before)
		clock = s.final("advance", "POST", "/v1/ops/clock/advance", ops, "", obj{"to": day})
	}()
	for i := range replies {
		go func() {
			defer wg.Done()
			time.Sleep(offsets[i])
			replies[i] = send(i)
		}()
	}
	wg.Wait()
	return clock, replies
}

// tally counts the outcomes of each pair.
type tally struct {
	t      *testing.T
	pairs  []string
	counts map[string]map[string]int
}

func newTally(t *testing.T) *tally { return &tally{t: t, counts: map[string]map[string]int{}} }

// add counts one meeting of pair by its replies. A reply without a final
// answer, a 5xx, or a retry answered otherwise fails the test here.
func (t *tally) add(pair string, replies ...reply) {
	t.t.Helper()
	if t.counts[pair] == nil {
		t.pairs = append(t.pairs, pair)
		t.counts[pair] = map[string]int{}
	}
	parts := make([]string, len(replies))
	for i, r := range replies {
		parts[i] = r.String()
		require.Empty(t.t, r.fault, "%s: the %s request", pair, r.name)
	}
	sort.Strings(parts)
	t.counts[pair][strings.Join(parts, ", ")]++
}

func (t *tally) log() {
	for _, p := range t.pairs {
		outcomes := make([]string, 0, len(t.counts[p]))
		for o := range t.counts[p] {
			outcomes = append(outcomes, o)
		}
		sort.Strings(outcomes)
		for _, o := range outcomes {
			t.t.Logf("%-42s %3d × %s", p, t.counts[p][o], o)
		}
	}
}

// oneWon requires that of two replies exactly one succeeded and the other
// was refused with code, and answers the winner.
func oneWon(t *testing.T, what string, a, b reply, code string) reply {
	t.Helper()
	require.True(t, a.ok() != b.ok(), "%s: exactly one succeeds: %v, %v", what, a, b)
	won, lost := a, b
	if b.ok() {
		won, lost = b, a
	}
	require.Equal(t, code, lost.code, "%s: the loser's refusal: %v", what, lost)
	return won
}

// TestRequestsThatMeet drives each pair of requests that can meet on one
// loan through the HTTP API, several times each, with seeded offsets
// (LENDFLOW_RACE_SEED, LENDFLOW_RACE_TRIALS), and checks every outcome
// against the rule (docs/workflow.md "Requests"; docs/testing.md "The race
// suite"): a request is judged against the loan as it stands when it runs,
// every request gets a final answer (done, or refused with its code; never a
// 500, never 202 forever), and its retry under the same key answers the
// same. Afterwards the ledger agrees with the bank for every account, money
// is conserved on both sides, and every business day reconciles. It prints
// the count of each outcome per pair.
func TestRequestsThatMeet(t *testing.T) {
	t.Parallel()
	seed, n := raceSeed(t), raceTrials(t)
	rng := rand.New(rand.NewSource(seed))
	t.Logf("LENDFLOW_RACE_SEED=%d LENDFLOW_RACE_TRIALS=%d", seed, n)
	s := start(t, "2026-03-02")
	ops := s.opsToken()
	results := newTally(t)
	filler := s.investor("满标甲", "2000000.00")
	closer := s.investor("满标乙", "100000.00")
	bidder := s.investor("流标丙", "100000.00")
	var keys atomic.Int64 // Idempotency-Keys, one per request (next runs on the requests' goroutines)
	next := func(what string) string { return fmt.Sprintf("%s-%d", what, keys.Add(1)) }
	loanPath := func(id float64, rest string) string { return fmt.Sprintf("/v1/loans/%.0f%s", id, rest) }
	opsPath := func(id float64, rest string) string { return fmt.Sprintf("/v1/ops/loans/%.0f%s", id, rest) }

	// Every loan is 12,000.00 over 2 months at grade A (6.5 %): installments
	// 6,048.79 and 6,048.80; the borrower receives 11,640.00. One borrower
	// each, as screening refuses a fourth application in 30 days.
	type loan struct {
		id       float64
		borrower person
	}
	apply := func(k int) []loan {
		out := make([]loan, k)
		for i := range out {
			b := s.signUp("borrower", "竞借")
			r := s.call("POST", "/v1/loans", b.token, obj{"amount": "12000.00", "term_months": 2,
				"repayment_method": "equal_installment", "purpose": "working capital", "monthly_income": "80000.00"}, 201)
			out[i] = loan{id: r["loan_id"].(float64), borrower: b}
		}
		return out
	}
	cancelFill, twoApprovals, approveReject, expiry, byHand, writeOff := apply(n), apply(n), apply(n), apply(n), apply(n), apply(n+1)
	all := [][]loan{cancelFill, twoApprovals, approveReject, expiry, byHand, writeOff}
	for _, group := range all {
		for _, l := range group {
			s.waitFor("listed", func() bool { return s.loanStatus(ops, l.id) == "listed" })
		}
	}
	bid := func(inv person, l loan, amount string) {
		s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", l.id), inv.token, obj{"amount": amount}, 201)
	}
	for _, l := range cancelFill {
		bid(filler, l, "11000.00")
	}
	for _, l := range expiry {
		bid(bidder, l, "5000.00")
	}
	for _, group := range [][]loan{twoApprovals, approveReject, byHand, writeOff} {
		for _, l := range group {
			bid(filler, l, "12000.00")
		}
	}
	for _, group := range [][]loan{twoApprovals, approveReject, byHand, writeOff} {
		for _, l := range group {
			s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, l.id) == "full_review" })
		}
	}

	// The borrower cancels as the last bid fills the listing: one wins.
	for _, l := range cancelFill {
		c, b := meet(rng,
			func() reply {
				return s.final("cancel", "POST", loanPath(l.id, "/cancel"), l.borrower.token, next("cancel"), nil)
			},
			func() reply {
				return s.final("bid", "POST", fmt.Sprintf("/v1/listings/%.0f/bids", l.id), closer.token, next("bid"), obj{"amount": "1000.00"})
			})
		results.add("cancel vs the filling bid", c, b)
		if c.ok() {
			require.Equal(t, "listing_not_open", b.code, "%v, %v", c, b)
			require.Equal(t, "cancelled", s.loanStatus(ops, l.id))
			continue
		}
		require.True(t, b.ok(), "%v, %v", c, b)
		require.Equal(t, "invalid_state", c.code, "%v, %v", c, b)
		s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, l.id) == "full_review" })
		s.call("POST", opsPath(l.id, "/full-tender-review"), ops, obj{"decision": "reject", "note": "race suite"}, 200)
	}

	// Two full-tender approvals under different keys: one disburses.
	for _, l := range twoApprovals {
		review := func() reply {
			return s.final("approve", "POST", opsPath(l.id, "/full-tender-review"), ops, next("review"), obj{"decision": "approve", "note": "ok"})
		}
		a, b := meet(rng, review, review)
		results.add("two full-tender approvals", a, b)
		require.Equal(t, "disbursing", oneWon(t, "two approvals", a, b, "invalid_state").body["status"])
	}

	// Approve against reject: the first the loan takes decides.
	for _, l := range approveReject {
		decide := func(d string) func() reply {
			return func() reply {
				return s.final(d, "POST", opsPath(l.id, "/full-tender-review"), ops, next(d), obj{"decision": d, "note": "race suite"})
			}
		}
		a, r := meet(rng, decide("approve"), decide("reject"))
		results.add("approve vs reject", a, r)
		won := oneWon(t, "approve vs reject", a, r, "invalid_state")
		if won.name == "reject" {
			require.Equal(t, "review_rejected", won.body["status"])
			continue
		}
		require.Equal(t, "disbursing", won.body["status"])
		s.waitFor("repaying", func() bool { return s.loanStatus(ops, l.id) == "repaying" })
		// Paid off at once, so the loan takes no more of the suite's clock.
		s.call("POST", "/v1/me/recharges", l.borrower.token, obj{"amount": "1000.00"}, 201)
		s.call("POST", loanPath(l.id, "/repayments"), l.borrower.token, obj{"kind": "payoff"}, 201)
	}

	// The loans the next pairs need disbursed; a by-hand borrower keeps
	// 7,000.00 (one installment's worth) under an authorization of as much.
	for _, group := range [][]loan{byHand, writeOff} {
		for _, l := range group {
			s.approve(ops, l.id)
		}
	}
	for _, l := range byHand {
		s.call("POST", loanPath(l.id, "/repayment-authorization"), l.borrower.token, obj{"max_amount": "7000.00", "expires_on": "2026-12-31"}, 201)
		s.call("POST", "/v1/me/withdrawals", l.borrower.token, obj{"amount": "4640.00"}, 201)
	}
	for _, l := range byHand {
		s.waitFor("withdrawn", func() bool { return s.available(l.borrower.token).Equal(decimal.NewFromInt(7000)) })
	}

	// Payoff twice, six days in: 12,000.00 + round(65.00 × 6/31) = 12,012.58, once.
	s.advance(ops, "2026-03-08")
	for _, l := range twoApprovals {
		s.waitFor("repaying", func() bool { return s.loanStatus(ops, l.id) == "repaying" })
		s.call("POST", "/v1/me/recharges", l.borrower.token, obj{"amount": "1000.00"}, 201)
		payoff := func() reply {
			return s.final("payoff", "POST", loanPath(l.id, "/repayments"), l.borrower.token, next("payoff"), obj{"kind": "payoff"})
		}
		a, b := meet(rng, payoff, payoff)
		results.add("payoff twice", a, b)
		require.Equal(t, "12012.58", oneWon(t, "payoff twice", a, b, "invalid_state").body["amount"])
		require.Equal(t, "repaid", s.loanStatus(ops, l.id))
		require.Equal(t, "627.42", s.available(l.borrower.token).StringFixed(2), "12,640.00 − 12,012.58: paid once")
	}

	// The borrowers cancel as the clock reaches the listings' expiry date
	// (9 March): a cancel made on the 8th may win; one made on the 9th finds
	// the listing expired (流标).
	clock, cancels := s.againstTheClock(rng, ops, "2026-03-09", len(expiry), func(i int) reply {
		return s.final("cancel", "POST", loanPath(expiry[i].id, "/cancel"), expiry[i].borrower.token, next("cancel"), nil)
	})
	require.Equal(t, 200, clock.status, "%v %s", clock.body, clock.fault)
	for i, l := range expiry {
		results.add("cancel on the expiry day vs the clock", cancels[i])
		detail := s.call("GET", loanPath(l.id, ""), ops, nil, 200)
		if cancels[i].ok() {
			require.Equal(t, "cancelled", detail["status"])
			hist := detail["history"].([]any)
			require.Equal(t, "2026-03-08", hist[len(hist)-1].(obj)["business_date"], "a cancel wins only before the expiry date")
			continue
		}
		require.Equal(t, "invalid_state", cancels[i].code, "%v", cancels[i])
		require.Equal(t, "expired", detail["status"], "the expiry wins on its date")
	}
	require.Equal(t, "0.00", s.call("GET", "/v1/me/account", bidder.token, nil, 200)["frozen"], "every freeze released either way")

	// A repayment by hand as the clock reaches the due date (2 April), with
	// 7,000.00 for one installment of 6,048.79: it is paid once, by hand or
	// by the auto-debit; the other finds 951.21, short of installment 2.
	s.advance(ops, "2026-04-01")
	clock, repays := s.againstTheClock(rng, ops, "2026-04-02", len(byHand), func(i int) reply {
		return s.final("repay", "POST", loanPath(byHand[i].id, "/repayments"), byHand[i].borrower.token, next("repay"), obj{"kind": "next"})
	})
	require.Equal(t, 200, clock.status, "%v %s", clock.body, clock.fault)
	for i, l := range byHand {
		results.add("repayment by hand vs the due date's auto-debit", repays[i])
		if repays[i].ok() {
			require.Equal(t, "6048.79", repays[i].body["amount"])
		} else {
			require.Equal(t, "insufficient_balance", repays[i].code, "%v", repays[i])
		}
		sched := s.schedule(ops, l.id)
		require.Equal(t, "6048.79", sched[0]["paid"], "installment 1 paid once")
		require.Equal(t, "0.00", sched[1]["paid"])
		require.Equal(t, "951.21", s.available(l.borrower.token).StringFixed(2))
		// Enough for installment 2, so the loan ends repaid on 2 May.
		s.call("POST", "/v1/me/recharges", l.borrower.token, obj{"amount": "6000.00"}, 201)
	}

	// Nothing paid on the write-off loans (no authorization): on 2 July
	// installment 1 is 91 days past due and ops are asked to write off.
	// The borrower repays installment 1 as ops approve: a write-off after
	// the cure is refused; a repayment after the write-off too.
	s.advance(ops, "2026-07-02")
	for _, l := range writeOff {
		require.Equal(t, "overdue", s.loanStatus(ops, l.id))
	}
	var writtenOff []loan
	for _, l := range writeOff[:n] {
		r, w := meet(rng,
			func() reply {
				return s.final("repay", "POST", loanPath(l.id, "/repayments"), l.borrower.token, next("repay"), obj{"kind": "next"})
			},
			func() reply {
				return s.final("write-off", "POST", opsPath(l.id, "/write-off"), ops, next("write-off"), obj{"decision": "approve", "note": "race suite"})
			})
		results.add("write-off approve vs curing repayment", r, w)
		won := oneWon(t, "write-off vs cure", r, w, "invalid_state")
		status := s.loanStatus(ops, l.id)
		if won.name == "repay" {
			require.Equal(t, "overdue", status, "cured to 61 days past due: installment 2 is still open")
			continue
		}
		require.Equal(t, "written_off", status)
		writtenOff = append(writtenOff, l)
	}
	last := writeOff[n]
	s.call("POST", opsPath(last.id, "/write-off"), ops, obj{"decision": "approve", "note": "race suite"}, 200)
	writtenOff = append(writtenOff, last)

	// Two recoveries at once, of seeded amounts: together they may exceed
	// what the holders are still owed, or the borrower's balance.
	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	owed := func(id float64) decimal.Decimal {
		var left decimal.Decimal
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT sum(amount - recovered - reserved) FROM write_off_losses WHERE loan_id = $1`,
			int64(id)).Scan(&left))
		return left
	}
	for i := range 2 * n {
		l := writtenOff[i%len(writtenOff)]
		if rng.Intn(2) == 0 {
			// The borrower has more than is owed: what is owed binds.
			s.call("POST", "/v1/me/recharges", l.borrower.token, obj{"amount": owed(l.id).StringFixed(2)}, 201)
		}
		left, balance := owed(l.id), s.available(l.borrower.token)
		most := decimal.Min(left, balance)
		amount := func() decimal.Decimal {
			return most.Mul(decimal.NewFromInt(int64(20 + rng.Intn(61)))).Div(decimal.NewFromInt(100)).RoundDown(2)
		}
		amounts := []decimal.Decimal{amount(), amount()}
		recovery := func(j int) func() reply {
			return func() reply {
				return s.final("recovery", "POST", opsPath(l.id, "/recoveries"), ops, next("recovery"),
					obj{"amount": amounts[j].StringFixed(2), "note": "race suite"})
			}
		}
		a, b := meet(rng, recovery(0), recovery(1))
		results.add("two recoveries", a, b)
		replies := []reply{a, b}
		took := decimal.Zero
		for j, r := range replies {
			if r.ok() {
				took = took.Add(amounts[j])
			}
		}
		for j, r := range replies {
			other := decimal.Zero // what the other recovery took
			if replies[1-j].ok() {
				other = amounts[1-j]
			}
			switch {
			case r.ok():
				require.Equal(t, 201, r.status, "%v", r)
			case r.code == "validation_failed":
				require.True(t, amounts[j].GreaterThan(left.Sub(other)), "refused %s with %s owed and %s taken", amounts[j], left, other)
			case r.code == "insufficient_balance":
				require.True(t, amounts[j].GreaterThan(balance.Sub(other)), "refused %s with %s available and %s taken", amounts[j], balance, other)
			default:
				t.Fatalf("recovery: %v", r)
			}
		}
		require.Equal(t, left.Sub(took).StringFixed(2), owed(l.id).StringFixed(2), "what is owed fell by what was taken")
		require.Equal(t, balance.Sub(took).StringFixed(2), s.available(l.borrower.token).StringFixed(2), "the borrower paid what was taken, once")
	}

	// The day closes; then every account is checked against the bank, and
	// every day's reconciliation file against the ledger.
	s.advance(ops, "2026-07-03")
	results.log()
	s.booksAgree(pool)
	require.NoError(t, ledger.CheckConservation(context.Background(), pool))
	require.NoError(t, s.sim.Check(context.Background()))
	days := 0
	for d := mustDate("2026-03-02"); !d.After(mustDate("2026-07-02")); d = d.AddDate(0, 0, 1) {
		// A day a request, paced by the API's rate limit (429 until the bucket refills).
		var code int
		var rec obj
		testwait.Every(200*time.Millisecond).For(t, "the rate limit to let a request through", func() bool {
			code, rec = s.try("GET", "/v1/ops/reconciliation/"+d.Format(time.DateOnly), ops, nil)
			return code != http.StatusTooManyRequests
		})
		require.Equal(t, 200, code, "%v", rec)
		require.Equal(t, "matched", rec["status"], "%s: %v", d.Format(time.DateOnly), rec["differences"])
		days++
	}
	t.Logf("seed %d, %d trials a pair: every request answered, %d days reconciled, the ledger and the bank agree", seed, n, days)
}
