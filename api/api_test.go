package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/kyc"
)

// testCost is bcrypt's cost in the tests' servers: the lowest, as the
// hashing is not what they test (auth.Deps.PasswordCost).
const testCost = bcrypt.MinCost

func testServer(t *testing.T) (*Server, *httptest.Server) {
	t.Parallel()
	pool := dbtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.New(pool, nil, nil, log)
	require.NoError(t, clk.Init(context.Background(), clock.Sandbox, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)))
	s := New(Deps{PasswordCost: testCost, Pool: pool, Logger: log, Clock: clk, HMACSecret: []byte("test-secret"), ClockMode: clock.Sandbox,
		Bids: bidding.New(pool, nil, nil, log)})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

type answer struct {
	status int
	ctype  string
	body   map[string]any
	raw    string
}

func do(t *testing.T, srv *httptest.Server, method, path, token, key, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), raw: string(raw), body: map[string]any{}}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func validID(n int) string {
	body := "3301061990030" + string(rune('0'+n%10)) + "123"
	return body + string(kyc.IDCheckChar(body))
}

func register(t *testing.T, srv *httptest.Server, email, role string, n int) string {
	t.Helper()
	body := `{"email":"` + email + `","password":"password-1","role":"` + role + `","name":"张三","id_number":"` + validID(n) + `","phone":"1380013800` + string(rune('0'+n%10)) + `"}`
	a := do(t, srv, "POST", "/v1/auth/register", "", "", body)
	require.Equal(t, 201, a.status, a.raw)
	a = do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"`+email+`","password":"password-1"}`)
	require.Equal(t, 200, a.status, a.raw)
	return a.body["token"].(string)
}

func TestRegisterLoginAndRoles(t *testing.T) {
	_, srv := testServer(t)
	inv := register(t, srv, "inv@test.cn", "investor", 1)
	a := do(t, srv, "POST", "/v1/auth/register", "", "", `{"email":"inv@test.cn","password":"password-1","role":"investor","name":"x","id_number":"`+validID(2)+`","phone":"13800138002"}`)
	assert.Equal(t, 409, a.status, "duplicate email")
	assert.Equal(t, "conflict", a.body["code"])

	a = do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"inv@test.cn","password":"wrong-password"}`)
	assert.Equal(t, 401, a.status)
	assert.Equal(t, "unauthenticated", a.body["code"])
	a = do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"nobody@test.cn","password":"wrong-password"}`)
	assert.Equal(t, 401, a.status, "an unknown email answers like a wrong password")

	assert.Equal(t, 401, do(t, srv, "GET", "/v1/me/holdings", "", "", "").status)
	assert.Equal(t, 401, do(t, srv, "GET", "/v1/me/holdings", "not-a-token", "", "").status)
	a = do(t, srv, "POST", "/v1/loans", inv, "", `{}`)
	assert.Equal(t, 403, a.status, "an investor cannot apply for a loan")
	assert.Equal(t, "forbidden", a.body["code"])

	a = do(t, srv, "POST", "/v1/me/risk-assessment", inv, "", `{"answers":[4,4,4,4,4,4,4,4,4,4]}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "C5", a.body["risk_level"])
}

