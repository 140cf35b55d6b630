package activities

import (
	"context"
	"time"

	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// notice is one notification for the outbox (package contact).
type notice = contact.Notice

// notify writes n to the outbox, once per Dedupe.
func notify(ctx context.Context, q *dbq.Queries, n notice) error { return contact.Write(ctx, q, n) }

// contactAt is when a notice written now reaches a borrower: in wall mode now,
// or 08:00 if now is outside contact hours; in sandbox mode the start of the
// business date's contact window, since sandbox days have no hours of their own.
func (a *Activities) contactAt(on time.Time) time.Time {
	if !a.wall {
		return lending.ContactAt(on)
	}
	now := a.now()
	return now.Add(lending.UntilContactHours(now))
}
