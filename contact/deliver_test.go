package contact_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/delivery"
	"github.com/lendflow/lendflow/internal/proctest"
	"github.com/lendflow/lendflow/internal/testwait"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

// outbox is a database with an investor and n notices due today.
func outbox(t *testing.T, n int) (*dbq.Queries, *pgxpool.Pool, time.Time) {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.Queries(pool)
	u, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: "wang@lendflow.test", PasswordHash: "x", Role: lending.RoleInvestor, Name: "王小明", IDNumber: "1", Phone: "1"}))
	require.NoError(t, err)
	today := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		amount := lending.MinAmount
		require.NoError(t, contact.Write(ctx, q, contact.Notice{UserID: u.ID, Kind: lending.NoticeRepaymentReceived, LoanID: 0, Amount: &amount,
			On: today, Dedupe: fmt.Sprintf("n-%d", i), Message: fmt.Sprintf("notice %d", i)}))
	}
	return q, pool, today
}

// counting counts the sends of each notice; fail says which attempts fail.
type counting struct {
	mu       sync.Mutex
	sends    map[int64]int
	attempts map[int64][]int
	fail     func(o contact.Outgoing) error
	block    chan struct{} // when set, every send waits for it
}

func newCounting() *counting {
	return &counting{sends: map[int64]int{}, attempts: map[int64][]int{}}
}

