package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lending"
)

// The hot listing of issue 11: 1,000 bids of 100.00 from 300 investors, 32
// in flight, on one 100,000.00 listing, through the HTTP API, the bank
// simulator and PostgreSQL; then pgbench -N on the same server.
const (
	hotBids      = 1000
	hotInvestors = 300
	hotInFlight  = 32
	hotBid       = "100.00"
	hotAmount    = "100000.00"
)

// TestHotListing runs the hot listing on each engine (engines), one after
// the other, and ends with the two side by side.
func TestHotListing(t *testing.T) {
	needBench(t)
	var rows [][2]string
	for _, e := range engines() {
		t.Run(e, func(t *testing.T) { rows = append(rows, [2]string{e, hotListingOn(t, e)}) })
	}
	report(t, "hot listing, warm, on each engine", rows)
}

// hotListingOn is one engine's run; it answers the warm listing's summary.
func hotListingOn(t *testing.T, engine string) string {
	s := startStack(t, stackOptions{engine: engine, clockStart: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), pprof: true})
	ctx := context.Background()
	pool, err := db.Open(ctx, s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()

	// Two hot listings one after the other, the same bids on each: the first
	// runs on processes that have just started (every pool opening its
	// connections, pgx preparing each statement once a connection, the first
	// TCP connections to the bank), which is how the issue first measured it;
	// the second on the same processes warm, as a hot listing meets a
	// platform that has been serving. pgbench's TPS, the baseline, excludes
	// its own connection time. The target is judged on the second.
	t0 := time.Now()
	cold, warm := s.hotListing(), s.hotListing()
	investors := make([]person, hotInvestors)
	perInvestor := (hotBids + hotInvestors - 1) / hotInvestors
	recharge := decimal.RequireFromString(hotBid).Mul(decimal.NewFromInt(int64(2 * perInvestor))).StringFixed(2)
	parallel(hotInvestors, 8, func(i int) { investors[i] = s.investor(recharge) })
	t.Logf("setup: 2 borrowers, %d investors recharged %s each and assessed C5, loans %d and %d listed (%s)", hotInvestors, recharge, cold, warm, time.Since(t0).Round(time.Second))

	c := s.bidOn(cold, investors, nil)
	s.checkSubscription(pool, cold)
	statements := pgStatStatements(t, pool, "the bids on the warm listing")
	profilePath := filepath.Join(s.out, "api.cpu.pprof")
	w := s.bidOn(warm, investors, func() { fetch(t, "http://"+s.apiPprof+"/debug/pprof/profile?seconds=4", profilePath) })
	oversub := s.checkSubscription(pool, warm)

	tps := pgbench(t, s.dbURL)
	before, after := w.before, w.after
	freezeGroups := delta(w.bankBefore, w.bankAfter, "lendflow_banksim_freeze_group_size_count")
	freezesGrouped := delta(w.bankBefore, w.bankAfter, "lendflow_banksim_freeze_group_size_sum")
	route := `route="/v1/listings/{id}/bids"`
	serverMean := delta(before, after, "lendflow_api_http_request_duration_seconds_sum", route) / delta(before, after, "lendflow_api_http_request_duration_seconds_count", route)
	freezeN := delta(before, after, "lendflow_bank_call_duration_seconds_count", `operation="freeze"`)
	freezeMean := delta(before, after, "lendflow_bank_call_duration_seconds_sum", `operation="freeze"`) / freezeN
	bankN := delta(before, after, "lendflow_bank_calls_total")
	poolWait := delta(before, after, "lendflow_db_pool_acquire_wait_seconds_total", `pool="api"`)
	poolWaited := delta(before, after, "lendflow_db_pool_acquires_waited_total", `pool="api"`)
	poolAcquires := delta(before, after, "lendflow_db_pool_acquires_total", `pool="api"`)
	poolMax := sumSeries(after, "lendflow_db_pool_max_connections", `pool="api"`)
	batches := delta(before, after, "lendflow_bidding_admission_batch_size_count")
	batched := delta(before, after, "lendflow_bidding_admission_batch_size_sum")
	admitting := delta(before, after, "lendflow_bidding_admission_seconds_sum")
	bookings := delta(before, after, "lendflow_bidding_freeze_booking_batch_size_count")
	booked := delta(before, after, "lendflow_bidding_freeze_booking_batch_size_sum")

	report(t, "hot listing on the "+s.engine.Engine, [][2]string{
		{"bids", fmt.Sprintf("%d of %s on each of two %s listings, %d investors, %d in flight", hotBids, hotBid, hotAmount, hotInvestors, hotInFlight)},
		{"cold: first listing after the start", c.summary(tps)},
		{"warm: answers", fmt.Sprint(w.byCode)},
		{"warm: elapsed", w.elapsed.Round(time.Millisecond).String()},
		{"warm: bids/s", fmt.Sprintf("%.0f", w.perSec())},
		{"warm: latency", w.latency()},
		{"oversubscription (both)", oversub},
		{"server time per bid (API histogram)", ms(time.Duration(serverMean * float64(time.Second)))},
		{"bank calls from the API", fmt.Sprintf("%.0f (%.0f freezes, mean round trip %s, %.0f%% of a bid's server time)", bankN, freezeN, ms(time.Duration(freezeMean*float64(time.Second))), 100*freezeMean*freezeN/(serverMean*float64(hotBids)))},
		{"API's connection pool", fmt.Sprintf("%.0f connections; %.0f acquires (%.1f a bid), %.0f waited, %s waiting a bid (%.0f%% of its server time)",
			poolMax, poolAcquires, poolAcquires/hotBids, poolWaited, ms(time.Duration(poolWait/hotBids*float64(time.Second))), 100*poolWait/(serverMean*hotBids))},
		{"admitting transactions", fmt.Sprintf("%.0f, %.1f bids each (lendflow_bidding_admission_batch_size), %s each, the listing's queue busy %.0f %% of the time",
			batches, batched/max(batches, 1), ms(time.Duration(admitting/max(batches, 1)*float64(time.Second))), 100*admitting/w.elapsed.Seconds())},
		{"freeze-booking transactions", fmt.Sprintf("%.0f, %.1f bids each (lendflow_bidding_freeze_booking_batch_size)", bookings, booked/max(bookings, 1))},
		{"the bank's freeze transactions", fmt.Sprintf("%.0f, %.1f freezes each (lendflow_banksim_freeze_group_size)", freezeGroups, freezesGrouped/max(freezeGroups, 1))},
		{"pgbench -N -c 8 -j 2 -T 15 (scale 10)", fmt.Sprintf("%.0f TPS", tps)},
		{"warm: bids/s ÷ pgbench -N TPS", fmt.Sprintf("%.1f %% (target ≥ 25 %%, p99 ≤ 50 ms)", 100*w.perSec()/tps)},
		{"CPU during the warm bids (2 cores = 200 %)", perOp(w.cpu0, w.cpu1, hotBids)},
		{"CPU during the cold bids", perOp(c.cpu0, c.cpu1, hotBids)},
		{"peak RSS", fmt.Sprintf("api %.0f MiB, worker %.0f MiB, bank %.0f MiB", peakRSS(s.procs["api"]), peakRSS(s.procs["worker"]), peakRSS(s.procs["bank"]))},
		{"API CPU profile (warm)", profilePath + " (go tool pprof -top " + proctest.Binary(t) + " " + profilePath + ")"},
	})
	if top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", proctest.Binary(t), profilePath).CombinedOutput(); err == nil {
		t.Logf("API CPU profile during the bids:\n%s", top)
	}
	if top, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=40", proctest.Binary(t), profilePath).CombinedOutput(); err == nil {
		t.Logf("API CPU profile, cumulative:\n%s", top)
	}
	statements(t)
	return fmt.Sprintf("%.0f bids/s, %.1f %% of pgbench -N (%.0f TPS); %s; CPU a bid: %s", w.perSec(), 100*w.perSec()/tps, tps, w.latency(), perOp(w.cpu0, w.cpu1, hotBids))
}

