package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/lending"
)

func opsUser(t *testing.T, q *dbq.Queries) int64 {
	u, err := q.UserInsert(context.Background(), dbq.UserInsertParams{Email: "ops@test", PasswordHash: "x", Role: lending.RoleOps, Name: "ops"})
	require.NoError(t, err)
	return u.ID
}

// The log is append-only, whoever asks: the database refuses UPDATE,
// DELETE and TRUNCATE of it.
func TestAppendOnly(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	q := db.Queries(pool)
	ops := opsUser(t, q)
	it, err := audit.Record(ctx, q, audit.Entry{OpsUserID: ops, Action: audit.WriteOff, Target: audit.Loan(42), Note: "uncollectable"})
	require.NoError(t, err)
	assert.Equal(t, audit.Item{ID: it.ID, At: it.At, OpsUserID: ops, Action: audit.WriteOff, Target: "loan:42", Note: "uncollectable"}, it)
	assert.WithinDuration(t, time.Now(), it.At, time.Minute)

	for _, sql := range []string{
		`UPDATE audit_log SET note = 'nothing happened'`,
		`UPDATE audit_log SET ops_user_id = ops_user_id`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		_, err := pool.Exec(ctx, sql)
		require.Error(t, err, sql)
		assert.Contains(t, err.Error(), "audit_log is append-only", sql)
	}
	items, err := audit.List(ctx, q, audit.Filter{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []audit.Item{it}, items, "the entry is as it was written")

	// The record commits with the effect, or neither does.
	wantErr := errors.New("the effect failed")
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := audit.Record(ctx, db.Queries(tx), audit.Entry{OpsUserID: ops, Action: audit.Recovery, Target: audit.Loan(42), Note: "500.00"}); err != nil {
			return err
		}
		return wantErr
	})
	require.ErrorIs(t, err, wantErr)
	items, err = audit.List(ctx, q, audit.Filter{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, items, 1, "rolled back with its transaction")
}

func TestRecordRefusesIncompleteEntries(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	q := db.Queries(pool)
	ops := opsUser(t, q)
	for name, e := range map[string]audit.Entry{
		"no ops user":   {Action: audit.UserLock, Target: audit.User(1)},
		"no action":     {OpsUserID: ops, Target: audit.User(1)},
		"unknown":       {OpsUserID: ops, Action: "drop_tables", Target: audit.User(1)},
		"no target":     {OpsUserID: ops, Action: audit.UserLock},
		"note too long": {OpsUserID: ops, Action: audit.UserLock, Target: audit.User(1), Note: strings.Repeat("x", audit.MaxNote+1)},
	} {
		_, err := audit.Record(context.Background(), q, e)
		assert.ErrorIs(t, err, audit.ErrInvalid, name)
	}
	_, err := audit.Record(context.Background(), q, audit.Entry{OpsUserID: ops + 1000, Action: audit.UserLock, Target: audit.User(1)})
	assert.Error(t, err, "the ops user must exist")
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	q := db.Queries(pool)
	ops := opsUser(t, q)
	var ids []int64
	for _, e := range []audit.Entry{
		{OpsUserID: ops, Action: audit.UserLock, Target: audit.User(7), Note: "1"},
		{OpsUserID: ops, Action: audit.ClockAdvance, Target: audit.Clock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), Note: "2"},
		{OpsUserID: ops, Action: audit.UserUnlock, Target: audit.User(7), Note: "3"},
		{OpsUserID: ops, Action: audit.BlacklistAdd, Target: audit.IDNumber("3301**********1234"), Note: "4"},
	} {
		it, err := audit.Record(ctx, q, e)
		require.NoError(t, err)
		ids = append(ids, it.ID)
	}
	notes := func(f audit.Filter) string {
		items, err := audit.List(ctx, q, f)
		require.NoError(t, err)
		var out []string
		for _, it := range items {
			out = append(out, it.Note)
		}
		return strings.Join(out, ",")
	}
	assert.Equal(t, "4,3,2,1", notes(audit.Filter{Limit: 10}), "newest first")
	assert.Equal(t, "4,3", notes(audit.Filter{Limit: 2}))
	assert.Equal(t, "2,1", notes(audit.Filter{BeforeID: ids[2], Limit: 2}))
	assert.Equal(t, "3,1", notes(audit.Filter{Target: "user:7", Limit: 10}))
	assert.Equal(t, "3", notes(audit.Filter{Target: "user:7", Action: audit.UserUnlock, Limit: 10}))
	assert.Equal(t, "2", notes(audit.Filter{Target: "clock:2026-03-01", Limit: 10}))
	assert.Equal(t, "4", notes(audit.Filter{Target: "id_number:3301**********1234", Limit: 10}))
}

func TestActions(t *testing.T) {
	seen := map[audit.Action]bool{}
	for _, a := range audit.Actions {
		assert.True(t, a.Valid())
		assert.False(t, seen[a], "%s twice", a)
		seen[a] = true
	}
	assert.False(t, audit.Action("due-diligence").Valid())
	assert.Equal(t, audit.Action("due_diligence"), audit.DueDiligence)
}
