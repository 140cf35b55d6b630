package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/auth"
)

// frozenClock stops the server's wall clock at a moment the test moves.
type frozenClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *frozenClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *frozenClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func freeze(s *Server) *frozenClock {
	c := &frozenClock{t: time.Now()}
	s.now = c.now
	return c
}

type loginAnswer struct {
	status     int
	code       string
	retryAfter int
	token      string
}

// loginFrom signs in as a client at addr would.
func loginFrom(t *testing.T, s *Server, addr, email, password string) loginAnswer {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/auth/login", strings.NewReader(`{"email":"`+email+`","password":"`+password+`"}`))
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var body struct {
		Code  string `json:"code"`
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	a := loginAnswer{status: rec.Code, code: body.Code, token: body.Token}
	if ra := rec.Header().Get("Retry-After"); ra != "" {
		var err error
		a.retryAfter, err = strconv.Atoi(ra)
		require.NoError(t, err)
	}
	return a
}

// Probe 1 of issue 10: 40 wrong passwords in a row against one account. The
// first 5 are answered; from then on each must wait a delay that doubles,
// and an attempt before its time is 429 login_throttled — even with the
// right password, so the refusals reveal nothing. After the wait the owner's
// password works, and the count starts again.
func TestLoginThrottlePerAccount(t *testing.T) {
	s, srv := testServer(t)
	clk := freeze(s)
	register(t, srv, "victim@test.cn", "investor", 1)
	const addr = "203.0.113.7:40000"
	var statuses []int
	for range 40 {
		a := loginFrom(t, s, addr, "victim@test.cn", "wrong-password")
		statuses = append(statuses, a.status)
		if a.status == 429 {
			assert.Equal(t, "login_throttled", a.code)
			assert.Equal(t, 1, a.retryAfter, "the wait after the 5th failure is 1 s")
		} else {
			assert.Equal(t, "unauthenticated", a.code)
		}
	}
	assert.Equal(t, []int{401, 401, 401, 401, 401}, statuses[:5])
	for i, st := range statuses[5:] {
		assert.Equal(t, 429, st, "attempt %d", i+6)
	}
	a := loginFrom(t, s, addr, "victim@test.cn", "password-1")
	assert.Equal(t, 429, a.status, "the right password is refused too while the account waits")

	// Each admitted failure doubles the wait: 2, 4, 8 s …
	for _, want := range []int{2, 4, 8, 16} {
		clk.add(time.Duration(a.retryAfter) * time.Second)
		require.Equal(t, 401, loginFrom(t, s, addr, "victim@test.cn", "wrong-password").status)
		a = loginFrom(t, s, addr, "victim@test.cn", "wrong-password")
		require.Equal(t, 429, a.status)
		assert.Equal(t, want, a.retryAfter)
	}
	// … and never beyond 15 minutes.
	for range 20 {
		clk.add(time.Duration(a.retryAfter) * time.Second)
		require.Equal(t, 401, loginFrom(t, s, addr, "victim@test.cn", "wrong-password").status)
		a = loginFrom(t, s, addr, "victim@test.cn", "wrong-password")
	}
	assert.Equal(t, 900, a.retryAfter, "the wait is bounded")

	clk.add(15 * time.Minute)
	ok := loginFrom(t, s, addr, "victim@test.cn", "password-1")
	require.Equal(t, 200, ok.status, "after the wait the owner's password works")
	// From another address (this one is now the owner's known one, and has
	// its own count of 29 failures), the account's count started again.
	for range 5 {
		assert.Equal(t, 401, loginFrom(t, s, "203.0.113.8:1", "victim@test.cn", "wrong-password").status, "the count started again")
	}
	assert.Equal(t, 429, loginFrom(t, s, "203.0.113.8:1", "victim@test.cn", "wrong-password").status)
}

// An unknown email is throttled exactly like a registered one, so the
// answers do not tell which emails exist.
func TestLoginThrottleUnknownEmail(t *testing.T) {
	s, _ := testServer(t)
	freeze(s)
	var got []int
	for range 7 {
		got = append(got, loginFrom(t, s, "198.51.100.1:1", "nobody@test.cn", "whatever-1").status)
	}
	assert.Equal(t, []int{401, 401, 401, 401, 401, 429, 429}, got)
}

// A stranger cannot keep the owner out: from an address the owner signed in
// from, or on a device the owner signed in on, only the owner's own failures
// there count; from anywhere else the owner waits at most the current delay.
// The stranger's own address is throttled over all the accounts it tries.
func TestLoginThrottleOwnerNotLockedOut(t *testing.T) {
	s, srv := testServer(t)
	clk := freeze(s)
	register(t, srv, "owner@test.cn", "borrower", 1)
	const home, stranger, café = "192.0.2.10:5000", "198.51.100.66:6000", "192.0.2.99:7000"
	first := signInFrom(t, s, home, "owner@test.cn", "password-1")
	require.Equal(t, 200, first.status)
	require.NotNil(t, first.device, "a sign-in hands the client a device cookie")

	for range 12 {
		loginFrom(t, s, stranger, "owner@test.cn", "guess-guess")
	}
	a := loginFrom(t, s, stranger, "owner@test.cn", "password-1")
	require.Equal(t, 429, a.status, "the stranger waits, right password or not")
	a = loginFrom(t, s, café, "owner@test.cn", "password-1")
	assert.Equal(t, 429, a.status, "from a new address without the device, the account's wait applies")
	assert.Equal(t, 1, a.retryAfter, "and it is the current delay, not a lock-out")

	assert.Equal(t, 200, loginFrom(t, s, home, "owner@test.cn", "password-1").status,
		"the owner at a known address is not held by the stranger's failures")
	assert.Equal(t, 200, signInFrom(t, s, café, "owner@test.cn", "password-1", first.device).status,
		"nor is the owner anywhere on a device the platform recognizes")
	assert.Equal(t, 429, loginFrom(t, s, stranger, "owner@test.cn", "password-1").status,
		"the owner's sign-ins did not clear the stranger's failures")

	// The stranger's address is throttled over every account it tries.
	clk.add(auth.ThrottleWindow + time.Second)
	var got []int
	for i := range 22 {
		got = append(got, loginFrom(t, s, stranger, "user"+strconv.Itoa(i)+"@test.cn", "guess-guess").status)
	}
	assert.Equal(t, 401, got[19], "20 failures from an address are free")
	assert.Equal(t, []int{429, 429}, got[20:], "the 21st waits")
}

// TestLoginThrottleConcurrent: attempts arriving together cannot all be
// admitted on one count (the rows are locked).
func TestLoginThrottleConcurrent(t *testing.T) {
	s, srv := testServer(t)
	freeze(s)
	register(t, srv, "race@test.cn", "investor", 1)
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			st := loginFrom(t, s, "203.0.113.50:1", "race@test.cn", "wrong-password").status
			mu.Lock()
			counts[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{401: 5, 429: 15}, counts)
}

func TestClientAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:5555":             "192.0.2.1",
		"[::ffff:192.0.2.1]:5555":    "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:443":      "2001:db8:1:3::/64",
		"not-an-address":             "not-an-address",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "10.9.9.9")
		assert.Equal(t, want, clientAddr(r, nil), remote)
	}
}

