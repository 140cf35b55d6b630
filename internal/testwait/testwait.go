// Package testwait is the one way a test waits for something that happens
// on its own time (a workflow moving a loan, a worker's first poll, a
// callback landing): it asks a condition again and again until it holds, and
// gives up at a deadline. A slow run on a shared machine passes; a hang
// fails, saying what never happened. No test sleeps a fixed time instead: a
// sleep is too short on a slow day and wasted on a fast one
// (docs/testing.md "Rules every test keeps").
package testwait

import (
	"testing"
	"time"
)

// Deadline is how long a wait lasts unless the test says otherwise.
const Deadline = 90 * time.Second

// Poll is how often a wait asks its condition unless the test says otherwise.
const Poll = 50 * time.Millisecond

// Wait is a deadline and a pace; the zero Wait is Deadline and Poll.
type Wait struct {
	within, every time.Duration
}

// Within is a wait that gives up after d.
func Within(d time.Duration) Wait { return Wait{within: d} }

// Every is the wait asking its condition every d.
func (w Wait) Every(d time.Duration) Wait {
	w.every = d
	return w
}

// Every is a wait of Deadline asking its condition every d.
func Every(d time.Duration) Wait { return Wait{every: d} }

// For waits until cond holds, failing t (FailNow) with what it waited for
// once the deadline passes. cond runs on the caller's goroutine, so it may
// use t itself.
func For(t testing.TB, what string, cond func() bool) { Wait{}.For(t, what, cond) }

// For waits until cond holds, failing t with what at w's deadline.
func (w Wait) For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !w.Until(cond) {
		t.Fatalf("gave up after %s waiting for %s", w.deadline(), what)
	}
}

// Until waits until cond holds or the deadline passes, and reports whether it
// held. It fails no test, so it may run on any goroutine.
func Until(cond func() bool) bool { return Wait{}.Until(cond) }

// Until waits until cond holds or w's deadline passes, and reports whether it held.
func (w Wait) Until(cond func() bool) bool {
	end := time.Now().Add(w.deadline())
	for !cond() {
		if !time.Now().Before(end) {
			return false
		}
		time.Sleep(w.pace())
	}
	return true
}

func (w Wait) deadline() time.Duration {
	if w.within <= 0 {
		return Deadline
	}
	return w.within
}

func (w Wait) pace() time.Duration {
	if w.every <= 0 {
		return Poll
	}
	return w.every
}
