package app

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/worker"
)

func TestValidateNamesWhatIsMissing(t *testing.T) {
	t.Setenv("BANK_HMAC_SECRET", "")
	t.Setenv("CLOCK_MODE", "fast")
	t.Setenv("OPS_EMAIL", "ops@x")
	t.Setenv("OPS_PASSWORD", "")
	c, err := FromEnv()
	assert.NoError(t, err)
	err = c.Validate("api")
	assert.ErrorContains(t, err, "BANK_HMAC_SECRET is required for api")
	assert.ErrorContains(t, err, `CLOCK_MODE "fast"`)
	assert.ErrorContains(t, err, "OPS_EMAIL and OPS_PASSWORD go together")
	assert.NoError(t, c.Validate("migrate"), "migrate needs only the database")

	t.Setenv("CLOCK_START", "2026-02-30")
	_, err = FromEnv()
	assert.ErrorContains(t, err, "CLOCK_START")
}

// Production refuses unsafe defaults: the clock is the wall clock unless a
// sandbox is asked for, and no process that talks to the bank starts without
// the key that signs its requests.
func TestSafeDefaults(t *testing.T) {
	for _, v := range []string{"CLOCK_MODE", "BANK_API_KEY", "OPS_EMAIL", "OPS_PASSWORD"} {
		t.Setenv(v, "")
	}
	t.Setenv("BANK_HMAC_SECRET", "callback-secret")
	c, err := FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, "wall", c.ClockMode, "sandbox only when asked for")
	for _, p := range []string{"api", "worker", "bank", "dev"} {
		assert.ErrorContains(t, c.Validate(p), "BANK_API_KEY is required for "+p)
	}
	t.Setenv("BANK_API_KEY", "request-key")
	t.Setenv("CLOCK_MODE", "sandbox")
	c, err = FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, "sandbox", c.ClockMode)
	for _, p := range []string{"api", "worker", "bank", "dev"} {
		assert.NoError(t, c.Validate(p), p)
	}
}

func TestObservabilitySettings(t *testing.T) {
	t.Setenv("BANK_HMAC_SECRET", "s")
	t.Setenv("BANK_API_KEY", "k")
	t.Setenv("WORKER_METRICS_LISTEN", "")
	t.Setenv("PPROF_LISTEN", "")
	t.Setenv("LOG_FORMAT", "")
	c, err := FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9091", c.WorkerMetricsListen)
	assert.Equal(t, "", c.PprofListen, "no profile unless asked")
	assert.Equal(t, "json", c.LogFormat, "production logs are JSON")
	assert.NoError(t, c.Validate("worker"))

	t.Setenv("LOG_FORMAT", "yaml")
	c, err = FromEnv()
	assert.NoError(t, err)
	assert.ErrorContains(t, c.Validate("bank"), `LOG_FORMAT "yaml"`)
}

// The console's settings: the Temporal UI a loan page links to, and HTTPS
// (Secure cookies) unless plain HTTP is asked for (development).
func TestConsoleSettings(t *testing.T) {
	t.Setenv("TEMPORAL_UI_URL", "")
	t.Setenv("PUBLIC_HTTPS", "")
	c, err := FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8233", c.TemporalUIURL, "the dev stack's Temporal UI")
	assert.True(t, c.PublicHTTPS, "HTTPS is the default")
	t.Setenv("TEMPORAL_UI_URL", "https://temporal.example")
	t.Setenv("PUBLIC_HTTPS", "false")
	c, err = FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, "https://temporal.example", c.TemporalUIURL)
	assert.False(t, c.PublicHTTPS)
	t.Setenv("PUBLIC_HTTPS", "yes")
	_, err = FromEnv()
	assert.ErrorContains(t, err, "PUBLIC_HTTPS")
}