// Probe 1's second half: a made-up bearer token per request used to buy a
// fresh rate-limit budget each time. Now the token is checked first, and a
// token that is no live session spends the address's budget.
func TestRateLimitIgnoresMadeUpTokens(t *testing.T) {
	s, srv := testServer(t)
	inv := register(t, srv, "limited@test.cn", "investor", 1)
	now := time.Now()
	s.limits = newLimiter(1, 3)
	s.limits.now = func() time.Time { return now }
	var got []int
	for i := range 5 {
		a := do(t, srv, "GET", "/v1/clock", "made-up-token-"+strconv.Itoa(i), "", "")
		got = append(got, a.status)
		if a.status == 429 {
			assert.Equal(t, "rate_limited", a.body["code"])
		}
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, got)
	a := do(t, srv, "GET", "/v1/me/holdings", inv, "", "")
	assert.Equal(t, 200, a.status, "a signed-in user has a bucket of their own: %s", a.raw)
	a = do(t, srv, "GET", "/v1/me/holdings", "", "", "")
	assert.Equal(t, 429, a.status, "anonymous, the address's bucket is spent")
}

// TestLimiterMemoryIsBounded: at most max callers are remembered; the one
// idle longest is forgotten, not everyone at once, so a flood of new keys
// cannot refill a spent bucket that is still in use.
func TestLimiterMemoryIsBounded(t *testing.T) {
	l := newLimiter(1, 1)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	l.max = 3
	ok, _ := l.allow("spent")
	require.True(t, ok)
	for i := range 10 {
		l.allow("flood-" + strconv.Itoa(i))
		ok, _ := l.allow("spent") // still in use: kept, and still spent
		assert.False(t, ok, "flood %d", i)
		assert.LessOrEqual(t, l.len(), 3)
	}
}

// Logout ends the token at once; ops tokens live 8 hours, others 24.
func TestLogoutAndSessionLifetimes(t *testing.T) {
	s, srv := testServer(t)
	clk := freeze(s)
	tok := register(t, srv, "bye@test.cn", "guarantor", 1)
	require.Equal(t, 200, do(t, srv, "GET", "/v1/me/account", tok, "", "").status)
	a := do(t, srv, "POST", "/v1/auth/logout", tok, "", "")
	require.Equal(t, 204, a.status, a.raw)
	a = do(t, srv, "GET", "/v1/me/account", tok, "", "")
	assert.Equal(t, 401, a.status, "the token no longer works")
	assert.Equal(t, "unauthenticated", a.body["code"])
	assert.Equal(t, 401, do(t, srv, "POST", "/v1/auth/logout", tok, "", "").status, "a second logout has no session")
	assert.Equal(t, 401, do(t, srv, "POST", "/v1/auth/logout", "", "", "").status)

	require.NoError(t, s.EnsureOpsUser(context.Background(), "ops@test.cn", "ops-password-1"))
	for email, ttl := range map[string]time.Duration{"ops@test.cn": 8 * time.Hour, "bye@test.cn": 24 * time.Hour} {
		pw := "password-1"
		if email == "ops@test.cn" {
			pw = "ops-password-1"
		}
		a := do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"`+email+`","password":"`+pw+`"}`)
		require.Equal(t, 200, a.status, a.raw)
		exp, err := time.Parse(time.RFC3339, a.body["expires_at"].(string))
		require.NoError(t, err)
		assert.Equal(t, clk.now().Add(ttl).UTC().Truncate(time.Second), exp, email)
	}
}
