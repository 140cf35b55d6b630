package groupcommit

import (
	"errors"
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

// A failed group's items are run again one by one, so only the bad one fails;
// a group of one keeps its error; a panic counts as the group's failure.
func TestRunEachOnErrorIsolatesTheBadItem(t *testing.T) {
	bad := errors.New("bad item")
	var runs [][]int
	run := func(g []int) error {
		runs = append(runs, append([]int(nil), g...))
		for _, it := range g {
			if it == 2 {
				return bad
			}
			if it == 4 {
				panic("item 4")
			}
		}
		return nil
	}
	got := map[int]error{}
	done := func(it int, err error) { got[it] = err }

	RunEachOnError([]int{1, 2, 3}, run, done)
	assert.Equal(t, [][]int{{1, 2, 3}, {1}, {2}, {3}}, runs)
	assert.Equal(t, map[int]error{1: nil, 2: bad, 3: nil}, got)

	runs, got = nil, map[int]error{}
	RunEachOnError([]int{1, 3}, run, done)
	assert.Equal(t, [][]int{{1, 3}}, runs, "a group that commits runs once")
	assert.Equal(t, map[int]error{1: nil, 3: nil}, got)

	runs, got = nil, map[int]error{}
	RunEachOnError([]int{2}, run, done)
	assert.Equal(t, [][]int{{2}}, runs, "alone already: not run again")
	assert.ErrorIs(t, got[2], bad)

	runs, got = nil, map[int]error{}
	RunEachOnError([]int{4, 5}, run, done)
	assert.Equal(t, [][]int{{4, 5}, {4}, {5}}, runs)
	assert.ErrorContains(t, got[4], "panicked")
	assert.NoError(t, got[5])
}
