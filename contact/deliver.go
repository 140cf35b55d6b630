package contact

import (
	"context"
	"log/slog"
	"time"

	"github.com/lendflow/lendflow/db/dbq"
)

// Sender delivers one notification to its person: an SMS gateway, e-mail,
// an app push. The outbox stays the record; a Sender only carries it.
type Sender interface {
	Send(ctx context.Context, n dbq.Notification) error
}

// LogSender is the sender of a platform with no gateway plugged in: it
// writes each notification to the log, so delivery is visible and the
// outbox drains.
type LogSender struct{ Log *slog.Logger }

// Send logs n.
func (s LogSender) Send(_ context.Context, n dbq.Notification) error {
	s.Log.Info("notification", "id", n.ID, "user_id", n.UserID, "kind", n.Kind, "business_date", n.BusinessDate.Format(time.DateOnly), "message", n.Message)
	return nil
}

// Deliver sends what is due — business date reached, moment passed (a
// borrower's only inside 08:00–20:00) — and marks each sent. A notice whose
// sender fails stays undelivered and is tried again on the next round; one
// delivered twice after a crash between send and mark is the price of never
// losing one. It answers how many it delivered.
func Deliver(ctx context.Context, q *dbq.Queries, s Sender, today, now time.Time) (int, error) {
	rows, err := q.NotificationListUndelivered(ctx, dbq.NotificationListUndeliveredParams{Today: today, Now: now, Lim: 200})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, n := range rows {
		if err := s.Send(ctx, n); err != nil {
			continue
		}
		if err := q.NotificationMarkDelivered(ctx, n.ID); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}
