package bench

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/worker"
)

var (
	fleetN        = flag.Int("fleet.n", 40, "loans in the fleet (TestFleet)")
	fleetInFlight = flag.Int("fleet.inflight", 100, "loans carried at once (TestFleet); all of them when the fleet is smaller")
	fleetProfile  = flag.Int("fleet.profile", 10, "seconds of the worker's CPU profile from the advance's start, when LENDFLOW_PROC_worker_PPROF_LISTEN is set")
)

// The fleet of issue 11: N loans carried from application to repaying at
// once, then a month's clock advance across them, against the engine's raw
// ceiling measured in the same run; on each engine (engines), one after the
// other, ending with the two side by side.
func TestFleet(t *testing.T) {
	needBench(t)
	var rows [][2]string
	for _, e := range engines() {
		t.Run(e, func(t *testing.T) { rows = append(rows, [2]string{e, fleetOn(t, e)}) })
	}
	report(t, fmt.Sprintf("fleet of %d on each engine", *fleetN), rows)
}

// fleetOn is one engine's run; it answers its summary.
func fleetOn(t *testing.T, engine string) string {
	n := *fleetN
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := startStack(t, stackOptions{engine: engine, clockStart: day})
	ctx := context.Background()
	pool, err := db.Open(ctx, s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()

	c0 := s.cpu()
	ceil := measureCeiling(t, s.tc, ceilingQueue, sdkworker.Options{})
	t.Logf("Temporal raw ceiling (SDK defaults): %v", ceil)
	tuning := stackTuning(t)
	tuned := measureCeiling(t, s.tc, ceilingQueue+"-tuned", tuning.Options())
	t.Logf("Temporal raw ceiling (the worker's options %+v): %v", tuning, tuned)
	c1 := s.cpu()

	// 12,000.00 over 12 months, income 50,000.00: grade A, no due diligence,
	// not a newbie listing; one investor's bid fills it.
	const amount = "12000.00"
	k := max(4, n/10)
	investors := make([]person, k)
	borrowers := make([]person, n)
	t0 := time.Now()
	perInvestor := (n + k - 1) / k
	parallel(k, 8, func(i int) { investors[i] = s.investor(fmt.Sprintf("%d.00", 12000*perInvestor)) })
	parallel(n, 8, func(i int) {
		borrowers[i] = s.signUp("borrower")
		s.call("POST", "/v1/me/recharges", borrowers[i].token, obj{"amount": "2000.00"}, 201)
	})
	t.Logf("setup: %d borrowers (2,000.00 each), %d investors (%d.00 each) in %s", n, k, 12000*perInvestor, time.Since(t0).Round(time.Second))

	status := func(id int64) string {
		var st string
		require.NoError(t, pool.QueryRow(ctx, "SELECT status FROM loans WHERE id = $1", id).Scan(&st))
		return st
	}
	waitFor := func(id int64, want lending.Status) {
		testwait.Within(30*time.Minute).Every(250*time.Millisecond).For(t, fmt.Sprintf("loan %d to be %s", id, want),
			func() bool { return status(id) == string(want) })
	}
	ids := make([]int64, n)
	c2 := s.cpu()
	start := time.Now()
	parallel(n, min(n, *fleetInFlight), func(i int) {
		b := borrowers[i]
		loan := s.call("POST", "/v1/loans", b.token, obj{"amount": amount, "term_months": 12,
			"repayment_method": "equal_installment", "purpose": "fleet", "monthly_income": "50000.00"}, 201)
		id := int64(loan["loan_id"].(float64))
		ids[i] = id
		waitFor(id, lending.StatusListed)
		bid := s.call("POST", fmt.Sprintf("/v1/listings/%d/bids", id), investors[i%k].token, obj{"amount": amount}, 201)
		require.Equal(t, string(lending.BidFrozen), bid["status"])
		waitFor(id, lending.StatusFullReview)
		// 202 (processing) when the workflow has not answered within 10 s
		// (docs/api.md): the disbursement goes on, and the loan is polled.
		status, out, err := s.do("POST", fmt.Sprintf("/v1/ops/loans/%d/full-tender-review", id), s.opsToken, "", obj{"decision": "approve", "note": "bench"})
		require.NoError(t, err)
		require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, status, "%v", out)
		waitFor(id, lending.StatusRepaying)
	})
	carried := time.Since(start)
	c3 := s.cpu()
	workerAfterCarry := peakRSS(s.procs["worker"])

	parallel(n, 8, func(i int) {
		s.call("POST", fmt.Sprintf("/v1/loans/%d/repayment-authorization", ids[i]), borrowers[i].token,
			obj{"max_amount": "2000.00", "expires_on": "2027-12-31"}, 201)
	})

	before := scrape(t, "http://"+s.workerMet+"/metrics")
	nodesBefore := s.scrapeNodes()
	apiBefore := scrape(t, "http://"+s.apiMet+"/metrics")
	to := day.AddDate(0, 0, 31)
	// What PostgreSQL ran for the advance, on a server with pg_stat_statements
	// (a private cluster: DATABASE_URL pointing at it); and the worker's CPU
	// profile, when it serves one (LENDFLOW_PROC_worker_PPROF_LISTEN).
	statements := pgStatStatements(t, pool, "the advance")
	profiled := make(chan struct{})
	if addr := os.Getenv("LENDFLOW_PROC_worker_PPROF_LISTEN"); addr != "" {
		go func() {
			defer close(profiled)
			fetch(t, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, *fleetProfile), filepath.Join(s.out, "worker.cpu.pprof"))
		}()
	} else {
		close(profiled)
	}
	c4 := s.cpu()
	t1 := time.Now()
	s.call("POST", "/v1/ops/clock/advance", s.opsToken, obj{"to": to.Format(time.DateOnly)}, 200)
	advance := time.Since(t1)
	c5 := s.cpu()
	<-profiled
	statements(t)
	after := scrape(t, "http://"+s.workerMet+"/metrics")
	apiAfter := scrape(t, "http://"+s.apiMet+"/metrics")
	nodesAfter := s.scrapeNodes()
	// A stop's Collect runs as a local activity first (workflows' collect):
	// the month needs one Collect a loan, local or not.
	localActs := delta(before, after, "temporal_local_activity_execution_latency_seconds_count")
	acts := delta(before, after, "temporal_activity_execution_latency_seconds_count") + localActs
	wfTasks := delta(before, after, "temporal_workflow_task_execution_latency_seconds_count")

	var paid, repaying int
	require.NoError(t, pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM installments i JOIN loans l ON l.id = i.loan_id WHERE i.no = 1 AND i.paid_principal = i.principal AND l.id = ANY($1)),
		(SELECT count(*) FROM loans WHERE id = ANY($1) AND status = $2)`, ids, string(lending.StatusRepaying)).Scan(&paid, &repaying))
	require.Equal(t, n, paid, "every loan's first installment is paid by the advance")
	require.Equal(t, n, repaying)

	mean := func(family string) string {
		n := delta(before, after, family+"_count")
		if n == 0 {
			return "-"
		}
		return ms(time.Duration(delta(before, after, family+"_sum") / n * float64(time.Second)))
	}
	bankN := delta(before, after, "lendflow_bank_calls_total")
	bankMean := delta(before, after, "lendflow_bank_call_duration_seconds_sum") / bankN
	told := delta(apiBefore, apiAfter, "lendflow_clock_tell_seconds_count")
	tellMean := "-"
	if told > 0 {
		tellMean = ms(time.Duration(delta(apiBefore, apiAfter, "lendflow_clock_tell_seconds_sum") / told * float64(time.Second)))
	}
	ideal := acts / ceil.activitiesPerSec
	idealTuned := acts / tuned.activitiesPerSec
	cores := runtime.NumCPU()
	report(t, fmt.Sprintf("fleet of %d on the %s", n, s.engine.Engine), [][2]string{
		{"Temporal raw ceiling (same engine, same run; SDK default worker options)", ceil.String()},
		{"… with the worker's options", fmt.Sprintf("%s (%+v)", tuned, tuning)},
		{"application → repaying", fmt.Sprintf("%d loans in %s: %.2f loans/s (%d at a time)", n, carried.Round(100*time.Millisecond), float64(n)/carried.Seconds(), min(n, *fleetInFlight))},
		{"clock advance 31 days", fmt.Sprintf("%s (%s → %s; every first installment auto-debited)", advance.Round(100*time.Millisecond), day.Format(time.DateOnly), to.Format(time.DateOnly))},
		{"activities it ran (worker metrics)", fmt.Sprintf("%.0f (%.2f a loan; %.0f of them local), %.0f workflow tasks (%.2f a loan)", acts, acts/float64(n), localActs, wfTasks, wfTasks/float64(n))},
		{"the clock (api metrics)", fmt.Sprintf("%.0f stops, %.0f loans told (%s), mean tell %s, CLOCK_PARALLEL %s",
			delta(apiBefore, apiAfter, "lendflow_clock_stops_total"), told, toldOutcomes(apiBefore, apiAfter), tellMean, orDefault(os.Getenv("LENDFLOW_STACK_CLOCK_PARALLEL"), "default"))},
		{"worker during the advance (means)", fmt.Sprintf("local activity run %s, activity run %s, activity schedule-to-start %s, workflow task run %s, workflow task schedule-to-start %s",
			mean("temporal_local_activity_execution_latency_seconds"), mean("temporal_activity_execution_latency_seconds"), mean("temporal_activity_schedule_to_start_latency_seconds"),
			mean("temporal_workflow_task_execution_latency_seconds"), mean("temporal_workflow_task_schedule_to_start_latency_seconds"))},
		{"worker's DB pool during the advance", fmt.Sprintf("%.0f acquires, %.0f waited, %.1f s waiting in all (max %.0f connections)",
			delta(before, after, "lendflow_db_pool_acquires_total"), delta(before, after, "lendflow_db_pool_acquires_waited_total"),
			delta(before, after, "lendflow_db_pool_acquire_wait_seconds_total"), sumSeries(after, "lendflow_db_pool_max_connections"))},
		{"bank calls from the worker", fmt.Sprintf("%.0f, mean round trip %s", bankN, ms(time.Duration(bankMean*float64(time.Second))))},
		{"advance ÷ (activities ÷ raw activities/s)", fmt.Sprintf("%.2f× (%.1f s ideal; target ≤ 2×); against the ceiling with the worker's options %.2f× (%.1f s ideal)",
			advance.Seconds()/ideal, ideal, advance.Seconds()/idealTuned, idealTuned)},
		{"CPU during the ceilings", cpuUsed(c0, c1, cores)},
		{"CPU during the carry", cpuUsed(c2, c3, cores)},
		{"CPU during the advance", cpuUsed(c4, c5, cores)},
		{"peak RSS", fmt.Sprintf("worker %.0f MiB (%.0f after the carry), api %.0f MiB, bank %.0f MiB", peakRSS(s.procs["worker"]), workerAfterCarry, peakRSS(s.procs["api"]), peakRSS(s.procs["bank"]))},
		{"Temporal's persistence during the advance", persistence(nodesBefore, nodesAfter, n)},
	})
	if math.IsNaN(ideal) || acts == 0 {
		t.Fatal("no activity counted; is the worker's metrics listener up?")
	}
	return fmt.Sprintf("ceiling %.0f wf/s, %.0f act/s; carry %.2f loans/s; advance %s = %.2f× the ceiling's ideal; CPU during the advance: %s",
		ceil.workflowsPerSec, ceil.activitiesPerSec, float64(n)/carried.Seconds(), advance.Round(100*time.Millisecond), advance.Seconds()/ideal, cpuUsed(c4, c5, cores))
}

// stackTuning is the worker's options as the stack's worker gets them:
// worker.DefaultTuning with any LENDFLOW_STACK_WORKER_* setting of the run.
func stackTuning(t *testing.T) worker.Tuning {
	tu := worker.DefaultTuning
	for name, f := range map[string]*int{
		"WORKER_WORKFLOW_POLLERS": &tu.WorkflowPollers, "WORKER_ACTIVITY_POLLERS": &tu.ActivityPollers,
		"WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": &tu.WorkflowTasks, "WORKER_MAX_CONCURRENT_ACTIVITIES": &tu.Activities,
	} {
		if v := os.Getenv("LENDFLOW_STACK_" + name); v != "" {
			n, err := strconv.Atoi(v)
			require.NoError(t, err, name)
			*f = n
		}
	}
	return tu
}

// toldOutcomes is lendflow_clock_loans_told_total by outcome, between two scrapes.
func toldOutcomes(before, after map[string]float64) string {
	var parts []string
	for _, o := range []string{"ok", "settled", "error"} {
		if d := sumSeries(after, "lendflow_clock_loans_told_total", `outcome="`+o+`"`) - sumSeries(before, "lendflow_clock_loans_told_total", `outcome="`+o+`"`); d > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", o, d))
		}
	}
	return strings.Join(parts, ", ")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// scrapeNodes reads every Temporal node's metrics, summed (nil on the dev
// server, which serves none here).
func (s *stack) scrapeNodes() map[string]float64 {
	if s.engine.Cluster == nil {
		return nil
	}
	sum := map[string]float64{}
	for _, n := range s.engine.Cluster.Nodes {
		for k, v := range scrape(s.t, "http://"+n.Metrics+"/metrics") {
			sum[k] += v
		}
	}
	return sum
}

// persistence is what the Temporal services asked of PostgreSQL between two
// scrapes: requests a loan and their mean latency, by service.
func persistence(before, after map[string]float64, loans int) string {
	if after == nil {
		return "- (the dev server keeps its state in memory)"
	}
	var parts []string
	for _, svc := range []string{"history", "matching", "frontend", "worker"} {
		label := `service_name="` + svc + `"`
		n := delta(before, after, "persistence_latency_count", label)
		if n == 0 {
			continue
		}
		mean := time.Duration(delta(before, after, "persistence_latency_sum", label) / n * float64(time.Second))
		parts = append(parts, fmt.Sprintf("%s %.1f requests a loan, mean %s", svc, n/float64(loans), ms(mean)))
	}
	return strings.Join(parts, "; ")
}