// hotListing lists a loan of hotAmount (grade A after due diligence) for a
// borrower of its own.
func (s *stack) hotListing() int64 {
	borrower := s.signUp("borrower")
	loan := s.call("POST", "/v1/loans", borrower.token, obj{"amount": hotAmount, "term_months": 12,
		"repayment_method": "equal_installment", "purpose": "hot listing", "monthly_income": "300000.00"}, 201)
	id := int64(loan["loan_id"].(float64))
	s.waitStatus(id, string(lending.StatusDueDiligence), 100*time.Millisecond)
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%d/due-diligence", id), s.opsToken,
		obj{"decision": "approve", "grade": "A", "annual_rate": "0.08", "note": "bench"}, 200)
	s.waitStatus(id, string(lending.StatusListed), 100*time.Millisecond)
	return id
}

// bids is one listing's run of hotBids bids.
type bids struct {
	sorted                []time.Duration
	byCode                map[string]int
	elapsed               time.Duration
	cpu0, cpu1            cpuSnapshot
	before, after         map[string]float64 // the API's metrics
	bankBefore, bankAfter map[string]float64 // the bank simulator's
}

// bidOn places hotBids bids of hotBid on listing id, hotInFlight at a time,
// the i-th from investor i mod hotInvestors; during, if set, runs beside
// them (a CPU profile).
func (s *stack) bidOn(id int64, investors []person, during func()) bids {
	var r bids
	r.before, r.bankBefore = scrape(s.t, "http://"+s.apiMet+"/metrics"), scrape(s.t, s.bank+"/metrics")
	var side sync.WaitGroup
	if during != nil {
		side.Go(during)
		time.Sleep(100 * time.Millisecond) // the profile starts before the first bid
	}
	lat := make([]time.Duration, hotBids)
	codes := make([]string, hotBids)
	start := time.Now()
	r.cpu0 = s.cpu()
	parallel(hotBids, hotInFlight, func(i int) {
		inv := investors[i%hotInvestors]
		t0 := time.Now()
		status, out, err := s.do("POST", fmt.Sprintf("/v1/listings/%d/bids", id), inv.token, fmt.Sprintf("bench-bid-%d-%d", id, i), obj{"amount": hotBid})
		lat[i] = time.Since(t0)
		switch {
		case err != nil:
			codes[i] = "error: " + err.Error()
		case status == http.StatusCreated || status == http.StatusAccepted:
			codes[i] = strconv.Itoa(status) + " " + fmt.Sprint(out["status"])
		default:
			codes[i] = strconv.Itoa(status) + " " + fmt.Sprint(out["code"])
		}
	})
	r.elapsed = time.Since(start)
	r.cpu1 = s.cpu()
	side.Wait()
	r.after, r.bankAfter = scrape(s.t, "http://"+s.apiMet+"/metrics"), scrape(s.t, s.bank+"/metrics")
	r.sorted = append([]time.Duration(nil), lat...)
	sort.Slice(r.sorted, func(i, j int) bool { return r.sorted[i] < r.sorted[j] })
	r.byCode = map[string]int{}
	for _, c := range codes {
		r.byCode[c]++
	}
	return r
}

