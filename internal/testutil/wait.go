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
	deadline := time.Now().Add(Timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", Timeout, what)
		}
		<-tick.C
	}
}
