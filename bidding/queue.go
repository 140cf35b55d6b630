package bidding

import (
	"fmt"
	"sync"
)

// maxLeaders is how many transactions of one queue (a listing's admissions,
// the freeze bookings) may run at once. One: on the hot listing, two at once
// halved the groups and so doubled the statements a bid costs, on a machine
// whose CPU was the limit (BENCHMARKS.md). Correct with more: the guarded
// increment decides every admission, and locks are taken in one order.
const maxLeaders = 1

// waiter is one item's place in a queue.
type waiter struct {
	done chan struct{} // closed once the item's work is done
	lead chan struct{} // the item leads now (buffered)
	led  bool          // lead was sent
}

func newWaiter() waiter { return waiter{done: make(chan struct{}), lead: make(chan struct{}, 1)} }

// queue is items waiting for a transaction and how many lead.
type queue[T any] struct {
	waiting []T
	leaders int
}

// runQueued adds item to q and returns once its work is done. Nobody runs a
// queue in the background: an item that finds fewer than maxLeaders leading
// leads itself, running next(q)'s groups through run until its own item is
// done, then hands its lead to the oldest item not leading yet; the last
// leader out with nothing waiting calls idle. mu guards q, next and idle run
// under it, run outside it.
func runQueued[T any](mu *sync.Mutex, q *queue[T], item T, w func(T) *waiter, next func(*queue[T]) []T, run func([]T), idle func()) {
	me := w(item)
	mu.Lock()
	q.waiting = append(q.waiting, item)
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
	for _, it := range q.waiting {
		if wt := w(it); !wt.led {
			wt.led = true
			wt.lead <- struct{}{}
			return
		}
	}
	q.leaders--
	if q.leaders == 0 && len(q.waiting) == 0 {
		idle()
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// unpanicked runs a group's transaction, turning a panic into the group's
// error: a leader that panicked would never hand its lead on, and every later
// item of its queue (every later bid on the listing) would wait forever.
// pgx.BeginFunc has rolled the transaction back by then.
func unpanicked(run func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bidding: a batch's transaction panicked: %v", p)
		}
	}()
	return run()
}