func (r bids) perSec() float64 { return float64(len(r.sorted)) / r.elapsed.Seconds() }

func (r bids) latency() string {
	return fmt.Sprintf("p50 %s, p95 %s, p99 %s, max %s", ms(percentile(r.sorted, .50)), ms(percentile(r.sorted, .95)),
		ms(percentile(r.sorted, .99)), ms(r.sorted[len(r.sorted)-1]))
}

func (r bids) summary(tps float64) string {
	return fmt.Sprintf("%.0f bids/s (%.1f %% of pgbench), %s; %v", r.perSec(), 100*r.perSec()/tps, r.latency(), r.byCode)
}

// checkSubscription fails the benchmark if listing id was oversubscribed:
// raised is what its frozen (or still pending) bids add up to, and never
// more than the amount.
func (s *stack) checkSubscription(pool *pgxpool.Pool, id int64) string {
	var amount, raised, frozen, pending decimal.Decimal
	// The pending bids settle first, if they do within the minute.
	testwait.Within(time.Minute).Every(500 * time.Millisecond).Until(func() bool {
		require.NoError(s.t, pool.QueryRow(context.Background(), `SELECT l.amount, l.raised,
			COALESCE(SUM(b.amount) FILTER (WHERE b.status = $2), 0), COALESCE(SUM(b.amount) FILTER (WHERE b.status = $3), 0)
			FROM loans l LEFT JOIN bids b ON b.loan_id = l.id WHERE l.id = $1 GROUP BY l.id`,
			id, string(lending.BidFrozen), string(lending.BidPending)).Scan(&amount, &raised, &frozen, &pending))
		return pending.IsZero()
	})
	require.True(s.t, raised.LessThanOrEqual(amount), "oversubscribed: raised %s of %s", raised, amount)
	require.True(s.t, raised.Equal(frozen.Add(pending)), "raised %s, frozen %s + pending %s", raised, frozen, pending)
	return fmt.Sprintf("none: raised %s = frozen %s + pending %s ≤ amount %s", raised.StringFixed(2), frozen.StringFixed(2), pending.StringFixed(2), amount.StringFixed(2))
}

