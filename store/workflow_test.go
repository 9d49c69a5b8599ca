package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// delivered stores a post and takes it through routing and delivery.
func delivered(t *testing.T, s *Store, ext string, class routing.Class) string {
	t.Helper()
	res, err := s.Ingest(context.Background(), []routing.Post{post("g", ext, "text "+ext)})
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].ID
	if _, err := s.BeginAttempt(id, routing.Decision{Class: class, Department: string(class), Channel: "C" + ext}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(id, "C"+ext, "1.000"+ext); err != nil {
		t.Fatal(err)
	}
	return id
}

func openItems(t *testing.T, s *Store) []OpenItem {
	t.Helper()
	var items []OpenItem
	if err := s.OpenItems(func(it OpenItem) bool { items = append(items, it); return true }); err != nil {
		t.Fatal(err)
	}
	return items
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		id := delivered(t, s, "1", routing.Support)
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins []string
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				user := string(rune('A' + i))
				_, won, err := s.Claim(id, user)
				if err != nil {
					t.Error(err)
				}
				if won {
					mu.Lock()
					wins = append(wins, user)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(wins) != 1 {
			t.Fatalf("%d winners %v, want exactly one", len(wins), wins)
		}
		rec, _ := s.Get(id)
		if rec.Claimed == nil || rec.Claimed.User != wins[0] {
			t.Fatalf("owner %+v, want %s", rec.Claimed, wins[0])
		}
		// The loser sees who owns it.
		rec, won, err := s.Claim(id, "Z")
		if err != nil || won || rec.Claimed.User != wins[0] {
			t.Fatalf("late claim = %+v, %v, %v", rec.Claimed, won, err)
		}
	})
}

func TestOwnershipRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		id := delivered(t, s, "1", routing.Support)
		if _, err := s.Resolve(id, "U1", false); !errors.Is(err, ErrNotClaimed) {
			t.Fatalf("resolve unclaimed: %v", err)
		}
		s.Claim(id, "U1")
		if _, err := s.Unclaim(id, "U2", false); !errors.Is(err, ErrNotOwner) {
			t.Fatalf("unclaim by another: %v", err)
		}
		if _, err := s.Resolve(id, "U2", false); !errors.Is(err, ErrNotOwner) {
			t.Fatalf("resolve by another: %v", err)
		}
		if _, err := s.Unclaim(id, "UADMIN", true); err != nil {
			t.Fatalf("unclaim by admin: %v", err)
		}
		s.Claim(id, "U2")
		rec, err := s.Resolve(id, "U2", false)
		if err != nil || rec.Resolved.User != "U2" {
			t.Fatalf("resolve by owner: %+v, %v", rec.Resolved, err)
		}
		if _, _, err := s.Claim(id, "U3"); !errors.Is(err, ErrResolved) {
			t.Fatalf("claim resolved: %v", err)
		}
		var actions []string
		for _, e := range rec.History {
			actions = append(actions, e.Action)
		}
		want := []string{"claimed", "unclaimed", "claimed", "resolved"}
		if len(actions) != len(want) {
			t.Fatalf("history %v, want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("history %v, want %v", actions, want)
			}
		}
	})
}

func TestOpenItemIndexFollowsTheRecord(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		a := delivered(t, s, "1", routing.Support)
		b := delivered(t, s, "2", routing.Reputation)
		items := openItems(t, s)
		if len(items) != 2 || items[0].PostID != a || items[0].Claimed || items[1].Class != routing.Reputation {
			t.Fatalf("open items %+v", items)
		}
		s.Claim(a, "U1")
		items = openItems(t, s)
		if len(items) != 2 || items[0].PostID != b || !items[1].Claimed || items[1].PostID != a {
			t.Fatalf("after claim %+v", items)
		}
		s.Resolve(a, "U1", false)
		if items = openItems(t, s); len(items) != 1 || items[0].PostID != b {
			t.Fatalf("after resolve %+v", items)
		}
	})
}

func TestReclassifyRequeues(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		id := delivered(t, s, "1", routing.Support)
		s.Claim(id, "U1")
		before, err := s.Reclassify(id, "U1", false, routing.Decision{Class: routing.Reputation, Department: "pr", Channel: "CPR"})
		if err != nil || before.Delivery.Channel != "C1" {
			t.Fatalf("Reclassify = %+v, %v", before.Delivery, err)
		}
		due, _, _ := s.Due(time.Now(), 10)
		if len(due) != 1 || due[0].Record.Decision.Channel != "CPR" || due[0].Record.Delivery != nil || due[0].Record.Claimed != nil {
			t.Fatalf("due after reclassify %+v", due)
		}
		if kept, _ := s.BeginAttempt(id, routing.Decision{Channel: "CELSEWHERE"}); kept.Channel != "CPR" {
			t.Fatalf("delivery would go to %s, want CPR", kept.Channel)
		}
		if items := openItems(t, s); len(items) != 0 {
			t.Fatalf("a post on its way is listed open: %+v", items)
		}
	})
}

func TestRemindersAndEnvelopesAreOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		id := delivered(t, s, "1", routing.Support)
		if _, send, inFlight, _ := s.BeginReminder(id, "claim"); !send || inFlight {
			t.Fatalf("first claim reminder: send %v, in flight %v", send, inFlight)
		}
		// Not confirmed: it is still to be sent, and may be in Slack.
		if _, send, inFlight, _ := s.BeginReminder(id, "claim"); !send || !inFlight {
			t.Fatalf("unconfirmed claim reminder: send %v, in flight %v", send, inFlight)
		}
		if err := s.RemindedSent(id, "claim"); err != nil {
			t.Fatal(err)
		}
		if _, send, _, _ := s.BeginReminder(id, "claim"); send {
			t.Fatal("claim reminder sent twice")
		}
		if _, send, _, _ := s.BeginReminder(id, "resolve"); send {
			t.Fatal("resolve reminder for an unclaimed post")
		}
		s.Claim(id, "U1")
		if _, send, _, _ := s.BeginReminder(id, "resolve"); !send {
			t.Fatal("resolve reminder refused")
		}
		if err := s.RemindedSent(id, "resolve"); err != nil {
			t.Fatal(err)
		}
		if rec, _ := s.Get(id); !rec.Reminded.Claim || !rec.Reminded.Resolve || rec.Reminded.Sending != "" {
			t.Fatalf("reminders recorded as %+v", rec.Reminded)
		}

		for i, want := range []bool{true, false} {
			if first, err := s.FirstSeen("Ev1"); err != nil || first != want {
				t.Fatalf("FirstSeen #%d = %v, %v", i, first, err)
			}
		}
		if n, err := s.PruneEnvelopes(time.Now().Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("PruneEnvelopes = %d, %v", n, err)
		}
		if first, _ := s.FirstSeen("Ev1"); !first {
			t.Fatal("pruned envelope still remembered")
		}
	})
}

func TestPostsSince(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		s := db.openT(t, Options{Now: func() time.Time { return clock }})
		delivered(t, s, "1", routing.Support)
		clock = clock.Add(time.Hour)
		b := delivered(t, s, "2", routing.Support)
		var got []string
		s.PostsSince(clock.Add(-time.Minute), func(r Record) bool { got = append(got, r.Post.ID); return true })
		if len(got) != 1 || got[0] != b {
			t.Fatalf("PostsSince = %v, want [%s]", got, b)
		}
	})
}

func TestConcurrentEscalationsHaveOneWinner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		id := delivered(t, s, "1", routing.Support)
		var (
			wg   sync.WaitGroup
			wins atomic.Int32
		)
		for i := range 8 {
			wg.Go(func() {
				if _, won, err := s.StartEscalation(id, string(rune('A'+i))); err != nil {
					t.Error(err)
				} else if won {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d escalations won, want one", wins.Load())
		}
		rec, _ := s.Get(id)
		owner := rec.Escalated.User
		if _, err := s.Escalated(id, "nobody", "C0PR/1.1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Escalated by someone who did not start it: %v", err)
		}
		if rec, err := s.Escalated(id, owner, "C0PR/1.1"); err != nil || rec.History[len(rec.History)-1].Detail != "C0PR/1.1" {
			t.Fatalf("Escalated: %+v, %v", rec.History, err)
		}
		// A failed post takes the mark back, and the next click may try.
		id2 := delivered(t, s, "2", routing.Support)
		if _, won, _ := s.StartEscalation(id2, "U1"); !won {
			t.Fatal("first escalation of a fresh post lost")
		}
		if err := s.CancelEscalation(id2, "U1"); err != nil {
			t.Fatal(err)
		}
		if _, won, _ := s.StartEscalation(id2, "U2"); !won {
			t.Error("escalation after a cancelled one lost")
		}
	})
}

func TestReclassifyClaimedNeedsOwnerOrAdmin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		pr := routing.Decision{Class: routing.Reputation, Department: "pr", Channel: "CPR"}

		id := delivered(t, s, "1", routing.Support)
		s.Claim(id, "U1")
		if _, err := s.Reclassify(id, "U2", false, pr); !errors.Is(err, ErrNotOwner) {
			t.Fatalf("non-owner reclassify: %v, want ErrNotOwner", err)
		}
		rec, _ := s.Get(id)
		if rec.Claimed == nil || rec.Claimed.User != "U1" || rec.Delivery == nil || rec.Decision.Class != routing.Support {
			t.Fatalf("after a refused reclassify: claimed %+v delivery %+v decision %+v", rec.Claimed, rec.Delivery, rec.Decision)
		}
		if due, _, _ := s.Due(time.Now(), 10); len(due) != 0 {
			t.Fatalf("a refused reclassify queued the post: %+v", due)
		}
		if _, err := s.Reclassify(id, "UADMIN", true, pr); err != nil {
			t.Fatalf("admin reclassify: %v", err)
		}

		// The owner may; so may anyone when nobody claimed the post, or
		// once it is resolved.
		mine := delivered(t, s, "2", routing.Support)
		s.Claim(mine, "U1")
		if _, err := s.Reclassify(mine, "U1", false, pr); err != nil {
			t.Fatalf("owner reclassify: %v", err)
		}
		open := delivered(t, s, "3", routing.Support)
		if _, err := s.Reclassify(open, "U2", false, pr); err != nil {
			t.Fatalf("reclassify of an unclaimed post: %v", err)
		}
		done := delivered(t, s, "4", routing.Support)
		s.Claim(done, "U1")
		s.Resolve(done, "U1", false)
		if _, err := s.Reclassify(done, "U2", false, pr); err != nil {
			t.Fatalf("reclassify of a resolved post: %v", err)
		}
	})
}
