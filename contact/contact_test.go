package contact_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/contact"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/lending"
	"github.com/lendflow/lendflow/pii"
)

type sent struct{ ids []int64 }

func (s *sent) Send(_ context.Context, o contact.Outgoing) error {
	s.ids = append(s.ids, o.ID)
	return nil
}

// A notice is written once per its identity, reaches its person on its
// business date inside contact hours (a reminder written ahead waits for its
// day), and is delivered once.
func TestOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := db.Queries(dbtest.New(t))
	u, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: "b@test.cn", PasswordHash: "x", Role: lending.RoleBorrower, Name: "n", IDNumber: "1", Phone: "1"}))
	require.NoError(t, err)
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 2; i++ { // the same notice twice: one row
		require.NoError(t, contact.Write(ctx, q, contact.Notice{UserID: u.ID, Kind: lending.NoticeOverdue, On: today, Dedupe: "loan-1-m1-dpd-1", Message: "overdue"}))
	}
	require.NoError(t, contact.Write(ctx, q, contact.Notice{UserID: u.ID, Kind: lending.NoticeReminder, On: today.AddDate(0, 0, 25), Dedupe: "loan-1-installment-2-reminder", Message: "due soon"}))

	s := &sent{}
	// 07:59 platform time: nothing reaches the borrower yet.
	n, err := contact.Deliver(ctx, q, s, today, lending.ContactAt(today).Add(-time.Minute))
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = contact.Deliver(ctx, q, s, today, lending.ContactAt(today))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the overdue notice; the reminder waits for its day")
	n, err = contact.Deliver(ctx, q, s, today, lending.ContactAt(today).Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "delivered once")
	n, err = contact.Deliver(ctx, q, s, today.AddDate(0, 0, 25), lending.ContactAt(today.AddDate(0, 0, 25)))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, s.ids, 2)
}
