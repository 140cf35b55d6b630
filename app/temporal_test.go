package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
)

// A client given two frontends, one of them down, works through the other:
// every call of a run succeeds, whichever frontend the balancing would have
// picked (a Temporal node lost, docs/deployment.md).
func TestTwoFrontendsOneDown(t *testing.T) {
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

	c := Config{TemporalAddress: freeAddr(t) + "," + srv.FrontendHostPort(), TemporalNamespace: "default"}
	tc, err := dialTemporal(c, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.NoError(t, err)
	defer tc.Close()
	for range 10 {
		_, err := tc.CheckHealth(ctx, nil)
		require.NoError(t, err)
		_, err = tc.WorkflowService().GetSystemInfo(ctx, nil)
		require.NoError(t, err)
	}
}
