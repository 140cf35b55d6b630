// Package app wires the platform's processes from configuration: the API,
// the worker, the bank simulator and migrations. cmd/lendflow and the
// end-to-end test both start processes through it.
package app

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/logging"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/worker"
)

// Config is every setting, read from the environment (README "Configuration").
type Config struct {
	DatabaseURL     string // DATABASE_URL
	BankDatabaseURL string // BANK_DATABASE_URL, default DATABASE_URL (schema banksim)
	// TemporalAddress is one frontend's host:port, or several separated by
	// commas: the client spreads its calls over them and passes over one
	// that is down (TEMPORAL_ADDRESS; app dialTemporal).
	TemporalAddress   string
	TemporalNamespace string // TEMPORAL_NAMESPACE
	// TemporalTLS is the client side of mutual TLS with Temporal's frontend
	// (docs/deployment.md "Closing Temporal's frontend"): the client's
	// certificate and key, the CA that signed the frontend's, the name the
	// frontend's certificate carries (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY,
	// TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME: files, as the temporal CLI
	// reads them). Unset, the connection is plain.
	TemporalTLS     TemporalTLS
	BankURL         string // BANK_URL: where the platform reaches the bank
	BankListen      string // BANK_LISTEN: where the simulator serves
	BankCallbackURL string // BANK_CALLBACK_URL: where the bank posts results
	BankHMACSecret  string // BANK_HMAC_SECRET: signs bank callbacks; no default
	BankAPIKey      string // BANK_API_KEY: signs the platform's requests to the bank; no default
	// PIIKeys and PIIHashKey encrypt and hash personal data at rest (PII_KEYS,
	// PII_HASH_KEY; pii.Parse, docs/security.md "Personal data"). No default
	// but in the sandbox, which then uses pii.Dev.
	PIIKeys     string
	PIIHashKey  string
	APIListen   string // API_LISTEN
	ClockMode   string // CLOCK_MODE: wall (default) | sandbox
	ClockStart  time.Time
	OpsEmail    string // OPS_EMAIL: bootstrap ops user
	OpsPassword string // OPS_PASSWORD
	// WorkerMetricsListen is where the worker serves GET /metrics.
	WorkerMetricsListen string // WORKER_METRICS_LISTEN
	// APIMetricsListen is where the API serves GET /metrics: a listener of
	// its own, never the public API_LISTEN (docs/security.md "Metrics").
	APIMetricsListen string // API_METRICS_LISTEN
	// PprofListen, when set, serves net/http/pprof there (api and worker):
	// a private address for profiling, never the public one.
	PprofListen string // PPROF_LISTEN
	LogFormat   string // LOG_FORMAT: json | text
	// TemporalUIURL is where the ops console links a loan's workflow
	// (TEMPORAL_UI_URL): <url>/namespaces/<ns>/workflows/loan-<id>.
	TemporalUIURL string
	// PublicHTTPS: clients reach the API over HTTPS, TLS ended here or by a
	// proxy in front (PUBLIC_HTTPS, default true). The API's cookies are then
	// Secure with the __Host- prefix (docs/security.md "Cookies"); false is
	// for plain-HTTP development on localhost only (scripts/up.sh).
	PublicHTTPS bool

	// ClockParallel is how many loans a clock advance tells at once
	// (CLOCK_PARALLEL, default clock.DefaultParallel).
	ClockParallel int
	// Worker is the worker's pollers and slots (WORKER_WORKFLOW_POLLERS,
	// WORKER_ACTIVITY_POLLERS, WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
	// WORKER_MAX_CONCURRENT_ACTIVITIES; worker.DefaultTuning).
	Worker worker.Tuning
	// Connection pool sizes of the three processes (API_DB_MAX_CONNS,
	// WORKER_DB_MAX_CONNS, BANK_DB_MAX_CONNS). pgxpool's own default,
	// max(4, CPUs), queued 32 bids in flight behind 4 connections (BENCHMARKS.md
	// "Hot listing"); the defaults below leave room for a request's two
	// transactions and the bank's calls, and together (48) stay well under
	// PostgreSQL's default max_connections of 100.
	APIDBMaxConns    int32
	WorkerDBMaxConns int32
	BankDBMaxConns   int32

	// LBListen is where `lendflow lb` serves (LB_LISTEN, default the API's
	// usual address); LBBackends are the API replicas it balances
	// (LB_BACKENDS, base URLs separated by commas); LBMetricsListen serves
	// its own GET /metrics (LB_METRICS_LISTEN), apart from the API's.
	LBListen        string
	LBBackends      []*url.URL
	LBMetricsListen string

	// SMTP is the mail server the worker hands every notice to as an e-mail
	// (SMTP_HOST, SMTP_PORT, SMTP_FROM, SMTP_USERNAME, SMTP_PASSWORD,
	// SMTP_TLS). No SMTP_HOST: notices are only logged (contact.LogSender).
	SMTP contact.SMTPConfig

	// WebhookAllowNets are networks a webhook's URL may point at although
	// not public (WEBHOOK_ALLOW_NETS, CIDRs or addresses separated by
	// commas; docs/events.md "Which URLs"). None by default.
	WebhookAllowNets []netip.Prefix

	// TrustedProxies are the proxies in front of the API whose
	// X-Forwarded-For it believes (TRUSTED_PROXIES, CIDRs or addresses
	// separated by commas: lendflow lb's address). None by default: the
	// client is the TCP peer (docs/security.md "The client address").
	TrustedProxies []netip.Prefix

	// SweepEvery and SettleAfter pace the worker's sweep for bank results
	// not heard at the time (tests shorten them).
	SweepEvery  time.Duration
	SettleAfter time.Duration
}

