package store

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
)

var countsSeed = flag.Uint64("counts.seed", 0, "seed of TestOutboxCountsMatchAScan's mix (0: a new one)")

// scanOutboxStats counts the outbox the slow way, entry by entry.
func scanOutboxStats(t *testing.T, s *Store) OutboxStats {
	t.Helper()
	var st OutboxStats
	err := s.eng.view(func(tx txn) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var e OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Parked {
				st.Parked++
				return nil
			}
			if st.Pending == 0 {
				st.Oldest = time.UnixMilli(int64(ulid.ULID(k).Time())).UTC()
			}
			st.Pending++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The kept counts equal a full scan after any mix of what changes the
// outbox: posts accepted (some twice), delivered, retried, parked and
// reclassified back into it; on etcd also on a replica that wrote none of
// it, and on one opened afterwards.
func TestOutboxCountsMatchAScan(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		seed := *countsSeed
		if seed == 0 {
			seed = uint64(time.Now().UnixNano())
		}
		t.Logf("seed %d (replay with -counts.seed=%d)", seed, seed)
		rng := rand.New(rand.NewPCG(seed, 0))
		clock := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		opts := Options{Now: func() time.Time { return clock }}
		s := db.openT(t, opts)
		var follower *Store
		if db.backend == "etcd" {
			var err error
			if follower, err = db.open(Options{}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { follower.Close() })
		}
		ctx := context.Background()
		var delivered []string
		ext := 0
		for step := range 300 {
			clock = clock.Add(time.Second)
			// The entries not parked, read directly: Due reads whole
			// records, slow on etcd for hundreds of steps.
			var ready []string
			err := s.eng.view(func(tx txn) error {
				return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
					if !entryParked(v) {
						ready = append(ready, ulid.ULID(k).String())
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			pick := func() string { return ready[rng.IntN(len(ready))] }
			switch op := rng.IntN(10); {
			case op < 3 || len(ready) == 0:
				var posts []routing.Post
				for range 1 + rng.IntN(4) {
					ext++
					if ext > 3 && rng.IntN(5) == 0 {
						ext-- // a duplicate of the last one
					}
					posts = append(posts, post("g", fmt.Sprint(ext), "text"))
				}
				if _, err := s.Ingest(ctx, posts); err != nil {
					t.Fatal(err)
				}
			case op < 6:
				id := pick()
				if _, err := s.BeginAttempt(id, routing.Decision{Class: routing.Support, Department: "support", Channel: "C1"}); err != nil {
					t.Fatal(err)
				}
				if err := s.Delivered(id, "C1", fmt.Sprintf("%d.000", step)); err != nil {
					t.Fatal(err)
				}
				delivered = append(delivered, id)
			case op < 7:
				if err := s.Retry(pick(), clock.Add(time.Duration(rng.IntN(60))*time.Second), "ratelimited"); err != nil {
					t.Fatal(err)
				}
			case op < 8:
				if err := s.Park(pick(), "channel_not_found"); err != nil {
					t.Fatal(err)
				}
			default:
				if len(delivered) == 0 {
					continue
				}
				i := rng.IntN(len(delivered))
				id := delivered[i]
				delivered = append(delivered[:i], delivered[i+1:]...)
				if _, err := s.Reclassify(id, "U1", false, routing.Decision{Class: routing.Reputation, Department: "pr", Channel: "CPR"}); err != nil {
					t.Fatal(err)
				}
			}
			want := scanOutboxStats(t, s)
			got, err := s.OutboxStats()
			if err != nil || got != want {
				t.Fatalf("step %d: counts %+v, %v; a scan finds %+v", step, got, err, want)
			}
			if follower != nil && step%25 == 0 {
				testutil.Eventually(t, "the follower's counts", func() bool {
					st, err := follower.OutboxStats()
					return err == nil && st == scanOutboxStats(t, s)
				})
			}
		}
		want := scanOutboxStats(t, s)
		if follower != nil {
			testutil.Eventually(t, "the follower's counts", func() bool {
				st, err := follower.OutboxStats()
				return err == nil && st == want
			})
			late, err := db.open(Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer late.Close()
			if st, err := late.OutboxStats(); err != nil || st != want {
				t.Fatalf("a replica opened now counts %+v, %v; want %+v", st, err, want)
			}
			return
		}
		s.Close()
		s2 := db.openT(t, opts)
		if st, err := s2.OutboxStats(); err != nil || st != want {
			t.Fatalf("after reopening: %+v, %v; want %+v", st, err, want)
		}
	})
}

// OutboxStats costs the same at any depth of the outbox: it reads what
// changed, not every entry. Allocations stand for the work, as they are
// exact where time is not.
func TestOutboxStatsCostIsFlat(t *testing.T) {
	cost := func(depth, parkedFirst int) float64 {
		s, err := Open(filepath.Join(t.TempDir(), "socialroute.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fillOutbox(t, s, depth)
		// Parked entries at the front are skipped to find the oldest
		// pending post; once, not per call.
		var first []string
		s.eng.view(func(tx txn) error {
			c := tx.Bucket(bucketOutbox).Cursor()
			for k, _ := c.First(); k != nil && len(first) < parkedFirst; k, _ = c.Next() {
				first = append(first, ulid.ULID(k).String())
			}
			return nil
		})
		for _, id := range first {
			if err := s.Park(id, "channel_not_found"); err != nil {
				t.Fatal(err)
			}
		}
		if st, err := s.OutboxStats(); err != nil || st.Pending != depth-parkedFirst || st.Parked != parkedFirst {
			t.Fatalf("stats %+v, %v", st, err)
		}
		return testing.AllocsPerRun(20, func() { s.OutboxStats() })
	}
	small, deep := cost(10, 2), cost(5000, 300)
	t.Logf("allocations per call: %.0f with 10 entries, %.0f with 5000", small, deep)
	if deep > small+2 {
		t.Fatalf("OutboxStats allocates %.0f times at 5000 entries, %.0f at 10: its cost grows with the outbox", deep, small)
	}
}
