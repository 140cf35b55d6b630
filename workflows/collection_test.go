package workflows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/lending"
)

// A 3-month loan disbursed on 31 January: due 28 Feb, 31 Mar, 30 Apr.
var threeDue = []time.Time{date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)}

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// spell is a stop as a test reads it: "2026-03-01 auto_debit,mark_overdue,m1 (1, DPD 1)".
func spell(s Stop) string {
	steps := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		steps[i] = string(st)
	}
	return fmt.Sprintf("%s %s (%d, DPD %d)", s.On.Format(time.DateOnly), strings.Join(steps, ","), s.Installment, s.DPD)
}

// walk takes every stop up to and including until and spells each. debit maps
// a stop's date to the installment its auto-debit closes through. hand maps a
// date to the installment a repayment by hand on that date closes through: it
// comes before that date's stop (the workflow handles a person's request
// before the dated steps it has not taken yet), on a date with or without a
// stop.
func walk(c *Collection, until time.Time, hand map[string]int, debit ...map[string]int) []string {
	pay := hand
	var got []string
	paid := map[string]bool{}
	payUpTo := func(day time.Time) {
		for p := c.Through; !p.After(day); p = p.AddDate(0, 0, 1) {
			if through, ok := pay[p.Format(time.DateOnly)]; ok && !paid[p.Format(time.DateOnly)] {
				paid[p.Format(time.DateOnly)] = true
				c.Paid(through)
			}
		}
	}
	for {
		s, ok := c.NextStop()
		if ok && !s.On.After(until) {
			payUpTo(s.On)
			if s, ok = c.NextStop(); !ok || s.On.After(until) {
				return got
			}
		}
		if !ok || s.On.After(until) {
			payUpTo(until)
			return got
		}
		got = append(got, spell(s))
		c.Take(s)
		for _, m := range debit {
			if through, ok := m[s.On.Format(time.DateOnly)]; ok {
				c.Paid(through)
			}
		}
	}
}

func TestCollectionSteps(t *testing.T) {
	cases := []struct {
		name        string
		until       string
		hand, debit map[string]int
		want        []string
	}{{
		name:  "auto-debited on every due date: one stop per installment, then closed",
		until: "2027-01-01",
		debit: map[string]int{"2026-02-28": 1, "2026-03-31": 2, "2026-04-30": 3},
		want: []string{
			"2026-02-28 auto_debit (1, DPD 0)",
			"2026-03-31 auto_debit (2, DPD 0)",
			"2026-04-30 auto_debit (3, DPD 0)",
		},
	}, {
		name:  "never paid: the whole ladder in date order, later installments marked as they fall due",
		until: "2026-07-01",
		want: []string{
			"2026-02-28 auto_debit (1, DPD 0)",
			"2026-03-01 auto_debit,mark_overdue,m1 (1, DPD 1)",
			"2026-03-08 auto_debit,m1 (1, DPD 8)",
			"2026-03-15 auto_debit,m1 (1, DPD 15)",
			"2026-03-22 auto_debit,m1 (1, DPD 22)",
			"2026-03-31 auto_debit,m2 (1, DPD 31)", // installment 2 falls due on the M2 day
			"2026-04-01 mark_overdue (1, DPD 32)",
			"2026-04-30 auto_debit,m3 (1, DPD 61)",
			"2026-05-01 mark_overdue (1, DPD 62)",
			"2026-05-30 auto_debit,write_off_request (1, DPD 91)",
		},
	}, {
		name:  "paid in the middle of the delinquency: the loan is current again until the next due date",
		until: "2026-04-20",
		hand:  map[string]int{"2026-03-10": 1},
		want: []string{
			"2026-02-28 auto_debit (1, DPD 0)",
			"2026-03-01 auto_debit,mark_overdue,m1 (1, DPD 1)",
			"2026-03-08 auto_debit,m1 (1, DPD 8)",
			"2026-03-31 auto_debit (2, DPD 0)",
			"2026-04-01 auto_debit,mark_overdue,m1 (2, DPD 1)",
			"2026-04-08 auto_debit,m1 (2, DPD 8)",
			"2026-04-15 auto_debit,m1 (2, DPD 15)",
		},
	}, {
		name:  "the oldest paid while the next is overdue: the next one's ladder goes on from the cursor",
		until: "2026-04-30",
		hand:  map[string]int{"2026-04-05": 1},
		want: []string{
			"2026-02-28 auto_debit (1, DPD 0)",
			"2026-03-01 auto_debit,mark_overdue,m1 (1, DPD 1)",
			"2026-03-08 auto_debit,m1 (1, DPD 8)",
			"2026-03-15 auto_debit,m1 (1, DPD 15)",
			"2026-03-22 auto_debit,m1 (1, DPD 22)",
			"2026-03-31 auto_debit,m2 (1, DPD 31)",
			"2026-04-01 mark_overdue (1, DPD 32)",
			// Installment 2's DPD 1 step is behind the cursor: its own DPD 8 comes next.
			"2026-04-08 auto_debit,m1 (2, DPD 8)",
			"2026-04-15 auto_debit,m1 (2, DPD 15)",
			"2026-04-22 auto_debit,m1 (2, DPD 22)",
			"2026-04-30 auto_debit (2, DPD 30)",
		},
	}, {
		name:  "paid by hand before the due date: that installment's auto-debit never comes",
		until: "2026-04-01",
		hand:  map[string]int{"2026-02-20": 1},
		debit: map[string]int{"2026-03-31": 2},
		want:  []string{"2026-03-31 auto_debit (2, DPD 0)"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollection(threeDue, date(2026, 1, 31))
			assert.Equal(t, tc.want, walk(&c, d(tc.until), tc.hand, tc.debit))
		})
	}
}