// FromEnv reads the configuration with the defaults of a local dev stack.
func FromEnv() (Config, error) {
	c := Config{
		DatabaseURL:       env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lendflow?sslmode=disable"),
		TemporalAddress:   env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: env("TEMPORAL_NAMESPACE", "default"),
		TemporalTLS: TemporalTLS{CertFile: os.Getenv("TEMPORAL_TLS_CERT"), KeyFile: os.Getenv("TEMPORAL_TLS_KEY"),
			CAFile: os.Getenv("TEMPORAL_TLS_CA"), ServerName: os.Getenv("TEMPORAL_TLS_SERVER_NAME")},
		BankURL:         env("BANK_URL", "http://127.0.0.1:8090"),
		BankListen:      env("BANK_LISTEN", "127.0.0.1:8090"),
		BankCallbackURL: env("BANK_CALLBACK_URL", "http://127.0.0.1:8080/v1/bank/callbacks"),
		BankHMACSecret:  os.Getenv("BANK_HMAC_SECRET"),
		BankAPIKey:      os.Getenv("BANK_API_KEY"),
		PIIKeys:         os.Getenv(pii.EnvKeys),
		PIIHashKey:      os.Getenv(pii.EnvHashKey),
		APIListen:       env("API_LISTEN", "127.0.0.1:8080"),
		// Production is the default: a sandbox clock, which ops can move,
		// must be asked for (scripts/up.sh and the tests do).
		ClockMode:           env("CLOCK_MODE", clock.Wall),
		OpsEmail:            os.Getenv("OPS_EMAIL"),
		OpsPassword:         os.Getenv("OPS_PASSWORD"),
		WorkerMetricsListen: env("WORKER_METRICS_LISTEN", "127.0.0.1:9091"),
		APIMetricsListen:    env("API_METRICS_LISTEN", "127.0.0.1:9092"),
		PprofListen:         os.Getenv("PPROF_LISTEN"),
		LogFormat:           env("LOG_FORMAT", logging.JSON),
		TemporalUIURL:       env("TEMPORAL_UI_URL", "http://127.0.0.1:8233"),
		LBListen:            env("LB_LISTEN", "127.0.0.1:8080"),
		LBMetricsListen:     env("LB_METRICS_LISTEN", "127.0.0.1:9093"),
	}
	switch v := os.Getenv("PUBLIC_HTTPS"); v {
	case "", "true":
		c.PublicHTTPS = true
	case "false":
	default:
		return c, fmt.Errorf("PUBLIC_HTTPS %q: want true or false", v)
	}
	var bad []error
	positive := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		// The cap keeps every setting inside an int32 (pool sizes are).
		if err != nil || n < 1 || n > maxSetting {
			bad = append(bad, fmt.Errorf("%s %q: want a whole number from 1 to %d", name, v, maxSetting))
			return def
		}
		return n
	}
	c.ClockParallel = positive("CLOCK_PARALLEL", clock.DefaultParallel)
	d := worker.DefaultTuning
	c.Worker = worker.Tuning{
		WorkflowPollers: positive("WORKER_WORKFLOW_POLLERS", d.WorkflowPollers),
		ActivityPollers: positive("WORKER_ACTIVITY_POLLERS", d.ActivityPollers),
		WorkflowTasks:   positive("WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", d.WorkflowTasks),
		Activities:      positive("WORKER_MAX_CONCURRENT_ACTIVITIES", d.Activities),
	}
	c.APIDBMaxConns = int32(positive("API_DB_MAX_CONNS", DefaultAPIDBMaxConns))
	c.WorkerDBMaxConns = int32(positive("WORKER_DB_MAX_CONNS", DefaultWorkerDBMaxConns))
	c.BankDBMaxConns = int32(positive("BANK_DB_MAX_CONNS", DefaultBankDBMaxConns))
	if host := os.Getenv("SMTP_HOST"); host != "" {
		c.SMTP = contact.SMTPConfig{Host: host, From: os.Getenv("SMTP_FROM"), Username: os.Getenv("SMTP_USERNAME"),
			Password: os.Getenv("SMTP_PASSWORD"), TLS: env("SMTP_TLS", contact.TLSStartTLS)}
		// The port each kind of connection usually takes.
		port := map[string]int{contact.TLSNone: 25, contact.TLSStartTLS: 587, contact.TLSImplicit: 465}[c.SMTP.TLS]
		c.SMTP.Port = positive("SMTP_PORT", max(port, 1))
	}
	if nets, err := events.ParseNets(os.Getenv("WEBHOOK_ALLOW_NETS")); err != nil {
		bad = append(bad, fmt.Errorf("WEBHOOK_ALLOW_NETS: %w", err))
	} else {
		c.WebhookAllowNets = nets
	}
	if nets, err := events.ParseNets(os.Getenv("TRUSTED_PROXIES")); err != nil {
		bad = append(bad, fmt.Errorf("TRUSTED_PROXIES: %w", err))
	} else {
		c.TrustedProxies = nets
	}
	if v := os.Getenv("LB_BACKENDS"); v != "" {
		for _, s := range strings.Split(v, ",") {
			u, err := url.Parse(strings.TrimSpace(s))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad = append(bad, fmt.Errorf("LB_BACKENDS: %q is not a base URL such as http://127.0.0.1:8081", s))
				continue
			}
			c.LBBackends = append(c.LBBackends, u)
		}
	}
	if err := errors.Join(bad...); err != nil {
		return c, err
	}
	c.BankDatabaseURL = env("BANK_DATABASE_URL", c.DatabaseURL)
	c.SweepEvery, c.SettleAfter = 5*time.Second, 30*time.Second
	c.ClockStart = lending.Date(time.Now())
	if s := os.Getenv("CLOCK_START"); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return c, fmt.Errorf("CLOCK_START %q: want YYYY-MM-DD", s)
		}
		c.ClockStart = d
	}
	return c, nil
}

