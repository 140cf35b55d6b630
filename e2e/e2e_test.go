// Package e2e carries a loan from application to repaid through the HTTP API
// alone, against the real pieces: a Temporal dev server, PostgreSQL, the bank
// simulator, the worker and the API, each started here as the binary would.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/ledger"
	"github.com/lendflow/lendflow/workflows"
)

// envInt is the integer in the environment variable name (a seed, a count
// the test is replayed with), or def when it is unset.
func envInt(t *testing.T, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	require.NoError(t, err, name)
	return n
}

// stack is one running platform.
type stack struct {
	t     *testing.T
	api   string
	bank  *bank.HTTPClient
	dbURL string
	http  *http.Client
	tc    client.Client
	sim   *sim.Sim
	procs *procs // the worker and the API as OS processes (crash tests), else nil

	mu    sync.Mutex
	kills map[string]int // by chaos, of each process by name
	seq   int            // the people signed up (their ID, phone and card numbers)
}

func freeListener(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

func start(t *testing.T, clockStart string) *stack { return startWith(t, clockStart, nil) }

// startWith lets a test change the configuration (faults, sweep pace) before start.
func startWith(t *testing.T, clockStart string, configure func(*app.Config, *sim.Config)) *stack {
	return launch(t, clockStart, configure, false)
}

// launch starts a stack on a Temporal dev server of its own: the worker and
// the API in this process, or as OS processes of the built binary
// (processes), which a test may kill.
func launch(t *testing.T, clockStart string, configure func(*app.Config, *sim.Config), processes bool) *stack {
	replicas := 0
	if processes {
		replicas = 1
	}
	return launchOn(t, proctest.DevServer(t, io.Discard), clockStart, configure, replicas)
}

// launchOn starts a stack on the Temporal service tm, with the bank
// simulator in this process and the worker and the API: in this process
// (replicas 0); one of each as OS processes (1); or, the production shape,
// that many of each as processes, the APIs behind `lendflow lb` on the API's
// address (2 or more).
func launchOn(t *testing.T, tm *proctest.Temporal, clockStart string, configure func(*app.Config, *sim.Config), replicas int) *stack {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := stackLog(t)

	apiLn, bankLn := freeListener(t), freeListener(t)
	dbURL := proctest.FreshDatabase(t, "lendflow_e2e")
	cfg := app.Config{
		DatabaseURL: dbURL, BankDatabaseURL: dbURL,
		TemporalAddress: tm.Address, TemporalNamespace: "default",
		BankURL: "http://" + bankLn.Addr().String(), BankListen: bankLn.Addr().String(),
		BankCallbackURL: "http://" + apiLn.Addr().String() + "/v1/bank/callbacks",
		BankHMACSecret:  "e2e-secret-not-for-production",
		BankAPIKey:      "e2e-bank-api-key-not-for-production",
		ClockMode:       "sandbox", ClockStart: mustDate(clockStart),
		OpsEmail: "ops@lendflow.test", OpsPassword: "ops-password-1",
	}

	simCfg := sim.Config{DatabaseURL: dbURL, Listen: cfg.BankListen, CallbackURL: cfg.BankCallbackURL, HMACSecret: []byte(cfg.BankHMACSecret), APIKey: []byte(cfg.BankAPIKey), Logger: log}
	if configure != nil {
		configure(&cfg, &simCfg)
	}
	bankSim, err := sim.Open(ctx, simCfg)
	require.NoError(t, err)
	t.Cleanup(bankSim.Close)
	go func() { _ = http.Serve(bankLn, bankSim.Handler()) }()

	s := &stack{t: t, sim: bankSim, api: "http://" + apiLn.Addr().String(), bank: bank.NewHTTPClient(cfg.BankURL, nil, bank.WithAPIKey([]byte(cfg.BankAPIKey))), dbURL: dbURL,
		http: &http.Client{Timeout: 2 * time.Minute}, tc: tm.Client, kills: map[string]int{}}
	t.Cleanup(func() {
		if t.Failed() {
			s.pendingWork()
		}
	})
	if replicas > 0 {
		apiLn.Close() // the API process, or the balancer, binds it
		s.procs = newProcs(t, cfg, replicas)
		s.procs.startAll()
		return s
	}
	go func() {
		if err := app.RunWorker(ctx, cfg, log); err != nil && ctx.Err() == nil {
			t.Errorf("worker: %v", err)
		}
	}()
	api, err := app.NewAPI(ctx, cfg, log)
	require.NoError(t, err)
	t.Cleanup(api.Close)
	go func() { _ = http.Serve(apiLn, api.Handler) }()
	return s
}

// pendingWork logs, for a failed test, each running workflow's pending
// activities: what a loan that never reached the status a test waited for
// was still doing, its attempts and its last failure.
func (s *stack) pendingWork() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it, err := s.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "ExecutionStatus = 'Running'"})
	if err != nil {
		s.t.Logf("running workflows: %v", err)
		return
	}
	s.t.Logf("running workflows: %d", len(it.Executions))
	for _, ex := range it.Executions {
		d, err := s.tc.DescribeWorkflowExecution(ctx, ex.Execution.WorkflowId, ex.Execution.RunId)
		if err != nil {
			s.t.Logf("%s: %v", ex.Execution.WorkflowId, err)
			continue
		}
		for _, a := range d.PendingActivities {
			msg := ""
			if f := a.LastFailure; f != nil {
				msg = f.Message
			}
			s.t.Logf("%s: activity %s %s, attempt %d, last failure %q", ex.Execution.WorkflowId,
				a.ActivityType.GetName(), a.State, a.Attempt, msg)
		}
	}
}

