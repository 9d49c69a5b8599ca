package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "socialroute.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func post(source, id, text string) routing.Post {
	return routing.Post{Source: source, ExternalID: id, Platform: "x", Text: text}
}

func TestIngestIsDurableAcrossReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		res, err := s.Ingest(context.Background(), []routing.Post{post("generic", "1", "my order never arrived")})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Duplicate || res[0].ID == "" {
			t.Fatalf("results = %+v", res)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		s2 := db.openT(t, Options{})
		rec, err := s2.Get(res[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Post.Text != "my order never arrived" || rec.Post.ID != res[0].ID || rec.Post.ReceivedAt.IsZero() {
			t.Fatalf("record = %+v", rec.Post)
		}
		due, _, err := s2.Due(time.Now(), 10)
		if err != nil || len(due) != 1 || due[0].Entry.PostID != res[0].ID {
			t.Fatalf("due = %+v, %v", due, err)
		}
	})
}

func TestIngestDedupe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		ctx := context.Background()
		first, err := s.Ingest(ctx, []routing.Post{post("generic", "1", "a")})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Ingest(ctx, []routing.Post{
			post("generic", "1", "a again"), // seen before
			post("generic", "2", "b"),       // new
			post("generic", "2", "b again"), // same call, seen just before
			post("other", "1", "c"),         // same external id, other source: new
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{true, false, true, false}
		for i, r := range res {
			if r.Duplicate != want[i] {
				t.Errorf("result %d duplicate = %v, want %v", i, r.Duplicate, want[i])
			}
		}
		if res[0].ID != first[0].ID {
			t.Errorf("duplicate id = %s, want the first post's %s", res[0].ID, first[0].ID)
		}
		if res[2].ID != res[1].ID {
			t.Errorf("in-call duplicate id = %s, want %s", res[2].ID, res[1].ID)
		}
		rec, err := s.Get(first[0].ID)
		if err != nil || rec.Post.Text != "a" {
			t.Fatalf("duplicate overwrote the original: %+v, %v", rec.Post, err)
		}
		st, err := s.OutboxStats()
		if err != nil || st.Pending != 3 {
			t.Fatalf("outbox = %+v, %v; want 3 pending", st, err)
		}
	})
}

func TestIngestConcurrentCallsShareCommits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		const workers, each = 32, 20
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[string]bool{}
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					res, err := s.Ingest(context.Background(), []routing.Post{post("generic", fmt.Sprintf("%d-%d", w, i), "x")})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					ids[res[0].ID] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(ids) != workers*each {
			t.Fatalf("%d distinct ids, want %d", len(ids), workers*each)
		}
		due, _, err := s.Due(time.Now(), workers*each+1)
		if err != nil || len(due) != workers*each {
			t.Fatalf("due = %d, %v", len(due), err)
		}
		for i := 1; i < len(due); i++ {
			if due[i-1].Entry.PostID >= due[i].Entry.PostID {
				t.Fatalf("outbox not in id order at %d", i)
			}
		}
	})
}

func TestDeliveryLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		res, err := s.Ingest(context.Background(), []routing.Post{post("generic", "1", "refund please")})
		if err != nil {
			t.Fatal(err)
		}
		id := res[0].ID

		d := routing.Decision{Class: routing.Support, Department: "support", Channel: "C1", Confidence: 0.9}
		kept, err := s.BeginAttempt(id, d)
		if err != nil || kept.Channel != "C1" {
			t.Fatalf("BeginAttempt = %+v, %v", kept, err)
		}
		// A second attempt keeps the first decision, whatever routing says now.
		kept, err = s.BeginAttempt(id, routing.Decision{Class: routing.Promotional, Channel: "C2"})
		if err != nil || kept.Channel != "C1" {
			t.Fatalf("second BeginAttempt = %+v, %v; want the stored decision", kept, err)
		}
		due, _, _ := s.Due(time.Now(), 10)
		if len(due) != 1 || !due[0].Entry.InFlight {
			t.Fatalf("due = %+v, want one in-flight entry", due)
		}

		if err := s.Delivered(id, "C1", "1700000000.000100"); err != nil {
			t.Fatal(err)
		}
		due, _, _ = s.Due(time.Now(), 10)
		if len(due) != 0 {
			t.Fatalf("delivered post still due: %+v", due)
		}
		rec, err := s.Get(id)
		if err != nil || rec.Delivery == nil || rec.Delivery.TS != "1700000000.000100" || rec.Decision.Class != routing.Support {
			t.Fatalf("record = %+v, %v", rec, err)
		}
		got, err := s.PostByMessage("C1", "1700000000.000100")
		if err != nil || got != id {
			t.Fatalf("PostByMessage = %q, %v", got, err)
		}
		if _, err := s.PostByMessage("C1", "1.2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown message: err = %v, want ErrNotFound", err)
		}
	})
}

func TestRetryAndPark(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		res, _ := s.Ingest(context.Background(), []routing.Post{post("g", "1", "a"), post("g", "2", "b")})
		now := time.Now()
		later := now.Add(time.Minute)
		if err := s.Retry(res[0].ID, later, "rate limited"); err != nil {
			t.Fatal(err)
		}
		if err := s.Park(res[1].ID, "channel_not_found"); err != nil {
			t.Fatal(err)
		}
		due, next, err := s.Due(now, 10)
		if err != nil || len(due) != 0 {
			t.Fatalf("due now = %+v, %v; want none", due, err)
		}
		if !next.Equal(later.UTC()) {
			t.Fatalf("next = %v, want %v", next, later)
		}
		due, _, _ = s.Due(later, 10)
		if len(due) != 1 || due[0].Entry.Attempts != 1 || due[0].Entry.LastError != "rate limited" {
			t.Fatalf("due later = %+v", due)
		}
		st, _ := s.OutboxStats()
		if st.Pending != 1 || st.Parked != 1 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestWakeAfterIngest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		select {
		case <-s.Wake():
			t.Fatal("woken before any ingest")
		default:
		}
		if _, err := s.Ingest(context.Background(), []routing.Post{post("g", "1", "a")}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Wake():
		default:
			t.Fatal("no wake signal after ingest")
		}
	})
}

func TestClosedAndLocked(t *testing.T) {
	s, path := openTemp(t)
	if _, err := Open(path, Options{Timeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second open: err = %v", err)
	}
	s.Close()
	if err := s.Check(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Check after close = %v", err)
	}
	if _, err := s.Ingest(context.Background(), []routing.Post{post("g", "1", "a")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ingest after close = %v", err)
	}
	if _, err := s.Get("not-an-id"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get bad id = %v", err)
	}
}

func BenchmarkIngestParallel(b *testing.B) {
	s, _ := openTemp(b)
	var n int64
	var mu sync.Mutex
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			id := fmt.Sprint(n)
			mu.Unlock()
			if _, err := s.Ingest(context.Background(), []routing.Post{post("generic", id, "my order never arrived, I want a refund")}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
