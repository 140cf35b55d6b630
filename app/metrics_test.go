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
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// TestWorkerServesItsAndTheSDKsMetrics runs the worker as `lendflow worker`
// does and scrapes its metrics listener: the Temporal SDK's own series (polls,
// requests) are there, with their tags as labels.
func TestWorkerServesItsAndTheSDKsMetrics(t *testing.T) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		t.Skip("TEMPORAL_CLI not set (scripts/test.sh sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: cli, ClientOptions: &client.Options{Namespace: "default"},
		LogLevel: "error", Stdout: io.Discard, Stderr: io.Discard,
	})
	require.NoError(t, err)
	defer func() { _ = srv.Stop() }()

	pool := dbtest.New(t)
	var schema string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
	dbURL := dbtest.URL()
	if strings.Contains(dbURL, "?") {
		dbURL += "&search_path=" + schema
	} else {
		dbURL += "?search_path=" + schema
	}
	cfg := Config{
		DatabaseURL: dbURL, TemporalAddress: srv.FrontendHostPort(), TemporalNamespace: "default",
		BankURL: "http://" + freeAddr(t), BankHMACSecret: "x", ClockMode: "sandbox",
		WorkerMetricsListen: freeAddr(t), SweepEvery: time.Hour,
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- RunWorker(wctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() { stop(); <-done }()

	var body string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + cfg.WorkerMetricsListen + "/metrics"); err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(raw)
			// Pollers report once their first long poll has gone out.
			if strings.Contains(body, "temporal_long_request_total") {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Regexp(t, `temporal_worker_start_total\{[^}]*namespace="default"[^}]*task_queue="lendflow"[^}]*worker_type="WorkflowWorker"[^}]*\} 1`, body)
	assert.Regexp(t, `temporal_long_request_total\{[^}]*operation="PollWorkflowTaskQueue"[^}]*\} [1-9]`, body)
	assert.Regexp(t, `temporal_request_latency_seconds_bucket\{`, body, "SDK timers are histograms in seconds")
	assert.Contains(t, body, "go_memstats_heap_inuse_bytes")
}
