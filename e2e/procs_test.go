package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// lendflowBinary builds cmd/lendflow once per test run.
func lendflowBinary(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lendflow-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "lendflow")
		if out, err := exec.Command("go", "build", "-o", binPath, "../cmd/lendflow").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// procs runs the worker and the API as OS processes of the built binary,
// configured from cfg by the environment as in production, and can kill one
// with SIGKILL — no shutdown, no deferred work, as a crash — and start it again.
type procs struct {
	t       *testing.T
	env     []string
	api     string // http://host:port
	metrics string // the worker's metrics listener
	logDir  string

	mu      sync.Mutex
	running map[string]*exec.Cmd
	exited  map[string]chan struct{}
	kills   map[string]int
}

func newProcs(t *testing.T, c app.Config) *procs {
	metrics := freeListener(t)
	metrics.Close()
	logDir := os.Getenv("LENDFLOW_E2E_LOGS") // keep the processes' logs there
	if logDir == "" {
		logDir = t.TempDir()
	}
	p := &procs{t: t, api: "http://" + apiAddr(c), metrics: metrics.Addr().String(), logDir: logDir,
		running: map[string]*exec.Cmd{}, exited: map[string]chan struct{}{}, kills: map[string]int{}}
	p.env = []string{
		"DATABASE_URL=" + c.DatabaseURL, "BANK_DATABASE_URL=" + c.BankDatabaseURL,
		"TEMPORAL_ADDRESS=" + c.TemporalAddress, "TEMPORAL_NAMESPACE=" + c.TemporalNamespace,
		"BANK_URL=" + c.BankURL, "BANK_LISTEN=" + c.BankListen, "API_LISTEN=" + apiAddr(c),
		"BANK_CALLBACK_URL=" + c.BankCallbackURL, "BANK_HMAC_SECRET=" + c.BankHMACSecret, "BANK_API_KEY=" + c.BankAPIKey,
		"CLOCK_MODE=" + c.ClockMode, "CLOCK_START=" + c.ClockStart.Format(time.DateOnly),
		"OPS_EMAIL=" + c.OpsEmail, "OPS_PASSWORD=" + c.OpsPassword,
		"WORKER_METRICS_LISTEN=" + p.metrics, "LOG_FORMAT=json",
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
	}
	t.Cleanup(func() {
		for _, name := range []string{"api", "worker"} {
			p.stop(name)
			if t.Failed() {
				raw, _ := os.ReadFile(filepath.Join(p.logDir, name+".log"))
				t.Logf("the end of %s's log:\n%s", name, tail(string(raw), 6000))
			}
		}
	})
	return p
}

func apiAddr(c app.Config) string {
	return strings.TrimSuffix(strings.TrimPrefix(c.BankCallbackURL, "http://"), "/v1/bank/callbacks")
}

// start runs name (worker or api) and waits until it serves.
func (p *procs) start(name string) {
	p.t.Helper()
	require.NoError(p.t, p.run(name))
}

// run is start for any goroutine: it answers instead of failing the test.
func (p *procs) run(name string) error {
	logf, err := os.OpenFile(filepath.Join(p.logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	bin := lendflowBinary(p.t)
	cmd := exec.Command(bin, name)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	p.mu.Lock()
	p.running[name], p.exited[name] = cmd, done
	p.mu.Unlock()
	ready := p.api + "/readyz"
	if name == "worker" {
		ready = "http://" + p.metrics + "/metrics"
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			raw, _ := os.ReadFile(filepath.Join(p.logDir, name+".log"))
			return fmt.Errorf("%s exited at start:\n%s", name, tail(string(raw), 2000))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not ready after 90 s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill kills name with SIGKILL and waits for it to be gone.
func (p *procs) kill(name string) {
	p.mu.Lock()
	cmd, done := p.running[name], p.exited[name]
	p.kills[name]++
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// stop ends name gracefully (the test's end).
func (p *procs) stop(name string) {
	p.mu.Lock()
	cmd, done := p.running[name], p.exited[name]
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
