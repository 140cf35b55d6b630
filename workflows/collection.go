package workflows

import (
	"slices"
	"time"

	"github.com/lendflow/lendflow/lending"
)

// Collection is the repayment and collection schedule of a disbursed loan
// (docs/collection.md): which dated step falls next, and what the loan's
// delinquency is. It is pure and deterministic — no Temporal, no I/O — so the
// workflow only asks it "what is next?" and tells it "this was taken" or
// "this was paid", and its tests need no workflow test suite.
//
// It keeps only what cannot be derived: the due dates, the oldest open
// installment, a cursor over the dated steps and the date ops last declined
// a write-off. Days past due, the bucket, whether the loan is overdue and
// whether a write-off may be decided are all derived from those, so none of
// them can go stale (a write-off request no longer outlives the delinquency
// it was made for).
//
// The dated steps, for every open installment k with due date d_k, and for the
// oldest open installment n (due date d) the collection ladder:
//
//	d_k           auto_debit     the due-date auto-debit under the repayment authorization
//	d_k + 1       mark_overdue   installment k is overdue; penalty interest accrues
//	d + 1, 8, 15, 22  m1         an overdue notice to the borrower
//	d + 31        m2             an ops collection task
//	d + 61        m3             compensation by the guarantor or the risk reserve
//	d + 91        write_off_request   ops are asked to write the loan off
//	declined + 30 write_off_request   asked again, 30 days after ops declined
//
// Every ladder step also retries the auto-debit. Steps falling on one date are
// one Stop, taken together. The pre-due reminder is not a dated step here:
// it is contact planned at disbursement for every installment and withdrawn
// if the installment is paid first (docs/collection.md "Reminders"), which
// saves a clock stop per installment.
//
// A step is taken when the cursor passes its date, so a step whose date was
// jumped over (the clock moved several days at once) is still taken, late and
// in date order, never dropped. When the oldest open installment is paid, the
// next one's ladder starts from where the cursor stands: its steps already
// behind the cursor are not sent again.
type Collection struct {
	Due  []time.Time // Due[i] is installment i+1's due date
	Next int         // the oldest open installment; len(Due)+1 once all are closed
	// Through: every step dated on or before it has been taken.
	Through time.Time
	// WriteOffDeclinedOn is the date ops last declined writing the loan off,
	// in the current delinquency; nil when they have not.
	WriteOffDeclinedOn *time.Time
}

// Stop is the steps of one date.
type Stop struct {
	On    time.Time
	Steps []lending.Step
	// Installment is the oldest open installment on On, and DPD its days past
	// due then: what the ladder steps are about.
	Installment int
	DPD         int
}

// Has reports whether the stop includes step.
func (s Stop) Has(step lending.Step) bool { return slices.Contains(s.Steps, step) }

// rung is one step of the collection ladder, by days past due of the oldest
// open installment (docs/rules.md "overdue", docs/collection.md).
type rung struct {
	DPD  int
	Step lending.Step
}

var ladder = func() []rung {
	var l []rung
	for _, d := range lending.M1ReminderDPDs {
		l = append(l, rung{d, lending.StepM1})
	}
	return append(l, rung{lending.M2FromDPD, lending.StepM2}, rung{lending.M3FromDPD, lending.StepM3})
}()

// NewCollection starts the schedule of a loan disbursed on day.
func NewCollection(due []time.Time, day time.Time) Collection {
	return Collection{Due: due, Next: 1, Through: day}
}

// Closed reports whether every installment is closed (paid or written off).
func (c Collection) Closed() bool { return c.Next > len(c.Due) }

func (c Collection) due(n int) time.Time { return c.Due[n-1] }

// DPD is the oldest open installment's days past due on day (0: not overdue).
func (c Collection) DPD(day time.Time) int {
	if c.Closed() {
		return 0
	}
	return max(0, lending.Days(c.due(c.Next), day))
}

// Overdue reports whether the loan is overdue: the day after the oldest open
// installment's due date has been handled with the installment still open.
func (c Collection) Overdue() bool { return c.DPD(c.Through) > 0 }

