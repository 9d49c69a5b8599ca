package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// A write that fails inside a shared commit loses only its own changes.
func TestFailedWriteInBatchKeepsTheOthers(t *testing.T) {
	s, _ := openTemp(t)
	var resA, resB []IngestResult
	ingestWrite := func(res *[]IngestResult, p routing.Post) *write {
		w := &write{done: make(chan error, 1)}
		w.fn = func(tx txn) error {
			var err error
			*res, err = s.ingest(tx, []routing.Post{p})
			w.wake = err == nil
			return err
		}
		return w
	}
	errBoom := errors.New("boom")
	bad := &write{done: make(chan error, 1), fn: func(tx txn) error {
		// Writes something, then fails: the write must not survive.
		if err := tx.Bucket(bucketMeta).Put([]byte("half"), []byte("done")); err != nil {
			return err
		}
		return errBoom
	}}
	a := ingestWrite(&resA, post("g", "a", "first"))
	b := ingestWrite(&resB, post("g", "b", "second"))

	s.commit([]*write{a, bad, b})

	if err := <-bad.done; !errors.Is(err, errBoom) {
		t.Fatalf("failing write got %v, want its own error", err)
	}
	for name, w := range map[string]*write{"a": a, "b": b} {
		if err := <-w.done; err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	for _, res := range [][]IngestResult{resA, resB} {
		if len(res) != 1 || res[0].Duplicate {
			t.Fatalf("results = %+v", res)
		}
		if _, err := s.Get(res[0].ID); err != nil {
			t.Fatalf("post %s not stored: %v", res[0].ID, err)
		}
	}
	err := s.eng.view(func(tx txn) error {
		if v := tx.Bucket(bucketMeta).Get([]byte("half")); v != nil {
			return fmt.Errorf("the failed write's change was kept: %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Wake():
	default:
		t.Fatal("no wake signal after a commit that added posts")
	}
}

// Delivery bookkeeping from many goroutines goes through the shared commits
// and every call gets its own answer.
func TestConcurrentUpdatesShareCommits(t *testing.T) {
	s, _ := openTemp(t)
	const n = 64
	var posts []routing.Post
	for i := range n {
		posts = append(posts, post("g", fmt.Sprint(i), "text"))
	}
	res, err := s.Ingest(context.Background(), posts)
	if err != nil {
		t.Fatal(err)
	}
	d := routing.Decision{Class: routing.Support, Channel: "C1"}
	var wg sync.WaitGroup
	for i, r := range res {
		wg.Go(func() {
			if _, err := s.BeginAttempt(r.ID, d); err != nil {
				t.Error(err)
				return
			}
			if err := s.Delivered(r.ID, "C1", fmt.Sprintf("1700000000.%06d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	// One call for a post that does not exist fails alone.
	wg.Go(func() {
		if err := s.Delivered("01ARZ3NDEKTSV4RRFFQ69G5FAV", "C1", "1.2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown post: err = %v, want ErrNotFound", err)
		}
	})
	wg.Wait()
	due, _, err := s.Due(time.Now(), n)
	if err != nil || len(due) != 0 {
		t.Fatalf("due after delivering everything = %d, %v", len(due), err)
	}
	for i, r := range res {
		got, err := s.PostByMessage("C1", fmt.Sprintf("1700000000.%06d", i))
		if err != nil || got != r.ID {
			t.Fatalf("message %d → %q, %v; want %s", i, got, err, r.ID)
		}
	}
}

func TestDueStopsAtLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		var posts []routing.Post
		for i := range 5 {
			posts = append(posts, post("g", fmt.Sprint(i), "text"))
		}
		res, err := s.Ingest(context.Background(), posts)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		later := now.Add(time.Minute)
		if err := s.Retry(res[4].ID, later, "rate limited"); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			limit    int
			wantDue  int
			wantNext time.Time
		}{
			{limit: 2, wantDue: 2},                         // more are due: come back at once
			{limit: 4, wantDue: 4},                         // exactly the due ones
			{limit: 10, wantDue: 4, wantNext: later.UTC()}, // fewer than limit: when to look again
		}
		for _, tc := range tests {
			t.Run(fmt.Sprint("limit ", tc.limit), func(t *testing.T) {
				due, next, err := s.Due(now, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(due) != tc.wantDue {
					t.Fatalf("due = %d, want %d", len(due), tc.wantDue)
				}
				for i, p := range due {
					if p.Entry.PostID != res[i].ID {
						t.Fatalf("due[%d] = %s, want %s (oldest first)", i, p.Entry.PostID, res[i].ID)
					}
				}
				if !next.Equal(tc.wantNext) {
					t.Fatalf("next = %v, want %v", next, tc.wantNext)
				}
			})
		}
	})
}
