package delivery_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lendflow/lendflow/delivery"
)

func TestWaitsDoubleUpToTheCeiling(t *testing.T) {
	s := delivery.Default
	assert.Equal(t, 10*time.Second, s.Wait(1))
	assert.Equal(t, 20*time.Second, s.Wait(2))
	assert.Equal(t, 40*time.Second, s.Wait(3))
	assert.Equal(t, 5*time.Hour+41*time.Minute+20*time.Second, s.Wait(12), "10 s · 2^11")
	assert.Equal(t, 6*time.Hour, s.Wait(13), "the ceiling")
	assert.Equal(t, 6*time.Hour, s.Wait(1000), "no overflow")
}

// A receiver that never answers is tried for three days, then given up.
func TestGivenUpAfterThreeDays(t *testing.T) {
	s := delivery.Default
	first := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now, attempts := first, 0
	for {
		attempts++
		next, giveUp := s.Next(attempts, &first, now)
		if giveUp {
			break
		}
		now = next
	}
	assert.Equal(t, 23, attempts, "the 23rd failure is the last")
	assert.True(t, now.Sub(first) <= 72*time.Hour)
	assert.True(t, now.Sub(first) > 66*time.Hour, "the last attempt comes within one wait of the end: %s", now.Sub(first))
}
