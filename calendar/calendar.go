// Package calendar is the bank's calendar of workdays (docs/calendar.md): the
// days the large-value payment system opens. Monday to Friday are workdays,
// except the public holidays ops set for a year; a weekend day is not, except
// the make-up workdays (调休) ops set. The calendar lives in PostgreSQL, so
// every replica judges a withdrawal by the same days.
package calendar

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lendflow/lendflow/audit"
	"github.com/lendflow/lendflow/db"
	"github.com/lendflow/lendflow/db/dbq"
	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/money"
)

// Year is one year's calendar as ops set it: its public holidays and its
// make-up workdays, each in date order. Set is false for a year never set
// (Monday to Friday throughout).
type Year struct {
	Year      int
	Holidays  []time.Time
	Workdays  []time.Time
	Set       bool
	UpdatedBy int64
	UpdatedAt time.Time
}

// Service reads and sets the calendar.
type Service struct {
	pool *pgxpool.Pool
	q    *dbq.Queries
}

// New is the calendar in pool.
func New(pool *pgxpool.Pool) *Service { return &Service{pool: pool, q: db.Queries(pool)} }

// Years ops may set: the calendar is kept for the platform's lifetime, not
// for history long gone or a far future nobody has announced.
const (
	MinYear = 2000
	MaxYear = 2100
)

// Get is year's calendar. Errors: validation_failed (a year out of range).
func (s *Service) Get(ctx context.Context, year int) (Year, error) {
	if err := checkYear(year); err != nil {
		return Year{}, err
	}
	return get(ctx, s.q, year)
}

func get(ctx context.Context, q *dbq.Queries, year int) (Year, error) {
	out := Year{Year: year, Holidays: []time.Time{}, Workdays: []time.Time{}}
	row, err := q.CalendarYearGet(ctx, int32(year))
	switch {
	case errors.Is(err, db.ErrNotFound):
		return out, nil
	case err != nil:
		return out, err
	}
	out.Set, out.UpdatedBy, out.UpdatedAt = true, row.UpdatedBy, row.UpdatedAt
	days, err := q.CalendarDaysBetween(ctx, dbq.CalendarDaysBetweenParams{First: first(year), Last: first(year+1).AddDate(0, 0, -1)})
	if err != nil {
		return out, err
	}
	for _, d := range days {
		if d.Workday {
			out.Workdays = append(out.Workdays, d.Day)
		} else {
			out.Holidays = append(out.Holidays, d.Day)
		}
	}
	return out, nil
}

// Put replaces year's calendar with these holidays and make-up workdays and
// records who did it in the audit log, in one transaction. Every date must
// fall in year and appear once; a make-up workday must be a Saturday or a
// Sunday (a weekday is a workday already: one listed is a typo). A holiday
// may fall on a weekend, as the announced spans do (春节 2026: 15–23 Feb).
// Errors: validation_failed.
func (s *Service) Put(ctx context.Context, opsID int64, year int, holidays, workdays []time.Time) (Year, error) {
	if err := checkYear(year); err != nil {
		return Year{}, err
	}
	seen := map[time.Time]string{}
	check := func(field string, days []time.Time) ([]time.Time, error) {
		out := make([]time.Time, 0, len(days))
		for _, d := range days {
			d = civil(d)
			switch {
			case d.Year() != year:
				return nil, errs.Invalid(field, "%s is not in %d", d.Format(time.DateOnly), year)
			case seen[d] != "":
				return nil, errs.Invalid(field, "%s is listed twice (in %s)", d.Format(time.DateOnly), seen[d])
			case field == "workdays" && money.DefaultWorkday(d):
				return nil, errs.Invalid(field, "%s is a %s, a workday already; a make-up workday is a Saturday or a Sunday",
					d.Format(time.DateOnly), d.Weekday())
			}
			seen[d] = field
			out = append(out, d)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
		return out, nil
	}
	holidays, err := check("holidays", holidays)
	if err != nil {
		return Year{}, err
	}
	workdays, err = check("workdays", workdays)
	if err != nil {
		return Year{}, err
	}
	var out Year
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.Queries(tx)
		if err := q.CalendarYearLock(ctx, int32(year)); err != nil {
			return err
		}
		if err := q.CalendarYearClear(ctx, int32(year)); err != nil {
			return err
		}
		for _, d := range holidays {
			if err := q.CalendarDayInsert(ctx, dbq.CalendarDayInsertParams{Day: d, Workday: false}); err != nil {
				return err
			}
		}
		for _, d := range workdays {
			if err := q.CalendarDayInsert(ctx, dbq.CalendarDayInsertParams{Day: d, Workday: true}); err != nil {
				return err
			}
		}
		if _, err := q.CalendarYearUpsert(ctx, dbq.CalendarYearUpsertParams{Year: int32(year), UpdatedBy: opsID}); err != nil {
			return err
		}
		note := fmt.Sprintf("holidays: %s; workdays: %s", dates(holidays), dates(workdays))
		if len(note) > audit.MaxNote {
			note = fmt.Sprintf("%d holidays, %d make-up workdays", len(holidays), len(workdays))
		}
		if _, err := audit.Record(ctx, q, audit.Entry{OpsUserID: opsID, Action: audit.CalendarSet, Target: audit.CalendarYear(year), Note: note}); err != nil {
			return err
		}
		var err error
		out, err = get(ctx, q, year)
		return err
	})
	return out, err
}

// Workdays reads the calendar for the days from first to last inclusive and
// answers whether a day among them is a workday (money.WithdrawalRoute's
// isWorkday). A day outside them is judged Monday to Friday.
func Workdays(ctx context.Context, d db.DBTX, firstDay, lastDay time.Time) (func(time.Time) bool, error) {
	rows, err := db.Queries(d).CalendarDaysBetween(ctx, dbq.CalendarDaysBetweenParams{First: civil(firstDay), Last: civil(lastDay)})
	if err != nil {
		return nil, fmt.Errorf("calendar: %s to %s: %w", firstDay.Format(time.DateOnly), lastDay.Format(time.DateOnly), err)
	}
	set := make(map[time.Time]bool, len(rows))
	for _, r := range rows {
		set[civil(r.Day)] = r.Workday
	}
	return func(t time.Time) bool {
		if w, ok := set[civil(t)]; ok {
			return w
		}
		return money.DefaultWorkday(t)
	}, nil
}

func checkYear(year int) error {
	if year < MinYear || year > MaxYear {
		return errs.Invalid("year", "a year from %d to %d", MinYear, MaxYear)
	}
	return nil
}

func first(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }

// civil is t's date as a date at 00:00 UTC, as PostgreSQL's DATE comes back.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func dates(ds []time.Time) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.Format(time.DateOnly)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
