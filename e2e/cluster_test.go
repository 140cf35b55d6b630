package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/lending"
)

// The hot listing of the cluster test: hotBids bids of 100.00 from
// hotInvestors investors, hotInFlight at a time, for a listing that takes
// hotPlaces of them.
const (
	hotAmount    = "20000.00"
	hotPlaces    = 200
	hotInvestors = 30
	hotPerInv    = 8
	hotInFlight  = 16
)

// TestClusterLosesNodes runs the production shape: the real Temporal
// server, two nodes on PostgreSQL (deploy/temporal/*, as make cluster and
// docker-compose.yml run it); two API replicas behind `lendflow lb`; two
// workers; the bank simulator; the pools of deploy/lendflow.env. Five loans
// go from application to repaid, one of them a hot listing that 240 bids of
// 100.00 compete for 200 places of, while an API replica, a worker and a
// Temporal node are killed with SIGKILL at seeded moments and started again
// (LENDFLOW_CRASH_SEED replays other moments and choices; the seed is
// printed). Clients send again under the same Idempotency-Key until
// answered. Afterwards every loan is repaid, one bid and one withdrawal per
// key, the hot listing raised exactly its amount, no bank request number
// moved money twice, every party's bank balance equals the ledger, money is
// conserved and every business day reconciles. It prints its figures, the
// PostgreSQL connections of every process among them.
//
// Not parallel: at its peak it holds about 70 of a stock server's 100
// connections (docs/deployment.md "PostgreSQL connections"), which leaves no
// room for another stack; the other end-to-end tests run together once it is
// done.
func TestClusterLosesNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two Temporal nodes and six processes, killing them, for about a minute")
	}
	seed := crashSeed(t)
	t.Logf("seed %d (LENDFLOW_CRASH_SEED replays it)", seed)
	rng := rand.New(rand.NewSource(seed))
	logDir := logsOf(t)
	t0 := time.Now()
	tm := proctest.StartCluster(t, 2, logDir)
	s := launchOn(t, tm, "2026-03-02", func(c *app.Config, sc *sim.Config) {
		proctest.ShapeConfig(t, c)
		sc.MaxConns = c.BankDBMaxConns
	}, 2)
	started := time.Since(t0)
	conns := s.watchConns(tm.Cluster)
	nodes := []victim{nodeVictim(tm.Cluster, tm.Cluster.Nodes[0]), nodeVictim(tm.Cluster, tm.Cluster.Nodes[1])}
	apis := []victim{s.procs.victim("api-1"), s.procs.victim("api-2")}
	workers := []victim{s.procs.victim("worker-1"), s.procs.victim("worker-2")}
	phases := map[string]time.Duration{}
	phase := func(name string, since time.Time) { phases[name] = time.Since(since).Round(100 * time.Millisecond) }

	// Setup, before any process dies: four ordinary loans' borrowers and
	// three investors each, the hot listing's borrower and investors.
	t1 := time.Now()
	ops := s.opsToken()
	borrowers := make([]person, 5)
	for i := range borrowers {
		borrowers[i] = s.signUp("borrower", fmt.Sprintf("借款%d", i))
	}
	invs := make([]person, 12) // three for each ordinary loan
	for i := range invs {
		invs[i] = s.investor(fmt.Sprintf("投资%d", i), "5000.00")
	}
	hot := make([]person, hotInvestors)
	for i := range hot {
		hot[i] = s.investor(fmt.Sprintf("热标%d", i), "1000.00")
	}
	phase("setup", t1)

	// Applications and bids while API replicas and Temporal nodes die.
	t2 := time.Now()
	apiDeaths, nodeDeaths := s.chaos(rng, 6, apis...), s.chaos(rng, 2, nodes...)
	ids := make([]float64, 5)
	var wg sync.WaitGroup
	for i, b := range borrowers {
		amount := "12000.00"
		if i == 4 {
			amount = hotAmount
		}
		wg.Go(func() {
			_, r := s.persist("POST", "/v1/loans", b.token, fmt.Sprintf("loan-%d", i), obj{"amount": amount, "term_months": 3,
				"repayment_method": "equal_installment", "purpose": "working capital", "monthly_income": "80000.00"}, 201)
			ids[i] = r["loan_id"].(float64)
		})
	}
	wg.Wait()
	for _, id := range ids {
		s.waitStatus(ops, id, lending.StatusListed)
	}
	for i, inv := range invs {
		wg.Go(func() {
			s.persist("POST", fmt.Sprintf("/v1/listings/%.0f/bids", ids[i/3]), inv.token, fmt.Sprintf("bid-%d", i), obj{"amount": "4000.00"}, 201, 202)
		})
	}
	hotID := ids[4]
	answers := s.hotBids(hotID, hot)
	wg.Wait()
	require.NoError(t, <-apiDeaths)
	require.NoError(t, <-nodeDeaths)
	for _, id := range ids {
		s.waitStatus(ops, id, lending.StatusFullReview)
	}
	phase("applications and bids", t2)

	// Full-tender reviews, so disbursements, while workers and nodes die.
	t3 := time.Now()
	workerDeaths, nodeDeaths := s.chaos(rng, 4, workers...), s.chaos(rng, 2, nodes...)
	for i, id := range ids {
		wg.Go(func() {
			s.persist("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", id), ops, fmt.Sprintf("review-%d", i), obj{"decision": "approve", "note": "ok"}, 200)
		})
	}
	wg.Wait()
	require.NoError(t, <-workerDeaths)
	require.NoError(t, <-nodeDeaths)
	for _, id := range ids {
		s.waitStatus(ops, id, lending.StatusRepaying)
	}
	phase("disbursements", t3)

	// Each due date's repayments while workers and nodes die.
	t4 := time.Now()
	for i, b := range borrowers {
		max, top := "5000.00", "1000.00"
		if i == 4 {
			max, top = "8000.00", "1500.00"
		}
		s.persist("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", ids[i]), b.token, "", obj{"max_amount": max, "expires_on": "2026-12-31"}, 201)
		s.persist("POST", "/v1/me/recharges", b.token, fmt.Sprintf("top-up-%d", i), obj{"amount": top}, 201)
	}
	for _, due := range []string{"2026-04-02", "2026-05-02", "2026-06-02"} {
		workerDeaths, nodeDeaths := s.chaos(rng, 2, workers...), s.chaos(rng, 1, nodes...)
		s.persist("POST", "/v1/ops/clock/advance", ops, "", obj{"to": due}, 200)
		require.NoError(t, <-workerDeaths)
		require.NoError(t, <-nodeDeaths)
	}
	for _, id := range ids {
		s.waitStatus(ops, id, lending.StatusRepaid)
	}
	phase("repayments", t4)

	// Withdrawals while API replicas die.
	t5 := time.Now()
	apiDeaths = s.chaos(rng, 6, apis...)
	for i, inv := range invs {
		wg.Go(func() {
			s.persist("POST", "/v1/me/withdrawals", inv.token, fmt.Sprintf("withdraw-%d", i), obj{"amount": "500.00"}, 201)
		})
	}
	wg.Wait()
	require.NoError(t, <-apiDeaths)
	s.persist("POST", "/v1/ops/clock/advance", ops, "", obj{"to": "2026-06-03"}, 200) // the withdrawals' day closes
	phase("withdrawals", t5)
	peaks, peakSum := conns.Stop()

	byName, kills := s.killed("api-1", "api-2", "worker-1", "worker-2", "temporal-1", "temporal-2")
	require.Positive(t, byName["api-1"]+byName["api-2"], "an API replica was killed")
	require.Positive(t, byName["worker-1"]+byName["worker-2"], "a worker was killed")
	require.Positive(t, byName["temporal-1"]+byName["temporal-2"], "a Temporal node was killed")

	// One bid and one withdrawal per key.
	for _, inv := range invs {
		bids := s.call("GET", "/v1/me/bids", inv.token, nil, 200)["items"].([]any)
		require.Len(t, bids, 1, "one bid per key, whatever the crashes")
		require.Equal(t, 1, s.withdrawals(inv.token), "one withdrawal per key")
	}

	ctx := context.Background()
	pool, err := db.OpenSized(ctx, s.dbURL, "", checkConns)
	require.NoError(t, err)
	defer pool.Close()

	// The hot listing: exactly its amount raised, by exactly the bids that
	// were answered admitted, each key once.
	var raised, frozen decimal.Decimal // frozen: the bids' sum
	var rows, keys int
	require.NoError(t, pool.QueryRow(ctx, `SELECT l.raised, COALESCE(SUM(b.amount), 0), count(b.id), count(DISTINCT (b.investor_id, b.idempotency_key))
		FROM loans l LEFT JOIN bids b ON b.loan_id = l.id AND b.status = $2 WHERE l.id = $1 GROUP BY l.id`,
		int64(hotID), string(lending.BidDisbursed)).Scan(&raised, &frozen, &rows, &keys))
	require.Equal(t, hotAmount, raised.StringFixed(2), "the hot listing raised exactly its amount, never more")
	require.Equal(t, hotAmount, frozen.StringFixed(2), "raised is what its disbursed bids add up to")
	require.Equal(t, hotPlaces, rows)
	require.Equal(t, rows, keys, "one bid per key")
	require.Equal(t, hotPlaces, answers["admitted"], "%v", answers)

	// The books: each request number moved money once, ledger = bank,
	// conserved, every day matched.
	movements, days, accounts := s.moneyMovedOnce(pool, ops, "2026-03-02", "2026-06-02")

	// The figures.
	budget := s.connBudget(t)
	var lines []string
	names := make([]string, 0, len(peaks))
	for n := range peaks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		lines = append(lines, fmt.Sprintf("%s %d (pool %d)", n, peaks[n], budget[n]))
		require.LessOrEqual(t, peaks[n], budget[n], "%s held more PostgreSQL connections than its pools allow", n)
	}
	t.Logf("seed %d: the production shape (Temporal cluster of 2, API ×2 behind lendflow lb, worker ×2, bank) up in %s", seed, started.Round(100*time.Millisecond))
	t.Logf("phases: %v", phases)
	t.Logf("%d kills: %v", kills, byName)
	t.Logf("5 loans repaid; hot listing: %d bids of 100.00 for %d places: %v; raised %s", hotInvestors*hotPerInv, hotPlaces, answers, raised.StringFixed(2))
	t.Logf("requests by API replica (lendflow lb): %s", s.lbRequests())
	t.Logf("%d bank movements over %d days, each once; every day matched; %d accounts ledger = bank", movements, days, accounts)
	t.Logf("PostgreSQL connections, peak of each process (its pools' bound): %s; peak of their sum %d (bound %d)",
		strings.Join(lines, ", "), peakSum, budget["all"])
	require.LessOrEqual(t, peakSum, budget["all"])
}

