package events

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/delivery"
)

// Deliverer POSTs the queued events to their webhooks (docs/events.md
// "Webhooks"): a round claims the deliveries due, each for a lease and as one
// more attempt, so a second worker never makes the same attempt; sends each
// signed; and marks it delivered on a 2xx, or due again by the backoff
// schedule, or failed once the schedule is over (3 days).
type Deliverer struct {
	Pool   *pgxpool.Pool
	Client *http.Client // Policy.Client: judges every address it dials
	Log    *slog.Logger
	// Retry is the schedule after a failed attempt; zero: delivery.Default.
	Retry delivery.Schedule
	// Timeout bounds one attempt; zero: DefaultTimeout. The claim's lease is
	// six times it: an attempt never outlives its claim.
	Timeout time.Duration
	// Batch is how many deliveries a claim takes (zero: 100), Parallel how
	// many are sent at once (zero: 8); the claim gives at most one of each
	// webhook and loan, so they may go in parallel and stay in order.
	Batch, Parallel int
	Now             func() time.Time // the signature's clock; nil: time.Now
}

// DefaultTimeout bounds one delivery attempt.
const DefaultTimeout = 10 * time.Second

// Delivery headers besides SignatureHeader: receivers deduplicate on the
// event id, which the body carries too.
const (
	EventIDHeader = "Lendflow-Event-Id"
	TypeHeader    = "Lendflow-Event-Type"
	AttemptHeader = "Lendflow-Delivery-Attempt"
)

// Round delivers what is due and answers how many deliveries succeeded.
func (d Deliverer) Round(ctx context.Context) (int, error) {
	d.Retry = d.Retry.Or(delivery.Default)
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Client == nil {
		d.Client = Policy{}.Client(d.Timeout)
	}
	q := db.Queries(d.Pool)
	claim := func(ctx context.Context, lim int) ([]dbq.WebhookDeliveryClaimRow, error) {
		return q.WebhookDeliveryClaim(ctx, dbq.WebhookDeliveryClaimParams{LeaseSeconds: (6 * d.Timeout).Seconds(), Lim: int32(lim)})
	}
	return delivery.Drain(ctx, cmp.Or(d.Batch, 100), cmp.Or(d.Parallel, 8), claim, func(ctx context.Context, c dbq.WebhookDeliveryClaimRow) (bool, error) {
		return d.attempt(ctx, q, c)
	})
}

// attempt sends one claimed delivery and writes its result; it answers
// whether the receiver took it, and an error only when the result could not
// be written.
func (d Deliverer) attempt(ctx context.Context, q *dbq.Queries, c dbq.WebhookDeliveryClaimRow) (bool, error) {
	ev := Event{ID: c.EventID, Type: c.Type, At: c.At, BusinessDate: c.BusinessDate, Data: c.Data}
	if c.LoanID != nil {
		ev.LoanID = *c.LoanID
	}
	if c.UserID != nil {
		ev.UserID = *c.UserID
	}
	code, err := d.post(ctx, c, ev)
	res := dbq.WebhookDeliveryDoneParams{WebhookID: c.WebhookID, EventID: c.EventID, Attempt: c.Attempts, Status: Delivered, NextAttemptAt: time.Now()}
	if code != 0 {
		code32 := int32(code)
		res.LastStatusCode = &code32
	}
	outcome := Delivered
	if err != nil {
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		res.LastError = &msg
		var giveUp bool
		res.NextAttemptAt, giveUp = d.Retry.Next(int(c.Attempts), c.FirstAttemptAt, time.Now())
		res.Status, outcome = Pending, "retry"
		if giveUp {
			res.Status, outcome = Failed, "given_up"
		}
		d.Log.Warn("webhook delivery failed", "webhook_id", c.WebhookID, "event_id", c.EventID, "attempt", c.Attempts,
			"status_code", code, "outcome", outcome, "error", err)
	}
	deliveries.WithLabelValues(outcome).Inc()
	if werr := q.WebhookDeliveryDone(context.WithoutCancel(ctx), res); werr != nil {
		return err == nil, fmt.Errorf("webhook %d event %d: %w", c.WebhookID, c.EventID, werr)
	}
	return err == nil, nil
}

// post sends ev to the claimed delivery's URL, signed, and answers the
// status code (0: no answer) and, unless it is a 2xx, why it failed.
func (d Deliverer) post(ctx context.Context, c dbq.WebhookDeliveryClaimRow, ev Event) (int, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	rctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.Url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lendflow-webhooks/1")
	req.Header.Set(SignatureHeader, Sign(c.Secret, d.Now(), body))
	req.Header.Set(EventIDHeader, strconv.FormatInt(ev.ID, 10))
	req.Header.Set(TypeHeader, ev.Type)
	req.Header.Set(AttemptHeader, strconv.Itoa(int(c.Attempts)))
	start := time.Now()
	resp, err := d.Client.Do(req)
	deliverySeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// What the receiver says is not ours to keep; a little is read so the
	// connection can be used again.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
