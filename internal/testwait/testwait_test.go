package testwait

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestUntilAsksUntilTheConditionHolds(t *testing.T) {
	var asked atomic.Int32
	held := Every(time.Millisecond).Until(func() bool { return asked.Add(1) == 3 })
	assert.True(t, held)
	assert.Equal(t, int32(3), asked.Load(), "asked until it held, and no more")
}

func TestUntilGivesUpAtTheDeadline(t *testing.T) {
	var asked atomic.Int32
	held := Within(20 * time.Millisecond).Every(5 * time.Millisecond).Until(func() bool { asked.Add(1); return false })
	assert.False(t, held)
	assert.Greater(t, asked.Load(), int32(1), "asked again before it gave up")
}

// fatal records what For reports instead of ending the test.
type fatal struct {
	testing.TB
	msg string
}

func (f *fatal) Helper() {}
func (f *fatal) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

func TestForFailsSayingWhatNeverHappened(t *testing.T) {
	f := &fatal{TB: t}
	Within(10*time.Millisecond).Every(time.Millisecond).For(f, "the loan to be listed", func() bool { return false })
	assert.Equal(t, "gave up after 10ms waiting for the loan to be listed", f.msg)

	f = &fatal{TB: t}
	For(f, "nothing", func() bool { return true })
	assert.Empty(t, f.msg, "a condition that holds fails nothing")
}
