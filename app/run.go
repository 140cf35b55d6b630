package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/activities"
	"github.com/lendflow/lendflow/api"
	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/metrics"
	"github.com/lendflow/lendflow/pii"
	"github.com/lendflow/lendflow/replica"
	"github.com/lendflow/lendflow/transfer"
	"github.com/lendflow/lendflow/worker"
	"github.com/lendflow/lendflow/workflows"
)

// Migrate applies the platform's migrations.
func Migrate(ctx context.Context, c Config) error {
	pool, err := openDB(ctx, c, 0)
	if err != nil {
		return err
	}
	pool.Close()
	return nil
}

// openDB connects and migrates: every process applies the embedded
// migrations at start, serialized by an advisory lock, then seals what
// personal data is still plain (migration 0030's Go step, pii.SealExisting)
// under the process's keys, which it takes up here (pii.Use).
func openDB(ctx context.Context, c Config, maxConns int32) (*pgxpool.Pool, error) {
	ring, err := c.Keyring()
	if err != nil {
		return nil, err
	}
	pii.Use(ring)
	pool, err := db.OpenSized(ctx, c.DatabaseURL, "", maxConns)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, pool, db.Migrations(), "schema_migrations"); err != nil {
		pool.Close()
		return nil, err
	}
	if _, err := pii.SealExisting(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// dialTemporal connects; mh, when not nil, receives the SDK's own metrics.
// A frontend that does not answer yet (a Temporal node still starting, or
// restarting beside its peer) is waited for, the attempts spaced by
// temporalBackoff, until ctx ends: a worker or an API replica started with
// or before Temporal then comes up with it instead of exiting (issue 18,
// TestClusterLosesNodes at seed 21). A setting that cannot work (a TLS file
// missing) is an error at once.
func dialTemporal(ctx context.Context, c Config, log *slog.Logger, mh client.MetricsHandler) (client.Client, error) {
	if _, _, err := temporalConnection(c.TemporalAddress, c.TemporalTLS); err != nil {
		return nil, err
	}
	return untilConnected(ctx, log, c.TemporalAddress, temporalBackoff, func(ctx context.Context) (client.Client, error) {
		// Each attempt its own connection settings: a frontends' resolver
		// belongs to one gRPC connection.
		hostPort, conn, err := temporalConnection(c.TemporalAddress, c.TemporalTLS)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, temporalDialTimeout)
		defer cancel()
		return client.DialContext(ctx, client.Options{
			HostPort:          hostPort,
			ConnectionOptions: conn,
			Namespace:         c.TemporalNamespace,
			Logger:            tlog.NewStructuredLogger(log),
			MetricsHandler:    mh,
		})
	})
}

// temporalBackoff spaces the attempts to reach Temporal: the first again
// soon (a node a moment from ready), doubling to a few seconds, so a
// frontend down for minutes is asked about every 5 s, not hammered.
var temporalBackoff = backoff{first: 100 * time.Millisecond, most: 5 * time.Second}

// temporalDialTimeout bounds one attempt: a frontend that takes the
// connection but does not answer its health check is tried again.
const temporalDialTimeout = 10 * time.Second

type backoff struct{ first, most time.Duration }

// untilConnected calls dial until it succeeds or ctx ends, waiting between
// attempts as b says; each failure is logged with what it was.
func untilConnected[T any](ctx context.Context, log *slog.Logger, addr string, b backoff,
	dial func(context.Context) (T, error)) (T, error) {
	wait := b.first
	for attempt := 1; ; attempt++ {
		c, err := dial(ctx)
		if err == nil {
			if attempt > 1 {
				log.Info("temporal: connected", "address", addr, "attempts", attempt)
			}
			return c, nil
		}
		log.Warn("temporal: not reachable yet, trying again", "address", addr, "attempt", attempt,
			"wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			var zero T
			return zero, fmt.Errorf("%w (after %d attempts, the last: %v)", ctx.Err(), attempt, err)
		case <-t.C:
		}
		wait = min(2*wait, b.most)
	}
}

