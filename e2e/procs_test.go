package e2e

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/logging"
)

// procs runs the platform's processes of the built binary, configured from
// cfg by the environment as in production, and can kill one with SIGKILL —
// no shutdown, no deferred work, as a crash — and start it again.
type procs struct {
	t      *testing.T
	logDir string
	specs  map[string]procSpec
	order  []string // start order; stopped in reverse

	mu      sync.Mutex
	running map[string]*proctest.Proc
}

// procSpec is one process: its subcommand, environment, and the URL that
// answers 200 once it serves.
type procSpec struct {
	sub   string
	env   []string
	ready string
}

// newProcs lays out the processes: with one replica, "worker" and "api" on
// the API's address; with more, "worker-1", "api-1", ... each API on a port
// of its own, and "lb" balancing them on the API's address.
func newProcs(t *testing.T, c app.Config, replicas int) *procs {
	logDir := logsOf(t)
	p := &procs{t: t, logDir: logDir, specs: map[string]procSpec{}, running: map[string]*proctest.Proc{}}
	c.LogFormat = logging.JSON
	front := apiAddr(c)
	add := func(name, sub string, c app.Config, ready string) {
		p.specs[name] = procSpec{sub: sub, env: proctest.Env(c), ready: ready}
		p.order = append(p.order, name)
	}
	var backends []*url.URL
	for i := 1; i <= replicas; i++ {
		suffix := ""
		if replicas > 1 {
			suffix = fmt.Sprintf("-%d", i)
		}
		w := c
		w.WorkerMetricsListen = proctest.FreeAddr(t)
		add("worker"+suffix, "worker", w, "http://"+w.WorkerMetricsListen+"/metrics")
		a := c
		a.APIListen, a.APIMetricsListen = front, proctest.FreeAddr(t)
		if replicas > 1 {
			// Behind the balancer, which reaches it from loopback, as make cluster runs it.
			a.APIListen, a.TrustedProxies = proctest.FreeAddr(t), []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}
		backends = append(backends, &url.URL{Scheme: "http", Host: a.APIListen})
		add("api"+suffix, "api", a, "http://"+a.APIListen+"/readyz")
	}
	if replicas > 1 {
		l := c
		l.LBListen, l.LBMetricsListen, l.LBBackends = front, proctest.FreeAddr(t), backends
		add("lb", "lb", l, "http://"+front+"/readyz")
	}
	t.Cleanup(func() {
		for i := len(p.order) - 1; i >= 0; i-- {
			name := p.order[i]
			p.stop(name)
			if t.Failed() {
				raw, _ := os.ReadFile(filepath.Join(p.logDir, name+".log"))
				t.Logf("the end of %s's log:\n%s", name, tail(string(raw), 6000))
			}
		}
	})
	return p
}

// logDirs are the folders tests chose for their processes' logs (keepLogsIn).
var logDirs sync.Map // *testing.T → string

// keepLogsIn has t's processes write their logs in dir, which the test reads.
// Not an environment variable: tests run in parallel.
func keepLogsIn(t *testing.T, dir string) {
	logDirs.Store(t, dir)
	t.Cleanup(func() { logDirs.Delete(t) })
}

// logsOf is where t's processes log: the folder the test chose, else
// $LENDFLOW_E2E_LOGS (to keep them after a run), else a temporary one.
func logsOf(t *testing.T) string {
	if dir, ok := logDirs.Load(t); ok {
		return dir.(string)
	}
	if dir := os.Getenv("LENDFLOW_E2E_LOGS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

func apiAddr(c app.Config) string {
	return strings.TrimSuffix(strings.TrimPrefix(c.BankCallbackURL, "http://"), "/v1/bank/callbacks")
}

// startAll starts every process in order, each once the one before serves.
func (p *procs) startAll() {
	for _, name := range p.order {
		p.start(name)
	}
}

// start runs name and waits until it serves.
func (p *procs) start(name string) {
	p.t.Helper()
	require.NoError(p.t, p.run(name))
}

// run is start for any goroutine: it answers instead of failing the test.
func (p *procs) run(name string) error {
	spec := p.specs[name]
	proc, err := proctest.Start(proctest.Binary(p.t), spec.sub, spec.env, filepath.Join(p.logDir, name+".log"))
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.running[name] = proc
	p.mu.Unlock()
	exited := false
	ready := testwait.Within(90 * time.Second).Until(func() bool {
		if resp, err := http.Get(spec.ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-proc.Done:
			exited = true
		default:
		}
		return exited
	})
	switch {
	case exited:
		raw, _ := os.ReadFile(filepath.Join(p.logDir, name+".log"))
		return fmt.Errorf("%s exited at start:\n%s", name, tail(string(raw), 2000))
	case !ready:
		return fmt.Errorf("%s is not ready after 90 s", name)
	}
	return nil
}

// kill kills name with SIGKILL and waits for it to be gone.
func (p *procs) kill(name string) {
	p.mu.Lock()
	proc := p.running[name]
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

// pids are the running processes' ids by name.
func (p *procs) pids() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for name, proc := range p.running {
		select {
		case <-proc.Done:
		default:
			out[name] = proc.Cmd.Process.Pid
		}
	}
	return out
}

// specEnv is the value of setting key in name's environment.
func (p *procs) specEnv(name, key string) string {
	for _, kv := range p.specs[name].env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// victim is name, for chaos to kill and start again.
func (p *procs) victim(name string) victim {
	require.Contains(p.t, p.specs, name)
	return victim{name: name, kill: func() { p.kill(name) }, start: func() error { return p.run(name) }}
}

// nodeVictim is a Temporal node of the cluster, for chaos.
func nodeVictim(c *proctest.Cluster, n *proctest.Node) victim {
	return victim{name: n.Name, kill: func() { c.Kill(n) }, start: func() error { return c.Start(n) }}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
