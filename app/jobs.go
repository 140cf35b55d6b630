package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/accounts"
	"github.com/lendflow/lendflow/auth"
	"github.com/lendflow/lendflow/bidding"
	"github.com/lendflow/lendflow/clock"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/disclosure"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/idempotency"
	"github.com/lendflow/lendflow/loans"
	"github.com/lendflow/lendflow/reconcile"
	"github.com/lendflow/lendflow/replica"
	"github.com/lendflow/lendflow/transfer"
)

// EventsEvery is how often the worker numbers the event feed's new events
// and delivers webhooks, at most.
const EventsEvery = time.Second

// HousekeepingEvery is how often the worker purges what no longer counts.
const HousekeepingEvery = 10 * time.Minute

// job is one of the worker's background jobs: a round every so often.
type job struct {
	name  string
	every time.Duration
	round func(context.Context)
}

// jobDeps is what the worker's jobs work with.
type jobDeps struct {
	pool     *pgxpool.Pool
	clock    *clock.Clock
	bids     *bidding.Service
	accounts *accounts.Service
	// transfers settles purchases of transfer listings whose request's
	// process died before it heard the answer.
	transfers *transfer.Service
	loans     loans.Service
	files     reconcile.Source // the bank's daily files
	sender    contact.Sender
	webhooks  events.Policy // what the webhooks' deliveries may dial
	log       *slog.Logger
	// sweepEvery paces every job but housekeeping; settleAfter is how old
	// an unanswered bank request is before the sweep asks again.
	sweepEvery, settleAfter time.Duration
	sandbox                 bool
}