// checkConns is the pool of the test's own checks at the end.
const checkConns = 2

// waitStatus polls the loan until it reaches want, through API replicas
// that may be dying.
func (s *stack) waitStatus(token string, id float64, want lending.Status) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("loan %.0f %s", id, want), func() bool {
		_, r := s.persist("GET", fmt.Sprintf("/v1/loans/%.0f", id), token, "", nil, 200)
		return r["status"] == string(want)
	})
}

// hotBids sends hotPerInv bids of 100.00 from each investor on listing id,
// hotInFlight at a time, each under its own key until answered, and counts
// the answers: admitted (201, or 202 pending), refused (409: the listing
// full, or the bid more than what remains).
func (s *stack) hotBids(id float64, investors []person) map[string]int {
	var admitted, full, over atomic.Int64
	proctest.Parallel(len(investors)*hotPerInv, hotInFlight, func(i int) {
		inv := investors[i%len(investors)]
		status, r := s.persistUntil("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), inv.token, fmt.Sprintf("hot-%d", i), obj{"amount": "100.00"},
			func(status int, r obj) bool {
				return status == http.StatusCreated || (status == http.StatusConflict && r["code"] != "conflict")
			})
		switch {
		case status == http.StatusCreated:
			admitted.Add(1)
		case r["code"] == "listing_not_open":
			full.Add(1)
		case r["code"] == "oversubscribed":
			over.Add(1)
		default:
			s.t.Errorf("hot bid %d: %d %v", i, status, r)
		}
	})
	return map[string]int{"admitted": int(admitted.Load()), "listing_not_open": int(full.Load()), "oversubscribed": int(over.Load())}
}

