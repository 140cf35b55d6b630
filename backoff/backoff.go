// Package backoff is when a delivery that failed is tried again, and when it
// is given up: the e-mails of the outbox (contact) and the webhooks of the
// event feed (events) both retry on it, so a receiver that is down is asked
// less and less often, and for a bounded time (docs/collection.md "Contact").
package backoff

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

// Next is when the delivery first tried at first, failed for the attempts-th
// time at now, is tried again; giveUp when that would be past the schedule's
// end.
func (s Schedule) Next(attempts int, first, now time.Time) (next time.Time, giveUp bool) {
	next = now.Add(s.Wait(attempts))
	return next, next.Sub(first) > s.GiveUpAfter
}
