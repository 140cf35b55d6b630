package groupcommit

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type queued struct {
	n    int
	w    Waiter
	runs int
}

// Every item is worked on once, in groups, by at most maxLeaders at a time,
// and the queue ends idle with nobody leading.
func TestRunDoesEachItemOnceInGroups(t *testing.T) {
	var mu sync.Mutex
	q := &Queue[*queued]{}
	var running, most, groups atomic.Int64
	idle := 0
	items := make([]*queued, 500)
	var wg sync.WaitGroup
	for i := range items {
		items[i] = &queued{n: i}
		it := items[i]
		it.w = NewWaiter()
		wg.Go(func() {
			Run(&mu, q, it, func(x *queued) *Waiter { return &x.w },
				func(q *Queue[*queued]) []*queued { return TakeFirst(q, 7) },
				func(g []*queued) {
					now := running.Add(1)
					for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
					}
					groups.Add(1)
					for _, x := range g {
						x.runs++
						x.w.Done()
					}
					running.Add(-1)
				},
				func() { idle++ })
			assert.True(t, it.w.IsDone(), "Run returned before item %d was done", it.n)
		})
	}
	wg.Wait()
	for _, it := range items {
		require.Equal(t, 1, it.runs, "item %d", it.n)
	}
	assert.LessOrEqual(t, most.Load(), int64(maxLeaders))
	assert.Equal(t, 0, q.leaders)
	assert.Empty(t, q.Waiting)
	assert.GreaterOrEqual(t, idle, 1)
	t.Logf("500 items in %d groups", groups.Load())
}

func TestUnpanickedTurnsAPanicIntoTheGroupsError(t *testing.T) {
	err := Unpanicked(func() error { panic("boom") })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom")
	assert.NoError(t, Unpanicked(func() error { return nil }))
}
