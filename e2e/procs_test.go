package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/logging"
)

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
	running map[string]*proctest.Proc
	kills   map[string]int
}

func newProcs(t *testing.T, c app.Config) *procs {
	metrics, apiMetrics := freeListener(t), freeListener(t)
	metrics.Close()
	apiMetrics.Close()
	logDir := os.Getenv("LENDFLOW_E2E_LOGS") // keep the processes' logs there
	if logDir == "" {
		logDir = t.TempDir()
	}
	p := &procs{t: t, api: "http://" + apiAddr(c), metrics: metrics.Addr().String(), logDir: logDir,
		running: map[string]*proctest.Proc{}, kills: map[string]int{}}
	c.APIListen, c.WorkerMetricsListen, c.LogFormat = apiAddr(c), p.metrics, logging.JSON
	c.APIMetricsListen = apiMetrics.Addr().String()
	p.env = proctest.Env(c)
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
	proc, err := proctest.Start(proctest.Binary(p.t), name, p.env, filepath.Join(p.logDir, name+".log"))
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.running[name] = proc
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
		case <-proc.Done:
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
	proc := p.running[name]
	p.kills[name]++
	p.mu.Unlock()
	proc.Kill()
}

// stop ends name gracefully (the test's end).
func (p *procs) stop(name string) {
	p.mu.Lock()
	proc := p.running[name]
	p.mu.Unlock()
	if proc != nil {
		proc.Stop()
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
