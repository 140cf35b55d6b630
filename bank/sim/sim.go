// Package sim is the custody bank simulator (存管银行): an HTTP service with a
// PostgreSQL schema of its own, speaking the API bank.HTTPClient calls. It
// holds every account's money, does the work of each request number once,
// answers withdrawals later by signed callback, publishes a daily
// reconciliation file, and can be told to misbehave (faults) the way a real
// bank and network do, without ever moving money twice or losing it.
//
// The rules it enforces are docs/rules.md "Custody bank accounts" and the
// withdrawal and recharge rules of "Money rules". Where the rules page is
// silent the choices are written beside the code:
//
//   - A refusal that depends on the bank's state (insufficient_balance,
//     freeze_spent, card_mismatch, batch_failed, …) is recorded against its
//     request number and is final: a repeat answers it again.
//   - Refusals that depend on the content alone are not recorded: malformed
//     requests (invalid_request), the four-factor check, an invalid new card,
//     super e-banking above 50,000.00. A repeat gets the same answer anyway,
//     and the caller may send corrected content under the same number — the
//     platform opens an account under one number per user, so a user who
//     mistyped a card must be able to try again.
//   - account_not_found and freeze_not_found are not recorded either: the
//     thing missing may be a request the bank has not finished yet (a freeze
//     delayed in the network while the platform already asks to release it).
//   - A withdrawal takes amount + fee from the available balance when it is
//     accepted; the fee goes to P-FEE at once. It completes (succeeded) after
//     Config.WithdrawalDelay. A reversal (冲正) returns the amount, not the fee:
//     the fee account only receives.
//   - The fee account only receives and the bonus account only pays
//     (account_restricted otherwise); the platform funds platform accounts with
//     an admin deposit from outside custody.
//   - The business date is the platform's in sandbox mode: POST /admin/clock
//     sets it, backwards included; until then the bank follows the wall clock in
//     China Standard Time.
package sim

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/bank"
	"github.com/lendflow/lendflow/bank/sim/simdb"
	"github.com/lendflow/lendflow/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationTable records the simulator's applied migrations, apart from the
// platform's.
const MigrationTable = "bank_schema_migrations"

// Migrations are the simulator schema's migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Config of a simulator.
type Config struct {
	DatabaseURL string
	Schema      string // default "banksim"; created if missing
	// Pool, when set, is used instead of DatabaseURL and Schema (its
	// search_path must be the simulator's schema). Close leaves it open.
	Pool *pgxpool.Pool
	// MaxConns caps the pool Open makes (BANK_DB_MAX_CONNS); 0: pgxpool's default.
	MaxConns int32

	Listen      string // for Run
	CallbackURL string // where results of withdrawals are posted; empty: none
	HMACSecret  []byte // signs callbacks (bank.SignatureHeader)
	// APIKey verifies the platform's signature on its requests
	// (bank/sign.go). Empty, every signed route refuses.
	APIKey []byte

	Faults FaultConfig
	Seed   int64 // drives every fault decision, so a failing run replays

	WithdrawalDelay time.Duration // accepted → succeeded; default 200ms
	Logger          *slog.Logger  // default slog.Default()
}

// DefaultWithdrawalDelay stands in for the ~20 minutes of a real bank
// (seed 003 §6.4), short enough for tests.
const DefaultWithdrawalDelay = 200 * time.Millisecond

const workers = 4

// Sim is a running simulator: its background workers complete withdrawals
// and deliver callbacks from Open until Close.
type Sim struct {
	cfg      Config
	pool     *pgxpool.Pool
	ownsPool bool
	q        *simdb.Queries
	log      *slog.Logger
	faults   *faults
	cbClient *http.Client
	freezes  freezeQueue

	wake   []chan struct{}
	stop   context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once
}

