package store

import (
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// A change people see is stored with a redraw mark for its message; a
// redraw of that state clears it, one of an older state does not. On both
// engines.
func TestRedrawMarks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		id := ingestOne(t, s, routing.Post{Source: "g", ExternalID: "1", Platform: "x", Text: "my order is late"})
		if _, err := s.BeginAttempt(id, routing.Decision{Class: routing.Support, Channel: "CSUP"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delivered(id, "CSUP", "1.000001"); err != nil {
			t.Fatal(err)
		}
		pending := func() []Redraw {
			t.Helper()
			rs, err := s.PendingRedraws(time.Now().Add(time.Hour), 10)
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		if rs := pending(); len(rs) != 0 {
			t.Fatalf("marks before any change: %+v", rs)
		}

		if _, won, err := s.Claim(id, "U1"); err != nil || !won {
			t.Fatalf("claim: %v, %v", won, err)
		}
		rs := pending()
		if len(rs) != 1 || rs[0].PostID != id || rs[0].Channel != "CSUP" || rs[0].TS != "1.000001" {
			t.Fatalf("marks after a claim: %+v", rs)
		}
		if _, won, _ := s.Claim(id, "U2"); won {
			t.Fatal("second claim won")
		}
		if again := pending(); len(again) != 1 || !again[0].At.Equal(rs[0].At) {
			t.Fatalf("a refused claim moved the mark: %+v", again)
		}

		// The post is resolved while the claim is being drawn: drawing the
		// claim must leave the resolution's mark.
		if _, err := s.Resolve(id, "U1", false); err != nil {
			t.Fatal(err)
		}
		if err := s.Redrawn(rs[0]); err != nil {
			t.Fatal(err)
		}
		latest := pending()
		if len(latest) != 1 || !latest[0].At.After(rs[0].At) {
			t.Fatalf("a redraw of the older state cleared the newer change: %+v", latest)
		}
		if err := s.Redrawn(latest[0]); err != nil {
			t.Fatal(err)
		}
		if rs := pending(); len(rs) != 0 {
			t.Fatalf("marks after the redraw: %+v", rs)
		}

		// A move marks the message the post leaves.
		other := ingestOne(t, s, routing.Post{Source: "g", ExternalID: "2", Platform: "x", Text: "great sale"})
		if _, err := s.BeginAttempt(other, routing.Decision{Class: routing.Support, Channel: "CSUP"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delivered(other, "CSUP", "2.000001"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reclassify(other, "U1", false, routing.Decision{Class: routing.Promotional, Channel: "CMKT"}); err != nil {
			t.Fatal(err)
		}
		if rs := pending(); len(rs) != 1 || rs[0].PostID != other || rs[0].TS != "2.000001" {
			t.Fatalf("marks after a move: %+v", rs)
		}
	})
}
