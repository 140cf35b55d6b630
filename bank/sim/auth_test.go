package sim_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
)

// The simulator, as a custody bank's API does, refuses what the platform did
// not sign: 401 for unsigned, wrongly signed or stale requests.
func TestSimRefusesUnsignedRequests(t *testing.T) {
	e := newEnv(t, sim.Config{})
	// The platform's signed client works.
	_, err := e.c.Balance(e.ctx, bank.AccountFee)
	require.NoError(t, err)

	send := func(method, path, body string, sign func(r *http.Request, b []byte)) int {
		r, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
		require.NoError(t, err)
		if sign != nil {
			sign(r, []byte(body))
		}
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	signWith := func(key []byte, at time.Time) func(*http.Request, []byte) {
		return func(r *http.Request, b []byte) {
			r.Header.Set(bank.TimestampHeader, strconv.FormatInt(at.Unix(), 10))
			r.Header.Set(bank.RequestSignatureHeader, bank.RequestSignature(key, r.Method, r.URL.RequestURI(), at.Unix(), b))
		}
	}
	deposit := `{"request_no":"dep-1","account_no":"P-BONUS","amount":"10.00"}`
	recharge := `{"request_no":"r-1","account_no":"nope","card_number":"1","amount":"1.00"}`
	for name, tc := range map[string]struct {
		method, path, body string
		sign               func(*http.Request, []byte)
		want               int
	}{
		"unsigned balance":     {"GET", "/accounts/P-FEE", "", nil, 401},
		"unsigned recharge":    {"POST", "/recharges", recharge, nil, 401},
		"unsigned file":        {"GET", "/reconciliation/2026-01-31", "", nil, 401},
		"another key":          {"GET", "/accounts/P-FEE", "", signWith([]byte("guess"), time.Now()), 401},
		"stale":                {"GET", "/accounts/P-FEE", "", signWith(apiKey, time.Now().Add(-10*time.Minute)), 401},
		"signed":               {"GET", "/accounts/P-FEE", "", signWith(apiKey, time.Now()), 200},
		"health needs nothing": {"GET", "/healthz", "", nil, 200},
		"admin on loopback":    {"POST", "/admin/deposits", deposit, nil, 200},
	} {
		assert.Equal(t, tc.want, send(tc.method, tc.path, tc.body, tc.sign), name)
	}
}

// /admin/* is the test harness's control panel: unauthenticated, so it
// answers only requests from a loopback address.
func TestSimAdminOnlyOnLoopback(t *testing.T) {
	e := newEnv(t, sim.Config{})
	h := e.sim.Handler()
	for remote, want := range map[string]int{
		"127.0.0.1:5000":   200,
		"[::1]:5000":       200,
		"10.0.0.7:5000":    403,
		"192.0.2.1:5000":   403,
		"[2001:db8::1]:80": 403,
	} {
		for _, path := range []string{"/admin/clock", "/admin/faults"} {
			r := httptest.NewRequest("GET", path, nil)
			r.RemoteAddr = remote
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			assert.Equal(t, want, rec.Code, "%s from %s", path, remote)
			if want == 403 {
				assert.Contains(t, rec.Body.String(), `"code":"forbidden"`)
			}
		}
	}
	r := httptest.NewRequest("GET", "/healthz", nil)
	r.RemoteAddr = "10.0.0.7:5000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, 200, rec.Code, "health answers anyone")
}
