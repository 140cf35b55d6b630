package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/workflows"
)

// The router under fuzzing (go test -fuzz=FuzzRouter ./api/): any method, a
// path from the router's own routes with any parameter, any query, headers
// and body, signed in as each role or as nobody. Two properties hold for
// every input:
//   - no 5xx: whatever a client sends is answered as a refusal, never as a
//     failure of the platform;
//   - a refused request (4xx) changes no row: the fingerprint of every
//     table but the ones below is the same before and after.
//
// The seeds (f.Add below and testdata/fuzz/FuzzRouter) run as ordinary
// tests in make test; each world is one database, one bank simulator and a
// fake Temporal that refuses every update, as a workflow in the wrong state
// would.

// unfingerprinted are the tables a refusal may write by design:
// idempotency_keys keeps a 4xx to replay it; sessions are the callers'
// tokens, not platform state; login_failures counts a refused sign-in, which
// is its whole purpose (docs/security.md).
var unfingerprinted = map[string]bool{"idempotency_keys": true, "sessions": true, "schema_migrations": true, "login_failures": true}

type fuzzWorld struct {
	h      http.Handler
	pool   interface{ dbq.DBTX }
	tokens []string // by role: anonymous, borrower, investor, guarantor, ops, a forged token
	routes [][2]string
	loanID int64
	wdID   int64
	print  string // SQL answering one hash per fingerprinted table
	tables []string
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	ctx := context.Background()
	pool := dbtest.New(f)
	bankPool := dbtest.NewWith(f, dbtest.Migration{FS: sim.Migrations(), Table: sim.MigrationTable})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := sim.Open(ctx, sim.Config{Pool: bankPool, APIKey: testenv.APIKey, WithdrawalDelay: 20 * time.Millisecond, Logger: quiet})
	require.NoError(f, err)
	f.Cleanup(s.Close)
	bsrv := httptest.NewServer(s.Handler())
	f.Cleanup(bsrv.Close)
	bc := bank.NewHTTPClient(bsrv.URL, &http.Client{Timeout: 10 * time.Second}, bank.WithAPIKey(testenv.APIKey))
	today := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	require.NoError(f, bc.SetClock(ctx, today))

	q := db.Queries(pool)
	tc := newFakeTemporal()
	// A workflow that takes the clock's date and has nothing dated left.
	tc.onUpdate = func(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
		if o.UpdateName == workflows.UpdateAdvanceClock {
			_, err := pool.Exec(ctx, `UPDATE loans SET next_event_on = NULL WHERE workflow_id = $1`, o.WorkflowID)
			return fakeHandle{id: o.UpdateID, get: func(context.Context, any) error { return err }}, err
		}
		return newFakeTemporal().UpdateWorkflow(ctx, o)
	}
	clk := clock.New(pool, tc, nil, quiet)
	require.NoError(f, clk.Init(ctx, clock.Sandbox, today))
	// Sandbox mode, so the clock's advance is mounted and fuzzed too.
	srv := New(Deps{PasswordCost: testCost, Pool: pool, Logger: quiet, Temporal: tc, Bank: bc, Clock: clk, ClockMode: clock.Sandbox,
		Bids: bidding.New(pool, bc, workflows.Signals{Client: tc}, quiet), Accounts: accounts.New(pool, bc, quiet),
		HMACSecret: []byte(callbackSecret), BankFiles: bc, UpdateWait: 100 * time.Millisecond})
	srv.limits = newLimiter(1_000_000, 1_000_000) // the fuzzer is one caller sending fast
	require.NoError(f, srv.EnsureOpsUser(ctx, "ops@fuzz.cn", "ops-password-1"))
	w := &fuzzWorld{h: srv.Handler(), pool: pool}

	call := func(method, path, token, body string) map[string]any {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		require.Less(f, rec.Code, 300, "%s %s: %s", method, path, rec.Body.String())
		out := map[string]any{}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	person := func(role string, n int, amount string) (string, int64) {
		body := "3301061990030" + fmt.Sprint(n%10) + "123"
		id := body + string(kyc.IDCheckChar(body))
		email := fmt.Sprintf("%s@fuzz.cn", role)
		call("POST", "/v1/auth/register", "", fmt.Sprintf(`{"email":%q,"password":"password-1","role":%q,"name":"张三","id_number":%q,"phone":"1380013800%d"}`, email, role, id, n%10))
		tok := call("POST", "/v1/auth/login", "", fmt.Sprintf(`{"email":%q,"password":"password-1"}`, email))["token"].(string)
		card := fmt.Sprintf("62148309%09d", n)
		card += string(kyc.LuhnCheckDigit(card))
		call("POST", "/v1/me/custody-account", tok, fmt.Sprintf(`{"card_number":%q}`, card))
		call("POST", "/v1/me/recharges", tok, fmt.Sprintf(`{"amount":%q}`, amount))
		u, err := q.UserGetByEmail(ctx, email)
		require.NoError(f, err)
		return tok, u.ID
	}
	borrowerTok, borrowerID := person("borrower", 1, "5000.00")
	investorTok, _ := person("investor", 2, "50000.00")
	call("POST", "/v1/me/risk-assessment", investorTok, `{"answers":[4,4,4,4,4,4,4,4,4,4]}`)
	w.wdID = int64(call("POST", "/v1/me/withdrawals", investorTok, `{"amount":"100.00"}`)["id"].(float64))
	opsTok := call("POST", "/v1/auth/login", "", `{"email":"ops@fuzz.cn","password":"ops-password-1"}`)["token"].(string)
	// A guarantor, made by hand: without a custody account, so the guarantor
	// routes answer it with their refusals.
	g, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: "guarantor@fuzz.cn", PasswordHash: "x", Role: lending.RoleGuarantor,
		Name: "李四", IDNumber: "110105198501010015", Phone: "13900000015"}))
	require.NoError(f, err)
	guarantorTok := "fuzz-guarantor-token"
	_, err = pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`, tokenHash(guarantorTok), g.ID)
	require.NoError(f, err)
	w.tokens = []string{"", borrowerTok, investorTok, guarantorTok, opsTok, "forged-token"}

	// A listed loan of the borrower's, open for bids.
	loan, err := q.LoanInsert(ctx, dbq.LoanInsertParams{BorrowerID: borrowerID, Amount: decimal.RequireFromString("20000.00"), TermMonths: 6,
		RepaymentMethod: "equal_installment", Purpose: "fuzz", MonthlyIncome: decimal.RequireFromString("50000.00"), WorkflowID: "loan-fuzz-1", AppliedOn: today})
	require.NoError(f, err)
	_, err = pool.Exec(ctx, `UPDATE loans SET status = 'approved' WHERE id = $1`, loan.ID)
	require.NoError(f, err)
	grade, rate, exp := "C", decimal.RequireFromString("0.11"), today.AddDate(0, 0, 7)
	_, err = q.LoanList(ctx, dbq.LoanListParams{ID: loan.ID, Grade: &grade, AnnualRate: &rate, ListedOn: &today, ListingExpiresOn: &exp})
	require.NoError(f, err)
	w.loanID = loan.ID

	require.NoError(f, chi.Walk(w.h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		w.routes = append(w.routes, [2]string{method, route})
		return nil
	}))
	sort.Slice(w.routes, func(i, j int) bool { return w.routes[i][1]+w.routes[i][0] < w.routes[j][1]+w.routes[j][0] })

	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	require.NoError(f, err)
	for rows.Next() {
		var name string
		require.NoError(f, rows.Scan(&name))
		if !unfingerprinted[name] {
			w.tables = append(w.tables, name)
		}
	}
	require.NoError(f, rows.Err())
	parts := make([]string, len(w.tables))
	for i, t := range w.tables {
		parts[i] = fmt.Sprintf(`(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM %q t)`, t)
	}
	w.print = "SELECT ARRAY[" + strings.Join(parts, ", ") + "]::text[]"
	return w
}

func (w *fuzzWorld) fingerprint(t *testing.T) []string {
	var out []string
	require.NoError(t, w.pool.QueryRow(context.Background(), w.print).Scan(&out))
	return out
}

var placeholder = regexp.MustCompile(`\{[^}]+\}`)

// request builds the input's request; false when no HTTP request could carry it.
func (w *fuzzWorld) request(method byte, route uint16, param, query string, role byte, key, ctype string, body []byte) (*http.Request, bool) {
	rt := w.routes[int(route)%len(w.routes)]
	m := rt[0]
	if method >= 200 { // now and then another method than the route's
		m = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}[int(method)%7]
	}
	path := placeholder.ReplaceAllStringFunc(rt[1], func(string) string {
		switch {
		case param != "":
			return url.PathEscape(param)
		case strings.HasPrefix(rt[1], "/v1/me/withdrawals"):
			return fmt.Sprint(w.wdID)
		case strings.Contains(rt[1], "{date}"):
			return "2026-02-01"
		}
		return fmt.Sprint(w.loanID)
	})
	target := "http://lendflow.test" + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequestWithContext(context.Background(), m, target, bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	req.RemoteAddr = "192.0.2.7:4242"
	if tok := w.tokens[int(role)%len(w.tokens)]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req, true
}

func FuzzRouter(f *testing.F) {
	w := newFuzzWorld(f)
	const (
		anon = iota
		borrower
		investor
		guarantor
		ops
		forged
	)
	// One seed per route, as its owner would call it, then inputs that have
	// found bugs or sit on edges.
	typical := map[string]string{
		"/v1/auth/register":                      `{"email":"new@fuzz.cn","password":"password-1","role":"investor","name":"王五","id_number":"110105198501010023","phone":"13900000023"}`,
		"/v1/auth/login":                         `{"email":"ops@fuzz.cn","password":"wrong-password"}`,
		"/v1/me/custody-account":                 `{"card_number":"6214830900000000017"}`,
		"/v1/me/recharges":                       `{"amount":"10.00"}`,
		"/v1/me/withdrawals":                     `{"amount":"1.00"}`,
		"/v1/me/risk-assessment":                 `{"answers":[0,1,2,3,4,0,1,2,3,4]}`,
		"/v1/me/auto-invest":                     `{"enabled":true,"amount_per_loan":"100.00","min_annual_rate":"0.05","max_term_months":12,"max_grade":"C","keep_available":"0.00"}`,
		"/v1/loans":                              `{"amount":"1000.00","term_months":3,"repayment_method":"bullet","purpose":"x","monthly_income":"9000.00"}`,
		"/v1/loans/{id}/repayment-authorization": `{"max_amount":"5000.00","expires_on":"2027-01-01"}`,
		"/v1/loans/{id}/repayments":              `{"kind":"next"}`,
		"/v1/listings/{id}/bids":                 `{"amount":"100.00"}`,
		"/v1/ops/loans/{id}/due-diligence":       `{"decision":"approve","grade":"B","annual_rate":"0.085","note":"ok"}`,
		"/v1/ops/loans/{id}/full-tender-review":  `{"decision":"reject","note":"no"}`,
		"/v1/ops/loans/{id}/write-off":           `{"decision":"approve","note":"gone"}`,
		"/v1/ops/clock/advance":                  `{"to":"2026-02-03"}`,
		"/v1/bank/callbacks":                     `{"request_no":"withdrawal-1","kind":"withdrawal","status":"succeeded","seq":1}`,
		"/v1/ops/loans/{id}/disbursement/retry":  ``,
		"/v1/loans/{id}/cancel":                  ``,
		"/v1/calculator/schedule":                ``,
		"/v1/ops/reconciliation":                 ``,
		"/v1/ops/reconciliation/{date}":          ``,
		"/v1/me/bids":                            ``,
		"/v1/me/fund-logs":                       ``,
		"/v1/ops/loans":                          ``,
		"/v1/listings":                           ``,
		"/v1/loans/{id}/schedule":                ``,
		"/v1/me/withdrawals/{id}":                ``,
		"/v1/listings/{id}":                      ``,
		"/v1/loans/{id}":                         ``,
		"/v1/me/holdings":                        ``,
		"/v1/me/account":                         ``,
		"/v1/stats":                              ``,
		"/v1/clock":                              ``,
		"/healthz":                               ``,
		"/readyz":                                ``,
		"/openapi.yaml":                          ``,
	}
	queries := map[string]string{
		"/v1/calculator/schedule": "principal=10000.00&annual_rate=0.12&term_months=12&method=equal_installment",
		"/v1/ops/loans":           "status=listed",
		"/v1/ops/reconciliation":  "status=mismatched",
	}
	for i, rt := range w.routes {
		for _, role := range []byte{anon, borrower, investor, guarantor, ops} {
			f.Add(byte(0), uint16(i), "", queries[rt[1]], role, "", "application/json", []byte(typical[rt[1]]))
		}
	}
	route := func(method, pattern string) uint16 {
		for i, rt := range w.routes {
			if rt[0] == method && rt[1] == pattern {
				return uint16(i)
			}
		}
		f.Fatalf("no route %s %s", method, pattern)
		return 0
	}
	bids, recharge, withdraw := route("POST", "/v1/listings/{id}/bids"), route("POST", "/v1/me/recharges"), route("POST", "/v1/me/withdrawals")
	loans, register, login := route("POST", "/v1/loans"), route("POST", "/v1/auth/register"), route("POST", "/v1/auth/login")
	calc, recon := route("GET", "/v1/calculator/schedule"), route("GET", "/v1/ops/reconciliation/{date}")
	audit := route("GET", "/v1/ops/audit")
	for _, in := range []struct {
		route uint16
		param string
		query string
		role  byte
		key   string
		body  string
	}{
		{bids, "", "", investor, "k-1", `{"amount":"100.00"}`},
		{bids, "", "", investor, "k-1", `{"amount":"200.00"}`},             // the key with another body
		{bids, "", "", investor, "", `{"amount":"99999999.00"}`},           // more than remains and than is held
		{bids, "", "", investor, "", `{"amount":"100.00","status":"x"}`},   // a field the client does not own
		{bids, "99999999999999999999", "", investor, "", `{"amount":"1"}`}, // an id beyond int64
		{bids, "-1", "", borrower, "", `{"amount":"100.00"}`},
		{recharge, "", "", investor, "", `{"amount":"999999999999999999.99"}`}, // more than the bank takes
		{recharge, "", "", investor, "", `{"amount":"1e3"}`},
		{withdraw, "", "", investor, "", `{"amount":"60000.00"}`},       // large value, more than held
		{withdraw, "", "", investor, "nul\x00key", `{"amount":"1.00"}`}, // a key PostgreSQL cannot store
		{withdraw, "", "", investor, "\xff\xfe", `{"amount":"1.00"}`},   // nor this one
		{loans, "", "", borrower, "", `{"amount":"1000.00","term_months":3,"repayment_method":"bullet","purpose":"a\u0000b","monthly_income":"1.00"}`},
		{register, "", "", anon, "", `{"email":"a\u0000@b.cn","password":"password-1","role":"investor","name":"x","id_number":"110105198501010023","phone":"13900000023"}`},
		{login, "", "", anon, "", `{"email":"ops@fuzz.cn\u0000","password":"password-1"}`},
		{login, "", "", anon, "", `[]`},
		{calc, "", "principal=99999999999999999.99&annual_rate=1&term_months=36&method=equal_installment", anon, "", ``},
		{calc, "", "principal=0.01&annual_rate=0&term_months=1&method=bullet&start_date=9999-12-31", anon, "", ``},
		{recon, "0001-01-01", "", ops, "", ``},
		{recon, "9999-12-31", "", ops, "", ``},
		// Query parameters PostgreSQL cannot hold, and ones that do not decode (issue 25).
		{audit, "", "target=%00", ops, "", ``},
		{audit, "", "target=%ff%fe", ops, "", ``},
		{audit, "", "action=%c3%28&target=loan%3A1", ops, "", ``},
		{audit, "", "%00=1", ops, "", ``},
		{audit, "", "target=%zz", ops, "", ``},
		{calc, "", "principal=1000.00;annual_rate=0.12", anon, "", ``},
		// A registration of a taken email: 409, and a notice to its owner.
		{register, "", "", anon, "", `{"email":"investor@fuzz.cn","password":"password-1","role":"investor","name":"x","id_number":"110105198501010023","phone":"13900000023"}`},
		// Bodies with two readings: a key twice, a key in another case.
		{login, "", "", anon, "", `{"email":"ops@fuzz.cn","password":"x","password":"ops-password-1"}`},
		{recharge, "", "", investor, "", `{"Amount":"1.00"}`},
		{bids, "", "", investor, "", `{"amount":"100.00","amount":"200.00"}`},
	} {
		f.Add(byte(0), in.route, in.param, in.query, in.role, in.key, "application/json", []byte(in.body))
	}

	f.Fuzz(func(t *testing.T, method byte, route uint16, param, query string, role byte, key, ctype string, body []byte) {
		req, ok := w.request(method, route, param, query, role, key, ctype, body)
		if !ok {
			return
		}
		before := w.fingerprint(t)
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !(req.URL.Path == "/readyz" && rec.Code == http.StatusServiceUnavailable) {
			t.Fatalf("%s %s answered %d: %s", req.Method, req.URL, rec.Code, rec.Body.String())
		}
		if rec.Code < 400 || rec.Code >= 500 {
			return
		}
		after := w.fingerprint(t)
		for i, table := range w.tables {
			// A registration of a taken email tells the email's owner
			// (docs/security.md "Registration"): its one write by design.
			if table == "notifications" && req.URL.Path == "/v1/auth/register" && rec.Code == http.StatusConflict {
				continue
			}
			if before[i] != after[i] {
				t.Fatalf("%s %s was refused (%d: %s) but changed table %s", req.Method, req.URL, rec.Code, rec.Body.String(), table)
			}
		}
	})
}