// RunWorker runs the loan workflow worker until ctx ends. In wall-clock mode
// it also turns the business date at Asia/Shanghai midnight.
func RunWorker(ctx context.Context, c Config, log *slog.Logger) error {
	// WORKER_DB_MAX_CONNS is the worker's connections in all: one holds its
	// background jobs' locks (replica.Jobs), the pool has the rest.
	pool, err := openDB(ctx, c, max(c.WorkerDBMaxConns-1, 1))
	if err != nil {
		return err
	}
	defer pool.Close()
	defer db.ObservePool("worker", pool)()
	// The worker's own listener: its metrics (the SDK's among them) and,
	// when asked, its profile.
	if err := listenAndServe(ctx, c.WorkerMetricsListen, metricsMux(), log, "metrics"); err != nil {
		return err
	}
	if err := listenAndServe(ctx, c.PprofListen, pprofMux(), log, "pprof"); err != nil {
		return err
	}
	tc, err := dialTemporal(ctx, c, log, metrics.Temporal())
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer tc.Close()
	bc := bankClient(c)
	acts := activities.New(pool, bc, log, c.ClockMode == clock.Wall)
	clk := clock.New(pool, tc, nil, log).WithParallel(c.ClockParallel)
	if c.ClockMode == clock.Wall {
		go clk.RunWall(ctx, 30*time.Second)
	}
	sweepEvery := c.SweepEvery
	if sweepEvery <= 0 {
		sweepEvery = 5 * time.Second
	}
	sender, err := noticeSender(c, log)
	if err != nil {
		return err
	}
	jobs := workerJobs(jobDeps{
		pool: pool, clock: clk, bids: bidding.New(pool, bc, workflows.Signals{Client: tc}, log), accounts: accounts.New(pool, bc, log), files: bc,
		transfers: transfer.New(pool, workflows.Transfers{Client: tc}, clk.Date, log),
		loans:     loans.New(loans.Deps{Pool: pool, Temporal: tc, Clock: clk, Log: log}),
		sender:    sender, webhooks: events.Policy{Allow: c.WebhookAllowNets}, log: log,
		sweepEvery: sweepEvery, settleAfter: c.SettleAfter, sandbox: c.ClockMode == clock.Sandbox,
	})
	// The one connection of its own beside the pool holds the jobs' locks.
	locks := replica.NewJobs(pool)
	defer locks.Close()
	for _, j := range jobs {
		go every(ctx, j.every, func(ctx context.Context) { runJob(ctx, locks, j, log) })
	}
	w := worker.New(tc, acts, c.Worker)
	if err := w.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// noticeSender is how notices reach people: e-mail through SMTP_HOST, or,
// with none configured, the log.
func noticeSender(c Config, log *slog.Logger) (contact.Sender, error) {
	if c.SMTP.Host == "" {
		log.Warn("SMTP_HOST is not set: notices are logged, not e-mailed")
		return contact.LogSender{Log: log.With("component", "contact")}, nil
	}
	return contact.NewSMTPSender(c.SMTP)
}

// APIServer is a wired API, for cmd and tests.
type APIServer struct {
	Handler http.Handler
	Clock   *clock.Clock
	close   func()
}

// Close releases the server's connections.
func (s *APIServer) Close() { s.close() }

// NewAPI wires the HTTP API: database, Temporal, bank, clock, bootstrap ops user.
func NewAPI(ctx context.Context, c Config, log *slog.Logger) (*APIServer, error) {
	return newAPI(ctx, c, log, "")
}

// newAPI is NewAPI for a process that listens on addr (bound already), the
// place its replica takes (replica.Join); "" for none.
func newAPI(ctx context.Context, c Config, log *slog.Logger, addr string) (*APIServer, error) {
	pool, err := openDB(ctx, c, c.APIDBMaxConns)
	if err != nil {
		return nil, err
	}
	unobserve := db.ObservePool("api", pool)
	tc, err := dialTemporal(ctx, c, log, nil)
	if err != nil {
		unobserve()
		pool.Close()
		return nil, fmt.Errorf("temporal: %w", err)
	}
	bc := bankClient(c)
	var bankClock clock.BankClock
	if c.ClockMode == clock.Sandbox {
		bankClock = bc
	}
	clk := clock.New(pool, tc, bankClock, log).WithParallel(c.ClockParallel)
	if err := clk.Init(ctx, c.ClockMode, c.ClockStart); err != nil {
		pool.Close()
		tc.Close()
		return nil, err
	}
	if c.ClockMode == clock.Sandbox && bankClock != nil {
		if today, _, err := clk.Today(ctx); err == nil {
			if err := bankClock.SetClock(ctx, today); err != nil {
				log.Warn("bank clock not set; is the bank up?", "error", err)
			}
		}
	}
	// This replica's lease (docs/replicas.md), renewed until Close, which
	// leaves once the server has drained: its claims are taken over only
	// when it is gone.
	rep, err := replica.Join(ctx, pool, replica.KindAPI, addr, log)
	if err != nil {
		pool.Close()
		tc.Close()
		return nil, err
	}
	repCtx, stopRenewing := context.WithCancel(context.WithoutCancel(ctx))
	renewing := make(chan struct{})
	go func() { defer close(renewing); every(repCtx, replica.Beat, rep.Renew) }()
	leave := func() {
		stopRenewing()
		<-renewing
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := rep.Leave(lctx); err != nil {
			log.Warn("replica: not left; its claims go when its lease runs out", "error", err)
		}
	}
	srv := api.New(api.Deps{
		Pool: pool, Logger: log,
		Temporal: tc, Bank: bc, Clock: clk,
		Bids:       bidding.New(pool, bc, workflows.Signals{Client: tc}, log),
		Accounts:   accounts.New(pool, bc, log),
		HMACSecret: []byte(c.BankHMACSecret),
		ClockMode:  c.ClockMode,
		BankFiles:  bc,
		// The ops console's links and cookie (docs/console.md).
		TemporalUIURL: c.TemporalUIURL, TemporalNamespace: c.TemporalNamespace, PlainHTTP: !c.PublicHTTPS,
		Replica:       rep,
		WebhookPolicy: events.Policy{Allow: c.WebhookAllowNets},
		// Behind lendflow lb: callers keep their own address (docs/security.md).
		TrustedProxies: c.TrustedProxies,
		Checks: map[string]func(context.Context) error{
			"postgres": func(ctx context.Context) error { return pool.Ping(ctx) },
			"temporal": func(ctx context.Context) error { _, err := tc.CheckHealth(ctx, nil); return err },
			"bank":     func(ctx context.Context) error { _, err := bc.Balance(ctx, bank.AccountFee); return err },
		},
	})
	if c.OpsEmail != "" {
		if err := srv.EnsureOpsUser(ctx, c.OpsEmail, c.OpsPassword); err != nil {
			leave()
			pool.Close()
			tc.Close()
			return nil, fmt.Errorf("bootstrap ops user: %w", err)
		}
	}
	return &APIServer{Handler: srv.Handler(), Clock: clk, close: func() { leave(); tc.Close(); unobserve(); pool.Close() }}, nil
}

// RunAPI serves the API until ctx ends.
func RunAPI(ctx context.Context, c Config, log *slog.Logger) error {
	// The address first: the replica takes its place there (newAPI).
	ln, err := net.Listen("tcp", c.APIListen)
	if err != nil {
		return err
	}
	s, err := newAPI(ctx, c, log, ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	defer s.Close()
	if err := listenAndServe(ctx, c.PprofListen, pprofMux(), log, "pprof"); err != nil {
		return err
	}
	// Metrics on a listener of their own: bank, bid and sign-in counters
	// are the operator's, not the public's (issue 25).
	if err := listenAndServe(ctx, c.APIMetricsListen, metricsMux(), log, "metrics"); err != nil {
		return err
	}
	return serveListener(ctx, ln, s.Handler, log)
}

// RunBank serves the custody bank simulator until ctx ends.
func RunBank(ctx context.Context, c Config, log *slog.Logger) error {
	s, err := sim.Open(ctx, sim.Config{
		DatabaseURL: c.BankDatabaseURL, MaxConns: c.BankDBMaxConns, Listen: c.BankListen,
		CallbackURL: c.BankCallbackURL, HMACSecret: []byte(c.BankHMACSecret), APIKey: []byte(c.BankAPIKey),
	})
	if err != nil {
		return err
	}
	defer s.Close()
	return serve(ctx, c.BankListen, s.Handler(), log)
}

// bankClient is the platform's client of the bank, signing every request.
func bankClient(c Config) *bank.HTTPClient {
	return bank.NewHTTPClient(c.BankURL, nil, bank.WithAPIKey([]byte(c.BankAPIKey)))
}

// Server timeouts (docs/security.md "Input limits"): a client that sends
// its request or reads its answer slowly holds a connection only so long.
// The write timeout covers the slowest ordinary answer, a bank call (30 s)
// and the database; the sandbox clock advance extends its own deadline
// (api clockAdvanceWrite), since it answers only when every loan is done.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 90 * time.Second
	idleTimeout       = 2 * time.Minute
	// maxHeaderBytes bounds the request line and headers (Go's default is
	// 1 MiB): the API's query strings are at most 2 KiB (api maxQuery).
	maxHeaderBytes = 64 << 10
)

// newServer is the http.Server every process serves with.
func newServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes, BaseContext: func(net.Listener) context.Context { return ctx }}
}

