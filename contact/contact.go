// Package contact is how the platform reaches people (docs/rules.md "contact"):
// every notice is a row of the outbox (the notifications table), which the
// API reads (GET /v1/me/notifications) and a Sender delivers. Notices are
// written in the transaction of the change they tell of, each once per its
// business identity, so a step retried after its commit tells nobody twice.
package contact

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/lending"
)

// Notice is one notification.
type Notice struct {
	UserID      int64
	Kind        lending.NoticeKind
	LoanID      int64
	Installment int
	Amount      *decimal.Decimal
	On          time.Time // the business date it is for
	At          time.Time // when it reaches the person; zero: lending.ContactAt(On)
	Dedupe      string    // business identity: loan-7-installment-3-reminder
	Message     string
}

// Write puts n in the outbox, once per Dedupe.
func Write(ctx context.Context, q *dbq.Queries, n Notice) error {
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
