package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/app"
	"github.com/lendflow/lendflow/bank/sim"
	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/events"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lending"
)

// hookReceiver is an integrator's webhook endpoint: it checks each
// delivery's signature, answers 500 to the first two requests it gets, 204
// after, and keeps what came.
type hookReceiver struct {
	mu       sync.Mutex
	secret   string
	requests int
	got      map[int64]int      // requests for each event id
	accepted map[int64]int      // 2xx answers for each event id
	byKey    map[string][]int64 // event ids of each loan (or, without one, user), in the order they came
	badSigs  int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.secret == "" || events.Verify(h.secret, r.Header.Get(events.SignatureHeader), body, time.Now(), events.DefaultTolerance) != nil {
		h.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID     int64 `json:"id"`
		LoanID int64 `json:"loan_id"`
		UserID int64 `json:"user_id"`
	}
	if json.Unmarshal(body, &ev) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.requests++
	h.got[ev.ID]++
	key := fmt.Sprintf("loan %d", ev.LoanID)
	if ev.LoanID == 0 {
		key = fmt.Sprintf("user %d", ev.UserID)
	}
	h.byKey[key] = append(h.byKey[key], ev.ID)
	if h.requests <= 2 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	h.accepted[ev.ID]++
	w.WriteHeader(http.StatusNoContent)
}

