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

// Contact hours are kept at delivery (docs/collection.md "Contact"): a
// borrower's overdue notice stamped 19:30 Shanghai, inside the hours, that a
// backlog or a worker restart leaves undelivered until 23:30 waits for the
// next 08:00; an investor's notice goes out at once.
func TestContactHoursAreKeptAtDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := db.Queries(dbtest.New(t))
	user := func(role lending.Role, email string) dbq.User {
		u, err := q.UserInsert(ctx, pii.SealUser(dbq.UserInsertParams{Email: email, PasswordHash: "x", Role: role, Name: "n", IDNumber: email, Phone: email}))
		require.NoError(t, err)
		return u
	}
	borrower, investor := user(lending.RoleBorrower, "b@test.cn"), user(lending.RoleInvestor, "i@test.cn")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, lending.Shanghai) }
	require.NoError(t, contact.Write(ctx, q, contact.Notice{UserID: borrower.ID, Kind: lending.NoticeOverdue, On: day, At: at(19, 30),
		Dedupe: "loan-1-installment-1-m1-dpd-1", Message: "overdue"}))
	require.NoError(t, contact.Write(ctx, q, contact.Notice{UserID: investor.ID, Kind: lending.NoticeRepaymentReceived, On: day, At: at(19, 30),
		Dedupe: "loan-1-repaid-user-2", Message: "repaid"}))

	s := &sent{}
	n, err := contact.Deliver(ctx, q, s, day, at(23, 30))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "at 23:30 only the investor's notice goes out")
	next := day.AddDate(0, 0, 1)
	n, err = contact.Deliver(ctx, q, s, next, lending.ContactAt(next).Add(-time.Minute))
	require.NoError(t, err)
	assert.Zero(t, n, "07:59: the borrower's still waits")
	n, err = contact.Deliver(ctx, q, s, next, lending.ContactAt(next))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "08:00: the borrower's goes out")
}
