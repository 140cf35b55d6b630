package contact

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
)

// Inbox is what has reached people (GET /v1/me/notifications): each
// person's notices up to the business date, newest first. A notice written
// ahead (a reminder) appears on its own date.
type Inbox struct{ q *dbq.Queries }

// NewInbox reads the outbox in d (a pool).
func NewInbox(d db.DBTX) *Inbox { return &Inbox{q: db.Queries(d)} }

// InboxPage is how many notices one page of the inbox holds.
const InboxPage = 50

// Item is one notice as its reader sees it.
type Item struct {
	ID            int64
	BusinessDate  time.Time
	At            time.Time
	Kind          string
	LoanID        *int64
	InstallmentNo *int32
	Amount        *decimal.Decimal
	Message       string
}

// Before is where a page of the inbox starts: after the notice (Date, ID)
// of the page before, in the inbox's order (by business date, then id:
// reminders are written ahead, so ids alone are not in date order).
type Before struct {
	Date time.Time
	ID   int64
}

// List is userID's notices up to the business date, newest first, a page
// of InboxPage starting after before (nil: from the newest).
func (b *Inbox) List(ctx context.Context, userID int64, before *Before) ([]Item, error) {
	c, err := b.q.ClockGet(ctx)
	if err != nil {
		return nil, err
	}
	p := dbq.NotificationListByUserParams{UserID: userID, Today: c.Today, Lim: InboxPage}
	if before != nil {
		p.BeforeDate, p.BeforeID = &before.Date, &before.ID
	}
	rows, err := b.q.NotificationListByUser(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]Item, len(rows))
	for i, n := range rows {
		out[i] = Item{ID: n.ID, BusinessDate: n.BusinessDate, At: n.At, Kind: n.Kind, LoanID: n.LoanID,
			InstallmentNo: n.InstallmentNo, Amount: n.Amount, Message: n.Message}
	}
	return out, nil
}