// workerJobs are the worker's background jobs (docs/replicas.md
// "Background jobs"). Every worker runs them all on its tickers; a round is
// done by one worker at a time (runJob), and each unit of work in it is safe
// to repeat besides.
func workerJobs(d jobDeps) []job {
	today := func(ctx context.Context) (time.Time, error) { day, _, err := d.clock.Today(ctx); return day, err }
	// onToday is a round of work on the business date; a round that cannot
	// read it does nothing (the clock's error shows in the next round's).
	onToday := func(fn func(ctx context.Context, day time.Time)) func(context.Context) {
		return func(ctx context.Context) {
			if day, err := today(ctx); err == nil {
				fn(ctx, day)
			}
		}
	}
	log := d.log
	// One client for every round: its connections are kept between them.
	webhookClient := d.webhooks.Client(events.DefaultTimeout)
	return []job{
		{name: "settle-bids", every: d.sweepEvery, round: func(ctx context.Context) {
			if n, err := d.bids.SettlePending(ctx, d.settleAfter, today); err != nil {
				log.Error("settling pending bids", "error", err)
			} else if n > 0 {
				log.Info("settled pending bids", "count", n)
			}
		}},
		{name: "auto-invest", every: d.sweepEvery, round: onToday(func(ctx context.Context, day time.Time) {
			if n, err := d.bids.AutoInvest(ctx, day); err != nil {
				log.Error("auto-invest", "error", err)
			} else if n > 0 {
				log.Info("auto-invest bids placed", "count", n)
			}
		})},
		// A full listing whose loan never heard so (the filling bid's
		// signal lost with its API replica, or refused by Temporal).
		{name: "listing-full", every: d.sweepEvery, round: onToday(func(ctx context.Context, day time.Time) {
			if _, err := d.bids.ResendListingFull(ctx, d.settleAfter, day); err != nil {
				log.Error("listing-full signals sent again", "error", err)
			}
		})},
		{name: "settle-transfers", every: d.sweepEvery, round: func(ctx context.Context) {
			if n, err := d.accounts.SettlePending(ctx, d.settleAfter); err != nil {
				log.Error("settling recharges and withdrawals", "error", err)
			} else if n > 0 {
				log.Info("settled recharges and withdrawals", "count", n)
			}
		}},
		// Purchases of transfer listings won and never answered (the API died
		// in between): sent to the loan again under the same update ID.
		{name: "transfer-purchases", every: d.sweepEvery, round: func(ctx context.Context) {
			if n, err := d.transfers.Settle(ctx, d.settleAfter); err != nil {
				log.Error("settling transfer purchases", "error", err)
			} else if n > 0 {
				log.Info("settled transfer purchases", "count", n)
			}
		}},
		// A recovery whose API died after recording it (its shares reserved)
		// and before starting its workflow would wait for a retry of its key
		// that may never come: the sweep starts it (docs/collection.md
		// "Recoveries").
		{name: "resume-recoveries", every: d.sweepEvery, round: func(ctx context.Context) {
			if n, err := d.loans.ResumeRecoveries(ctx); err != nil {
				log.Error("resuming recoveries", "error", err)
			} else if n > 0 {
				log.Info("recoveries resumed", "count", n)
			}
		}},
		// The daily reconciliation: each finished business date once, booking
		// the reversals only its file tells of (docs/reconciliation.md).
		{name: "reconcile", every: d.sweepEvery, round: onToday(func(ctx context.Context, day time.Time) {
			// Close logs and counts every mismatched day itself.
			_, err := reconcile.Closer{DB: d.pool, Bank: d.files, Reversals: d.accounts, Log: log, RetryAfter: time.Hour}.Close(ctx, day)
			if err != nil {
				log.Error("reconciliation", "error", err)
			}
		})},
		// The outbox to people: each notice when its business date and moment
		// have come (docs/collection.md "Contact").
		{name: "deliver-notifications", every: d.sweepEvery, round: onToday(func(ctx context.Context, day time.Time) {
			// A sandbox day has no hours of its own: its notices go out whole.
			due := contact.Due{Today: day, Now: time.Now(), WholeDay: d.sandbox}
			deliver := contact.Deliverer{Q: db.Queries(d.pool), Sender: d.sender, Log: log.With("component", "contact")}
			if _, err := deliver.Round(ctx, due); err != nil {
				log.Error("delivering notifications", "error", err)
			}
		})},
		// The event feed's numbering, which also queues each event for the
		// webhooks that ask for it (docs/events.md "Ids a reader cannot skip").
		{name: "number-events", every: min(d.sweepEvery, EventsEvery), round: func(ctx context.Context) {
			if _, err := events.Number(ctx, d.pool); err != nil {
				log.Error("numbering events", "error", err)
			}
		}},
		// Each queued event to its webhook, in order per loan, retried by
		// backoff (docs/events.md "Webhooks").
		{name: "deliver-webhooks", every: min(d.sweepEvery, EventsEvery), round: func(ctx context.Context) {
			deliver := events.Deliverer{Pool: d.pool, Client: webhookClient, Log: log.With("component", "webhooks")}
			if _, err := deliver.Round(ctx); err != nil {
				log.Error("delivering webhooks", "error", err)
			}
		}},
		// The day's disclosure snapshot, once its events are handled
		// (disclosure.Record; the console charts them).
		{name: "disclosure-snapshot", every: d.sweepEvery, round: onToday(func(ctx context.Context, day time.Time) {
			if _, err := disclosure.Record(ctx, db.Queries(d.pool), day); err != nil {
				log.Error("disclosure snapshot", "date", day.Format(time.DateOnly), "error", err)
			}
		})},
		// Housekeeping: what sign-in, the Idempotency-Key store and the
		// replicas keep that no longer counts, each purged by the package that
		// owns it (docs/security.md "Sessions").
		{name: "housekeeping", every: HousekeepingEvery, round: func(ctx context.Context) {
			q, now := db.Queries(d.pool), time.Now()
			signIn, err := auth.Purge(ctx, q, now)
			if err != nil {
				log.Error("housekeeping: sign-in", "error", err)
			}
			keys, err := idempotency.Purge(ctx, q, now)
			if err != nil {
				log.Error("housekeeping: idempotency keys", "error", err)
			}
			replicas, err := replica.Purge(ctx, q, now)
			if err != nil {
				log.Error("housekeeping: replicas", "error", err)
			}
			if signIn != (auth.Purged{}) || keys > 0 || replicas > 0 {
				log.Info("housekeeping", "sessions", signIn.Sessions, "idempotency_keys", keys, "login_failures", signIn.Failures,
					"known_addresses", signIn.KnownAddresses, "devices", signIn.Devices, "replicas", replicas)
			}
		}},
	}
}

// runJob does one round of j unless another worker is doing one
// (replica.Jobs).
func runJob(ctx context.Context, jobs *replica.Jobs, j job, log *slog.Logger) {
	if _, err := jobs.Run(ctx, j.name, j.round); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		log.Error("background job", "job", j.name, "error", err)
	}
}