func TestRegisterValidation(t *testing.T) {
	_, srv := testServer(t)
	a := do(t, srv, "POST", "/v1/auth/register", "", "", `{"email":"nope","password":"short","role":"ops","name":"","id_number":"110105194912310021","phone":"12"}`)
	require.Equal(t, 422, a.status)
	assert.Equal(t, "application/problem+json", a.ctype)
	assert.Equal(t, "validation_failed", a.body["code"])
	var fields []string
	for _, e := range a.body["errors"].([]any) {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	sort.Strings(fields)
	assert.Equal(t, []string{"email", "id_number", "name", "password", "phone", "role"}, fields, "ops cannot be self-registered")

	a = do(t, srv, "POST", "/v1/auth/register", "", "", `{"email":"a@b.cn","password":"password-1","role":"investor","name":"x","id_number":"`+validID(3)+`","phone":"13800138003","status":"vip"}`)
	require.Equal(t, 422, a.status)
	assert.Equal(t, "status", a.body["errors"].([]any)[0].(map[string]any)["field"], "unknown fields are refused by name")
	for _, body := range []string{``, `{`, `[]`, `{"email":1}`, `{} {}`} {
		a = do(t, srv, "POST", "/v1/auth/register", "", "", body)
		assert.Equal(t, 422, a.status, "body %q", body)
		assert.Equal(t, "validation_failed", a.body["code"], "body %q", body)
	}
}

func TestIdempotencyKey(t *testing.T) {
	_, srv := testServer(t)
	body := `{"email":"k@test.cn","password":"password-1","role":"borrower","name":"李四","id_number":"` + validID(4) + `","phone":"13800138004"}`
	first := do(t, srv, "POST", "/v1/auth/register", "", "key-1", body)
	require.Equal(t, 201, first.status, first.raw)
	again := do(t, srv, "POST", "/v1/auth/register", "", "key-1", body)
	assert.Equal(t, 201, again.status, "the same key and body replays the first answer")
	assert.Equal(t, first.raw, again.raw)
	other := do(t, srv, "POST", "/v1/auth/register", "", "key-1", strings.Replace(body, "李四", "王五", 1))
	assert.Equal(t, 409, other.status)
	assert.Equal(t, "idempotency_key_reused", other.body["code"])
}

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]string{"100": "100.00", "0.01": "0.01", "1234.5": "1234.50", "60000.00": "60000.00"} {
		d, fe := parseMoney("amount", in)
		require.Nil(t, fe, in)
		assert.Equal(t, want, fmtMoney(d))
	}
	for _, in := range []string{"1.005", "1e3", "-1.00", "0", "0.00", "", " 1.00", "1,000.00", "abc", "1.", ".5", "12345678901234567890"} {
		_, fe := parseMoney("amount", in)
		assert.NotNil(t, fe, "%q must be refused", in)
	}
}

func TestCalculator(t *testing.T) {
	_, srv := testServer(t)
	a := do(t, srv, "GET", "/v1/calculator/schedule?principal=10000.00&annual_rate=0.12&term_months=12&method=equal_installment&start_date=2026-01-31", "", "", "")
	require.Equal(t, 200, a.status, a.raw)
	insts := a.body["installments"].([]any)
	require.Len(t, insts, 12)
	first := insts[0].(map[string]any)
	assert.Equal(t, "2026-02-28", first["due_date"])
	assert.Equal(t, "888.49", first["payment"])
	assert.Equal(t, "100.00", first["interest"])
	assert.Equal(t, "661.86", a.body["total_interest"])
	assert.Equal(t, "10661.86", a.body["total_payment"])

	for q, field := range map[string]string{
		"principal=-5.00&annual_rate=0.12&term_months=12&method=bullet":                       "principal",
		"principal=100.001&annual_rate=0.12&term_months=12&method=bullet":                     "principal",
		"principal=100.00&annual_rate=0.12&term_months=37&method=bullet":                      "term_months",
		"principal=100.00&annual_rate=0.12&term_months=0&method=bullet":                       "term_months",
		"principal=100.00&annual_rate=0.12&term_months=3&method=balloon":                      "method",
		"principal=100.00&annual_rate=abc&term_months=3&method=bullet":                        "annual_rate",
		"principal=100.00&annual_rate=0.12&term_months=3&method=bullet&start_date=2026-02-30": "start_date",
	} {
		a := do(t, srv, "GET", "/v1/calculator/schedule?"+q, "", "", "")
		require.Equal(t, 422, a.status, q)
		assert.Equal(t, field, a.body["errors"].([]any)[0].(map[string]any)["field"], q)
	}
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestOpenAPIDescribesEveryRoute: every route the router serves is in
// openapi.yaml with its method, and every path of the contract's table (docs/api.md
// "Endpoints") is served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(openapiYAML, &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+pathParam.ReplaceAllString(p, "{}")] = true
		}
	}
	s := New(Deps{ClockMode: clock.Sandbox})
	served := map[string]bool{}
	require.NoError(t, chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served[method+" "+pathParam.ReplaceAllString(route, "{}")] = true
		return nil
	}))
	for r := range served {
		assert.True(t, documented[r], "%s is served but not in openapi.yaml", r)
	}
	for _, r := range []string{
		"POST /v1/auth/register", "POST /v1/auth/login", "POST /v1/me/custody-account", "GET /v1/me/account",
		"POST /v1/me/recharges", "GET /v1/me/fund-logs", "POST /v1/me/risk-assessment", "POST /v1/loans",
		"GET /v1/loans/{}", "POST /v1/loans/{}/cancel", "GET /v1/loans/{}/schedule", "POST /v1/loans/{}/repayment-authorization",
		"POST /v1/loans/{}/repayments", "GET /v1/listings", "GET /v1/listings/{}", "POST /v1/listings/{}/bids", "GET /v1/me/holdings",
		"GET /v1/ops/loans", "POST /v1/ops/loans/{}/due-diligence", "POST /v1/ops/loans/{}/full-tender-review",
		"POST /v1/ops/loans/{}/write-off", "POST /v1/ops/loans/{}/disbursement/retry", "POST /v1/ops/clock/advance",
		"GET /v1/clock", "GET /v1/calculator/schedule", "GET /v1/stats", "GET /healthz", "GET /readyz",
	} {
		assert.True(t, served[r], "the contract's %s is not served", r)
		assert.True(t, documented[r], "the contract's %s is not documented", r)
	}
	// The spec must parse as a document a client generator could read.
	var any map[string]any
	require.NoError(t, yaml.NewDecoder(bytes.NewReader(openapiYAML)).Decode(&any))
}

