// Package testutil holds helpers shared by socialroute's tests.
package testutil

import (
	"testing"
	"time"
)

// Timeout bounds every Eventually; generous, because CI machines are slow
// under the race detector.
const Timeout = 20 * time.Second

// Eventually re-checks cond until it holds, failing the test if it does not
// within Timeout. Use it for state that changes outside anything the test
// can subscribe to (a store written by another goroutine); prefer an event
// (slackemu's WaitFor) where there is one.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyWithin(t, Timeout, what, cond)
}

// EventuallyWithin is Eventually with a deadline of its own, for a test
// whose claim is the deadline ("a new leader within 10 s").
func EventuallyWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(d, cond) {
		t.Fatalf("waited %v for %s", d, what)
	}
}

// Poll re-checks cond until it holds or d has passed, and reports whether
// it held: for a test that says itself what was missing.
func Poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}
