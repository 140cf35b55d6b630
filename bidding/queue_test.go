package bidding

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type queued struct {
	n    int
	w    waiter
	runs int
}

// Every item is worked on once, in groups, by at most maxLeaders at a time,
// and the queue ends idle with nobody leading.
func TestRunQueuedDoesEachItemOnceInGroups(t *testing.T) {
	var mu sync.Mutex
	q := &queue[*queued]{}
	var running, most, groups atomic.Int64
	idle := 0
	items := make([]*queued, 500)
	var wg sync.WaitGroup
	for i := range items {
		items[i] = &queued{n: i}
		it := items[i]
		it.w = newWaiter()
		wg.Go(func() {
			runQueued(&mu, q, it, func(x *queued) *waiter { return &x.w },
				func(q *queue[*queued]) []*queued {
					n := min(len(q.waiting), 7)
					g := append([]*queued(nil), q.waiting[:n]...)
					q.waiting = q.waiting[n:]
					return g
				},
				func(g []*queued) {
					now := running.Add(1)
					for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
					}
					groups.Add(1)
					for _, x := range g {
						x.runs++
						close(x.w.done)
					}
					running.Add(-1)
				},
				func() { idle++ })
			assert.True(t, closed(it.w.done), "runQueued returned before item %d was done", it.n)
		})
	}
	wg.Wait()
	for _, it := range items {
		require.Equal(t, 1, it.runs, "item %d", it.n)
	}
	assert.LessOrEqual(t, most.Load(), int64(maxLeaders))
	assert.Equal(t, 0, q.leaders)
	assert.Empty(t, q.waiting)
	assert.GreaterOrEqual(t, idle, 1)
	t.Logf("500 items in %d groups", groups.Load())
}

func TestUnpanickedTurnsAPanicIntoTheGroupsError(t *testing.T) {
	err := unpanicked(func() error { panic("boom") })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom")
	assert.NoError(t, unpanicked(func() error { return nil }))
}