// TestNoticesReachPeopleAndIntegrators carries a loan through its life with
// Mailpit as the mail server and an integrator's webhook registered, by the
// HTTP API alone (issue 22):
//   - every notification is an e-mail Mailpit received once, to its user's
//     address, under the notice's Message-ID and its kind's subject: the
//     recharges, the disbursement to the borrower and each investor, the
//     reminders, the repayments; and, of a second loan that expires, the
//     listing's expiry and each released bid;
//   - the feed has every status change of the loan and every movement, ids
//     1, 2, 3… without a gap;
//   - the webhook, answering 500 to its first two requests, gets every
//     event, each accepted once, each request counted as an attempt, and a
//     loan's events in id order.
func TestNoticesReachPeopleAndIntegrators(t *testing.T) {
	t.Parallel()
	mp := proctest.StartMailpit(t)
	host, portText, _ := strings.Cut(mp.SMTP, ":")
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	hook := &hookReceiver{got: map[int64]int{}, accepted: map[int64]int{}, byKey: map[string][]int64{}}
	receiver := httptest.NewServer(hook)
	defer receiver.Close()
	s := startWith(t, "2026-03-01", func(c *app.Config, _ *sim.Config) {
		c.SMTP = contact.SMTPConfig{Host: host, Port: port, From: "lendflow <notices@lendflow.test>", TLS: contact.TLSNone}
		c.WebhookAllowNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.SweepEvery = time.Second
	})
	ops := s.call("POST", "/v1/auth/login", "", obj{"email": "ops@lendflow.test", "password": "ops-password-1"}, 200)["token"].(string)
	reg := s.call("POST", "/v1/ops/webhooks", ops, obj{"url": receiver.URL + "/lendflow", "types": []string{"loan.*", "ledger.*"}}, 201)
	hook.mu.Lock()
	hook.secret = reg["secret"].(string)
	hook.mu.Unlock()

	borrower := s.signUp("borrower", "张三")
	invs := []person{s.investor("李四", "2500.00"), s.investor("王五", "1000.00")}
	s.call("POST", "/v1/me/recharges", borrower.token, obj{"amount": "200.00"}, 201)

	// The loan: 3,000.00 over 2 months, filled by 2,000.00 and 1,000.00.
	id := s.listed(ops, borrower, "3000.00", 2)
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), invs[0].token, obj{"amount": "2000.00"}, 201)
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", id), invs[1].token, obj{"amount": "1000.00"}, 201)
	s.waitFor("review", func() bool { return s.loanStatus(ops, id) == "full_review" })
	s.call("POST", fmt.Sprintf("/v1/ops/loans/%.0f/full-tender-review", id), ops, obj{"decision": "approve", "note": "ok"}, 200)
	s.waitFor("repaying", func() bool { return s.loanStatus(ops, id) == "repaying" })
	// A second listing, which the first investor's last 500.00 bids on and
	// which expires on 8 March (流标).
	unfilled := s.listed(ops, borrower, "12000.00", 2) // not a newbie listing (新手标): the investor has bid before
	s.call("POST", fmt.Sprintf("/v1/listings/%.0f/bids", unfilled), invs[0].token, obj{"amount": "500.00"}, 201)
	s.call("POST", fmt.Sprintf("/v1/loans/%.0f/repayment-authorization", id), borrower.token, obj{"max_amount": "2000.00", "expires_on": "2026-12-31"}, 201)
	s.call("POST", "/v1/ops/clock/advance", ops, obj{"to": "2026-05-02"}, 200)
	require.Equal(t, "repaid", s.loanStatus(ops, id))
	require.Equal(t, "expired", s.loanStatus(ops, unfilled))

	// E-mail: every notice dated up to today, once, as Mailpit received it.
	ctx := context.Background()
	pool, err := db.Open(ctx, s.dbURL, "")
	require.NoError(t, err)
	defer pool.Close()
	type notice struct {
		id                int64
		email, kind, date string
		loan              int64
	}
	var notices []notice
	testwait.For(t, "every notice delivered by e-mail", func() bool {
		rows, err := pool.Query(ctx, `SELECT n.id, u.email, n.kind, n.business_date::text, COALESCE(n.loan_id, 0), n.delivered_at IS NOT NULL
			FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.business_date <= '2026-05-02' ORDER BY n.business_date, n.id`)
		require.NoError(t, err)
		defer rows.Close()
		notices = notices[:0]
		all := true
		for rows.Next() {
			var n notice
			var delivered bool
			require.NoError(t, rows.Scan(&n.id, &n.email, &n.kind, &n.date, &n.loan, &delivered))
			notices = append(notices, n)
			all = all && delivered
		}
		require.NoError(t, rows.Err())
		return all && len(mp.Messages()) == len(notices)
	})
	byID := map[string]proctest.Mail{}
	for _, m := range mp.Messages() {
		_, dup := byID[m.MessageID]
		require.False(t, dup, "%s received twice", m.MessageID)
		byID[m.MessageID] = m
	}
	kinds := map[string]int{}
	var lifeOfTheLoan []string
	for _, n := range notices {
		m, ok := byID[fmt.Sprintf("notification-%d@lendflow.test", n.id)]
		require.True(t, ok, "notice %d (%s) has no e-mail", n.id, n.kind)
		require.Len(t, m.To, 1)
		assert.Equal(t, n.email, m.To[0].Address, "notice %d", n.id)
		assert.Equal(t, contact.Subject(contact.Outgoing{Kind: lending.NoticeKind(n.kind), LoanID: n.loan}), m.Subject, "notice %d", n.id)
		kinds[n.kind]++
		if n.loan == int64(id) || n.loan == 0 {
			lifeOfTheLoan = append(lifeOfTheLoan, fmt.Sprintf("%s  %-24s %s", n.date, m.To[0].Address, m.Subject))
		}
	}
	t.Logf("the e-mails of loan %.0f's life (and the recharges), by business date, as Mailpit has them:\n%s", id, strings.Join(lifeOfTheLoan, "\n"))
	assert.Equal(t, map[string]int{
		"recharge_succeeded": 3, "disbursed": 3, "repayment_reminder": 2, "repayment_received": 6,
		"listing_expired": 1, "bid_released": 1,
	}, kinds, "borrower and 2 investors on the disbursement; 2 installments each paid to the borrower and the 2 holders")

	// The feed: every event, ids without a gap; the loan's status changes
	// and movements among them.
	var feed []obj
	for after := 0.0; ; {
		page := s.call("GET", fmt.Sprintf("/v1/ops/events?after=%.0f&limit=7", after), ops, nil, 200)
		items := page["items"].([]any)
		for _, it := range items {
			feed = append(feed, it.(obj))
		}
		if len(items) == 0 {
			require.Equal(t, after, page["next_after"])
			break
		}
		after = page["next_after"].(float64)
	}
	var statuses, movements []string
	for i, e := range feed {
		require.Equal(t, float64(i+1), e["id"], "ids 1, 2, 3… without a gap")
		if e["loan_id"] != id {
			continue
		}
		if typ := e["type"].(string); strings.HasPrefix(typ, "loan.") {
			statuses = append(statuses, strings.TrimPrefix(typ, "loan."))
		} else {
			data := e["data"].(obj)
			movements = append(movements, typ+" "+data["amount"].(string))
		}
	}
	assert.Equal(t, []string{"submitted", "screening", "approved", "listed", "full", "full_review", "disbursing", "repaying", "repaid"}, statuses)
	assert.Equal(t, []string{"ledger.freeze 2000.00", "ledger.freeze 1000.00", "ledger.disbursement 3000.00",
		"ledger.repayment 1512.20", "ledger.repayment 1512.20"}, movements,
		"grade A, 6.5 %% equal installments: 1,495.95 + 16.25, then 1,504.05 + 8.15")

	// The webhook: every event of the feed, each accepted once, in order per loan.
	deliveriesPath := fmt.Sprintf("/v1/ops/webhooks/%.0f/deliveries?limit=100&status=delivered", reg["webhook_id"].(float64))
	var deliveries []any
	testwait.For(t, "every event delivered to the webhook", func() bool {
		deliveries = s.call("GET", deliveriesPath, ops, nil, 200)["items"].([]any)
		return len(deliveries) == len(feed)
	})
	hook.mu.Lock()
	defer hook.mu.Unlock()
	assert.Zero(t, hook.badSigs)
	retried := 0
	for _, d := range deliveries {
		d := d.(obj)
		eid := int64(d["event_id"].(float64))
		assert.Equal(t, "delivered", d["status"])
		assert.Equal(t, 1, hook.accepted[eid], "event %d accepted once", eid)
		assert.Equal(t, int(d["attempts"].(float64)), hook.got[eid], "event %d: received as often as it was sent", eid)
		if hook.got[eid] > 1 {
			retried++
		}
	}
	assert.Equal(t, 2, retried, "the two answered 500 came again")
	for key, ids := range hook.byKey {
		for i := 1; i < len(ids); i++ {
			assert.LessOrEqual(t, ids[i-1], ids[i], "%s's events in id order: %v", key, ids)
		}
	}
	t.Logf("feed: %d events; webhook: %d requests, %d events retried once", len(feed), hook.requests, retried)
}