// The clock's parallelism and the worker's pollers and slots: defaults sized
// for a fleet, a setting taken as given, and a bad one refused by name.
func TestThroughputSettings(t *testing.T) {
	for _, v := range []string{"CLOCK_PARALLEL", "WORKER_WORKFLOW_POLLERS", "WORKER_ACTIVITY_POLLERS",
		"WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", "WORKER_MAX_CONCURRENT_ACTIVITIES",
		"API_DB_MAX_CONNS", "WORKER_DB_MAX_CONNS", "BANK_DB_MAX_CONNS"} {
		t.Setenv(v, "")
	}
	c, err := FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, []int32{16, 16, 16}, []int32{c.APIDBMaxConns, c.WorkerDBMaxConns, c.BankDBMaxConns})
	assert.Equal(t, clock.DefaultParallel, c.ClockParallel)
	assert.Equal(t, worker.DefaultTuning, c.Worker)
	assert.Equal(t, 8, c.Worker.Options().MaxConcurrentActivityTaskPollers)
	assert.Zero(t, c.Worker.Options().MaxConcurrentActivityExecutionSize, "the SDK's own default")

	t.Setenv("CLOCK_PARALLEL", "512")
	t.Setenv("WORKER_ACTIVITY_POLLERS", "16")
	t.Setenv("WORKER_MAX_CONCURRENT_ACTIVITIES", "200")
	t.Setenv("WORKER_DB_MAX_CONNS", "32")
	c, err = FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, int32(32), c.WorkerDBMaxConns)
	assert.Equal(t, 512, c.ClockParallel)
	assert.Equal(t, worker.Tuning{WorkflowPollers: 8, ActivityPollers: 16, Activities: 200}, c.Worker)

	t.Setenv("CLOCK_PARALLEL", "0")
	t.Setenv("WORKER_WORKFLOW_POLLERS", "many")
	t.Setenv("API_DB_MAX_CONNS", "4294967296") // would wrap around in an int32
	_, err = FromEnv()
	assert.ErrorContains(t, err, `CLOCK_PARALLEL "0"`)
	assert.ErrorContains(t, err, `WORKER_WORKFLOW_POLLERS "many"`)
	assert.ErrorContains(t, err, `API_DB_MAX_CONNS "4294967296"`)
}

// The production shape's settings: the balancer's replicas, and several
// Temporal frontends for one client.
func TestClusterSettings(t *testing.T) {
	t.Setenv("BANK_HMAC_SECRET", "s")
	t.Setenv("BANK_API_KEY", "k")
	t.Setenv("LB_LISTEN", "")
	t.Setenv("LB_BACKENDS", "")
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:7233, 127.0.0.1:7333")
	c, err := FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", c.LBListen, "the balancer takes the API's usual address")
	assert.ErrorContains(t, c.Validate("lb"), "LB_BACKENDS is required for lb")
	assert.NoError(t, c.Validate("worker"), "two frontends")

	t.Setenv("LB_BACKENDS", "http://127.0.0.1:8081, http://127.0.0.1:8082")
	c, err = FromEnv()
	assert.NoError(t, err)
	assert.NoError(t, c.Validate("lb"))
	var hosts []string
	for _, u := range c.LBBackends {
		hosts = append(hosts, u.Host)
	}
	assert.Equal(t, []string{"127.0.0.1:8081", "127.0.0.1:8082"}, hosts)

	t.Setenv("LB_BACKENDS", "127.0.0.1:8081")
	_, err = FromEnv()
	assert.ErrorContains(t, err, `LB_BACKENDS: "127.0.0.1:8081" is not a base URL`)
	t.Setenv("LB_BACKENDS", "")
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:7233,temporal")
	c, err = FromEnv()
	assert.NoError(t, err)
	assert.ErrorContains(t, c.Validate("api"), `TEMPORAL_ADDRESS: "temporal" is not host:port`)
}

