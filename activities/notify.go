package activities

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// notice is one notification for the outbox (DOMAIN.md "contact"). The API
// reads the outbox (GET /v1/me/notifications); an SMS or e-mail sender can be
// plugged in behind it later, reading the same rows.
type notice struct {
	UserID      int64
	Kind        lending.NoticeKind
	LoanID      int64
	Installment int
	Amount      *decimal.Decimal
	On          time.Time // the business date it is for
	At          time.Time // when it reaches the person; zero: ContactAt(On)
	Dedupe      string    // business identity: written once however often the step runs
	Message     string
}

// notify writes n to the outbox, once per Dedupe.
func notify(ctx context.Context, q *dbq.Queries, n notice) error {
	at := n.At
	if at.IsZero() {
		at = lending.ContactAt(n.On)
	}
	var loanID *int64
	if n.LoanID != 0 {
		loanID = &n.LoanID
	}
	var inst *int32
	if n.Installment != 0 {
		i := int32(n.Installment)
		inst = &i
	}
	return q.NotificationInsert(ctx, dbq.NotificationInsertParams{
		UserID: n.UserID, Kind: string(n.Kind), LoanID: loanID, InstallmentNo: inst, Amount: n.Amount,
		BusinessDate: n.On, At: at, Message: n.Message, Dedupe: n.Dedupe,
	})
}

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
