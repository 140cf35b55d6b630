// Package proctest runs the lendflow binary, and the Temporal server it
// needs, as OS processes configured as in production: the crash tests (e2e)
// kill and restart them, the benchmarks (bench) read their CPU and memory.
// Only tests import it.
package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Main is TestMain for a package that starts processes: it runs the tests,
// then removes the binary Binary built (43 MB a test process, which would
// otherwise stay in the temporary directory after every run).
func Main(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// Binary builds cmd/lendflow once per test process; the package's TestMain
// is Main, which removes it.
func Binary(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lendflow-test-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "lendflow")
		// By import path, so it builds the same from any package's directory.
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/lendflow/lendflow/cmd/lendflow").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// Env is the environment from which app.FromEnv reads c back (the settings
// a test sets; the rest keep their defaults), with PATH and HOME. One list,
// so a setting the processes come to need is added once for every harness.
func Env(c app.Config) []string {
	env := []string{
		"DATABASE_URL=" + c.DatabaseURL, "BANK_DATABASE_URL=" + c.BankDatabaseURL,
		"TEMPORAL_ADDRESS=" + c.TemporalAddress, "TEMPORAL_NAMESPACE=" + c.TemporalNamespace,
		"BANK_URL=" + c.BankURL, "BANK_LISTEN=" + c.BankListen, "API_LISTEN=" + c.APIListen,
		"BANK_CALLBACK_URL=" + c.BankCallbackURL, "BANK_HMAC_SECRET=" + c.BankHMACSecret, "BANK_API_KEY=" + c.BankAPIKey,
		"CLOCK_MODE=" + c.ClockMode, "CLOCK_START=" + c.ClockStart.Format(time.DateOnly),
		"OPS_EMAIL=" + c.OpsEmail, "OPS_PASSWORD=" + c.OpsPassword,
		"WORKER_METRICS_LISTEN=" + c.WorkerMetricsListen, "LOG_FORMAT=" + c.LogFormat,
		"PUBLIC_HTTPS=" + strconv.FormatBool(c.PublicHTTPS),
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
	}
	if c.PIIKeys != "" || c.PIIHashKey != "" {
		env = append(env, "PII_KEYS="+c.PIIKeys, "PII_HASH_KEY="+c.PIIHashKey)
	}
	if c.PprofListen != "" {
		env = append(env, "PPROF_LISTEN="+c.PprofListen)
	}
	// Unset, the API would take the default port, which two harnesses
	// running at once would both want.
	if c.APIMetricsListen != "" {
		env = append(env, "API_METRICS_LISTEN="+c.APIMetricsListen)
	}
	for name, n := range map[string]int32{"API_DB_MAX_CONNS": c.APIDBMaxConns, "WORKER_DB_MAX_CONNS": c.WorkerDBMaxConns, "BANK_DB_MAX_CONNS": c.BankDBMaxConns} {
		if n != 0 {
			env = append(env, fmt.Sprintf("%s=%d", name, n))
		}
	}
	if m := c.SMTP; m.Host != "" {
		env = append(env, "SMTP_HOST="+m.Host, fmt.Sprintf("SMTP_PORT=%d", m.Port), "SMTP_FROM="+m.From, "SMTP_TLS="+m.TLS)
		if m.Username != "" {
			env = append(env, "SMTP_USERNAME="+m.Username, "SMTP_PASSWORD="+m.Password)
		}
	}
	if len(c.WebhookAllowNets) > 0 {
		var nets []string
		for _, n := range c.WebhookAllowNets {
			nets = append(nets, n.String())
		}
		env = append(env, "WEBHOOK_ALLOW_NETS="+strings.Join(nets, ","))
	}
	if len(c.TrustedProxies) > 0 {
		var nets []string
		for _, n := range c.TrustedProxies {
			nets = append(nets, n.String())
		}
		env = append(env, "TRUSTED_PROXIES="+strings.Join(nets, ","))
	}
	if len(c.LBBackends) > 0 {
		var urls []string
		for _, u := range c.LBBackends {
			urls = append(urls, u.String())
		}
		env = append(env, "LB_LISTEN="+c.LBListen, "LB_BACKENDS="+strings.Join(urls, ","), "LB_METRICS_LISTEN="+c.LBMetricsListen)
	}
	return env
}

// ShapeConfig sets c's pool sizes to the production shape's
// (deploy/lendflow.env), which docker-compose.yml and make cluster use.
func ShapeConfig(t testing.TB, c *app.Config) {
	for _, kv := range EnvFile(t, "deploy/lendflow.env") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "deploy/lendflow.env: %s", kv)
		switch k {
		case "API_DB_MAX_CONNS":
			c.APIDBMaxConns = int32(n)
		case "WORKER_DB_MAX_CONNS":
			c.WorkerDBMaxConns = int32(n)
		case "BANK_DB_MAX_CONNS":
			c.BankDBMaxConns = int32(n)
		default:
			t.Fatalf("deploy/lendflow.env: %s is not a pool size this harness knows", k)
		}
	}
}

// Parallel runs fn(i) for each i in [0, n) on k goroutines, and returns
// when all are done: the harnesses' many clients at once.
func Parallel(n, k int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// Proc is one running process.
type Proc struct {
	Cmd *exec.Cmd
	// Done is closed once the process has exited.
	Done chan struct{}
}

// Start runs `bin name` with env, its output appended to logPath.
func Start(bin, name string, env []string, logPath string) (*Proc, error) {
	return StartArgs(bin, []string{name}, env, logPath)
}

// StartArgs runs bin with args and env, its output appended to logPath.
func StartArgs(bin string, args, env []string, logPath string) (*Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &Proc{Cmd: cmd, Done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.Done) }()
	return p, nil
}

// Kill ends the process with SIGKILL (no shutdown, no deferred work: a
// crash) and waits until it is gone.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.Done
}

// Stop ends the process gracefully, as at a test's end: SIGTERM, then
// SIGKILL if it is still there after 15 s.
func (p *Proc) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done:
	case <-time.After(15 * time.Second):
		p.Kill()
	}
}
