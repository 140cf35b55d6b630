package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/kyc"
	"github.com/lendflow/lendflow/logging"
)

// needBench skips unless LENDFLOW_BENCH=1: the benchmarks take minutes.
func needBench(t *testing.T) {
	if os.Getenv("LENDFLOW_BENCH") != "1" {
		t.Skip("a benchmark: LENDFLOW_BENCH=1 go test -v -timeout 60m ./bench -run " + t.Name())
	}
}

// outDir keeps what a run leaves for reading afterwards (profiles, logs).
func outDir(t *testing.T) string {
	dir := os.Getenv("LENDFLOW_BENCH_OUT")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "lendflow-bench")
	}
	dir = filepath.Join(dir, t.Name()+"-"+time.Now().Format("150405"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// The engines a benchmark runs on, one after the other in the same run:
// the Temporal CLI's dev server (make up's) and the real server on
// PostgreSQL, two nodes (make cluster's and compose's; deploy/temporal).
// LENDFLOW_BENCH_ENGINES picks some ("dev", "cluster"; both by default).
const (
	engineDev     = "dev"
	engineCluster = "cluster"
)

func engines() []string {
	v := os.Getenv("LENDFLOW_BENCH_ENGINES")
	if v == "" {
		return []string{engineDev, engineCluster}
	}
	return strings.Split(v, ",")
}

func freeAddr(t *testing.T) string { return proctest.FreeAddr(t) }

// peakRSS is the process's VmHWM in MiB (Linux).
func peakRSS(p *proctest.Proc) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// stack is the platform as separate OS processes (bank, worker, api) on a
// fresh database and a Temporal service of its own: the dev server or a
// cluster of the real server (engine).
type stack struct {
	t          *testing.T
	out        string
	dbURL      string
	api        string // http://host:port
	bank       string
	workerMet  string // host:port of the worker's metrics listener
	apiMet     string // host:port of the API's metrics listener
	apiPprof   string // host:port, "" unless asked
	tc         client.Client
	temporal   string
	engine     *proctest.Temporal
	procs      map[string]*proctest.Proc
	http       *http.Client
	opsToken   string
	clockStart time.Time
	seq        atomic.Int64
}

type stackOptions struct {
	engine     string // engineDev (default) or engineCluster
	clockStart time.Time
	pprof      bool
}

func startStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	s := &stack{t: t, out: outDir(t), procs: map[string]*proctest.Proc{}, clockStart: o.clockStart,
		http: &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}

	tlog, err := os.Create(filepath.Join(s.out, "temporal.log"))
	require.NoError(t, err)
	t.Cleanup(func() { tlog.Close() })
	if o.engine == engineCluster {
		s.engine = proctest.StartCluster(t, 2, s.out)
	} else {
		s.engine = proctest.DevServer(t, tlog)
	}
	s.tc, s.temporal = s.engine.Client, s.engine.Address

	s.dbURL = proctest.FreshDatabase(t, "lendflow_bench")
	apiAddr, bankAddr := freeAddr(t), freeAddr(t)
	s.api, s.bank, s.workerMet, s.apiMet = "http://"+apiAddr, "http://"+bankAddr, freeAddr(t), freeAddr(t)
	env := proctest.Env(app.Config{
		DatabaseURL: s.dbURL, BankDatabaseURL: s.dbURL, TemporalAddress: s.temporal, TemporalNamespace: "default",
		BankURL: s.bank, BankListen: bankAddr, APIListen: apiAddr, BankCallbackURL: s.api + "/v1/bank/callbacks",
		BankHMACSecret: "bench-secret-not-for-production", BankAPIKey: "bench-key-not-for-production",
		ClockMode: clock.Sandbox, ClockStart: o.clockStart, OpsEmail: "ops@lendflow.bench", OpsPassword: "ops-password-1",
		WorkerMetricsListen: s.workerMet, APIMetricsListen: s.apiMet, LogFormat: logging.JSON,
	})
	env = append(env, stackEnv()...) // LENDFLOW_STACK_X=v gives every process X=v (bench/procstat_test.go)
	start := func(name string, extra ...string) {
		p, err := proctest.Start(proctest.Binary(t), name, append(append(append([]string{}, env...), extra...), procEnv(name)...),
			filepath.Join(s.out, name+".log"))
		require.NoError(t, err)
		s.procs[name] = p
		t.Cleanup(p.Stop)
	}
	start("bank")
	s.waitHTTP(s.bank + "/healthz")
	start("worker")
	var apiExtra []string
	if o.pprof {
		s.apiPprof = freeAddr(t)
		apiExtra = append(apiExtra, "PPROF_LISTEN="+s.apiPprof)
	}
	start("api", apiExtra...)
	s.waitHTTP(s.api + "/readyz")
	s.waitHTTP("http://" + s.workerMet + "/metrics")
	s.opsToken = s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.bench", "password": "ops-password-1"}, 200)["token"].(string)
	t.Logf("stack up on the %s: api %s, bank %s, temporal %s, logs in %s", s.engine.Engine, s.api, s.bank, s.temporal, s.out)
	return s
}

func (s *stack) waitHTTP(u string) {
	s.t.Helper()
	testwait.Every(200*time.Millisecond).For(s.t, u+" to be ready", func() bool {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		for name, p := range s.procs {
			select {
			case <-p.Done:
				s.t.Fatalf("%s exited; see %s/%s.log", name, s.out, name)
			default:
			}
		}
		return false
	})
}

type obj = map[string]any

// do sends one request and returns the status and the JSON answer.
func (s *stack) do(method, path, token, idemKey string, body any) (int, obj, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.api+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := obj{}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return resp.StatusCode, out, fmt.Errorf("%s %s: rate limited", method, path)
	}
	return resp.StatusCode, out, nil
}

