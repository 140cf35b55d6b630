package api

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/lendflow/lendflow/db/dbtest"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	New(Deps{Logger: testLogger()}).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ready := func(d Deps) (int, string) {
		d.Logger = testLogger()
		rec := httptest.NewRecorder()
		New(d).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	fine := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.9:7233: connection refused") }

	code, body := ready(Deps{Pool: pool, Checks: map[string]func(context.Context) error{"temporal": fine, "bank": fine}})
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"postgres":"ok","temporal":"ok","bank":"ok"}`, body, "Postgres is checked through the pool when no check names it")

	code, body = ready(Deps{Pool: pool, Checks: map[string]func(context.Context) error{"temporal": down, "bank": fine}})
	assert.Equal(t, 503, code)
	assert.JSONEq(t, `{"postgres":"ok","temporal":"unavailable","bank":"ok"}`, body, "names what failed, not why")

	code, body = ready(Deps{Pool: pool, Checks: map[string]func(context.Context) error{"postgres": down}})
	assert.Equal(t, 503, code, "a given postgres check replaces the pool ping")
	assert.JSONEq(t, `{"postgres":"unavailable"}`, body)

	closed := dbtest.New(t)
	closed.Close()
	code, _ = ready(Deps{Pool: closed})
	assert.Equal(t, 503, code, "a pool that cannot ping")
}