// stackLog is the in-process worker's and API's log: warnings and errors
// (an activity's failed attempt, a stuck step), kept in a file and shown
// when the test fails, as the processes' logs are (procs); -v prints them as
// they come too. A test that fails once in many runs then says why.
func stackLog(t *testing.T) *slog.Logger {
	path := filepath.Join(t.TempDir(), "stack.log")
	f, err := os.Create(path)
	require.NoError(t, err)
	var w io.Writer = f
	if testing.Verbose() {
		w = io.MultiWriter(f, os.Stderr)
	}
	t.Cleanup(func() {
		f.Close()
		if t.Failed() {
			raw, _ := os.ReadFile(path)
			t.Logf("the end of the stack's warnings:\n%s", tail(string(raw), 6000))
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func mustDate(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

type obj = map[string]any

// call sends one request and requires the status.
func (s *stack) call(method, path, token string, body any, want int) obj {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(s.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.api+path, rd)
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.http.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(s.t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
	out := obj{}
	if len(raw) > 0 && raw[0] == '{' {
		require.NoError(s.t, json.Unmarshal(raw, &out))
	}
	return out
}

// waitFor polls until cond holds; the workflow moves the loan asynchronously.
func (s *stack) waitFor(what string, cond func() bool) {
	s.t.Helper()
	testwait.Every(100*time.Millisecond).For(s.t, what, cond)
}

type person struct {
	id    float64
	token string
	acct  string
}

// signUp registers, logs in and opens a custody account with a valid card.
func (s *stack) signUp(role, name string) person {
	s.t.Helper()
	seq := s.next()
	body := fmt.Sprintf("33010619900301%03d", seq)
	id := body + string(kyc.IDCheckChar(body))
	email := fmt.Sprintf("%s%d@lendflow.test", role, seq)
	r := s.call("POST", "/v1/auth/register", "", obj{"email": email, "password": "password-123", "role": role,
		"name": name, "id_number": id, "phone": fmt.Sprintf("1380000%04d", seq)}, 201)
	p := person{id: r["user_id"].(float64)}
	p.token = s.call("POST", "/v1/auth/login", "", obj{"email": email, "password": "password-123"}, 200)["token"].(string)
	p.acct = s.call("POST", "/v1/me/custody-account", p.token, obj{"card_number": cardFor(seq)}, 201)["account_no"].(string)
	return p
}

// next numbers the next person to sign up on s.
func (s *stack) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

// last is the number of the last person signed up.
func (s *stack) last() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

func (s *stack) loanStatus(token string, id float64) string {
	return s.call("GET", fmt.Sprintf("/v1/loans/%.0f", id), token, nil, 200)["status"].(string)
}

func (s *stack) bankBalance(account string) string {
	s.t.Helper()
	b, err := s.bank.Balance(context.Background(), account)
	require.NoError(s.t, err)
	require.True(s.t, b.Frozen.IsZero(), "%s has %s still frozen", account, b.Frozen)
	return b.Available.StringFixed(2)
}

// TestLoanFromApplicationToRepaid: a 60,000.00 loan over 3 months, applied
// for on 31 January so its due dates clamp to 28 Feb, 31 Mar and 30 Apr; due
// diligence regrades it B at 8.5 %; three investors fill it; it is disbursed
// and auto-debited on each due date until repaid.
//
// The figures, worked by hand (docs/rules.md "Money rules"):
//
//	r = 0.085/12; A = round(60000·r·(1+r)^3/((1+r)^3−1)) = 20284.00
//	1: interest round(60000.00·r) = 425.00, principal 19859.00
//	2: interest round(40141.00·r) = 284.33, principal 19999.67
//	3: interest round(20141.33·r) = 142.67, principal 20141.33 (the rest), payment 20284.00
//	borrower pays 60852.00 in all; receives 60000 − fee 1.5 % 900.00 − reserve 2 % 1200.00 = 57900.00
//	bids 30000/20000/10000 split each principal and interest by largest remainder,
//	the last installment's principal being what remains of each claim (money.ClaimShares):
//	  inst 1 principal 9929.50/6619.67/3309.83, interest 212.50/141.67/70.83
//	  inst 2 principal 9999.83/6666.56/3333.28, interest 142.16/94.78/47.39
//	  inst 3 principal 10070.67/6713.77/3356.89, interest 71.33/47.56/23.78
//	  received: 30000.00+425.99, 20000.00+284.01, 10000.00+142.00
func TestLoanFromApplicationToRepaid(t *testing.T) {
	t.Parallel()
	s := start(t, "2026-01-31")
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)
	require.Equal(t, obj{"today": "2026-01-31", "mode": "sandbox"}, s.call("GET", "/v1/clock", "", nil, 200))

	borrower := s.signUp("borrower", "张三")
	investors := []person{s.signUp("investor", "李四"), s.signUp("investor", "王五"), s.signUp("investor", "赵六")}
	bids := []string{"30000.00", "20000.00", "10000.00"}
	for i, inv := range investors {
		lvl := s.call("POST", "/v1/me/risk-assessment", inv.token, obj{"answers": []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}}, 200)
		require.Equal(t, "C3", lvl["risk_level"])
		amt := decimal.RequireFromString(bids[i]).Add(decimal.NewFromInt(1000)).StringFixed(2)
		require.Equal(t, "succeeded", s.call("POST", "/v1/me/recharges", inv.token, obj{"amount": amt}, 201)["status"])
	}
	s.call("POST", "/v1/me/recharges", borrower.token, obj{"amount": "3000.00"}, 201)

	loan := s.call("POST", "/v1/loans", borrower.token, obj{"amount": "60000.00", "term_months": 3,
		"repayment_method": "equal_installment", "purpose": "shop renovation", "monthly_income": "50000.00"}, 201)
	id := loan["loan_id"].(float64)
	require.Equal(t, workflows.LoanWorkflowID(int64(id)), loan["workflow_id"])
	s.waitFor("due diligence", func() bool { return s.loanStatus(ops, id) == "due_diligence" })

	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/due-diligence", id), ops,
		obj{"decision": "approve", "grade": "B", "annual_rate": "0.085", "note": "income verified"}, 200)
	s.waitFor("listed", func() bool { return s.loanStatus(ops, id) == "listed" })
	listing := s.call("GET", fmt.Sprintf("/v1/listings/%.0f", id), investors[0].token, nil, 200)
	require.Equal(t, "张*", listing["borrower"].(obj)["name"])
	require.Equal(t, "60000.00", listing["remaining"])

	for i, inv := range investors {
		b := s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), inv.token, obj{"amount": bids[i]}, 201)
		require.Equal(t, "frozen", b["status"])
	}
	s.waitFor("full-tender review", func() bool { return s.loanStatus(ops, id) == "full_review" })
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", id), ops, obj{"decision": "approve", "note": "ok"}, 200)
	s.waitFor("repaying", func() bool { return s.loanStatus(ops, id) == "repaying" })

	sched := s.call("GET", fmt.Sprintf("/v1/loans/%.0f/schedule", id), borrower.token, nil, 200)["installments"].([]any)
	require.Len(t, sched, 3)
	for i, want := range [][3]string{{"2026-02-28", "19859.00", "425.00"}, {"2026-03-31", "19999.67", "284.33"}, {"2026-04-30", "20141.33", "142.67"}} {
		got := sched[i].(obj)
		require.Equal(t, want[0], got["due_date"], "installment %d", i+1)
		require.Equal(t, want[1], got["principal"], "installment %d", i+1)
		require.Equal(t, want[2], got["interest"], "installment %d", i+1)
	}
	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", id), borrower.token, obj{"max_amount": "25000.00", "expires_on": "2026-12-31"}, 201)

	// One advance past the last due date: the clock stops at every event on the way.
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": "2026-05-01"}, 200)
	require.Equal(t, "repaid", s.loanStatus(borrower.token, id))

	hold := s.call("GET", "/v1/me/holdings", investors[0].token, nil, 200)["items"].([]any)[0].(obj)
	require.Equal(t, "30000.00", hold["received_principal"])
	require.Equal(t, "425.99", hold["received_interest"])
	require.Equal(t, "0.00", hold["pending_principal"])

	// Every party's balance at the bank, to the cent.
	want := map[string]string{
		investors[0].acct: "31425.99", investors[1].acct: "21284.01", investors[2].acct: "11142.00",
		borrower.acct: "48.00", bank.AccountFee: "900.00", bank.AccountRiskReserve: "1200.00",
	}
	got := map[string]string{}
	for acct := range want {
		got[acct] = s.bankBalance(acct)
	}
	require.Equal(t, want, got)
	acct := s.call("GET", "/v1/me/account", investors[0].token, nil, 200)
	require.Equal(t, "31425.99", acct["available"], "the ledger mirrors the bank")

	// The investor takes the interest out; the bank reports the result by a
	// signed callback, and the ledger follows it.
	wd := s.call("POST", "/v1/me/withdrawals", investors[0].token, obj{"amount": "1425.99"}, 201)
	require.Equal(t, "0.00", wd["fee"], "the first withdrawal of the month is free")
	wdPath := fmt.Sprintf("/v1/me/withdrawals/%.0f", wd["id"].(float64))
	s.waitFor("withdrawal callback", func() bool { return s.call("GET", wdPath, investors[0].token, nil, 200)["status"] == "succeeded" })
	s.call("GET", wdPath, investors[1].token, nil, 404)
	require.Equal(t, "30000.00", s.bankBalance(investors[0].acct))
	require.Equal(t, "30000.00", s.call("GET", "/v1/me/account", investors[0].token, nil, 200)["available"])

	// Each business day's reconciliation file agrees with the ledger, movement by movement.
	for _, d := range []string{"2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"} {
		rec := s.call("GET", "/v1/ops/reconciliation/"+d, ops, nil, 200)
		require.Equal(t, "matched", rec["status"], "%s: %v", d, rec["differences"])
	}
	require.Equal(t, "pending", s.call("GET", "/v1/ops/reconciliation/2026-05-01", ops, nil, 200)["status"])

	// The books of those days, from the ledger (docs/reports.md): the
	// disbursement day, the first and last repayment days, the withdrawal.
	day := func(d string) obj { return s.call("GET", "/v1/ops/reports/daily/"+d, ops, nil, 200) }
	pick := func(r obj, keys ...string) []any {
		var out []any
		for _, k := range keys {
			out = append(out, r[k])
		}
		return out
	}
	require.Equal(t, []any{"60000.00", "900.00", "1200.00", "66000.00"},
		pick(day("2026-01-31"), "disbursed", "service_fees", "risk_reserve_in", "recharges"), "63,000.00 for the bids, 3,000.00 the borrower's")
	require.Equal(t, []any{"19859.00", "425.00", "0.00"}, pick(day("2026-02-28"), "repaid_principal", "repaid_interest", "repaid_penalty"))
	require.Equal(t, []any{"20141.33", "142.67"}, pick(day("2026-04-30"), "repaid_principal", "repaid_interest"))
	require.Equal(t, []any{"1425.99", "0.00"}, pick(day("2026-05-01"), "withdrawals", "withdrawal_fees"))
	april := s.call("GET", "/v1/ops/reports/monthly/2026-04", ops, nil, 200)
	require.Equal(t, []any{"20141.33", "142.67"}, pick(april, "repaid_principal", "repaid_interest"))
	require.Equal(t, "0.00", april["disclosure"].(obj)["outstanding_principal"], "repaid by the month's end")

	// Ops read their notes; the borrower reads each decision as a neutral
	// line. This also pins the workflow's history prefixes the API
	// recognises (api opsNoteKinds).
	notes := func(token string) []string {
		var out []string
		for _, h := range s.call("GET", fmt.Sprintf("/v1/loans/%.0f", id), token, nil, 200)["history"].([]any) {
			out = append(out, h.(obj)["note"].(string))
		}
		return out
	}
	require.Contains(t, notes(ops), "due diligence: income verified")
	require.Contains(t, notes(ops), "full-tender review: ok")
	require.Contains(t, notes(borrower.token), "due diligence: approved")
	require.Contains(t, notes(borrower.token), "full-tender review: approved")
	require.NotContains(t, strings.Join(notes(borrower.token), "\n"), "income verified")
	// Every ops action is in the audit log.
	var actions []string
	for _, it := range s.call("GET", "/v1/ops/audit?limit=100", ops, nil, 200)["items"].([]any) {
		actions = append(actions, it.(obj)["action"].(string)+" "+it.(obj)["target"].(string))
	}
	require.Equal(t, []string{"clock_advance clock:2026-05-01", fmt.Sprintf("full_tender_review loan:%.0f", id), fmt.Sprintf("due_diligence loan:%.0f", id)}, actions)
	s.call("POST", "/v1/auth/logout", borrower.token, nil, 204)
	s.call("GET", fmt.Sprintf("/v1/loans/%.0f", id), borrower.token, nil, 401)

	pool, err := db.Open(context.Background(), s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, ledger.CheckConservation(context.Background(), pool))
	t.Logf("loan %.0f repaid; bank balances %v; then a withdrawal of 1425.99", id, got)
	recordHistories(t, s.tc, workflows.LoanWorkflowID(int64(id)), "loan_repaid")
}

// cardFor is a valid (Luhn) card number for the n-th user.
func cardFor(n int) string {
	c := fmt.Sprintf("62220210011%06d", n)
	return c + string(kyc.LuhnCheckDigit(c))
}
