package proctest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/logging"
)

// What Env writes, app.FromEnv reads back: a harness's process gets the
// configuration the test built.
func TestEnvIsReadBackByFromEnv(t *testing.T) {
	want := app.Config{
		DatabaseURL: "postgres://a@127.0.0.1:1/x", BankDatabaseURL: "postgres://b@127.0.0.1:2/y",
		TemporalAddress: "127.0.0.1:3", TemporalNamespace: "ns",
		BankURL: "http://127.0.0.1:4", BankListen: "127.0.0.1:4", APIListen: "127.0.0.1:5",
		BankCallbackURL: "http://127.0.0.1:5/v1/bank/callbacks", BankHMACSecret: "secret", BankAPIKey: "key",
		ClockMode: clock.Sandbox, ClockStart: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		OpsEmail: "ops@x.test", OpsPassword: "pw-123456", WorkerMetricsListen: "127.0.0.1:6",
		LogFormat: logging.JSON, PprofListen: "127.0.0.1:7", APIMetricsListen: "127.0.0.1:8",
		APIDBMaxConns: 5, WorkerDBMaxConns: 6, BankDBMaxConns: 7,
		LBListen: "127.0.0.1:12", LBMetricsListen: "127.0.0.1:9",
		LBBackends: []*url.URL{{Scheme: "http", Host: "127.0.0.1:10"}, {Scheme: "http", Host: "127.0.0.1:11"}},
	}
	for _, kv := range Env(want) {
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, kv)
		t.Setenv(k, v)
	}
	got, err := app.FromEnv()
	require.NoError(t, err)
	assert.Equal(t, want.DatabaseURL, got.DatabaseURL)
	assert.Equal(t, want.BankDatabaseURL, got.BankDatabaseURL)
	assert.Equal(t, want.TemporalAddress, got.TemporalAddress)
	assert.Equal(t, want.TemporalNamespace, got.TemporalNamespace)
	assert.Equal(t, want.BankURL, got.BankURL)
	assert.Equal(t, want.BankListen, got.BankListen)
	assert.Equal(t, want.APIListen, got.APIListen)
	assert.Equal(t, want.BankCallbackURL, got.BankCallbackURL)
	assert.Equal(t, want.BankHMACSecret, got.BankHMACSecret)
	assert.Equal(t, want.BankAPIKey, got.BankAPIKey)
	assert.Equal(t, want.ClockMode, got.ClockMode)
	assert.True(t, want.ClockStart.Equal(got.ClockStart), "clock start %s", got.ClockStart)
	assert.Equal(t, want.OpsEmail, got.OpsEmail)
	assert.Equal(t, want.OpsPassword, got.OpsPassword)
	assert.Equal(t, want.WorkerMetricsListen, got.WorkerMetricsListen)
	assert.Equal(t, want.APIMetricsListen, got.APIMetricsListen)
	assert.Equal(t, want.LogFormat, got.LogFormat)
	assert.Equal(t, want.PprofListen, got.PprofListen)
	assert.Equal(t, []int32{5, 6, 7}, []int32{got.APIDBMaxConns, got.WorkerDBMaxConns, got.BankDBMaxConns})
	assert.Equal(t, want.LBListen, got.LBListen)
	assert.Equal(t, want.LBMetricsListen, got.LBMetricsListen)
	assert.Equal(t, want.LBBackends, got.LBBackends)
}
