package api

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/internal/testenv"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/replica"
	"github.com/lendflow/lendflow/workflows"
)

// apiReplica is one API process of a fleet: its own pool, process state
// (limiter, bid batches) and lease, the fleet's database, bank and Temporal.
type apiReplica struct {
	s   *Server
	srv *httptest.Server
	rep *replica.Replica
}

// fleet is two API replicas of one platform (docs/replicas.md).
type fleet struct {
	e    *testenv.Env
	tc   *fakeTemporal
	a, b apiReplica
}

func newFleet(t *testing.T) *fleet {
	t.Parallel()
	e := testenv.New(t)
	f := &fleet{e: e, tc: newFakeTemporal()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.New(e.Pool, nil, nil, log)
	require.NoError(t, clk.Init(e.Ctx, clock.Sandbox, e.Today))
	start := func(pool *pgxpool.Pool) apiReplica {
		rep, err := replica.Join(e.Ctx, pool, replica.KindAPI, "", log)
		require.NoError(t, err)
		bids := bidding.New(pool, e.Bank, workflows.Signals{Client: f.tc}, log)
		s := New(Deps{PasswordCost: testCost, Pool: pool, Logger: log, Clock: clock.New(pool, nil, nil, log), Bank: e.Bank, Accounts: e.Accounts,
			Bids: bids, Temporal: f.tc, HMACSecret: []byte(callbackSecret), BankFiles: e.Bank, ClockMode: clock.Sandbox,
			UpdateWait: 200 * time.Millisecond, Replica: rep})
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		return apiReplica{s: s, srv: srv, rep: rep}
	}
	f.a, f.b = start(e.Pool), start(dbtest.Another(t, e.Pool))
	require.NoError(t, f.a.s.EnsureOpsUser(e.Ctx, "ops@test.cn", "ops-password-1"))
	f.a.rep.Renew(e.Ctx)
	f.b.rep.Renew(e.Ctx)
	return f
}

// kill is a replica killed outright: it renews its lease no more, and the
// lease runs out (replica.Lease after its last renewal; here at once).
func (f *fleet) kill(t *testing.T, r apiReplica) {
	t.Helper()
	_, err := f.e.Pool.Exec(f.e.Ctx, `UPDATE replicas SET expires_at = now() - interval '1 millisecond' WHERE id = $1`, r.rep.ID())
	require.NoError(t, err)
}

// person is a user with a custody account holding amount, signed in.
func (f *fleet) person(t *testing.T, role string, n int, amount string) string {
	t.Helper()
	p := &platform{e: f.e, s: f.a.s, srv: f.a.srv, tc: f.tc}
	tok, _ := p.person(t, role, n, amount)
	return tok
}

// A request whose replica died after its effect committed, before its answer
// was stored, leaves its key claimed. The retry, on the other replica, is
// 409 conflict while the claimer is alive (it may be answering still), and
// takes the claim over at once when it is gone — not ten minutes later — and
// answers the same withdrawal, made once.
func TestClaimOfADeadReplicaIsTakenOverAtOnce(t *testing.T) {
	f := newFleet(t)
	tok := f.person(t, "investor", 5, "1000.00")
	first := do(t, f.a.srv, "POST", "/v1/me/withdrawals", tok, "wd-crash", `{"amount":"300.00"}`)
	require.Equal(t, 201, first.status, first.raw)
	var claimer int64
	require.NoError(t, f.e.Pool.QueryRow(f.e.Ctx, `SELECT replica_id FROM idempotency_keys WHERE key = 'wd-crash'`).Scan(&claimer))
	assert.Equal(t, f.a.rep.ID(), claimer, "the claim carries its replica")
	_, err := f.e.Pool.Exec(f.e.Ctx, `UPDATE idempotency_keys SET status_code = NULL, response = NULL WHERE key = 'wd-crash'`)
	require.NoError(t, err)

	busy := do(t, f.b.srv, "POST", "/v1/me/withdrawals", tok, "wd-crash", `{"amount":"300.00"}`)
	assert.Equal(t, 409, busy.status, "the claimer is alive: %s", busy.raw)
	assert.Equal(t, "conflict", busy.body["code"])

	f.kill(t, f.a)
	again := do(t, f.b.srv, "POST", "/v1/me/withdrawals", tok, "wd-crash", `{"amount":"300.00"}`)
	require.Equal(t, 201, again.status, again.raw)
	assert.Equal(t, first.body["id"], again.body["id"], "the same withdrawal")
	var n int
	require.NoError(t, f.e.Pool.QueryRow(f.e.Ctx, `SELECT count(*) FROM withdrawals`).Scan(&n))
	assert.Equal(t, 1, n, "made once")
	require.NoError(t, f.e.Pool.QueryRow(f.e.Ctx, `SELECT replica_id FROM idempotency_keys WHERE key = 'wd-crash'`).Scan(&claimer))
	assert.Equal(t, f.b.rep.ID(), claimer, "the claim is the taker's now")
	replay := do(t, f.a.srv, "POST", "/v1/me/withdrawals", tok, "wd-crash", `{"amount":"300.00"}`)
	assert.Equal(t, again.raw, replay.raw, "and its answer is stored for every replica")
	testwait.Within(10*time.Second).Every(50*time.Millisecond).For(t, "300.00 withdrawn once", func() bool {
		_, err := f.e.Accounts.SettlePending(f.e.Ctx, 0)
		require.NoError(t, err)
		return do(t, f.b.srv, "GET", "/v1/me/account", tok, "", "").body["available"] == "700.00"
	})
}

// The same on the bid route, whose claim is made in the transaction that
// admits the bid (BidClaimMany): the bid is frozen once, whichever replica
// answers.
func TestBidClaimOfADeadReplicaIsTakenOverAtOnce(t *testing.T) {
	f := newFleet(t)
	tok := f.person(t, "investor", 5, "1000.00")
	_, borrower := (&platform{e: f.e, s: f.a.s, srv: f.a.srv, tc: f.tc}).person(t, "borrower", 6, "")
	loan := f.e.ListedLoan(borrower, "5000.00", "C", "0.11", 6, false)
	path := "/v1/listings/" + strconv.FormatInt(loan.ID, 10) + "/bids"
	first := do(t, f.a.srv, "POST", path, tok, "bid-crash", `{"amount":"500.00"}`)
	require.Equal(t, 201, first.status, first.raw)
	_, err := f.e.Pool.Exec(f.e.Ctx, `UPDATE idempotency_keys SET status_code = NULL, response = NULL WHERE key = 'bid-crash'`)
	require.NoError(t, err)

	busy := do(t, f.b.srv, "POST", path, tok, "bid-crash", `{"amount":"500.00"}`)
	assert.Equal(t, 409, busy.status, "the claimer is alive: %s", busy.raw)
	assert.Equal(t, "conflict", busy.body["code"])

	require.NoError(t, f.a.rep.Leave(f.e.Ctx)) // stopped cleanly: gone at once
	again := do(t, f.b.srv, "POST", path, tok, "bid-crash", `{"amount":"500.00"}`)
	require.Equal(t, 201, again.status, again.raw)
	assert.Equal(t, first.body["id"], again.body["id"], "the same bid")
	assert.Equal(t, "frozen", again.body["status"])
	var bids int
	require.NoError(t, f.e.Pool.QueryRow(f.e.Ctx, `SELECT count(*) FROM bids`).Scan(&bids))
	assert.Equal(t, 1, bids)
	after, err := f.e.Q.LoanGet(f.e.Ctx, loan.ID)
	require.NoError(t, err)
	assert.Equal(t, "500.00", after.Raised.StringFixed(2), "its place in the listing taken once")
	account := do(t, f.b.srv, "GET", "/v1/me/account", tok, "", "")
	assert.Equal(t, "500.00", account.body["available"], account.raw)
	assert.Equal(t, "500.00", account.body["frozen"], "frozen once")
}

// The rate limit is the platform's budget, shared by the replicas alive: a
// caller spreading requests over two replicas gets the budget once, not
// twice; with one replica left, that one grants the whole budget.
func TestRateLimitIsSharedByReplicas(t *testing.T) {
	f := newFleet(t)
	tok := f.person(t, "investor", 5, "")
	now := time.Now()
	for _, r := range []apiReplica{f.a, f.b} {
		r.s.limits = newLimiter(1, 4)
		r.s.limits.replicas = r.rep.Live
		r.s.limits.now = func() time.Time { return now }
	}
	var got []int
	for i := range 6 {
		r := []apiReplica{f.a, f.b}[i%2]
		got = append(got, do(t, r.srv, "GET", "/v1/me/holdings", tok, "", "").status)
	}
	assert.Equal(t, []int{200, 200, 200, 200, 429, 429}, got, "4 in all, 2 a replica")

	f.kill(t, f.b)
	f.a.rep.Renew(f.e.Ctx)
	require.Equal(t, 1, f.a.rep.Live())
	got = nil
	for range 5 {
		got = append(got, do(t, f.a.srv, "GET", "/v1/clock", "", "", "").status)
	}
	assert.Equal(t, []int{200, 200, 200, 200, 429}, got, "the one replica alive grants the whole budget")
}

// The console's clock advance is one for the fleet: started on one replica,
// every replica's console shows it running and refuses a second; once the
// replica running it is gone, it is shown stopped and the next may start.
func TestConsoleAdvanceIsSharedByReplicas(t *testing.T) {
	f := newFleet(t)
	ops := opsConsole(t, f.a.s, f.a.srv)
	to := f.e.Today.AddDate(0, 0, 9)
	_, ok, err := f.a.s.advanceStart(f.e.Ctx, f.e.Today, to) // as a running advance leaves it
	require.NoError(t, err)
	require.True(t, ok)

	c := browse(t, f.b.srv, "GET", "/console/clock", ops, nil)
	require.Equal(t, 200, c.status, c.body)
	assert.Contains(t, c.body, `<progress id="advance-bar"`, "the other replica shows it")
	assert.NotContains(t, c.body, `id="advance-form"`, "no second advance while one runs")
	pr := browse(t, f.b.srv, "GET", "/console/clock/progress", ops, nil)
	require.Equal(t, 200, pr.status, pr.body)
	assert.Contains(t, pr.body, `"running":true`)
	second := browse(t, f.b.srv, "POST", "/console/clock/advance", ops, url.Values{"csrf": {csrfToken(ops)}, "to": {"2026-02-20"}})
	assert.Equal(t, 409, second.status, "one advance at a time, across replicas")
	assert.Contains(t, second.body, "an advance is running; wait for it to finish")

	f.kill(t, f.a)
	pr = browse(t, f.b.srv, "GET", "/console/clock/progress", ops, nil)
	require.Equal(t, 200, pr.status, pr.body)
	assert.Contains(t, pr.body, `"running":false`)
	assert.Contains(t, pr.body, advanceOrphaned)
	c = browse(t, f.b.srv, "GET", "/console/clock", ops, nil)
	assert.Contains(t, c.body, advanceOrphaned)
	next := browse(t, f.b.srv, "POST", "/console/clock/advance", ops, url.Values{"csrf": {csrfToken(ops)}, "to": {"2026-02-03"}})
	assert.Equal(t, 303, next.status, "the dead replica's advance holds nothing: %s", next.body)
	testwait.Within(30*time.Second).Every(50*time.Millisecond).For(t, "the new advance ends, seen from any replica", func() bool {
		pr := browse(t, f.a.srv, "GET", "/console/clock/progress", ops, nil)
		return pr.status == 200 && strings.Contains(pr.body, `"running":false`)
	})
	pr = browse(t, f.a.srv, "GET", "/console/clock/progress", ops, nil)
	assert.JSONEq(t, `{"from":"2026-01-31","to":"2026-02-03","today":"2026-02-03","running":false,"loans_due":0,"percent":100}`, pr.body)
}

// statements counts the statements a pool sends.
type statements struct{ n atomic.Int64 }

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	s.n.Add(1)
	return ctx
}
func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// The shared rate limit costs a request no statement: each replica keeps its
// share in memory and learns the replicas alive from its lease's renewal
// (one statement every replica.Beat). A signed-in request costs what it
// costs on a server in no fleet; the figures are printed.
func TestSharedRateLimitCostsNoStatement(t *testing.T) {
	f := newFleet(t)
	tok := f.person(t, "investor", 5, "1000.00")
	cost := func(fleet bool, method, path, token string) int64 {
		t.Helper()
		tr := &statements{}
		cfg := f.a.s.Pool.Config()
		cfg.ConnConfig.Tracer = tr
		pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
		require.NoError(t, err)
		defer pool.Close()
		d := f.a.s.Deps
		// Every service on the traced pool: the API's own (wire) and the
		// bids, which answer the holdings.
		d.Pool, d.Accounts, d.Bids = pool, nil, bidding.New(pool, d.Bank, nil, d.Logger)
		if !fleet {
			d.Replica = nil
		}
		srv := httptest.NewServer(New(d).Handler())
		defer srv.Close()
		a := do(t, srv, method, path, token, "", "")
		require.Less(t, a.status, 300, a.raw)
		return tr.n.Load()
	}
	require.Equal(t, 2, f.a.rep.Live())
	shared := cost(true, "GET", "/v1/me/holdings", tok)
	solo := cost(false, "GET", "/v1/me/holdings", tok)
	assert.Equal(t, solo, shared, "sharing the budget adds no statement")
	anon := cost(true, "GET", "/v1/clock", "")
	t.Logf("statements a request, the limit shared by %d replicas: GET /v1/me/holdings %d (in no fleet %d), anonymous GET /v1/clock %d",
		f.a.rep.Live(), shared, solo, anon)
}
