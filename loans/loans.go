// Package loans is the loan as the platform's callers deal with it
// (docs/lifecycle.md): a borrower's application (the principal cap is
// cap.go's), the requests sent to a loan's workflow (ops' decisions, the
// guarantor's answer, a cancel, a repayment by hand, a disbursement retried),
// money recovered after a write-off, and what each caller is shown of a loan
// (its history, its schedule as of the business date, the listings, ops'
// queues and pages). It is the workflow's client: it starts a loan's
// workflow and sends it requests, each under an ID that makes a request sent
// again the same request.
//
// The API's handlers and the console call it; it sits above workflows/
// (whose names and messages it speaks), so the workflow and its activities
// never import it.
package loans

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/users"
)

// Service is what callers do with loans. Every method answers domain types
// and errs refusals; a loan named by a caller who may not see it is
// not_found, exactly as one that does not exist.
type Service interface {
	// Apply takes a borrower's application (docs/rules.md "The loan
	// lifecycle", "Limits") under the caller's Idempotency-Key (key, "" for
	// none), records it submitted and starts its workflow. Sent again under
	// its key it answers the loan the key made, starting its workflow if the
	// first request could not. Errors: account_locked, no_custody_account,
	// not_guarantor (the named guarantor is not a registered guarantor),
	// limit_exceeded (figures outstanding and cap: the principal cap,
	// cap.go), idempotency_key_reused (the key made another application),
	// unavailable (the workflow could not be started: the loan is cancelled,
	// and the same request sent again under its key starts it).
	Apply(ctx context.Context, borrower users.User, a Application, key string) (Loan, error)
	// Get is loan id as caller may see it: its borrower, its named
	// guarantor, or ops. Errors: not_found.
	Get(ctx context.Context, caller users.User, id int64) (Loan, error)
	// View is loan id with its history as caller reads it: for anyone but
	// ops, ops' notes on their decisions are replaced by a neutral line
	// (notes.go). Errors: not_found (as Get).
	View(ctx context.Context, caller users.User, id int64) (View, error)
	// Schedule is loan id's installments as of the business date
	// (schedule.go), for its borrower, ops, or an investor holding a bid on
	// it. Errors: not_found.
	Schedule(ctx context.Context, caller users.User, id int64) ([]Installment, error)
	// Authorize sets the loan's repayment authorization (还款授权): the
	// auto-debit takes at most max, until expires. Errors: validation_failed
	// (expires_on before the business date), invalid_state (the loan has
	// ended).
	Authorize(ctx context.Context, loan Loan, max decimal.Decimal, expires time.Time) (Authorization, error)

	// The requests below go to the loan's workflow as updates and wait for
	// its answer at most the update wait: past it they answer
	// ErrStillRunning, and the same request sent again under its key (the
	// update's ID derives from the caller and key) answers its outcome once
	// there is one. Each may answer the workflow's refusals: invalid_state
	// (not at that step; the workflow has ended), validation_failed.

	// Repay pays by hand (kind next or payoff) and answers what was paid.
	// Errors: insufficient_balance, authorization_needed, invalid_state.
	Repay(ctx context.Context, borrower users.User, loan Loan, kind lending.RepayKind, key string) (Repayment, error)
	// Cancel cancels the loan before its listing is full, for its borrower.
	// Errors: invalid_state.
	Cancel(ctx context.Context, borrower users.User, loan Loan, key string) (lending.Status, error)
	// RetryDisbursement sends a refused disbursement batch again, under a
	// new attempt; ops' action is audited once the workflow took it.
	// Errors: invalid_state.
	RetryDisbursement(ctx context.Context, ops users.User, loan Loan, key string) (lending.Status, error)
	// Decide is ops' decision at step (due diligence, full-tender review,
	// write-off), audited once the workflow took it. Only due diligence
	// changes the grade and rate (checked by Decision's maker). Errors:
	// invalid_state.
	Decide(ctx context.Context, ops users.User, loan Loan, step Step, d Decision, key string) (lending.Status, error)
	// AnswerGuarantee is the named guarantor's answer (担保): accept and the
	// loan is listed, decline and it ends rejected. Errors:
	// no_custody_account (accepting without a guarantor custody account),
	// not_found (not the guarantor the loan names), invalid_state.
	AnswerGuarantee(ctx context.Context, guarantor users.User, loan Loan, d lending.Decision, key string) (lending.Status, error)

	// Recover records money recovered after a write-off (docs/rules.md
	// "Write-off") under ops' Idempotency-Key and has its workflow
	// distribute it; a recovery not done within the update wait is answered
	// Processing. Errors: invalid_state (the loan is not written off),
	// validation_failed (amount: more than the holders have still to
	// recover), insufficient_balance (figure available: the borrower's),
	// idempotency_key_reused, the bank's refusals.
	Recover(ctx context.Context, ops users.User, loan Loan, amount decimal.Decimal, note, key string) (Recovery, error)
	// ResumeRecoveries starts the workflow of every recovery recorded more
	// than RecoveryStartAfter ago and still processing: one whose API died before it
	// started it would otherwise wait for a retry of its key that may never
	// come. A workflow running or run already is left alone (its ID derives
	// from the recovery), so starting twice is harmless. It answers how many
	// it started.
	ResumeRecoveries(ctx context.Context) (int, error)

	// ByStatus is the loans in status, oldest first after afterID: ops' work
	// queue, from PostgreSQL, not Temporal visibility.
	ByStatus(ctx context.Context, status lending.Status, afterID int64, limit int) ([]Loan, error)
	// Listings are the open listings newest first, before beforeID (0: from
	// the newest), the borrower masked (docs/rules.md "Disclosure").
	Listings(ctx context.Context, beforeID int64, limit int) ([]Listing, error)
	// Listing is loan id as its listing shows it, any loan ever listed.
	// Errors: not_found.
	Listing(ctx context.Context, id int64) (Listing, error)
	// Guarantees are what each of the guarantor's guarantees has cost and
	// brought back.
	Guarantees(ctx context.Context, guarantorID int64) ([]Guarantee, error)
	// CollectionTasks are the loans at M2 and beyond as of the business
	// date, most days past due first, with the borrower unmasked.
	CollectionTasks(ctx context.Context) ([]CollectionTask, error)
	// Queues are ops' work queues with their counts (the console's front
	// page).
	Queues(ctx context.Context) (Queues, error)
	// Dossier is everything ops see of loan id on its page: terms, the
	// borrower masked, schedule, investors and history. Errors: not_found.
	Dossier(ctx context.Context, id int64) (Dossier, error)
	// Reveal is the dossier with the borrower's identity in full, once the
	// reveal and ops' reason are in the audit log: a reveal the log does not
	// hold is not shown. Errors: not_found.
	Reveal(ctx context.Context, ops users.User, id int64, reason string) (Dossier, error)
}