// call is do that requires the status (retrying a 429).
func (s *stack) call(method, path, token string, body any, want int) obj {
	s.t.Helper()
	var status int
	var out obj
	var err error
	testwait.Every(time.Second).For(s.t, "the rate limit to let "+method+" "+path+" through", func() bool {
		status, out, err = s.do(method, path, token, "", body)
		return status != http.StatusTooManyRequests
	})
	require.NoError(s.t, err)
	require.Equal(s.t, want, status, "%s %s: %v", method, path, out)
	return out
}

type person struct {
	id    int64
	token string
	acct  string
}

// signUp registers, logs in and opens a custody account.
func (s *stack) signUp(role string) person {
	s.t.Helper()
	n := s.seq.Add(1)
	// 6 region digits, a birth date in 1985 (age 25–50 scores best), 3 sequence digits.
	body := fmt.Sprintf("3301061985%02d%02d%03d", 1+(n/28000)%12, 1+(n/1000)%28, n%1000)
	id := body + string(kyc.IDCheckChar(body))
	email := fmt.Sprintf("%s%d@lendflow.bench", role, n)
	r := s.call("POST", "/v1/auth/register", "", obj{"email": email, "password": "password-123", "role": role,
		"name": "测试", "id_number": id, "phone": fmt.Sprintf("139%08d", n)}, 201)
	p := person{id: int64(r["user_id"].(float64))}
	p.token = s.call("POST", "/v1/auth/login", "", obj{"email": email, "password": "password-123"}, 200)["token"].(string)
	c := fmt.Sprintf("62220210%09d", n)
	p.acct = s.call("POST", "/v1/me/custody-account", p.token, obj{"card_number": c + string(kyc.LuhnCheckDigit(c))}, 201)["account_no"].(string)
	return p
}

// investor is signUp plus a recharge and a C5 risk assessment.
func (s *stack) investor(recharge string) person {
	p := s.signUp("investor")
	s.call("POST", "/v1/me/risk-assessment", p.token, obj{"answers": []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4}}, 200)
	s.call("POST", "/v1/me/recharges", p.token, obj{"amount": recharge}, 201)
	return p
}

// parallel runs fn(i) for i in [0, n) on k goroutines.
func parallel(n, k int, fn func(i int)) { proctest.Parallel(n, k, fn) }

func (s *stack) loanStatus(id int64) string {
	var status int
	var out obj
	var err error
	testwait.Every(500*time.Millisecond).For(s.t, "the rate limit to let a loan's read through", func() bool {
		status, out, err = s.do("GET", fmt.Sprintf("/v1/loans/%d", id), s.opsToken, "", nil)
		return status != http.StatusTooManyRequests
	})
	require.NoError(s.t, err)
	require.Equal(s.t, 200, status, "%v", out)
	return out["status"].(string)
}

// waitStatus polls the loan until it reaches want.
func (s *stack) waitStatus(id int64, want string, every time.Duration) {
	s.t.Helper()
	testwait.Within(20*time.Minute).Every(every).For(s.t, fmt.Sprintf("loan %d to be %s", id, want), func() bool {
		return s.loanStatus(id) == want
	})
}

// scrape reads a Prometheus text page into series → value.
func scrape(t *testing.T, u string) map[string]float64 {
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// sumSeries adds every series of a family whose labels contain all of match.
func sumSeries(m map[string]float64, family string, match ...string) float64 {
	total := 0.0
	for k, v := range m {
		name, labels, _ := strings.Cut(k, "{")
		if name != family {
			continue
		}
		ok := true
		for _, want := range match {
			if !strings.Contains(labels, want) {
				ok = false
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	i = max(0, min(len(sorted)-1, i))
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