// Notices go by e-mail when SMTP_HOST names a server: its port follows the
// connection's security unless given, and a worker refuses to start on
// settings that could not send (no sender address, a password without a
// user, an unknown security).
func TestSMTPSettings(t *testing.T) {
	for _, v := range []string{"SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_TLS"} {
		t.Setenv(v, "")
	}
	t.Setenv("BANK_HMAC_SECRET", "s")
	t.Setenv("BANK_API_KEY", "k")
	c, err := FromEnv()
	assert.NoError(t, err)
	assert.Empty(t, c.SMTP.Host, "no server: notices are logged")
	assert.NoError(t, c.Validate("worker"))

	t.Setenv("SMTP_HOST", "smtp.example.com")
	t.Setenv("SMTP_FROM", "lendflow <notices@example.com>")
	c, err = FromEnv()
	assert.NoError(t, err)
	assert.Equal(t, contact.SMTPConfig{Host: "smtp.example.com", Port: 587, From: "lendflow <notices@example.com>", TLS: contact.TLSStartTLS}, c.SMTP)
	assert.NoError(t, c.Validate("worker"))
	t.Setenv("SMTP_TLS", "tls")
	c, _ = FromEnv()
	assert.Equal(t, 465, c.SMTP.Port)
	t.Setenv("SMTP_TLS", "none")
	t.Setenv("SMTP_PORT", "1025")
	c, _ = FromEnv()
	assert.Equal(t, 1025, c.SMTP.Port)

	t.Setenv("SMTP_TLS", "ssl")
	t.Setenv("SMTP_FROM", "")
	t.Setenv("SMTP_PASSWORD", "secret")
	c, _ = FromEnv()
	err = c.Validate("worker")
	assert.ErrorContains(t, err, `SMTP_TLS "ssl"`)
	assert.ErrorContains(t, err, "SMTP_FROM")
	assert.ErrorContains(t, err, "SMTP_USERNAME and SMTP_PASSWORD go together")
	assert.NoError(t, c.Validate("api"), "the API sends no e-mail")
}

// TRUSTED_PROXIES names the proxies whose X-Forwarded-For the API believes:
// none by default, networks or single addresses, and a value that is neither
// refuses to start.
func TestTrustedProxiesSetting(t *testing.T) {
	t.Setenv("BANK_HMAC_SECRET", "s")
	t.Setenv("BANK_API_KEY", "k")
	t.Setenv("TRUSTED_PROXIES", "")
	c, err := FromEnv()
	require.NoError(t, err)
	assert.Empty(t, c.TrustedProxies, "by default no proxy is believed")

	t.Setenv("TRUSTED_PROXIES", "127.0.0.1, 172.28.0.0/24")
	c, err = FromEnv()
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("172.28.0.0/24")}, c.TrustedProxies)

	t.Setenv("TRUSTED_PROXIES", "lb")
	_, err = FromEnv()
	assert.ErrorContains(t, err, "TRUSTED_PROXIES")
}

// Personal data's keys: required outside the sandbox by every process that
// reads users' rows (and migrate, which seals old ones), not by the bank or
// the balancer; in the sandbox, unset, the dev keys; set, they must parse.
func TestPIIKeys(t *testing.T) {
	t.Setenv("BANK_HMAC_SECRET", "s")
	t.Setenv("BANK_API_KEY", "k")
	t.Setenv("CLOCK_MODE", "")
	t.Setenv("PII_KEYS", "")
	t.Setenv("PII_HASH_KEY", "")
	c, err := FromEnv()
	assert.NoError(t, err)
	for _, p := range []string{"api", "worker", "dev", "migrate"} {
		assert.ErrorContains(t, c.Validate(p), "PII_KEYS and PII_HASH_KEY are required outside the sandbox", p)
	}
	assert.NoError(t, c.Validate("bank"))

	t.Setenv("CLOCK_MODE", "sandbox")
	c, _ = FromEnv()
	assert.NoError(t, c.Validate("api"))
	ring, err := c.Keyring()
	assert.NoError(t, err)
	assert.Contains(t, ring.Seal("1"), "pii:dev:")

	t.Setenv("CLOCK_MODE", "")
	t.Setenv("PII_KEYS", "k2:"+devKey)
	t.Setenv("PII_HASH_KEY", "short")
	c, _ = FromEnv()
	assert.ErrorContains(t, c.Validate("worker"), "PII_HASH_KEY")
	t.Setenv("PII_HASH_KEY", devKey)
	c, _ = FromEnv()
	assert.NoError(t, c.Validate("worker"))
	ring, err = c.Keyring()
	assert.NoError(t, err)
	assert.Contains(t, ring.Seal("1"), "pii:k2:")
}