// Clock is the business date and its mode (clock.Clock).
type Clock interface {
	Today(ctx context.Context) (time.Time, string, error)
}

// Deps are what the service works with.
type Deps struct {
	Pool     *pgxpool.Pool
	Temporal client.Client
	Clock    Clock
	Log      *slog.Logger
	// UpdateWait bounds a request's wait on a workflow; zero is
	// DefaultUpdateWait.
	UpdateWait time.Duration
}

type service struct {
	pool     *pgxpool.Pool
	q        *dbq.Queries
	temporal client.Client
	clock    Clock
	log      *slog.Logger
	wait     time.Duration
}

// New is the service.
func New(d Deps) Service {
	if d.UpdateWait <= 0 {
		d.UpdateWait = DefaultUpdateWait
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &service{pool: d.Pool, q: db.Queries(d.Pool), temporal: d.Temporal, clock: d.Clock, log: d.Log, wait: d.UpdateWait}
}

// Loan is one loan as the platform's callers see it.
type Loan struct {
	ID               int64
	BorrowerID       int64
	GuarantorID      *int64 // nil: no guarantor named
	Status           lending.Status
	Amount           decimal.Decimal
	TermMonths       int
	RepaymentMethod  string
	Purpose          string
	MonthlyIncome    decimal.Decimal
	Grade            *string
	AnnualRate       *decimal.Decimal
	Raised           decimal.Decimal
	Newbie           bool
	ListingExpiresOn *time.Time
	DisbursedOn      *time.Time
	AppliedOn        time.Time
	WorkflowID       string
}

func loanFrom(l dbq.Loan) Loan {
	return Loan{
		ID: l.ID, BorrowerID: l.BorrowerID, GuarantorID: l.GuarantorID, Status: l.Status, Amount: l.Amount,
		TermMonths: int(l.TermMonths), RepaymentMethod: l.RepaymentMethod, Purpose: l.Purpose, MonthlyIncome: l.MonthlyIncome,
		Grade: l.Grade, AnnualRate: l.AnnualRate, Raised: l.Raised, Newbie: l.Newbie, ListingExpiresOn: l.ListingExpiresOn,
		DisbursedOn: l.DisbursedOn, AppliedOn: l.AppliedOn, WorkflowID: l.WorkflowID,
	}
}

// Remaining is what the listing still takes.
func (l Loan) Remaining() decimal.Decimal { return l.Amount.Sub(l.Raised) }

// today is the business date.
func (s *service) today(ctx context.Context) (time.Time, error) {
	today, _, err := s.clock.Today(ctx)
	return today, err
}
