package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/ledger"
)

// crashSeed is the run's seed; LENDFLOW_CRASH_SEED replays another.
func crashSeed(t *testing.T) int64 { return envInt(t, "LENDFLOW_CRASH_SEED", 8) }

// victim is a process chaos may kill and start again.
type victim struct {
	name  string
	kill  func()
	start func() error
}

// chaos kills n times, at seeded random moments 150 ms to 1 s apart, one of
// victims (a seeded choice when there are several) with SIGKILL, starting it
// again each time, while the test's requests go on. It reports on done what
// went wrong, if anything.
func (s *stack) chaos(rng *rand.Rand, n int, victims ...victim) <-chan error {
	done := make(chan error, 1)
	delays := make([]time.Duration, n)
	for i := range delays {
		delays[i] = time.Duration(150+rng.Intn(850)) * time.Millisecond
	}
	picks := make([]int, n)
	if len(victims) > 1 {
		for i := range picks {
			picks[i] = rng.Intn(len(victims))
		}
	}
	go func() {
		for i, d := range delays {
			time.Sleep(d)
			v := victims[picks[i]]
			v.kill()
			s.mu.Lock()
			s.kills[v.name]++
			s.mu.Unlock()
			if err := v.start(); err != nil {
				done <- fmt.Errorf("%s: %w", v.name, err)
				return
			}
		}
		done <- nil
	}()
	return done
}

// killed is how many times chaos killed each of names, and in all.
func (s *stack) killed(names ...string) (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, total := map[string]int{}, 0
	for _, n := range names {
		out[n] = s.kills[n]
		total += s.kills[n]
	}
	return out, total
}

// persist sends a request again, under the same Idempotency-Key, until it
// gets one of the statuses accepted: through connection errors while the API
// is down, 5xx, and 202 while the work goes on.
func (s *stack) persist(method, path, token, key string, body any, accept ...int) (int, obj) {
	s.t.Helper()
	return s.persistUntil(method, path, token, key, body, func(status int, _ obj) bool {
		for _, a := range accept {
			if status == a {
				return true
			}
		}
		return false
	})
}

// persistUntil is persist with the answer that ends it told by done.
// Anything else but connection errors, 5xx, 202 and 409 fails the test.
func (s *stack) persistUntil(method, path, token, key string, body any, done func(status int, r obj) bool) (int, obj) {
	s.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(s.t, err)
	}
	last := ""
	var status int
	var out obj
	if !testwait.Within(3 * time.Minute).Every(100 * time.Millisecond).Until(func() bool {
		var b []byte
		var err error
		status, b, err = s.sendKeyed(method, path, token, key, raw)
		if err != nil {
			last = err.Error()
			return false
		}
		out = obj{}
		if len(b) > 0 && b[0] == '{' {
			require.NoError(s.t, json.Unmarshal(b, &out))
		}
		if done(status, out) {
			return true
		}
		last = fmt.Sprintf("%d %s", status, b)
		if status < 500 && status != http.StatusAccepted && status != http.StatusConflict {
			s.t.Fatalf("%s %s: %s", method, path, last)
		}
		return false
	}) {
		s.t.Fatalf("%s %s: gave up; last answer %s", method, path, last)
	}
	return status, out
}

