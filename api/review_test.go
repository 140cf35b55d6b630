package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/kyc"
)

// Issue 25: the holes a security review of main found. Each test asserts
// the status and code a client gets.

// fieldOf is the first invalid field a 422 names.
func fieldOf(a answer) string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	f, _ := errs[0].(map[string]any)["field"].(string)
	return f
}

// TestMetricsNotOnThePublicListener (point 6): the API's router does not
// serve /metrics; the process serves it on API_METRICS_LISTEN
// (app.TestAPIServesMetricsOnItsOwnListener).
func TestMetricsNotOnThePublicListener(t *testing.T) {
	_, srv := testServer(t)
	a := do(t, srv, "GET", "/metrics", "", "", "")
	assert.Equal(t, 404, a.status)
	assert.Equal(t, "not_found", a.body["code"])
	assert.NotContains(t, a.raw, "lendflow_", "no figure leaks")
}

// TestAnswersAreNotStored (point 8): every API answer, the sign-in's token
// included, says no-store; over HTTPS every answer carries HSTS, and over
// plain HTTP (development) none does.
func TestAnswersAreNotStored(t *testing.T) {
	s, srv := testServer(t)
	register(t, srv, "cache@test.cn", "investor", 1)
	send := func(method, path, body string) *http.Response {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/auth/login", `{"email":"cache@test.cn","password":"password-1"}`},
		{"GET", "/v1/clock", ""},
		{"GET", "/v1/me/account", ""}, // 401
		{"GET", "/no-such-route", ""},
	} {
		resp := send(c.method, c.path, c.body)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), c.path)
		assert.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"), "%s: HTTPS is the default", c.path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), c.path)
	}
	s.PlainHTTP = true
	resp := send("GET", "/v1/clock", "")
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Empty(t, resp.Header.Get("Strict-Transport-Security"), "no HSTS when served over plain HTTP")
}

// TestQueryParametersAreText (point 7): a NUL or bytes that are not UTF-8
// in any query parameter, or an escape that does not decode, is 422
// naming it, never a 500 from the database.
func TestQueryParametersAreText(t *testing.T) {
	s, srv := testServer(t)
	ops := opsToken(t, s, srv)
	for q, field := range map[string]string{
		"target=%00":            "target",
		"target=loan%3A1%00x":   "target",
		"target=%ff%fe":         "target",
		"action=%c3%28":         "action",
		"cursor=1&target=a%00b": "target",
		"%00=x":                 "query",
		"target=%zz":            "query",
		"a=1;b=2":               "query",
	} {
		a := do(t, srv, "GET", "/v1/ops/audit?"+q, ops, "", "")
		assert.Equal(t, 422, a.status, "%s: %s", q, a.raw)
		assert.Equal(t, "validation_failed", a.body["code"], q)
		assert.Equal(t, field, fieldOf(a), q)
	}
	a := do(t, srv, "GET", "/v1/ops/audit?target=loan%3A1", ops, "", "")
	assert.Equal(t, 200, a.status, a.raw)
	a = do(t, srv, "GET", "/v1/calculator/schedule?principal=1000.00&annual_rate=0.12&term_months=3&method=equal_installment&note=%E4%BD%A0", "", "", "")
	assert.Equal(t, 200, a.status, "UTF-8 text is fine: %s", a.raw)
}

// TestBodiesWithTwoReadings (point 8): a key given twice, or in another
// case than the field's, is refused 422 on every JSON route.
func TestBodiesWithTwoReadings(t *testing.T) {
	_, srv := testServer(t)
	inv := register(t, srv, "twice@test.cn", "investor", 1)
	for _, c := range []struct{ path, token, body, field string }{
		{"/v1/auth/login", "", `{"email":"twice@test.cn","password":"wrong-password","password":"password-1"}`, "password"},
		{"/v1/auth/login", "", `{"Email":"twice@test.cn","password":"password-1"}`, "Email"},
		{"/v1/me/recharges", inv, `{"amount":"1.00","AMOUNT":"9999.00"}`, "AMOUNT"},
		{"/v1/me/risk-assessment", inv, `{"answers":[0,0,0,0,0,0,0,0,0,0],"answers":[4,4,4,4,4,4,4,4,4,4]}`, "answers"},
	} {
		a := do(t, srv, "POST", c.path, c.token, "", c.body)
		assert.Equal(t, 422, a.status, "%s %s: %s", c.path, c.body, a.raw)
		assert.Equal(t, "validation_failed", a.body["code"], c.body)
		assert.Equal(t, c.field, fieldOf(a), c.body)
	}
}

