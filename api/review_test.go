package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