// sendKeyed sends one request with its raw JSON body (nil: none) under an
// Idempotency-Key ("": none) and answers the status and body. It may run on
// any goroutine: it fails no test.
func (s *stack) sendKeyed(method, path, token, key string, raw []byte) (int, []byte, error) {
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.api+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestCrashesMoveMoneyOnce kills the worker and the API with SIGKILL at
// seeded random moments — during bids and withdrawals (the API), the
// disbursement batch and the repayment batches (the worker), and claims
// listed and bought by two buyers racing for each (either) — 36 times in
// all, starting each again, while clients send their requests again under
// the same Idempotency-Key until they are answered; then checks that each
// listing was sold once, to the buyer who holds it and was paid its
// installments, that no request number moved money twice at the bank, every
// party's balance at the bank equals the ledger, money is conserved, and
// every business day reconciles.
func TestCrashesMoveMoneyOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills and restarts processes for about a minute")
	}
	seed := crashSeed(t)
	rng := rand.New(rand.NewSource(seed))
	s := launch(t, "2026-03-02", nil, true)
	ops := s.opsToken()
	borrower := s.signUp("borrower", "周借款")
	invs := []person{s.investor("冯投资", "5000.00"), s.investor("陈投资", "5000.00"), s.investor("褚投资", "5000.00")}
	id := s.listed(ops, borrower, "12000.00", 3)
	// Every bid carries a coupon (docs/coupons.md): a cash coupon of 10.00, paid at
	// the disbursement; two interest coupons of +3 % for 3 months, the first on a
	// claim sold below (its bonuses lapse, never paid to a buyer), the second paid
	// with each installment: round(B × 0.03 / 12) on B 4,000.00, 2,673.87 (or .86,
	// by whose bid took the split's leftover cent) and 1,340.55 (or .54): 10.00,
	// 6.68, 3.35 either way.
	s.call("POST", "/v1/ops/bonus-account/top-ups", ops, obj{"amount": "3100.00"}, 201)
	coupon := []float64{
		s.grant(ops, invs[0], obj{"kind": "cash", "amount": "10.00", "min_bid": "1000.00", "expires_on": "2026-03-31"}),
		s.grant(ops, invs[1], obj{"kind": "interest", "extra_rate": "0.03", "months": 3, "expires_on": "2026-03-31"}),
		s.grant(ops, invs[2], obj{"kind": "interest", "extra_rate": "0.03", "months": 3, "expires_on": "2026-03-31"}),
	}

	// Bids while the API dies under them.
	api, worker := s.procs.victim("api"), s.procs.victim("worker")
	apiDeaths := s.chaos(rng, 8, api)
	var wg sync.WaitGroup
	for i, inv := range invs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.persist("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), inv.token, fmt.Sprintf("bid-%d", i),
				obj{"amount": "4000.00", "coupon_id": coupon[i]}, 201, 202)
		}()
	}
	wg.Wait()
	require.NoError(t, <-apiDeaths)
	s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, id) == "full_review" })
	for _, inv := range invs {
		bids := s.call("GET", "/v1/me/bids", inv.token, nil, 200)["items"].([]any)
		require.Len(t, bids, 1, "one bid per key, whatever the crashes")
	}

	// The disbursement batch while the worker dies under it.
	workerDeaths := s.chaos(rng, 6, worker)
	s.persist("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", id), ops, "review", obj{"decision": "approve", "note": "ok"}, 200)
	require.NoError(t, <-workerDeaths)
	s.waitFor("repaying", func() bool { return s.loanStatus(ops, id) == "repaying" })
	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", id), borrower.token, obj{"max_amount": "5000.00", "expires_on": "2026-12-31"}, 201)
	s.call("POST", "/v1/me/recharges", borrower.token, obj{"amount": "1000.00"}, 201)

	// Two claims listed and two buyers racing for each while the API and the worker die under them.
	buyers := []person{s.investor("卫受让", "9000.00"), s.investor("蒋受让", "9000.00")}
	sales := s.purchasesUnderChaos(rng, id, invs[:2], buyers, api, worker)

	// Each due date's repayment batch while the worker dies under it.
	for _, due := range []string{"2026-04-02", "2026-05-02", "2026-06-02"} {
		deaths := s.chaos(rng, 2, worker)
		s.persist("POST", "/v1/ops/clock/advance", ops, "", obj{"to": due}, 200)
		require.NoError(t, <-deaths)
	}
	s.waitFor("repaid", func() bool { return s.loanStatus(ops, id) == "repaid" })

	// Withdrawals while the API dies under them.
	apiDeaths = s.chaos(rng, 8, api)
	for i, inv := range invs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.persist("POST", "/v1/me/withdrawals", inv.token, fmt.Sprintf("withdraw-%d", i), obj{"amount": "500.00"}, 201)
		}()
	}
	wg.Wait()
	require.NoError(t, <-apiDeaths)
	byName, kills := s.killed("api", "worker")
	require.GreaterOrEqual(t, kills, 20)
	s.advance(ops, "2026-06-03") // the withdrawals' day closes
	for _, inv := range invs {
		require.Equal(t, 1, s.withdrawals(inv.token), "one withdrawal per key")
	}

	// The books: each request number moved money once, ledger = bank, conserved, every day matched.
	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	movements, days, _ := s.moneyMovedOnce(pool, ops, "2026-03-02", "2026-06-02")
	require.Equal(t, []string{
		fmt.Sprintf("%.0f/0 10.00 paid", coupon[0]),
		fmt.Sprintf("%.0f/1 10.00 lapsed", coupon[1]), fmt.Sprintf("%.0f/1 10.00 paid", coupon[2]),
		fmt.Sprintf("%.0f/2 6.68 lapsed", coupon[1]), fmt.Sprintf("%.0f/2 6.68 paid", coupon[2]),
		fmt.Sprintf("%.0f/3 3.35 lapsed", coupon[1]), fmt.Sprintf("%.0f/3 3.35 paid", coupon[2]),
	}, s.couponPayments(pool, id), "each bonus paid once under the crashes; the sold claim's lapsed")
	require.Equal(t, "3069.97", s.bankBalance(bank.AccountBonus), "3,100.00 − 10.00 − 10.00 − 6.68 − 3.35")
	for _, sale := range sales {
		h := s.holding(sale.buyer, id)
		require.Equal(t, []any{"transfer", "repaid", "0.00", "0.00"},
			[]any{h["source"], h["status"], h["pending_principal"], h["pending_interest"]}, "the buyer was paid the claim to the end")
	}
	t.Logf("seed %d: %d kills (api %d, worker %d); %d bank movements over %d days, each once; every day matched",
		seed, kills, byName["api"], byName["worker"], movements, days)
	for _, sale := range sales {
		t.Logf("transfer %.0f sold once, to investor %.0f, for %s", sale.transfer, sale.buyer.id, sale.price)
	}
}