func (c *counting) Send(ctx context.Context, o contact.Outgoing) error {
	if c.block != nil {
		select {
		case <-c.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts[o.ID] = append(c.attempts[o.ID], o.Attempt)
	if c.fail != nil {
		if err := c.fail(o); err != nil {
			return err
		}
	}
	c.sends[o.ID]++
	return nil
}

func (c *counting) count(id int64) (int, []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends[id], append([]int(nil), c.attempts[id]...)
}

// A sender that fails is tried again by the backoff schedule until it takes
// the notice; each attempt is counted, and the notice goes out once.
func TestAFailedSendIsRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	q, pool, today := outbox(t, 1)
	ctx := context.Background()
	s := newCounting()
	s.fail = func(o contact.Outgoing) error {
		if o.Attempt < 3 {
			return errors.New("451 try again later")
		}
		return nil
	}
	d := contact.Deliverer{Q: q, Sender: s, Retry: delivery.Schedule{First: 50 * time.Millisecond, Max: time.Second, GiveUpAfter: time.Hour}}
	due := contact.Due{Today: today, WholeDay: true}
	n, err := d.Round(ctx, due)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = d.Round(ctx, due)
	require.NoError(t, err)
	assert.Zero(t, n, "not due again before its backoff")
	total := 0
	testwait.For(t, "the third attempt", func() bool {
		n, err := d.Round(ctx, due)
		require.NoError(t, err)
		total += n
		return total == 1
	})
	var id int64
	var attempts int
	var lastError *string
	require.NoError(t, pool.QueryRow(ctx, `SELECT id, attempts, last_error FROM notifications`).Scan(&id, &attempts, &lastError))
	sends, tries := s.count(id)
	assert.Equal(t, 1, sends)
	assert.Equal(t, []int{1, 2, 3}, tries)
	assert.Equal(t, 3, attempts)
	assert.Nil(t, lastError, "cleared once sent")
	n, err = d.Round(ctx, due)
	require.NoError(t, err)
	assert.Zero(t, n, "sent once")
}

// A notice refused for good (the mailbox does not exist), or still failing at
// the schedule's end, is given up: never tried again.
func TestASendRefusedForGoodIsGivenUp(t *testing.T) {
	t.Parallel()
	q, pool, today := outbox(t, 2)
	ctx := context.Background()
	s := newCounting()
	s.fail = func(o contact.Outgoing) error {
		if o.Message == "notice 0" {
			return contact.Permanent(errors.New("550 no such mailbox"))
		}
		return errors.New("421 busy")
	}
	d := contact.Deliverer{Q: q, Sender: s, Retry: delivery.Schedule{First: time.Millisecond, Max: time.Millisecond, GiveUpAfter: 0}}
	due := contact.Due{Today: today, WholeDay: true}
	for range 3 {
		_, err := d.Round(ctx, due)
		require.NoError(t, err)
	}
	var failed, tries int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE failed_at IS NOT NULL AND delivered_at IS NULL), sum(attempts) FROM notifications`).Scan(&failed, &tries))
	assert.Equal(t, 2, failed)
	assert.Equal(t, 2, tries, "each tried once")
}

// A notice claimed by one worker is not sent by another while the claim's
// lease runs, whatever their rounds do; once the lease has run out (the
// first worker died between its send and its mark) it is sent again as the
// next attempt, under the same Message-ID.
func TestAClaimKeepsASecondWorkerOff(t *testing.T) {
	t.Parallel()
	q, pool, today := outbox(t, 1)
	ctx := context.Background()
	due := contact.Due{Today: today, WholeDay: true}
	first := newCounting()
	first.block = make(chan struct{})
	done := make(chan int)
	go func() {
		n, _ := contact.Deliverer{Q: q, Sender: first}.Round(ctx, due)
		done <- n
	}()
	testwait.For(t, "the first worker's claim", func() bool {
		var claimed bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT claimed_until IS NOT NULL FROM notifications`).Scan(&claimed))
		return claimed
	})
	second := newCounting()
	n, err := contact.Deliverer{Q: q, Sender: second}.Round(ctx, due)
	require.NoError(t, err)
	assert.Zero(t, n, "claimed by the first")
	close(first.block)
	assert.Equal(t, 1, <-done)

	// A worker that died after its send, before its mark: its lease ends.
	require.NoError(t, exec(t, pool, `UPDATE notifications SET delivered_at = NULL, claimed_until = now() - interval '1 second'`))
	n, err = contact.Deliverer{Q: q, Sender: second}.Round(ctx, due)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM notifications`).Scan(&id))
	_, tries := second.count(id)
	assert.Equal(t, []int{2}, tries, "the second attempt")
}

// Two workers delivering at once, round after round, each on its own
// connections: every notice goes out exactly once.
func TestTwoWorkersSendEachNoticeOnce(t *testing.T) {
	t.Parallel()
	q, pool, today := outbox(t, 120)
	ctx := context.Background()
	s := newCounting()
	due := contact.Due{Today: today, WholeDay: true}
	var wg sync.WaitGroup
	for _, q := range []*dbq.Queries{q, db.Queries(dbtest.Another(t, pool))} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := contact.Deliverer{Q: q, Sender: s, Batch: 7, Parallel: 3}
			for range 10 {
				if _, err := d.Round(ctx, due); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.sends, 120)
	for id, n := range s.sends {
		assert.Equal(t, 1, n, "notice %d", id)
	}
}

// The SMTP sender hands each notice to the mail server as one e-mail to the
// user's address: its subject says what and which loan, its Message-ID is
// the notice's, and a Chinese name and message arrive intact. A recipient
// the server refuses is a permanent failure.
func TestSMTPSenderDeliversToAMailServer(t *testing.T) {
	t.Parallel()
	mp := proctest.StartMailpit(t, "--smtp-allowed-recipients", `@lendflow\.test$`)
	host, port, ok := strings.Cut(mp.SMTP, ":")
	require.True(t, ok)
	var p int
	_, err := fmt.Sscan(port, &p)
	require.NoError(t, err)
	s, err := contact.NewSMTPSender(contact.SMTPConfig{Host: host, Port: p, From: "lendflow <notices@lendflow.test>", TLS: contact.TLSNone})
	require.NoError(t, err)
	amount := lending.MinAmount
	o := contact.Outgoing{ID: 42, UserID: 7, Email: "wang@lendflow.test", Name: "王小明", Role: lending.RoleBorrower,
		Kind: lending.NoticeOverdue, LoanID: 9, Installment: 2, Amount: &amount, BusinessDate: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Message: "贷款 9：第 2 期已逾期 1 天。Please repay.", Attempt: 1}
	require.NoError(t, s.Send(context.Background(), o))
	msgs := mp.Messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, "notification-42@lendflow.test", m.MessageID)
	assert.Equal(t, "lendflow: Overdue notice (loan 9)", m.Subject)
	require.Len(t, m.To, 1)
	assert.Equal(t, proctest.MailAddress{Name: "王小明", Address: "wang@lendflow.test"}, m.To[0])
	assert.Equal(t, "notices@lendflow.test", m.From.Address)
	text := mp.Text(m.ID)
	assert.Contains(t, text, "Dear 王小明,")
	assert.Contains(t, text, "贷款 9：第 2 期已逾期 1 天。Please repay.")
	assert.Contains(t, text, "Business date: 2026-03-02")

	o.Email = "someone@elsewhere.example"
	err = s.Send(context.Background(), o)
	require.Error(t, err)
	assert.True(t, contact.IsPermanent(err), "%v", err)

	// Nobody listening: worth retrying.
	down, err := contact.NewSMTPSender(contact.SMTPConfig{Host: "127.0.0.1", Port: 1, From: "notices@lendflow.test", TLS: contact.TLSNone})
	require.NoError(t, err)
	err = down.Send(context.Background(), o)
	require.Error(t, err)
	assert.False(t, contact.IsPermanent(err))
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string) error {
	_, err := pool.Exec(context.Background(), sql)
	return err
}

func TestEveryKindHasASubject(t *testing.T) {
	for _, k := range lending.NoticeKinds {
		s := contact.Subject(contact.Outgoing{Kind: k})
		assert.NotEqual(t, "lendflow: Notice", s, "kind %s", k)
	}
	assert.Equal(t, "<notification-5@example.com>", contact.MessageID(5, "example.com"))
}