func TestBankCallbackNeedsTheSignature(t *testing.T) {
	_, srv := testServer(t)
	body := `{"request_no":"withdrawal-1","kind":"withdrawal","status":"succeeded","seq":1,"amount":"1.00","fee":"0.00"}`
	now := time.Now().Unix()
	for _, sig := range []string{"", "00", bank.Sign([]byte("another-secret"), now, []byte(body))} {
		req, err := http.NewRequest("POST", srv.URL+"/v1/bank/callbacks", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(bank.CallbackTimestampHeader, strconv.FormatInt(now, 10))
		req.Header.Set(bank.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 401, resp.StatusCode, "signature %q", sig)
	}
}

// signCallback signs a callback request as the bank does, sent at at.
func signCallback(req *http.Request, secret string, body []byte, at time.Time) {
	req.Header.Set(bank.CallbackTimestampHeader, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(bank.SignatureHeader, bank.Sign([]byte(secret), at.Unix(), body))
}

func TestAutoInvestRule(t *testing.T) {
	_, srv := testServer(t)
	inv := register(t, srv, "auto@test.cn", "investor", 5)
	a := do(t, srv, "PUT", "/v1/me/auto-invest", inv, "", `{"enabled":true,"amount_per_loan":"1000.00","min_annual_rate":"0.08","max_term_months":12,"max_grade":"C","keep_available":"0.00"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "1000.00", a.body["amount_per_loan"])
	assert.Equal(t, "0.08", a.body["min_annual_rate"])
	a = do(t, srv, "PUT", "/v1/me/auto-invest", inv, "", `{"enabled":true,"amount_per_loan":"99.50","min_annual_rate":"0.5","max_term_months":40,"max_grade":"F","keep_available":"-1"}`)
	require.Equal(t, 422, a.status)
	assert.Len(t, a.body["errors"], 5, a.raw)
}

func TestRateLimitPerCaller(t *testing.T) {
	l := newLimiter(2, 3)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		ok, _ := l.allow("a")
		require.True(t, ok, "within the burst")
	}
	ok, wait := l.allow("a")
	assert.False(t, ok)
	assert.Equal(t, 500*time.Millisecond, wait, "one token every half second at 2/s")
	ok, _ = l.allow("b")
	assert.True(t, ok, "another caller has a bucket of its own")
	now = now.Add(500 * time.Millisecond)
	ok, _ = l.allow("a")
	assert.True(t, ok)

	s, srv := testServer(t)
	s.limits = newLimiter(1, 2)
	codes := []int{}
	for i := 0; i < 3; i++ {
		a := do(t, srv, "GET", "/v1/clock", "", "", "")
		codes = append(codes, a.status)
		if a.status == 429 {
			assert.Equal(t, "rate_limited", a.body["code"])
		}
	}
	assert.Equal(t, []int{200, 200, 429}, codes)
}
