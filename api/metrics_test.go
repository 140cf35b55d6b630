package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/metrics"
)

// syncBuffer is a log sink the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "every line is one JSON object: %s", sc.Text())
		out = append(out, m)
	}
	return out
}

func loggedServer(t *testing.T) (*syncBuffer, *httptest.Server) {
	t.Parallel()
	pool := dbtest.New(t)
	logs := &syncBuffer{}
	log, err := logging.New(logs, logging.JSON)
	require.NoError(t, err)
	clk := clock.New(pool, nil, nil, log)
	require.NoError(t, clk.Init(context.Background(), clock.Sandbox, time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)))
	srv := httptest.NewServer(New(Deps{PasswordCost: testCost, Pool: pool, Logger: log, Clock: clk, HMACSecret: []byte("test-secret")}).Handler())
	t.Cleanup(srv.Close)
	return logs, srv
}

func TestMetricsCountRequestsByRouteAndStatus(t *testing.T) {
	_, srv := loggedServer(t)
	// The process's metrics listener (app.RunAPI serves metrics.Handler on
	// API_METRICS_LISTEN), not the API's router.
	scrape := func() string {
		rec := httptest.NewRecorder()
		metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		require.Equal(t, 200, rec.Code)
		require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain"), rec.Header().Get("Content-Type"))
		return rec.Body.String()
	}
	before := scrape()
	require.Equal(t, 200, do(t, srv, "GET", "/v1/clock", "", "", "").status)
	require.Equal(t, 401, do(t, srv, "GET", "/v1/loans/77", "", "", "").status)
	require.Equal(t, 404, do(t, srv, "GET", "/v1/no-such-thing/88", "", "", "").status)
	after := scrape()

	// Other tests in this package share the registry: compare counts.
	for _, series := range []string{
		`lendflow_api_http_requests_total{method="GET",route="/v1/clock",status="200"}`,
		`lendflow_api_http_requests_total{method="GET",route="/v1/loans/{id}",status="401"}`,
		`lendflow_api_http_requests_total{method="GET",route="unmatched",status="404"}`,
		`lendflow_api_http_request_duration_seconds_count{method="GET",route="/v1/loans/{id}",status="401"}`,
	} {
		assert.Equal(t, sample(before, series)+1, sample(after, series), series)
	}
	assert.NotContains(t, after, `route="/v1/loans/77"`, "raw paths are never labels")
	assert.NotContains(t, after, "/v1/no-such-thing", "raw paths are never labels")
	assert.Contains(t, after, "process_resident_memory_bytes", "the process collector is served")
}

// sample is the value of one series in a scrape, 0 when absent.
func sample(scrape, series string) float64 {
	for _, line := range strings.Split(scrape, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			_ = json.Unmarshal([]byte(v), &f)
			return f
		}
	}
	return 0
}

func TestEveryRequestLineNamesTheRequestAndTheCaller(t *testing.T) {
	logs, srv := loggedServer(t)
	inv := register(t, srv, "logs@test.cn", "investor", 4)
	a := do(t, srv, "GET", "/v1/listings/31", inv, "", "")
	require.Equal(t, 404, a.status, a.raw)

	var bid map[string]any
	for _, l := range logs.lines(t) {
		assert.NotEmpty(t, l[logging.RequestID], "a line without request_id: %v", l)
		if l["msg"] == "request" && l["route"] == "/v1/listings/{id}" {
			bid = l
		}
	}
	require.NotNil(t, bid, "the bid's access line")
	assert.Equal(t, "GET", bid["method"])
	assert.Equal(t, 404.0, bid["status"])
	assert.Equal(t, 31.0, bid[logging.LoanID])
	assert.NotZero(t, bid[logging.UserID], "the caller of a refused request")
	assert.Contains(t, bid, "duration_ms")
}