// TestCollectionDateJump: the clock moves 40 days at once. Nothing is
// dropped: every stop in the window is taken, late, in date order.
func TestCollectionDateJump(t *testing.T) {
	c := NewCollection(threeDue, date(2026, 1, 31))
	today := d("2026-04-09")
	var got []string
	for {
		s, ok := c.NextStop()
		if !ok || s.On.After(today) {
			break
		}
		got = append(got, s.On.Format(time.DateOnly))
		c.Take(s)
	}
	assert.Equal(t, []string{"2026-02-28", "2026-03-01", "2026-03-08", "2026-03-15", "2026-03-22", "2026-03-31",
		"2026-04-01"}, got)
	assert.True(t, c.Overdue())
	assert.Equal(t, 40, c.DPD(today))
	assert.Equal(t, "M2", lending.Bucket(c.DPD(today)))
}

func TestCollectionWriteOffRequest(t *testing.T) {
	c := NewCollection(threeDue, date(2026, 1, 31))
	walk(&c, d("2026-05-29"), nil) // DPD 90
	assert.False(t, c.WriteOffOpen(), "not before DPD 91")
	walk(&c, d("2026-05-30"), nil)
	assert.True(t, c.WriteOffOpen(), "asked at DPD 91")

	c.DeclineWriteOff(d("2026-05-30"))
	assert.False(t, c.WriteOffOpen(), "declined")
	assert.Equal(t, []string{"2026-06-29 auto_debit,write_off_request (1, DPD 121)"}, walk(&c, d("2026-06-29"), nil),
		"asked again 30 days after the decline")
	assert.True(t, c.WriteOffOpen())
}

// TestWriteOffRequestDoesNotOutliveItsDelinquency: installment 1 is 95 days
// past due and ops were asked to write off; the borrower then pays it while
// installment 2 is 64 days past due. The loan is no longer more than 90 days
// past due, so no write-off may be decided (the old workflow kept a flag set
// and let ops write off a loan 64 days past due).
func TestWriteOffRequestDoesNotOutliveItsDelinquency(t *testing.T) {
	c := NewCollection(threeDue, date(2026, 1, 31))
	walk(&c, d("2026-06-03"), nil)
	require.Equal(t, 95, c.DPD(d("2026-06-03")))
	require.True(t, c.WriteOffOpen())
	c.Paid(1)
	assert.Equal(t, 64, c.DPD(d("2026-06-03")))
	assert.False(t, c.WriteOffOpen())
	assert.True(t, c.Overdue())
	// Installment 2's own ladder goes on; it reaches DPD 91 on 30 June, and ops are asked then.
	assert.Equal(t, []string{
		"2026-05-31 auto_debit,m3 (2, DPD 61)",
		"2026-06-30 auto_debit,write_off_request (2, DPD 91)",
	}, walk(&c, d("2026-06-30"), nil))
	assert.True(t, c.WriteOffOpen())
}

func TestCollectionClosed(t *testing.T) {
	c := NewCollection(threeDue, date(2026, 1, 31))
	c.Paid(3) // paid off
	assert.True(t, c.Closed())
	assert.Nil(t, c.NextDate())
	assert.False(t, c.Overdue())
	assert.False(t, c.WriteOffOpen())
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
