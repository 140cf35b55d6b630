// Package delivery is how the platform's deliveries go out: the e-mails of
// the outbox (contact) and the webhooks of the event feed (events). Each is
// claimed in batches by one worker at a time (Drain), a few sent at once,
// and one that failed is tried again on a schedule of exponential backoff,
// for a bounded time (Schedule; docs/events.md "Webhooks", docs/collection.md
// "Contact").
package delivery

import "time"

// Schedule is exponential backoff with a ceiling and an end: the wait after
// the n-th failed attempt is First·2^(n−1), at most Max; a delivery whose
// next attempt would come more than GiveUpAfter after its first is given up.
type Schedule struct {
	First, Max, GiveUpAfter time.Duration
}

// Default is the platform's schedule: 10 s, 20 s, 40 s… up to 6 h between
// attempts, for 3 days, as payment platforms retry their webhooks: 23 attempts
// in all.
var Default = Schedule{First: 10 * time.Second, Max: 6 * time.Hour, GiveUpAfter: 72 * time.Hour}

// Wait is how long after the attempts-th failed attempt the next one comes.
func (s Schedule) Wait(attempts int) time.Duration {
	w := s.First
	for i := 1; i < attempts && w < s.Max; i++ {
		w *= 2
	}
	return min(w, s.Max)
}

// Next is when the delivery first tried at first (nil: now, its first
// attempt), failed for the attempts-th time at now, is tried again; giveUp
// when that would be past the schedule's end.
func (s Schedule) Next(attempts int, first *time.Time, now time.Time) (next time.Time, giveUp bool) {
	began := now
	if first != nil {
		began = *first
	}
	next = now.Add(s.Wait(attempts))
	return next, next.Sub(began) > s.GiveUpAfter
}

// Or is s, or def when s is the zero Schedule.
func (s Schedule) Or(def Schedule) Schedule {
	if s == (Schedule{}) {
		return def
	}
	return s
}
