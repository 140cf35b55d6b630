package contact

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/delivery"
	"github.com/lendflow/lendflow/lending"
)

// Outgoing is one notice on its way to its person.
type Outgoing struct {
	ID           int64 // the notice's id: its e-mail's Message-ID derives from it
	UserID       int64
	Email, Name  string
	Role         lending.Role
	Kind         lending.NoticeKind
	LoanID       int64 // 0: none
	Installment  int   // 0: none
	Amount       *decimal.Decimal
	BusinessDate time.Time
	Message      string
	Attempt      int // 1 for the first send
}

// Sender carries one notice to its person: e-mail (SMTPSender), an SMS
// gateway, a push. The outbox stays the record; a Sender only carries it.
// An error wrapped by Permanent is not worth retrying (the address refused).
type Sender interface {
	Send(ctx context.Context, o Outgoing) error
}

// LogSender is the sender of a platform with no gateway configured: it
// writes each notice to the log, so delivery is visible and the outbox drains.
type LogSender struct{ Log *slog.Logger }

// Send logs o.
func (s LogSender) Send(_ context.Context, o Outgoing) error {
	s.Log.Info("notification", "id", o.ID, "user_id", o.UserID, "kind", o.Kind,
		"business_date", o.BusinessDate.Format(time.DateOnly), "message", o.Message)
	return nil
}

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks a send's error as final: retrying cannot help (a mailbox
// that does not exist), so the notice is given up at once.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool { return errors.As(err, new(permanent)) }

// Due is what a round may deliver.
type Due struct {
	// Today is the business date: nothing dated later goes.
	Today time.Time
	// Now is the moment: a notice goes once its moment (at) has passed, and
	// a borrower's only inside contact hours at Now.
	Now time.Time
	// WholeDay delivers every notice dated up to Today, whatever its moment
	// and the hour: a sandbox business day has no hours of its own, so its
	// notices go out as if at its 08:00 (docs/collection.md "Contact").
	WholeDay bool
}

// Deliverer sends what is due, one claim at a time (docs/collection.md
// "Contact"): each round claims a batch of notices with a lease, so a second
// worker never sends a notice the first is sending, sends them, and marks
// each sent, or due again by the backoff schedule, or given up.
type Deliverer struct {
	Q      *dbq.Queries
	Sender Sender
	Log    *slog.Logger
	// Retry is the schedule after a failed send; zero: delivery.Default.
	Retry delivery.Schedule
	// Timeout bounds one send; zero: DefaultTimeout. A claim's lease is twice
	// it, so a send never outlives its claim.
	Timeout time.Duration
	// Batch is how many notices a claim takes (zero: 100), Parallel how many
	// are sent at once (zero: 4).
	Batch, Parallel int
}

// DefaultTimeout bounds one send.
const DefaultTimeout = 30 * time.Second

// Deliver does one round in wall-clock mode with the default settings.
func Deliver(ctx context.Context, q *dbq.Queries, s Sender, today, now time.Time) (int, error) {
	return Deliverer{Q: q, Sender: s}.Round(ctx, Due{Today: today, Now: now})
}

// Round delivers what is due and answers how many notices went out.
func (d Deliverer) Round(ctx context.Context, due Due) (int, error) {
	d.Retry = d.Retry.Or(delivery.Default)
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	// A borrower's notice is claimed only if its send, at its longest, ends
	// inside the hours: none goes out at 20:00:10.
	open := due.WholeDay || lending.InContactHours(due.Now) && lending.InContactHours(due.Now.Add(d.Timeout))
	claim := func(ctx context.Context, lim int) ([]dbq.NotificationClaimRow, error) {
		return d.Q.NotificationClaim(ctx, dbq.NotificationClaimParams{
			LeaseSeconds: (2 * d.Timeout).Seconds(), Today: due.Today, WholeDay: due.WholeDay, Due: due.Now,
			BorrowersOpen: open, Lim: int32(lim),
		})
	}
	return delivery.Drain(ctx, cmp.Or(d.Batch, 100), cmp.Or(d.Parallel, 4), claim, func(ctx context.Context, row dbq.NotificationClaimRow) (bool, error) {
		return d.sendOne(ctx, outgoing(row), row.FirstAttemptAt)
	})
}

// sendOne sends o and marks the result; it answers whether o went out, and
// an error only when the mark could not be written.
func (d Deliverer) sendOne(ctx context.Context, o Outgoing, first *time.Time) (bool, error) {
	sctx, cancel := context.WithTimeout(ctx, d.Timeout)
	start := time.Now()
	err := d.Sender.Send(sctx, o)
	cancel()
	sendSeconds.Observe(time.Since(start).Seconds())
	if err == nil {
		noticesSent.WithLabelValues(string(o.Kind)).Inc()
		// Sent and not marked (the database went away) is sent again after
		// the lease, under the same Message-ID, which mail systems show once.
		return true, d.Q.NotificationMarkSent(context.WithoutCancel(ctx), o.ID)
	}
	now := time.Now()
	next, giveUp := d.Retry.Next(o.Attempt, first, now)
	var failedAt *time.Time
	outcome := "retry"
	if giveUp || IsPermanent(err) {
		failedAt, outcome = &now, "given_up"
	}
	sendFailures.WithLabelValues(string(o.Kind), outcome).Inc()
	d.Log.Warn("notification not sent", "id", o.ID, "kind", o.Kind, "attempt", o.Attempt, "outcome", outcome, "error", err)
	msg := err.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if merr := d.Q.NotificationMarkUnsent(context.WithoutCancel(ctx), dbq.NotificationMarkUnsentParams{
		ID: o.ID, Attempt: int32(o.Attempt), NextAttemptAt: &next, FailedAt: failedAt, LastError: &msg,
	}); merr != nil {
		return false, fmt.Errorf("mark notice %d unsent: %w", o.ID, merr)
	}
	return false, nil
}

func outgoing(r dbq.NotificationClaimRow) Outgoing {
	o := Outgoing{ID: r.ID, UserID: r.UserID, Email: r.Email, Name: r.Name, Role: r.Role, Kind: lending.NoticeKind(r.Kind),
		Amount: r.Amount, BusinessDate: r.BusinessDate, Message: r.Message, Attempt: int(r.Attempts)}
	if r.LoanID != nil {
		o.LoanID = *r.LoanID
	}
	if r.InstallmentNo != nil {
		o.Installment = int(*r.InstallmentNo)
	}
	return o
}
