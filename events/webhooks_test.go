package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/delivery"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

var (
	loopback = events.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	quiet    = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// receiver is a webhook's receiving end: it checks every delivery's
// signature, answers 500 to the first failFirst attempts of each event and
// 2xx after, and keeps what it got.
type receiver struct {
	t         *testing.T
	secret    string
	failFirst int
	mu        sync.Mutex
	got       map[int64]int     // deliveries of each event id
	attempts  map[string]int    // "event/attempt" → times received
	order     map[int64][]int64 // per loan, event ids in the order received
	accepted  []int64           // event ids answered 2xx, in order
	types     map[int64]string  // event id → type
	bodies    map[int64]events.Event
	badSigs   int
}

func newReceiver(t *testing.T, failFirst int) (*receiver, *httptest.Server) {
	r := &receiver{t: t, failFirst: failFirst, got: map[int64]int{}, attempts: map[string]int{}, order: map[int64][]int64{},
		types: map[int64]string{}, bodies: map[int64]events.Event{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if events.Verify(r.secret, req.Header.Get(events.SignatureHeader), body, time.Now(), events.DefaultTolerance) != nil {
		r.badSigs++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ev struct {
		ID     int64  `json:"id"`
		Type   string `json:"type"`
		LoanID int64  `json:"loan_id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || strconv.FormatInt(ev.ID, 10) != req.Header.Get(events.EventIDHeader) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got[ev.ID]++
	r.attempts[fmt.Sprintf("%d/%s", ev.ID, req.Header.Get(events.AttemptHeader))]++
	r.order[ev.LoanID] = append(r.order[ev.LoanID], ev.ID)
	r.types[ev.ID] = ev.Type
	if r.got[ev.ID] <= r.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.accepted = append(r.accepted, ev.ID)
	w.WriteHeader(http.StatusNoContent)
}

func opsUser(t *testing.T, pool *pgxpool.Pool) int64 {
	u, err := db.Queries(pool).UserInsert(context.Background(), pii.SealUser(dbq.UserInsertParams{Email: "ops@test", PasswordHash: "x", Role: lending.RoleOps,
		Name: "ops", IDNumber: "ops", Phone: "ops"}))
	require.NoError(t, err)
	return u.ID
}

func writeEvent(t *testing.T, pool *pgxpool.Pool, typ string, loan int64) {
	require.NoError(t, events.Write(context.Background(), db.Queries(pool), events.New{Type: typ, BusinessDate: day, LoanID: loan, Data: map[string]int64{"loan": loan}}))
}

// A webhook gets each event of its types, signed: a receiver that answers 500
// to the first two tries of each and then 2xx gets each exactly three times,
// with the same id, and the platform counts three attempts; events of one
// loan arrive in id order, the next only once the one before is delivered;
// two workers delivering at once never make one attempt twice; events of
// other types never arrive.
func TestWebhookDeliveriesAreSignedRetriedAndInOrderPerLoan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	rcv, srv := newReceiver(t, 2)
	hooks := events.Webhooks{Pool: pool, Policy: loopback}
	reg, err := hooks.Register(ctx, opsUser(t, pool), srv.URL+"/hooks/lendflow", []string{"loan.*", "ledger.freeze"})
	require.NoError(t, err)
	rcv.secret = reg.Secret

	// Three loans' events interleaved, and some the webhook did not ask for.
	var want []int64
	for i := range 8 {
		for loan := int64(1); loan <= 3; loan++ {
			typ := []string{"loan.listed", "ledger.freeze", "ledger.unfreeze", "loan.full"}[(i+int(loan))%4]
			writeEvent(t, pool, typ, loan)
		}
	}
	feed, err := events.Feed(ctx, pool, 0, 100) // numbers them, and queues their deliveries
	require.NoError(t, err)
	for _, e := range feed {
		if e.Type != "ledger.unfreeze" {
			want = append(want, e.ID)
		}
	}

	quick := delivery.Schedule{First: 5 * time.Millisecond, Max: 20 * time.Millisecond, GiveUpAfter: time.Hour}
	workers := []events.Deliverer{
		{Pool: pool, Client: loopback.Client(5 * time.Second), Log: quiet, Retry: quick, Batch: 4, Parallel: 3},
		{Pool: dbtest.Another(t, pool), Client: loopback.Client(5 * time.Second), Log: quiet, Retry: quick, Batch: 5, Parallel: 2},
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for _, d := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := d.Round(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	testwait.For(t, "every delivery delivered", func() bool {
		ds, err := hooks.Deliveries(ctx, reg.ID, 0, events.Delivered, 100)
		require.NoError(t, err)
		return len(ds) == len(want)
	})
	close(done)
	wg.Wait()

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	assert.Zero(t, rcv.badSigs)
	ds, err := hooks.Deliveries(ctx, reg.ID, 0, "", 100)
	require.NoError(t, err)
	require.Len(t, ds, len(want))
	for _, d := range ds {
		assert.Equal(t, events.Delivered, d.Status)
		assert.Equal(t, 3, d.Attempts, "event %d: two 500s, then a 2xx", d.EventID)
		assert.Equal(t, 204, d.LastStatusCode)
		assert.Equal(t, d.Attempts, rcv.got[d.EventID], "event %d: received as many times as it was sent", d.EventID)
		for a := 1; a <= 3; a++ {
			assert.Equal(t, 1, rcv.attempts[fmt.Sprintf("%d/%d", d.EventID, a)], "event %d attempt %d: made once", d.EventID, a)
		}
	}
	assert.ElementsMatch(t, want, rcv.accepted, "each wanted event accepted once, no other")
	t.Logf("%d events, %d wanted, each received 3 times: %d requests", len(feed), len(want), 3*len(want))
	for loan, ids := range rcv.order {
		for i := 1; i < len(ids); i++ {
			assert.LessOrEqual(t, ids[i-1], ids[i], "loan %d: in id order, the next only after the one before: %v", loan, ids)
		}
	}
}

// A receiver that never takes an event is tried until the schedule's end,
// then the delivery is failed, and the loan's next event goes.
func TestADeliveryGivenUpLetsTheNextGo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	rcv, srv := newReceiver(t, 1000)
	hooks := events.Webhooks{Pool: pool, Policy: loopback}
	reg, err := hooks.Register(ctx, opsUser(t, pool), srv.URL, []string{"*"})
	require.NoError(t, err)
	rcv.secret = reg.Secret
	writeEvent(t, pool, "loan.listed", 1)
	writeEvent(t, pool, "loan.full", 1)
	_, err = events.Number(ctx, pool)
	require.NoError(t, err)
	d := events.Deliverer{Pool: pool, Client: loopback.Client(5 * time.Second), Log: quiet,
		Retry: delivery.Schedule{First: time.Millisecond, Max: time.Millisecond, GiveUpAfter: 30 * time.Millisecond}}
	testwait.For(t, "both given up", func() bool {
		_, err := d.Round(ctx)
		require.NoError(t, err)
		ds, err := hooks.Deliveries(ctx, reg.ID, 0, events.Failed, 10)
		require.NoError(t, err)
		return len(ds) == 2
	})
	ds, err := hooks.Deliveries(ctx, reg.ID, 0, "", 10)
	require.NoError(t, err)
	for _, x := range ds {
		assert.Equal(t, 500, x.LastStatusCode)
		assert.Equal(t, "the receiver answered 500", x.LastError)
		assert.Nil(t, x.NextAttemptAt, "no next attempt")
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	order := rcv.order[1]
	require.NotEmpty(t, order)
	last1 := -1
	for i, id := range order {
		if id == 1 {
			last1 = i
		}
	}
	for _, id := range order[last1+1:] {
		assert.Equal(t, int64(2), id)
	}
	assert.Equal(t, int64(2), order[len(order)-1], "the second event was tried only after the first was given up")
}

// Registration: an ops action, audited; refused for what is not http(s),
// carries credentials, or points at a non-public address; for no types or
// a type no event has.
func TestRegistrationRefusesWhatItMustAndIsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	ops := opsUser(t, pool)
	hooks := events.Webhooks{Pool: pool}
	for _, c := range []struct{ url, field string }{
		{"ftp://example.com/x", "url"},
		{"file:///etc/passwd", "url"},
		{"https://user:pw@example.com/", "url"},
		{"http://127.0.0.1:8080/", "url"},
		{"http://[::1]/", "url"},
		{"http://169.254.169.254/latest/meta-data", "url"},
		{"http://10.1.2.3/", "url"},
		{"http://localhost:9000/", "url"},
		{"https://example.com/#x", "url"},
	} {
		_, err := hooks.Register(ctx, ops, c.url, []string{"*"})
		assert.Equal(t, errs.ValidationFailed, errs.Code(err), c.url)
	}
	for _, types := range [][]string{nil, {"loan.paid"}, {"nosuch.*"}} {
		_, err := hooks.Register(ctx, ops, "https://example.com/hook", types)
		assert.Equal(t, errs.ValidationFailed, errs.Code(err), "%v", types)
	}
	reg, err := hooks.Register(ctx, ops, "https://example.com/hook", []string{"loan.repaid", "ledger.*", "loan.repaid"})
	require.NoError(t, err)
	assert.Len(t, reg.Secret, 6+64)
	items, err := audit.List(ctx, db.Queries(pool), audit.Filter{Target: audit.Webhook(reg.ID), Limit: 10})
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, audit.WebhookRegister, items[0].Action)
	assert.Equal(t, "https://example.com/hook for ledger.*, loan.repaid", items[0].Note)
	_, err = hooks.Deliveries(ctx, reg.ID+1, 0, "", 10)
	assert.Equal(t, errs.NotFound, errs.Code(err))
}

// The deliveries' client judges the address it dials, whatever the URL
// said at registration: a name that resolves to loopback is refused before
// a byte is sent.
func TestDeliveriesDialOnlyPublicAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{srv.URL, fmt.Sprintf("http://localhost:%d/", port)} {
		resp, err := events.Policy{}.Client(5*time.Second).Post(u, "application/json", nil)
		if resp != nil {
			resp.Body.Close()
		}
		require.ErrorIs(t, err, events.ErrAddressRefused, u)
	}
	assert.Zero(t, hits.Load())
	resp, err := loopback.Client(5*time.Second).Post(srv.URL, "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int32(1), hits.Load(), "an allowed network")
}

func TestSignatures(t *testing.T) {
	body := []byte(`{"id":1}`)
	now := time.Unix(1770000000, 0)
	h := events.Sign("whsec_x", now, body)
	assert.Regexp(t, `^t=1770000000,v1=[0-9a-f]{64}$`, h)
	assert.NoError(t, events.Verify("whsec_x", h, body, now.Add(4*time.Minute), events.DefaultTolerance))
	assert.Error(t, events.Verify("whsec_y", h, body, now, events.DefaultTolerance), "another secret")
	assert.Error(t, events.Verify("whsec_x", h, []byte(`{"id":2}`), now, events.DefaultTolerance), "another body")
	assert.Error(t, events.Verify("whsec_x", h, body, now.Add(6*time.Minute), events.DefaultTolerance), "too old")
	assert.Error(t, events.Verify("whsec_x", "v1=00", body, now, events.DefaultTolerance), "no time")
	assert.Error(t, events.Verify("whsec_x", "", body, now, events.DefaultTolerance))
}
