package api

import (
	"context"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoginToken(t *testing.T) {
	s, srv := testServer(t)
	before := time.Now()
	tok := register(t, srv, "Token@Test.cn", "borrower", 1)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{64}$`), tok, "32 random bytes")

	a := do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"token@test.cn","password":"password-1"}`)
	require.Equal(t, 200, a.status, "emails are matched without case: %s", a.raw)
	assert.Equal(t, "borrower", a.body["role"])
	exp, err := time.Parse(time.RFC3339, a.body["expires_at"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, before.Add(24*time.Hour), exp, time.Minute)
	assert.NotEqual(t, tok, a.body["token"], "each login is a session of its own")

	var stored int
	require.NoError(t, s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE token_hash = $1`, tok).Scan(&stored))
	assert.Zero(t, stored, "the token itself is never stored")
	require.NoError(t, s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE token_hash = $1`, tokenHash(tok)).Scan(&stored))
	assert.Equal(t, 1, stored)

	a = do(t, srv, "POST", "/v1/auth/register", "", "", `{"email":"TOKEN@test.cn","password":"password-1","role":"investor","name":"x","id_number":"`+validID(2)+`","phone":"13800138002"}`)
	assert.Equal(t, 409, a.status, "the same email in other case is the same account")
}

func TestBearerTokenChecks(t *testing.T) {
	s, srv := testServer(t)
	inv := register(t, srv, "bearer@test.cn", "investor", 1)
	ok := `{"answers":[0,0,0,0,0,0,0,0,0,0]}`
	require.Equal(t, 200, do(t, srv, "POST", "/v1/me/risk-assessment", inv, "", ok).status)

	// Another token of the same shape: its first two characters changed, so
	// it can never be the real one (a fixed "00" was, once in 256 runs).
	unknown := "00" + inv[2:]
	if unknown == inv {
		unknown = "ff" + inv[2:]
	}
	for name, header := range map[string]string{
		"none":         "",
		"other scheme": "Basic " + inv,
		"empty bearer": "Bearer ",
		"unknown":      "Bearer " + unknown,
	} {
		req, err := http.NewRequest("POST", srv.URL+"/v1/me/risk-assessment", nil)
		require.NoError(t, err)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 401, resp.StatusCode, name)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), name)
		assert.Equal(t, `Bearer realm="lendflow"`, resp.Header.Get("WWW-Authenticate"), name)
	}

	_, err := s.Pool.Exec(context.Background(), `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, tokenHash(inv))
	require.NoError(t, err)
	a := do(t, srv, "POST", "/v1/me/risk-assessment", inv, "", ok)
	assert.Equal(t, 401, a.status, "an expired token")
	assert.Equal(t, "unauthenticated", a.body["code"])
}

func TestRequireRoleLoadsTheUser(t *testing.T) {
	s, srv := testServer(t)
	tok := register(t, srv, "who@test.cn", "investor", 3)
	var seen User
	h := s.requireRole(RoleInvestor)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = userFrom(r.Context())
	}))
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(nopWriter{}, req)
	assert.Equal(t, "who@test.cn", seen.Email)
	assert.Equal(t, RoleInvestor, seen.Role)
	assert.Equal(t, validID(3), seen.IDNumber)
	assert.Nil(t, seen.RiskLevel)
	assert.NotZero(t, seen.ID)

	_, ok := userFrom(context.Background())
	assert.False(t, ok, "no caller outside requireRole")
}

type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

func TestEnsureOpsUser(t *testing.T) {
	s, srv := testServer(t)
	ctx := context.Background()
	require.NoError(t, s.EnsureOpsUser(ctx, "Ops@Lendflow.test", "ops-password-1"))
	require.NoError(t, s.EnsureOpsUser(ctx, "ops@lendflow.test", "another-password"), "a second start is a no-op")

	a := do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"ops@lendflow.test","password":"another-password"}`)
	assert.Equal(t, 401, a.status, "a restart does not reset the ops password")
	a = do(t, srv, "POST", "/v1/auth/login", "", "", `{"email":"ops@lendflow.test","password":"ops-password-1"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "ops", a.body["role"])
	ops := a.body["token"].(string)

	inv := register(t, srv, "inv@test.cn", "investor", 4)
	assert.Equal(t, 200, do(t, srv, "GET", "/v1/ops/loans?status=listed", ops, "", "").status)
	a = do(t, srv, "GET", "/v1/ops/loans?status=listed", inv, "", "")
	assert.Equal(t, 403, a.status)
	assert.Equal(t, "forbidden", a.body["code"])
	a = do(t, srv, "POST", "/v1/me/risk-assessment", ops, "", `{"answers":[0,0,0,0,0,0,0,0,0,0]}`)
	assert.Equal(t, 403, a.status, "ops is not an investor")

	assert.ErrorContains(t, s.EnsureOpsUser(ctx, "inv@test.cn", "ops-password-1"), "is taken by a user with role investor",
		"an email taken by a non-ops user must stop the start, not leave ops without a login")
	assert.Error(t, s.EnsureOpsUser(ctx, "x@lendflow.test", "short"))

	// Replicas starting together: every one succeeds, one user is made.
	var wg sync.WaitGroup
	errc := make(chan error, 6)
	for range 6 {
		wg.Go(func() { errc <- s.EnsureOpsUser(ctx, "ops2@lendflow.test", "ops-password-2") })
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		assert.NoError(t, err)
	}

	var users int
	require.NoError(t, s.Pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'ops'`).Scan(&users))
	assert.Equal(t, 2, users)
}