// watchConns samples the PostgreSQL connections of every process of the
// shape and of this test process (the bank simulator's pool, the test's
// own) until stopped.
func (s *stack) watchConns(c *proctest.Cluster) *proctest.ConnWatch {
	u, err := url.Parse(s.dbURL)
	require.NoError(s.t, err)
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 5432
	}
	return proctest.WatchConns(port, func() map[string]int {
		out := map[string]int{"test (bank simulator)": os.Getpid()}
		for _, n := range c.Nodes {
			if pid := n.Pid(); pid != 0 {
				out[n.Name] = pid
			}
		}
		for name, pid := range s.procs.pids() {
			out[name] = pid
		}
		return out
	})
}

// connBudget is each process's bound on PostgreSQL connections by its pool
// settings (deploy/lendflow.env, deploy/temporal/temporal.env), and "all".
func (s *stack) connBudget(t *testing.T) map[string]int {
	var c app.Config
	proctest.ShapeConfig(t, &c)
	settings := map[string]int{}
	for _, kv := range proctest.EnvFile(t, "deploy/temporal/temporal.env") {
		k, v, _ := strings.Cut(kv, "=")
		if n, err := strconv.Atoi(v); err == nil {
			settings[k] = n
		}
	}
	// Four services a node, each with both pools.
	node := 4 * (settings["SQL_MAX_CONNS"] + settings["SQL_VIS_MAX_CONNS"])
	b := map[string]int{
		"temporal-1": node, "temporal-2": node,
		"api-1": int(c.APIDBMaxConns), "api-2": int(c.APIDBMaxConns),
		"worker-1": int(c.WorkerDBMaxConns), "worker-2": int(c.WorkerDBMaxConns),
		"lb": 0, "test (bank simulator)": int(c.BankDBMaxConns) + checkConns,
	}
	for _, n := range b {
		b["all"] += n
	}
	return b
}

// lbRequests is what the balancer forwarded to each replica, from its metrics.
func (s *stack) lbRequests() string {
	resp, err := http.Get("http://" + s.procs.specEnv("lb", "LB_METRICS_LISTEN") + "/metrics")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "lendflow_lb_requests_total"); ok {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