// Default pool sizes (Config.APIDBMaxConns and the others).
const (
	// maxSetting bounds the whole-number settings (FromEnv).
	maxSetting = 1 << 20

	DefaultAPIDBMaxConns    = 16
	DefaultWorkerDBMaxConns = 16
	DefaultBankDBMaxConns   = 16
)

// Validate checks what the given process needs.
func (c Config) Validate(process string) error {
	var errs []error
	need := func(name, v string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required for %s", name, process))
		}
	}
	need("DATABASE_URL", c.DatabaseURL)
	if process == "api" || process == "worker" || process == "dev" || process == "migrate" {
		if _, err := c.Keyring(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.LogFormat != logging.JSON && c.LogFormat != logging.Text {
		errs = append(errs, fmt.Errorf("LOG_FORMAT %q: want json or text", c.LogFormat))
	}
	switch process {
	case "api", "worker", "dev":
		need("TEMPORAL_ADDRESS", c.TemporalAddress)
		if _, err := temporalFrontends(c.TemporalAddress); err != nil {
			errs = append(errs, err)
		}
		if _, err := c.TemporalTLS.config(); err != nil {
			errs = append(errs, err)
		}
		need("BANK_URL", c.BankURL)
		need("BANK_HMAC_SECRET", c.BankHMACSecret)
		need("BANK_API_KEY", c.BankAPIKey)
		if c.ClockMode != clock.Sandbox && c.ClockMode != clock.Wall {
			errs = append(errs, fmt.Errorf("CLOCK_MODE %q: want sandbox or wall", c.ClockMode))
		}
		if process != "api" && c.SMTP.Host != "" {
			if err := c.SMTP.Validate(); err != nil {
				errs = append(errs, err)
			}
		}
	case "lb":
		if len(c.LBBackends) == 0 {
			errs = append(errs, errors.New("LB_BACKENDS is required for lb"))
		}
	case "bank":
		need("BANK_HMAC_SECRET", c.BankHMACSecret)
		need("BANK_API_KEY", c.BankAPIKey)
		need("BANK_CALLBACK_URL", c.BankCallbackURL)
	}
	if (process == "api" || process == "dev") && (c.OpsEmail == "") != (c.OpsPassword == "") {
		errs = append(errs, errors.New("OPS_EMAIL and OPS_PASSWORD go together"))
	}
	return errors.Join(errs...)
}

// Keyring is the personal data's keys: PII_KEYS and PII_HASH_KEY, or, both
// unset in the sandbox only, pii.Dev (make up sets both, .data/secrets.env;
// the tests leave them unset).
func (c Config) Keyring() (*pii.Keyring, error) {
	if c.PIIKeys == "" && c.PIIHashKey == "" {
		if c.ClockMode == clock.Sandbox {
			return pii.Dev(), nil
		}
		return nil, fmt.Errorf("%s and %s are required outside the sandbox", pii.EnvKeys, pii.EnvHashKey)
	}
	return pii.Parse(c.PIIKeys, c.PIIHashKey)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