// writeOffAskOn is when ops are (or were) last asked to write the loan off.
func (c Collection) writeOffAskOn() time.Time {
	if c.WriteOffDeclinedOn != nil {
		return c.WriteOffDeclinedOn.AddDate(0, 0, lending.WriteOffReaskDays)
	}
	return c.due(c.Next).AddDate(0, 0, lending.WriteOffAfterDPD+1)
}

// WriteOffOpen reports whether ops have an open request to write the loan off:
// the oldest open installment is more than 90 days past due, ops were asked
// (or asked again after declining) and have not declined since. Derived, so it
// closes by itself when a payment makes a younger installment the oldest.
func (c Collection) WriteOffOpen() bool {
	return !c.Closed() && c.DPD(c.Through) > lending.WriteOffAfterDPD && !c.writeOffAskOn().After(c.Through)
}

// NextStop is the earliest date after the cursor on which a step falls, with
// every step of that date; false once the loan is closed.
func (c Collection) NextStop() (Stop, bool) {
	if c.Closed() {
		return Stop{}, false
	}
	var on time.Time
	var steps []lending.Step
	consider := func(d time.Time, s lending.Step) {
		if !d.After(c.Through) {
			return
		}
		switch {
		case on.IsZero() || d.Before(on):
			on, steps = d, []lending.Step{s}
		case d.Equal(on) && !slices.Contains(steps, s):
			steps = append(steps, s)
		}
	}
	for k := c.Next; k <= len(c.Due); k++ {
		consider(c.due(k), lending.StepAutoDebit)
		consider(c.due(k).AddDate(0, 0, 1), lending.StepMarkOverdue)
	}
	d := c.due(c.Next)
	for _, r := range ladder {
		consider(d.AddDate(0, 0, r.DPD), r.Step)
	}
	consider(c.writeOffAskOn(), lending.StepWriteOffAsk)
	if on.IsZero() {
		return Stop{}, false
	}
	// A ladder step retries the auto-debit (docs/rules.md "partial payment").
	if !slices.Contains(steps, lending.StepAutoDebit) && slices.ContainsFunc(steps, isLadder) {
		steps = append(steps, lending.StepAutoDebit)
	}
	slices.SortFunc(steps, func(a, b lending.Step) int { return stepOrder(a) - stepOrder(b) })
	return Stop{On: on, Steps: steps, Installment: c.Next, DPD: c.DPD(on)}, true
}

// NextDate is the date of the next stop, nil once the loan is closed: what the
// loan tells the clock.
func (c Collection) NextDate() *time.Time {
	if s, ok := c.NextStop(); ok {
		return &s.On
	}
	return nil
}

// Take moves the cursor past a stop that has been handled.
func (c *Collection) Take(s Stop) {
	if s.On.After(c.Through) {
		c.Through = s.On
	}
}

// Paid records that every installment up to and including through is closed.
// A new oldest installment starts a new delinquency: an earlier decline no
// longer stands.
func (c *Collection) Paid(through int) {
	if through+1 > c.Next {
		c.Next = through + 1
		c.WriteOffDeclinedOn = nil
	}
}

// DeclineWriteOff records ops declining a write-off on day; they are asked
// again WriteOffReaskDays later.
func (c *Collection) DeclineWriteOff(day time.Time) {
	d := day
	c.WriteOffDeclinedOn = &d
}

func isLadder(s lending.Step) bool {
	switch s {
	case lending.StepM1, lending.StepM2, lending.StepM3, lending.StepWriteOffAsk:
		return true
	}
	return false
}

// stepOrder is the order a stop's steps are taken in: the borrower's own
// money first (the auto-debit, which counts its penalty by itself), then
// overdue marking for what is still unpaid, then contact, compensation and the
// write-off request, which a debit that closed the installment makes moot.
func stepOrder(s lending.Step) int {
	return slices.Index([]lending.Step{
		lending.StepAutoDebit, lending.StepMarkOverdue,
		lending.StepM1, lending.StepM2, lending.StepM3, lending.StepWriteOffAsk,
	}, s)
}
