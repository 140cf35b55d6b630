package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/errs"
)

// idemServer mounts handler behind the idempotency middleware the way the
// real routes do: POST /anon without a caller, POST /mine after requireRole.
func idemServer(t *testing.T, handler http.HandlerFunc) (*Server, *httptest.Server) {
	s, _ := testServer(t)
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.recoverer)
	r.With(s.idempotent).Post("/anon", handler)
	r.With(s.requireRole(RoleBorrower, RoleInvestor), s.idempotent).Post("/mine", handler)
	r.Mount("/", s.Handler())
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return s, srv
}

func testLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// echo answers 201 with the body it read and how many times it ran.
func echo(calls *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n := calls.Add(1)
		writeJSON(w, http.StatusCreated, map[string]any{"call": n, "body": string(b)})
	}
}

func TestIdempotentReplay(t *testing.T) {
	var calls atomic.Int64
	_, srv := idemServer(t, echo(&calls))

	first := do(t, srv, "POST", "/anon", "", "k1", `{"a":1}`)
	require.Equal(t, 201, first.status, first.raw)
	again := do(t, srv, "POST", "/anon", "", "k1", `{"a":1}`)
	assert.Equal(t, 201, again.status)
	assert.Equal(t, first.raw, again.raw, "the first answer, byte for byte")
	assert.Equal(t, "application/json", again.ctype)
	assert.EqualValues(t, 1, calls.Load(), "the handler ran once")

	other := do(t, srv, "POST", "/anon", "", "k1", `{"a":2}`)
	assert.Equal(t, 409, other.status)
	assert.Equal(t, "idempotency_key_reused", other.body["code"])
	assert.Equal(t, "application/problem+json", other.ctype)

	// The hash covers the path: the same key and body sent elsewhere is another request.
	tok := register(t, srv, "p@test.cn", "borrower", 1)
	require.Equal(t, 201, do(t, srv, "POST", "/mine", tok, "k1", `{"a":1}`).status, "keys are per caller")
	elsewhere := do(t, srv, "POST", "/v1/me/recharges", tok, "k1", `{"a":1}`)
	assert.Equal(t, 409, elsewhere.status, elsewhere.raw)
	assert.Equal(t, "idempotency_key_reused", elsewhere.body["code"])

	before := calls.Load()
	do(t, srv, "POST", "/anon", "", "", `{"a":1}`)
	do(t, srv, "POST", "/anon", "", "", `{"a":1}`)
	assert.Equal(t, before+2, calls.Load(), "without a key nothing is replayed")

	long := do(t, srv, "POST", "/anon", "", strings.Repeat("k", 201), `{}`)
	assert.Equal(t, 422, long.status)
	assert.Equal(t, "Idempotency-Key", long.body["errors"].([]any)[0].(map[string]any)["field"])
}

func TestIdempotentReplayHeader(t *testing.T) {
	var calls atomic.Int64
	_, srv := idemServer(t, echo(&calls))
	send := func() *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/anon", strings.NewReader(`{}`))
		req.Header.Set("Idempotency-Key", "h")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	assert.Empty(t, send().Header.Get("Idempotent-Replayed"))
	assert.Equal(t, "true", send().Header.Get("Idempotent-Replayed"))
}

func TestIdempotentKeysArePerCaller(t *testing.T) {
	var calls atomic.Int64
	_, srv := idemServer(t, echo(&calls))
	a := register(t, srv, "a@test.cn", "borrower", 1)
	b := register(t, srv, "b@test.cn", "investor", 2)
	ra := do(t, srv, "POST", "/mine", a, "same", `{"who":"a"}`)
	rb := do(t, srv, "POST", "/mine", b, "same", `{"who":"b"}`)
	assert.Equal(t, 201, ra.status)
	assert.Equal(t, 201, rb.status, "another caller's key is not a reuse: %s", rb.raw)
	assert.NotEqual(t, ra.raw, rb.raw)
	assert.EqualValues(t, 2, calls.Load())
}

func TestIdempotentInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int64
	_, srv := idemServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": "1"})
	})
	done := make(chan answer)
	go func() { done <- do(t, srv, "POST", "/anon", "", "slow", `{}`) }()
	<-entered
	dup := do(t, srv, "POST", "/anon", "", "slow", `{}`)
	assert.Equal(t, 409, dup.status)
	assert.Equal(t, "conflict", dup.body["code"], "a duplicate while the first runs")
	assert.Contains(t, dup.body["detail"], "in flight")
	close(release)
	first := <-done
	require.Equal(t, 201, first.status)
	after := do(t, srv, "POST", "/anon", "", "slow", `{}`)
	assert.Equal(t, first.raw, after.raw, "once answered, replayed")
	assert.EqualValues(t, 1, calls.Load())
}