// Open connects, creates and migrates the schema, opens the platform
// accounts, and starts the background workers.
func Open(ctx context.Context, cfg Config) (*Sim, error) {
	if cfg.Schema == "" {
		cfg.Schema = "banksim"
	}
	if cfg.WithdrawalDelay <= 0 {
		cfg.WithdrawalDelay = DefaultWithdrawalDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Sim{cfg: cfg, log: cfg.Logger, pool: cfg.Pool, faults: newFaults(cfg.Seed, cfg.Faults),
		cbClient: &http.Client{Timeout: 5 * time.Second}}
	if s.pool == nil {
		if err := createSchema(ctx, cfg.DatabaseURL, cfg.Schema); err != nil {
			return nil, err
		}
		pool, err := db.OpenSized(ctx, cfg.DatabaseURL, cfg.Schema, cfg.MaxConns)
		if err != nil {
			return nil, fmt.Errorf("bank sim: %w", err)
		}
		s.pool, s.ownsPool = pool, true
	}
	if err := db.Migrate(ctx, s.pool, Migrations(), MigrationTable); err != nil {
		s.closePool()
		return nil, fmt.Errorf("bank sim: migrate: %w", err)
	}
	s.q = queries(s.pool)
	for _, no := range []string{bank.AccountFee, bank.AccountBonus, bank.AccountRiskReserve, bank.AccountSummary} {
		if err := s.q.AccountEnsurePlatform(ctx, no); err != nil {
			s.closePool()
			return nil, fmt.Errorf("bank sim: open %s: %w", no, err)
		}
	}
	// The workers outlive the ctx of Open: they stop at Close.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = cancel
	for i := 0; i < workers; i++ {
		ch := make(chan struct{}, 1)
		s.wake = append(s.wake, ch)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.work(wctx, ch)
		}()
	}
	return s, nil
}

// queries is the simulator's generated queries over d, with db's not-found
// mapping (db.MapNotFoundBatch: FreezeApply is batched).
func queries(d db.Batcher) *simdb.Queries { return simdb.New(db.MapNotFoundBatch(d)) }

func createSchema(ctx context.Context, url, schema string) error {
	admin, err := db.Open(ctx, url, "")
	if err != nil {
		return fmt.Errorf("bank sim: %w", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		// Two processes creating it at once: the loser sees a unique violation
		// on the catalog, and the schema exists, which is all it wanted.
		var exists bool
		if qerr := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); qerr != nil || !exists {
			return fmt.Errorf("bank sim: create schema %s: %w", schema, err)
		}
	}
	return nil
}

// Close stops the workers and, when Open made it, the pool.
func (s *Sim) Close() {
	s.closed.Do(func() {
		s.stop()
		s.wg.Wait()
		s.closePool()
	})
}

func (s *Sim) closePool() {
	if s.ownsPool {
		s.pool.Close()
	}
}

// Run serves Handler on Config.Listen until ctx ends.
func (s *Sim) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	// Timeouts as app/run.go's serve: a request's work is bounded by workTimeout.
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: workTimeout + 30*time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	s.log.Info("bank simulator listening", "addr", ln.Addr().String())
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}

// SetFaults replaces the fault configuration.
func (s *Sim) SetFaults(f FaultConfig) { s.faults.set(f) }

// Faults is the fault configuration in force.
func (s *Sim) Faults() FaultConfig { return s.faults.get() }

// kick tells every worker that work may be due, after a commit that added
// some; the workers also look by themselves at least once a second.
func (s *Sim) kick() {
	for _, ch := range s.wake {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// cst is China Standard Time: no daylight saving, so a fixed zone is exact and
// needs no tzdata on the host.
var cst = time.FixedZone("CST", 8*3600)

// today is the bank's business date, as midnight UTC like every DATE pgx reads.
func (s *Sim) today(ctx context.Context, q *simdb.Queries) (time.Time, error) {
	d, err := q.ClockGet(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if d != nil {
		return *d, nil
	}
	return wallToday(), nil
}

// wallToday is the business date when none is set: the date in China
// Standard Time.
func wallToday() time.Time {
	now := time.Now().In(cst)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
}