// serve runs an HTTP server with timeouts, and shuts it down gracefully.
func serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serveListener(ctx, ln, h, log)
}

func serveListener(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	return serveServer(ctx, ln, newServer(ctx, h), log)
}

// serveServer runs srv on ln until ctx ends, then shuts it down gracefully.
func serveServer(ctx context.Context, ln net.Listener, srv *http.Server, log *slog.Logger) error {
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	log.Info("listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Serve returns as Shutdown begins; the requests still running finish
	// first (an API replica leaves its lease only after them).
	<-drained
	return nil
}

// RunDev runs the bank, the worker and the API in one process. The API
// alone serves the profile (one process, one profile); its metrics listener
// shows the whole process, as does the worker's.
func RunDev(ctx context.Context, c Config, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	others := c
	others.PprofListen = ""
	go func() { errc <- RunBank(ctx, others, log.With("process", "bank")) }()
	go func() { errc <- RunWorker(ctx, others, log.With("process", "worker")) }()
	go func() { errc <- RunAPI(ctx, c, log.With("process", "api")) }()
	err := <-errc
	cancel()
	return err
}

// listenAndServe binds addr now (so a taken port fails the process at start)
// and serves h there until ctx ends. An empty addr serves nothing.
func listenAndServe(ctx context.Context, addr string, h http.Handler, log *slog.Logger, what string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s listener: %w", what, err)
	}
	go func() {
		if err := serveListener(ctx, ln, h, log.With("listener", what)); err != nil {
			log.Error("listener stopped", "listener", what, "error", err)
		}
	}()
	return nil
}

// metricsMux serves the process's metrics at GET /metrics.
func metricsMux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	return mux
}

// pprofMux is net/http/pprof's handlers on a mux of their own: importing the
// package only for its side effect would put them on http.DefaultServeMux.
func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// every runs fn each period until ctx ends: the worker's sweeps for results
// the bank did not answer at the time.
func every(ctx context.Context, period time.Duration, fn func(context.Context)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}
