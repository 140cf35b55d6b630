// Package groupcommit runs items that arrive while a transaction is busy in
// the next transaction together (group commit): one BEGIN, one set of locks
// and one COMMIT for many items, so a queue's throughput is not what one
// commit's WAL flush allows. The bids of a listing (bidding), the freezes
// bidding books, and the bank simulator's freezes go through it.
package groupcommit

import (
	"fmt"
	"sync"
)

// maxLeaders is how many transactions of one queue (a listing's admissions,
// the freeze bookings, the simulator's freezes) may run at once. One: on the hot listing, two at once
// halved the groups and so doubled the statements a bid costs, on a machine
// whose CPU was the limit (BENCHMARKS.md). Correct with more: the guarded
// increment decides every admission, and locks are taken in one order.
const maxLeaders = 1

// Waiter is one item's place in a queue.
type Waiter struct {
	done chan struct{} // closed once the item's work is done
	lead chan struct{} // the item leads now (buffered)
	led  bool          // lead was sent
}

// NewWaiter is a place not yet in a queue.
func NewWaiter() Waiter { return Waiter{done: make(chan struct{}), lead: make(chan struct{}, 1)} }

// Queue is items waiting for a transaction and how many lead.
type Queue[T any] struct {
	Waiting []T
	leaders int
}

// Run adds item to q and returns once its work is done. Nobody runs a
// queue in the background: an item that finds fewer than maxLeaders leading
// leads itself, running next(q)'s groups through run until its own item is
// done, then hands its lead to the oldest item not leading yet; the last
// leader out with nothing waiting calls idle. mu guards q, next and idle run
// under it, run outside it.
func Run[T any](mu *sync.Mutex, q *Queue[T], item T, w func(T) *Waiter, next func(*Queue[T]) []T, run func([]T), idle func()) {
	me := w(item)
	mu.Lock()
	q.Waiting = append(q.Waiting, item)
	lead := q.leaders < maxLeaders
	if lead {
		q.leaders++
		me.led = true
	}
	mu.Unlock()
	if !lead {
		select {
		case <-me.done:
		case <-me.lead:
		}
		mu.Lock()
		lead = me.led // done by another's group, but handed the lead meanwhile: pass it on
		mu.Unlock()
		if !lead {
			return
		}
	}
	for !closed(me.done) {
		mu.Lock()
		group := next(q)
		mu.Unlock()
		if len(group) == 0 {
			<-me.done // it is in the other leader's group
			break
		}
		run(group)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, it := range q.Waiting {
		if wt := w(it); !wt.led {
			wt.led = true
			wt.lead <- struct{}{}
			return
		}
	}
	q.leaders--
	if q.leaders == 0 && len(q.Waiting) == 0 {
		idle()
	}
}

// Done marks the item's work done: Run returns for it, and a leader waiting
// on it stops leading. Every item of a group run is marked done by run.
func (w *Waiter) Done() { close(w.done) }

// IsDone says whether Done was called.
func (w *Waiter) IsDone() bool { return closed(w.done) }

// TakeFirst is a next for Run: the oldest n items waiting, or all of them.
func TakeFirst[T any](q *Queue[T], n int) []T {
	n = min(len(q.Waiting), n)
	group := append([]T(nil), q.Waiting[:n]...)
	q.Waiting = q.Waiting[n:]
	return group
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// RunEachOnError runs group's transaction and, should it fail with more than
// one item in it, each item's alone: nothing of a failed transaction was
// committed, and one bad item must not fail the others. done gets each item
// with the error of the transaction that last ran it. A panic in run is that
// transaction's error (Unpanicked).
func RunEachOnError[T any](group []T, run func([]T) error, done func(T, error)) {
	err := Unpanicked(func() error { return run(group) })
	if err != nil && len(group) > 1 {
		for _, it := range group {
			done(it, Unpanicked(func() error { return run([]T{it}) }))
		}
		return
	}
	for _, it := range group {
		done(it, err)
	}
}

// Unpanicked runs a group's transaction, turning a panic into the group's
// error: a leader that panicked would never hand its lead on, and every later
// item of its queue (every later bid on the listing) would wait forever.
// pgx.BeginFunc has rolled the transaction back by then.
func Unpanicked(run func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("a group's transaction panicked: %v", p)
		}
	}()
	return run()
}