// couponPayments lists a loan's coupon payments as "coupon/installment amount status".
func (s *stack) couponPayments(pool *pgxpool.Pool, id float64) []string {
	s.t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT coupon_id, installment_no, amount::text, status FROM coupon_payments
		WHERE loan_id = $1 ORDER BY installment_no, coupon_id`, int64(id))
	require.NoError(s.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var coupon, inst int64
		var amount, status string
		require.NoError(s.t, rows.Scan(&coupon, &inst, &amount, &status))
		out = append(out, fmt.Sprintf("%d/%d %s %s", coupon, inst, amount, status))
	}
	require.NoError(s.t, rows.Err())
	return out
}

// sale is a listing sold in the crash test, and to whom.
type sale struct {
	transfer float64
	buyer    person
	price    string
}

// purchasesUnderChaos lists the sellers' claims of loan id and has every
// buyer try to buy every listing at once, each purchase sent again under its
// own Idempotency-Key until it is answered, while chaos kills the API and the
// worker. Each listing is sold exactly once: one buyer is answered 201 (the
// same sale however often it asked), the others transfer_not_open; the
// listing is sold to that buyer, who holds the claim; the seller's holding
// is transferred. The money (each request number once, bank = ledger) is
// moneyMovedOnce's to check at the end.
func (s *stack) purchasesUnderChaos(rng *rand.Rand, id float64, sellers, buyers []person, victims ...victim) []sale {
	t := s.t
	t.Helper()
	// The holdings are read before the chaos: a read sent once is no
	// question of money, and a dead API would fail it.
	holdings := make([]float64, len(sellers))
	for i, seller := range sellers {
		holdings[i] = s.holding(seller, id)["holding_id"].(float64)
	}
	deaths := s.chaos(rng, 8, victims...)
	listings := make([]float64, len(sellers))
	var wg sync.WaitGroup
	for i, seller := range sellers {
		hid := holdings[i]
		_, offer := s.persist("POST", fmt.Sprintf("/v1/me/holdings/%.0f/transfer", hid), seller.token,
			fmt.Sprintf("offer-%d", i), obj{"discount_rate": "0.01"}, 201)
		listings[i] = offer["transfer_id"].(float64)
	}
	type answer struct {
		status int
		code   string
		price  string
	}
	answers := make([][]answer, len(listings)) // by listing, by buyer
	for l, tid := range listings {
		answers[l] = make([]answer, len(buyers))
		for b, buyer := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, r := s.persistUntil("POST", fmt.Sprintf("/v1/transfers/%.0f/purchase", tid), buyer.token,
					fmt.Sprintf("buy-%d-%d", l, b), obj{}, func(status int, r obj) bool {
						return status == http.StatusCreated || (status == http.StatusConflict && r["code"] == "transfer_not_open")
					})
				a := answer{status: status}
				a.code, _ = r["code"].(string)
				a.price, _ = r["price"].(string)
				answers[l][b] = a
			}()
		}
	}
	wg.Wait()
	require.NoError(t, <-deaths)

	var sales []sale
	for l, tid := range listings {
		var won []int
		for b, a := range answers[l] {
			if a.status == http.StatusCreated {
				won = append(won, b)
			} else {
				require.Equal(t, "transfer_not_open", a.code)
			}
		}
		require.Len(t, won, 1, "listing %.0f: one buyer, whatever the crashes and retries", tid)
		buyer := buyers[won[0]]
		// Asked again under its key, the winner's purchase is the same sale.
		status, again := s.persist("POST", fmt.Sprintf("/v1/transfers/%.0f/purchase", tid), buyer.token,
			fmt.Sprintf("buy-%d-%d", l, won[0]), obj{}, 201)
		require.Equal(t, []any{201, answers[l][won[0]].price}, []any{status, again["price"]})
		got := s.call("GET", fmt.Sprintf("/v1/transfers/%.0f", tid), sellers[l].token, nil, 200)
		require.Equal(t, []any{"sold", answers[l][won[0]].price}, []any{got["status"], got["price"]})
		require.Equal(t, "transferred", s.sellerHolding(sellers[l], id)["status"])
		sales = append(sales, sale{transfer: tid, buyer: buyer, price: answers[l][won[0]].price})
	}
	// Each buyer holds exactly the claims it was sold, and its purchases list them and no other.
	for b, buyer := range buyers {
		want := map[float64]bool{}
		for _, sl := range sales {
			if sl.buyer == buyer {
				want[sl.transfer] = true
			}
		}
		bought := map[float64]bool{}
		for _, it := range s.call("GET", "/v1/me/transfers", buyer.token, nil, 200)["items"].([]any) {
			if tr := it.(obj); tr["role"] == "buyer" {
				require.Equal(t, "sold", tr["status"])
				bought[tr["transfer_id"].(float64)] = true
			}
		}
		require.Equal(t, want, bought, "buyer %d", b)
		held := 0
		for _, it := range s.call("GET", "/v1/me/holdings", buyer.token, nil, 200)["items"].([]any) {
			if h := it.(obj); h["loan_id"] == id && h["source"] == "transfer" {
				held++
			}
		}
		require.Equal(t, len(want), held, "buyer %d holds what it bought", b)
	}
	return sales
}

// sellerHolding is the seller's own holding of loan id from its bid.
func (s *stack) sellerHolding(p person, id float64) obj {
	s.t.Helper()
	for _, it := range s.call("GET", "/v1/me/holdings", p.token, nil, 200)["items"].([]any) {
		if h := it.(obj); h["loan_id"] == id && h["source"] == "bid" {
			return h
		}
	}
	s.t.Fatalf("no holding of loan %.0f from a bid", id)
	return nil
}

// withdrawals is how many withdrawals the user's fund log shows: their
// amounts' lines (a fee is a line of its own, kind withdrawal_fee).
func (s *stack) withdrawals(token string) int {
	s.t.Helper()
	n := 0
	for _, f := range s.call("GET", "/v1/me/fund-logs", token, nil, 200)["items"].([]any) {
		if f.(obj)["type"] == ledger.TypeWithdrawal && f.(obj)["kind"] == ledger.TypeWithdrawal {
			n++
		}
	}
	return n
}

// moneyMovedOnce checks the books after a crash test, business days first
// to last: no request number moved money twice in the bank's files, every
// day reconciles matched, the ledger agrees with the bank (booksAgree), money
// is conserved on both sides. It answers the movements, days and accounts seen.
func (s *stack) moneyMovedOnce(pool *pgxpool.Pool, ops, first, last string) (movements, days, accounts int) {
	s.t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	for d := mustDate(first); !d.After(mustDate(last)); d = d.AddDate(0, 0, 1) {
		lines, err := s.bank.Reconciliation(ctx, d)
		require.NoError(s.t, err)
		for _, l := range lines {
			k := fmt.Sprintf("%s/%d/%s", l.RequestNo, l.Item, l.Type)
			require.False(s.t, seen[k], "request %s moved money twice", k)
			seen[k] = true
		}
		rec := s.call("GET", "/v1/ops/reconciliation/"+d.Format(time.DateOnly), ops, nil, 200)
		require.Equal(s.t, "matched", rec["status"], "%s: %v", d.Format(time.DateOnly), rec["differences"])
		days++
	}
	accounts = s.booksAgree(pool)
	require.NoError(s.t, ledger.CheckConservation(ctx, pool))
	require.NoError(s.t, s.sim.Check(ctx))
	return len(seen), days, accounts
}
