package delivery_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/delivery"
)

// Drain claims until a claim comes back short, sends every item once, at
// most parallel at a time, and counts what was taken.
func TestDrainSendsEveryClaimedItemOnce(t *testing.T) {
	queue := make([]int, 23)
	for i := range queue {
		queue[i] = i
	}
	var claims int
	claim := func(_ context.Context, lim int) ([]int, error) {
		claims++
		n := min(lim, len(queue))
		out := queue[:n]
		queue = queue[n:]
		return out, nil
	}
	var inFlight, most atomic.Int32
	seen := make([]atomic.Int32, 23)
	taken, err := delivery.Drain(context.Background(), 5, 3, claim, func(_ context.Context, i int) (bool, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		seen[i].Add(1)
		return i%2 == 0, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 12, taken, "the even ones")
	assert.Equal(t, 5, claims, "4 full batches of 5, then one of 3")
	for i := range seen {
		assert.Equal(t, int32(1), seen[i].Load(), "item %d", i)
	}
	assert.LessOrEqual(t, most.Load(), int32(3))

	boom := errors.New("mark lost")
	_, err = delivery.Drain(context.Background(), 2, 2, func(context.Context, int) ([]int, error) { return []int{1, 2}, nil },
		func(context.Context, int) (bool, error) { return true, boom })
	assert.ErrorIs(t, err, boom, "a send's error ends the round")
}
