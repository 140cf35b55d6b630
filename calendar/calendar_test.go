package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/calendar"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/db/dbtest"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/pii"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func opsUser(t *testing.T, q *dbq.Queries) int64 {
	u, err := q.UserInsert(context.Background(), pii.SealUser(dbq.UserInsertParams{Email: "ops@test", PasswordHash: "x", Role: "ops",
		Name: "ops", IDNumber: "110105194912310021", Phone: "13900000001"}))
	require.NoError(t, err)
	return u.ID
}

func TestPutReplacesTheYearAndIsAudited(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	q := db.Queries(pool)
	ops := opsUser(t, q)
	s := calendar.New(pool)

	y, err := s.Get(ctx, 2026)
	require.NoError(t, err)
	assert.False(t, y.Set)
	assert.Empty(t, y.Holidays)

	// Given out of order, answered in date order.
	y, err = s.Put(ctx, ops, 2026, []time.Time{day("2026-10-02"), day("2026-10-01")}, []time.Time{day("2026-10-10")})
	require.NoError(t, err)
	assert.True(t, y.Set)
	assert.Equal(t, []time.Time{day("2026-10-01"), day("2026-10-02")}, y.Holidays)
	assert.Equal(t, []time.Time{day("2026-10-10")}, y.Workdays)
	assert.Equal(t, ops, y.UpdatedBy)

	// A second Put replaces the whole year, and leaves other years alone.
	_, err = s.Put(ctx, ops, 2027, []time.Time{day("2027-01-01")}, nil)
	require.NoError(t, err)
	y, err = s.Put(ctx, ops, 2026, []time.Time{day("2026-01-01")}, nil)
	require.NoError(t, err)
	assert.Equal(t, []time.Time{day("2026-01-01")}, y.Holidays)
	assert.Empty(t, y.Workdays)
	y27, err := s.Get(ctx, 2027)
	require.NoError(t, err)
	assert.Equal(t, []time.Time{day("2027-01-01")}, y27.Holidays)

	isWorkday, err := calendar.Workdays(ctx, pool, day("2026-01-01"), day("2026-10-10"))
	require.NoError(t, err)
	assert.False(t, isWorkday(day("2026-01-01")), "a holiday Thursday")
	assert.True(t, isWorkday(day("2026-10-01")), "no longer a holiday: the year was replaced")
	assert.False(t, isWorkday(day("2026-10-10")), "no longer a make-up workday: a Saturday")
	assert.True(t, isWorkday(day("2026-01-05")), "a Monday")

	items, err := audit.List(ctx, q, audit.Filter{Action: audit.CalendarSet, Limit: 10})
	require.NoError(t, err)
	var notes []string
	for _, it := range items {
		if it.Action == audit.CalendarSet {
			notes = append(notes, it.Target+" "+it.Note)
		}
	}
	assert.ElementsMatch(t, []string{
		"calendar:2026 holidays: 2026-10-01, 2026-10-02; workdays: 2026-10-10",
		"calendar:2027 holidays: 2027-01-01; workdays: none",
		"calendar:2026 holidays: 2026-01-01; workdays: none",
	}, notes)
}

func TestPutRefusesAConfusedYear(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	ops := opsUser(t, db.Queries(pool))
	s := calendar.New(pool)
	for name, tc := range map[string]struct {
		year               int
		holidays, workdays []time.Time
		field              string
	}{
		"a day of another year":         {2026, []time.Time{day("2027-01-01")}, nil, "holidays"},
		"a day twice":                   {2026, []time.Time{day("2026-10-01")}, []time.Time{day("2026-10-01")}, "workdays"},
		"a make-up workday on a Monday": {2026, nil, []time.Time{day("2026-10-12")}, "workdays"},
		"a year out of range":           {1999, nil, nil, "year"},
	} {
		_, err := s.Put(ctx, ops, tc.year, tc.holidays, tc.workdays)
		var e *errs.Error
		if assert.ErrorAs(t, err, &e, name) {
			assert.Equal(t, errs.ValidationFailed, e.Code, name)
			assert.Equal(t, tc.field, e.Field, name)
		}
	}
	y, err := s.Get(ctx, 2026)
	require.NoError(t, err)
	assert.False(t, y.Set, "nothing was written")
}