// delta is how much the matching series grew between two scrapes.
func delta(before, after map[string]float64, family string, match ...string) float64 {
	return sumSeries(after, family, match...) - sumSeries(before, family, match...)
}

func fetch(t *testing.T, u, path string) {
	resp, err := http.Get(u)
	if err != nil {
		t.Logf("fetch %s: %v", u, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

func report(t *testing.T, title string, rows [][2]string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n== %s ==\n", title)
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-40s %s\n", r[0], r[1])
	}
	t.Log(b.String())
}

// pgStatStatements resets pg_stat_statements when the server has it loaded
// and returns what prints the hottest statements since; on a server without
// it (shared_preload_libraries) it says so.
func pgStatStatements(t *testing.T, pool *pgxpool.Pool, during string) func(*testing.T) {
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err == nil {
		_, err = pool.Exec(ctx, "SELECT pg_stat_statements_reset()")
		if err == nil {
			return func(t *testing.T) {
				rows, err := pool.Query(ctx, `SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3),
					rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
					FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
					ORDER BY total_exec_time DESC LIMIT 20`)
				if err != nil {
					t.Logf("pg_stat_statements: %v", err)
					return
				}
				defer rows.Close()
				var b strings.Builder
				b.WriteString("pg_stat_statements during " + during + " (calls, total ms, mean ms, rows, query):\n")
				for rows.Next() {
					var calls, nrows int64
					var total, mean decimal.Decimal
					var q string
					if err := rows.Scan(&calls, &total, &mean, &nrows, &q); err != nil {
						t.Logf("pg_stat_statements: %v", err)
						return
					}
					fmt.Fprintf(&b, "  %6d %9s %8s %6d  %s\n", calls, total, mean, nrows, q)
				}
				t.Log(b.String())
			}
		}
	}
	return func(t *testing.T) {
		t.Log("pg_stat_statements is not loaded on this server (shared_preload_libraries); see BENCHMARKS.md for a private cluster with it")
	}
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs pgbench -N (8 clients, scale 10, 15 s) on a database of its
// own on the server of dbURL and returns its TPS.
func pgbench(t *testing.T, dbURL string) float64 {
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	name := fmt.Sprintf("pgbench_%d", time.Now().UnixNano())
	admin, err := db.Open(context.Background(), dbURL, "")
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.Exec(context.Background(), "CREATE DATABASE "+name)
	require.NoError(t, err)
	defer func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)") }()
	pass, _ := u.User.Password()
	env := append(os.Environ(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+u.User.Username(), "PGPASSWORD="+pass, "PGDATABASE="+name)
	run := func(args ...string) string {
		cmd := exec.Command("pgbench", args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "pgbench %v: %s", args, out)
		return string(out)
	}
	run("-i", "-s", "10", "-q")
	out := run("-N", "-c", "8", "-j", "2", "-T", "15")
	m := tpsLine.FindStringSubmatch(out)
	require.NotNil(t, m, "pgbench output: %s", out)
	tps, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return tps
}
