package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testwait"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// metricsStack is a Temporal dev server and a schema of its own, and the
// configuration of processes using them; it skips without TEMPORAL_CLI.
func metricsStack(t *testing.T) (context.Context, Config) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		t.Skip("TEMPORAL_CLI not set (scripts/test.sh sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: cli, ClientOptions: &client.Options{Namespace: "default"},
		LogLevel: "error", Stdout: io.Discard, Stderr: io.Discard,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	pool := dbtest.New(t)
	var schema string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
	dbURL := dbtest.URL()
	if strings.Contains(dbURL, "?") {
		dbURL += "&search_path=" + schema
	} else {
		dbURL += "?search_path=" + schema
	}
	return ctx, Config{
		DatabaseURL: dbURL, TemporalAddress: srv.FrontendHostPort(), TemporalNamespace: "default",
		BankURL: "http://" + freeAddr(t), BankHMACSecret: "x", ClockMode: "sandbox",
		WorkerMetricsListen: freeAddr(t), SweepEvery: time.Hour,
	}
}

// TestWorkerServesItsAndTheSDKsMetrics runs the worker as `lendflow worker`
// does and scrapes its metrics listener: the Temporal SDK's own series (polls,
// requests) are there, with their tags as labels.
func TestWorkerServesItsAndTheSDKsMetrics(t *testing.T) {
	ctx, cfg := metricsStack(t)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- RunWorker(wctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() { stop(); <-done }()

	var body string
	// Pollers report once their first long poll has gone out.
	testwait.Within(30*time.Second).Every(200*time.Millisecond).For(t, "the worker's first long poll in its metrics", func() bool {
		if resp, err := http.Get("http://" + cfg.WorkerMetricsListen + "/metrics"); err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(raw)
		}
		return strings.Contains(body, "temporal_long_request_total")
	})
	assert.Regexp(t, `temporal_worker_start_total\{[^}]*namespace="default"[^}]*task_queue="lendflow"[^}]*worker_type="WorkflowWorker"[^}]*\} 1`, body)
	assert.Regexp(t, `temporal_long_request_total\{[^}]*operation="PollWorkflowTaskQueue"[^}]*\} [1-9]`, body)
	assert.Regexp(t, `temporal_request_latency_seconds_bucket\{`, body, "SDK timers are histograms in seconds")
	assert.Contains(t, body, "go_memstats_heap_inuse_bytes")
}

// TestAPIServesMetricsOnItsOwnListener (issue 25, point 6): the API's
// metrics are on API_METRICS_LISTEN; its public listener answers 404 there.
func TestAPIServesMetricsOnItsOwnListener(t *testing.T) {
	ctx, cfg := metricsStack(t)
	cfg.APIListen, cfg.APIMetricsListen = freeAddr(t), freeAddr(t)
	cfg.ClockStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	actx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- RunAPI(actx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() { stop(); <-done }()

	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	testwait.Within(30*time.Second).Every(100*time.Millisecond).For(t, "the API to answer /healthz", func() bool {
		st, _ := get("http://" + cfg.APIListen + "/healthz")
		return st == 200
	})
	st, body := get("http://" + cfg.APIMetricsListen + "/metrics")
	assert.Equal(t, 200, st)
	assert.Contains(t, body, "lendflow_api_http_requests_total", "the API's own series")
	st, body = get("http://" + cfg.APIListen + "/metrics")
	assert.Equal(t, 404, st, "not on the public listener")
	assert.Contains(t, body, `"code":"not_found"`)
}
