package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
)

// Webhooks are the registered receivers of events (docs/events.md
// "Webhooks"): the calls the API makes.
type Webhooks struct {
	Pool   *pgxpool.Pool
	Policy Policy
}

// Registered is a new webhook: its id, and the secret its deliveries are
// signed with, shown this once.
type Registered struct {
	ID     int64
	Secret string
}

// Register records a webhook for ops user opsID, audited in its
// transaction. Refusals (errs.ValidationFailed, by field): a url the Policy
// refuses, no types, more than 100, or one no event has (Subscribable).
func (w Webhooks) Register(ctx context.Context, opsID int64, url string, types []string) (Registered, error) {
	if err := w.Policy.CheckURL(url); err != nil {
		return Registered{}, errs.Invalid("url", "%s", err.Error())
	}
	switch {
	case len(types) == 0:
		return Registered{}, errs.Invalid("types", "at least one event type, family.* or *")
	case len(types) > 100:
		return Registered{}, errs.Invalid("types", "at most 100")
	}
	for _, t := range types {
		if !Subscribable(t) {
			return Registered{}, errs.Invalid("types", "%q is no event type (loan.<status>, ledger.<entry type>, family.* or *)", t)
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return Registered{}, err
	}
	reg := Registered{Secret: "whsec_" + hex.EncodeToString(key)}
	types = slices.Compact(slices.Sorted(slices.Values(types)))
	err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		var err error
		if reg.ID, err = q.WebhookInsert(ctx, dbq.WebhookInsertParams{Url: url, Types: types, Secret: reg.Secret, CreatedBy: opsID}); err != nil {
			return err
		}
		_, err = audit.Record(ctx, q, audit.Entry{OpsUserID: opsID, Action: audit.WebhookRegister, Target: audit.Webhook(reg.ID),
			Note: fmt.Sprintf("%s for %s", url, strings.Join(types, ", "))})
		return err
	})
	return reg, err
}

// Delivery is one event's delivery to a webhook, as ops see it.
type Delivery struct {
	EventID        int64
	Status         string // pending, delivered or failed
	Attempts       int
	LastStatusCode int // 0: no answer (or none yet)
	LastError      string
	NextAttemptAt  *time.Time // pending only
	DeliveredAt    *time.Time
}

// Delivery statuses.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// Deliveries lists webhook id's deliveries, newest event first, before the
// event id before (0: from the newest), of one status if status is set, at
// most limit. errs.NotFound: no such webhook.
func (w Webhooks) Deliveries(ctx context.Context, id, before int64, status string, limit int) ([]Delivery, error) {
	q := db.Queries(w.Pool)
	exists, err := q.WebhookExists(ctx, id)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, errs.New(errs.NotFound, "no such webhook")
	}
	p := dbq.WebhookDeliveryListParams{WebhookID: id, Lim: int32(limit), BeforeEvent: Optional(before)}
	if status != "" {
		p.Status = &status
	}
	rows, err := q.WebhookDeliveryList(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = Delivery{EventID: r.EventID, Status: r.Status, Attempts: int(r.Attempts), DeliveredAt: r.DeliveredAt}
		if r.LastStatusCode != nil {
			out[i].LastStatusCode = int(*r.LastStatusCode)
		}
		if r.LastError != nil {
			out[i].LastError = *r.LastError
		}
		if r.Status == Pending {
			next := r.NextAttemptAt
			out[i].NextAttemptAt = &next
		}
	}
	return out, nil
}

// fanOut queues the events numbered in (after, through] for the webhooks
// that ask for them, in the numbering's transaction: a webhook gets every
// event of its types numbered after it was registered, and each once.
func fanOut(ctx context.Context, q *dbq.Queries, after, through int64) error {
	return q.WebhookDeliveryFanOut(ctx, dbq.WebhookDeliveryFanOutParams{After: after, Through: through})
}