// registrationBody is a valid registration of email.
func registrationBody(email, name string, n int) string {
	return fmt.Sprintf(`{"email":%q,"password":"password-1","role":"investor","name":%q,"id_number":%q,"phone":"1390023%04d"}`,
		email, name, validID(1+n%9), n%10000)
}

// TestRegistrationHashesOnlyWhatItStores (point 1): 80 registrations of an
// email that has an account, at once from one address, make the server run
// bcrypt not once (each used to hash a password it would not store); 20 are
// answered 409 conflict, the address's free failures, and the rest wait.
// And a user keeps at most 10 live sessions: signing in again and again
// ends the oldest instead of piling up rows.
func TestRegistrationHashesOnlyWhatItStores(t *testing.T) {
	s, srv := testServer(t)
	freeze(s)
	register(t, srv, "taken@test.cn", "investor", 1)
	before := s.auth.Hashes()
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for i := range 80 {
		wg.Go(func() {
			a := do(t, srv, "POST", "/v1/auth/register", "", "", registrationBody("taken@test.cn", "冒名", i))
			mu.Lock()
			answers[fmt.Sprintf("%d %v", a.status, a.body["code"])]++
			mu.Unlock()
		})
	}
	wg.Wait()
	hashes := s.auth.Hashes() - before
	t.Logf("80 registrations of a taken email: %d bcrypt runs; answers %v", hashes, answers)
	assert.Zero(t, hashes, "no password is hashed that will not be stored")
	assert.Equal(t, map[string]int{"409 conflict": addrFree, "429 login_throttled": 80 - addrFree}, answers)

	var tokens []string
	for range auth.MaxSessionsPerUser + 5 {
		tokens = append(tokens, login(t, srv, "taken@test.cn", "password-1"))
	}
	var live int
	require.NoError(t, s.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'taken@test.cn')`).Scan(&live))
	assert.Equal(t, auth.MaxSessionsPerUser, live, "sessions per user are capped")
	for i, tok := range tokens {
		want := 200
		if i < len(tokens)-auth.MaxSessionsPerUser {
			want = 401 // the oldest ended
		}
		assert.Equal(t, want, do(t, srv, "GET", "/v1/me/account", tok, "", "").status, "session %d", i+1)
	}
}

// TestRegistrationOfATakenEmail (point 2): the answer is the contract's 409
// conflict with its fixed detail and nothing beyond; the attempt counts
// against the address as a failed sign-in does, so probing for accounts
// pays as guessing does; the owner is told, once a day.
func TestRegistrationOfATakenEmail(t *testing.T) {
	s, clk := throttleServer(t)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	owner := register(t, srv, "owner@test.cn", "borrower", 1)
	const prober = "198.51.100.77:1"

	a := authFrom(t, s, prober, "/v1/auth/register", registrationBody("owner@test.cn", "王五", 2))
	require.Equal(t, 409, a.status)
	assert.Equal(t, "conflict", a.code)
	probe := httptest.NewRequest("POST", "/v1/auth/register", strings.NewReader(registrationBody("OWNER@test.cn", "王五", 3)))
	probe.RemoteAddr = prober
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, probe)
	require.Equal(t, 409, rec.Code)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, detailByCode["conflict"], body["detail"], "the fixed text, nothing about the account")
	assert.ElementsMatch(t, []string{"type", "title", "status", "detail", "code"}, keys(body), "no member beyond the contract's")

	n := do(t, srv, "GET", "/v1/me/notifications", owner, "", "")
	require.Equal(t, 200, n.status, n.raw)
	items := n.body["items"].([]any)
	require.Len(t, items, 1, "two attempts on one day are one notice: %s", n.raw)
	item := items[0].(map[string]any)
	assert.Equal(t, "registration_attempted", item["kind"])
	assert.Contains(t, item["message"], "someone tried to register a new account with your email address")

	// Probing costs what guessing does: 20 failures from an address are
	// free, then it waits, whichever email it tries next.
	for i := 2; i < addrFree; i++ {
		require.Equal(t, 409, authFrom(t, s, prober, "/v1/auth/register", registrationBody("owner@test.cn", "王五", 10+i)).status)
	}
	a = authFrom(t, s, prober, "/v1/auth/register", registrationBody("someone-new@test.cn", "赵六", 40))
	assert.Equal(t, 429, a.status)
	assert.Equal(t, "login_throttled", a.code)
	a = signInFrom(t, s, prober, "anybody@test.cn", "password-1")
	assert.Equal(t, 429, a.status, "and the probes count against sign-ins from the address")
	clk.add(newcomerBound)
	a = authFrom(t, s, prober, "/v1/auth/register", registrationBody("someone-new@test.cn", "赵六", 40))
	assert.Equal(t, 201, a.status, "a newcomer's registration waits seconds, no more")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRegistrationIdempotencyKeyIsNotShared (point 3): two strangers'
// registrations under one Idempotency-Key are two registrations; the same
// person's retry replays, and their other body under the key is still
// idempotency_key_reused. Nothing stored is a fast hash of a password.
func TestRegistrationIdempotencyKeyIsNotShared(t *testing.T) {
	s, srv := testServer(t)
	alice := registrationBody("alice@test.cn", "艾丽", 1)
	bob := registrationBody("bob@test.cn", "鲍勃", 2)
	first := do(t, srv, "POST", "/v1/auth/register", "", "shared-key", alice)
	require.Equal(t, 201, first.status, first.raw)
	other := do(t, srv, "POST", "/v1/auth/register", "", "shared-key", bob)
	assert.Equal(t, 201, other.status, "a stranger's registration under the same key is their own: %s", other.raw)
	assert.NotEqual(t, first.body["user_id"], other.body["user_id"])

	again := do(t, srv, "POST", "/v1/auth/register", "", "shared-key", alice)
	assert.Equal(t, 201, again.status)
	assert.Equal(t, first.raw, again.raw, "the same person's retry replays")
	changed := do(t, srv, "POST", "/v1/auth/register", "", "shared-key", strings.Replace(alice, "艾丽", "爱丽丝", 1))
	assert.Equal(t, 409, changed.status)
	assert.Equal(t, "idempotency_key_reused", changed.body["code"])

	rows, err := s.Pool.Query(context.Background(), `SELECT key, request_hash FROM idempotency_keys WHERE user_id = 0`)
	require.NoError(t, err)
	plain := sha256.Sum256([]byte("POST /v1/auth/register\n" + alice))
	var n int
	for rows.Next() {
		var key, hash string
		require.NoError(t, rows.Scan(&key, &hash))
		n++
		assert.NotEqual(t, hex.EncodeToString(plain[:]), hash, "not the SHA-256 of a body holding a password")
		assert.NotContains(t, key, "alice", "the scope names no email")
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 2, n, "one scope each")
}

// TestLockStopsApplications (point 4): a borrower ops locked cannot apply
// for a loan (409 account_locked, as bids and withdrawals are refused);
// screening rejects one applied for before the lock (activities
// TestScreeningRefusals, "account locked").
func TestLockStopsApplications(t *testing.T) {
	s, srv := bankedServer(t)
	b := register(t, srv, "locked-b@test.cn", "borrower", 4)
	card := "621483020000000444"
	card += string(kyc.LuhnCheckDigit(card))
	require.Equal(t, 201, do(t, srv, "POST", "/v1/me/custody-account", b, "", `{"card_number":"`+card+`"}`).status)
	ops := login(t, srv, "ops@test.cn", "ops-password-1")
	a := do(t, srv, "POST", fmt.Sprintf("/v1/ops/users/%d/lock", userID(t, s, "locked-b@test.cn")), ops, "", `{"locked":true,"note":"suspected fraud"}`)
	require.Equal(t, 200, a.status, a.raw)
	a = do(t, srv, "POST", "/v1/loans", b, "", `{"amount":"5000.00","term_months":6,"repayment_method":"equal_installment","purpose":"x","monthly_income":"20000.00"}`)
	assert.Equal(t, 409, a.status, a.raw)
	assert.Equal(t, "account_locked", a.body["code"])
	var loans int
	require.NoError(t, s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM loans`).Scan(&loans))
	assert.Zero(t, loans, "nothing was applied for")
}

// TestConsoleLoginTokenCannotBePlanted (point 8): the sign-in form's token
// is bound to its cookie by a key only the platform holds, so whoever can
// plant a cookie (a sibling subdomain, a plain-HTTP path) and post the same
// value as the form token is refused.
func TestConsoleLoginTokenCannotBePlanted(t *testing.T) {
	s, srv := testServer(t)
	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	planted := strings.Repeat("ab", 32)
	for _, name := range []string{consoleLoginCookie, hostPrefix + consoleLoginCookie} {
		p := browse(t, srv, "POST", "/console/login", "", url.Values{"csrf": {planted}, "email": {"ops@test.cn"}, "password": {"ops-password-1"}},
			&http.Cookie{Name: name, Value: planted})
		assert.Equal(t, 403, p.status, name)
		assert.Contains(t, p.body, "your role may not do this", name)
		assert.Nil(t, cookieNamed(p.cookies, consoleCookie), name)
	}
	assert.Equal(t, 303, consoleSignIn(t, srv, "ops@test.cn", "ops-password-1").status, "the form's own token signs in")
}