func TestIdempotentStoresOnlyFinalAnswers(t *testing.T) {
	var calls atomic.Int64
	_, srv := idemServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			(&Server{Deps: Deps{Logger: testLogger()}}).writeError(w, r, fmt.Errorf("database went away"))
		case 2:
			panic("handler bug")
		case 3:
			(&Server{}).writeError(w, r, errs.New(errs.BankUnavailable, "the bank did not answer"))
		case 4:
			(&Server{}).writeError(w, r, errs.New(errs.InsufficientBalance, "available 1.00"))
		default:
			writeJSON(w, http.StatusCreated, map[string]string{"id": "1"})
		}
	})
	assert.Equal(t, 500, do(t, srv, "POST", "/anon", "", "k", `{}`).status)
	assert.Equal(t, 500, do(t, srv, "POST", "/anon", "", "k", `{}`).status, "a 500 is not stored: the retry runs")
	assert.Equal(t, 503, do(t, srv, "POST", "/anon", "", "k", `{}`).status, "a panic freed the key too")
	refused := do(t, srv, "POST", "/anon", "", "k", `{}`)
	assert.Equal(t, 409, refused.status, "a 503 is not stored either")
	assert.Equal(t, "insufficient_balance", refused.body["code"])

	again := do(t, srv, "POST", "/anon", "", "k", `{}`)
	assert.Equal(t, refused.raw, again.raw, "a 4xx refusal is final and replayed")
	assert.Equal(t, "application/problem+json", again.ctype)
	assert.EqualValues(t, 4, calls.Load())
}

func TestIdempotentStaleClaimIsTakenOver(t *testing.T) {
	var calls atomic.Int64
	s, srv := idemServer(t, echo(&calls))
	ctx := context.Background()
	// A claim whose process died: in flight, and old. (An anonymous key is
	// stored in its scope, strangerScope: "anonymous <scope> dead".)
	require.Equal(t, 201, do(t, srv, "POST", "/anon", "", "dead", `{"x":1}`).status)
	_, err := s.Pool.Exec(ctx, `UPDATE idempotency_keys SET status_code = NULL, response = NULL WHERE key LIKE '% dead'`)
	require.NoError(t, err)

	assert.Equal(t, 409, do(t, srv, "POST", "/anon", "", "dead", `{"x":1}`).status, "a fresh claim is in flight")
	_, err = s.Pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '11 minutes' WHERE key LIKE '% dead'`)
	require.NoError(t, err)
	other := do(t, srv, "POST", "/anon", "", "dead", `{"x":2}`)
	assert.Equal(t, "idempotency_key_reused", other.body["code"], "only the same request takes a stale claim over")
	taken := do(t, srv, "POST", "/anon", "", "dead", `{"x":1}`)
	assert.Equal(t, 201, taken.status, taken.raw)
	assert.EqualValues(t, 2, calls.Load())
	assert.Equal(t, taken.raw, do(t, srv, "POST", "/anon", "", "dead", `{"x":1}`).raw)
}

// An answer that is not final (a 5xx, a 202) releases the key for the same
// request only: it runs again (and finds the effect it made, if any), while
// another body under the key is still idempotency_key_reused, not a new
// effect. A final answer after that is replayed.
func TestIdempotentNonFinalAnswersKeepTheKey(t *testing.T) {
	var calls atomic.Int64
	_, srv := idemServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			(&Server{}).writeError(w, r, errs.New(errs.BankUnavailable, "the bank did not answer"))
		case 2:
			writeJSON(w, http.StatusAccepted, map[string]string{"status": "pending"})
		default:
			writeJSON(w, http.StatusCreated, map[string]string{"status": "frozen"})
		}
	})
	assert.Equal(t, 503, do(t, srv, "POST", "/anon", "", "k", `{"amount":"500.00"}`).status)
	other := do(t, srv, "POST", "/anon", "", "k", `{"amount":"600.00"}`)
	assert.Equal(t, 409, other.status, "a 5xx does not free the key for another request")
	assert.Equal(t, "idempotency_key_reused", other.body["code"])
	assert.Equal(t, 202, do(t, srv, "POST", "/anon", "", "k", `{"amount":"500.00"}`).status, "the same request runs again")
	done := do(t, srv, "POST", "/anon", "", "k", `{"amount":"500.00"}`)
	assert.Equal(t, 201, done.status, "a 202 is not replayed: the retry says how it ended")
	assert.Equal(t, done.raw, do(t, srv, "POST", "/anon", "", "k", `{"amount":"500.00"}`).raw)
	assert.EqualValues(t, 3, calls.Load())
	assert.Equal(t, "idempotency_key_reused", do(t, srv, "POST", "/anon", "", "k", `{"amount":"600.00"}`).body["code"])
}
