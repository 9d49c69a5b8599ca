package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

func TestPruneKeepsRecentAndUndelivered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		s := db.openT(t, Options{Now: func() time.Time { return clock }})
		// A backlog never delivered, longer than one transaction may read
		// on etcd, before the posts to prune.
		var backlog []routing.Post
		for i := range 3 * etcdMaxOps / 2 {
			backlog = append(backlog, post("g", fmt.Sprint("stuck-", i), "never delivered"))
		}
		stuck, err := s.Ingest(context.Background(), backlog)
		if err != nil {
			t.Fatal(err)
		}
		var old []string
		for i := range pruneBatch + 20 { // more than one batch
			old = append(old, delivered(t, s, fmt.Sprint(i), routing.Support))
		}
		clock = clock.AddDate(0, 0, 100)
		recent := delivered(t, s, "recent", routing.Support)

		n, err := s.Prune(clock.AddDate(0, 0, -90))
		if err != nil || n != len(old) {
			t.Fatalf("Prune = %d, %v; want %d", n, err, len(old))
		}
		if _, err := s.Get(old[0]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old post still there: %v", err)
		}
		if _, err := s.PostByMessage("C1", "1.0001"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("message index of a pruned post: %v", err)
		}
		for _, id := range []string{stuck[0].ID, stuck[len(stuck)-1].ID, recent} {
			if _, err := s.Get(id); err != nil {
				t.Fatalf("post %s pruned: %v", id, err)
			}
		}
		items := openItems(t, s)
		if len(items) != 1 || items[0].PostID != recent {
			t.Fatalf("open items after pruning: %+v", items)
		}
		// The dedupe key went with the post: the same id is new again.
		res, _ := s.Ingest(context.Background(), []routing.Post{post("g", "0", "again")})
		if res[0].Duplicate {
			t.Fatal("dedupe key of a pruned post kept")
		}
	})
}

func TestBackupIsAUsableCopy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		id := delivered(t, s, "1", routing.Support)
		var buf bytes.Buffer
		n, err := s.Backup(&buf)
		if err != nil || n != int64(buf.Len()) || n == 0 {
			t.Fatalf("Backup = %d, %v (buffer %d)", n, err, buf.Len())
		}
		path := filepath.Join(t.TempDir(), "restored.db")
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		restored, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer restored.Close()
		if rec, err := restored.Get(id); err != nil || rec.Delivery == nil {
			t.Fatalf("restored copy: %+v, %v", rec, err)
		}
	})
}

func TestPruneForgetsOldIncidentTopics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		rules := IncidentRules{Window: time.Hour, TopicPosts: 3}
		var topics []string
		for i := range 300 { // more than one transaction's worth on etcd
			topics = append(topics, fmt.Sprintf("old-%03d", i))
		}
		err := s.eng.update(func(tx txn) error {
			_, err := noteTopics(tx.Bucket(bucketTopics), topics[:100], now.AddDate(0, -4, 0), rules)
			return err
		})
		for _, chunk := range [][]string{topics[100:200], topics[200:]} {
			if err == nil {
				err = s.eng.update(func(tx txn) error {
					_, err := noteTopics(tx.Bucket(bucketTopics), chunk, now.AddDate(0, -4, 0), rules)
					return err
				})
			}
		}
		if err == nil {
			err = s.eng.update(func(tx txn) error {
				_, err := noteTopics(tx.Bucket(bucketTopics), []string{"recent"}, now, rules)
				return err
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Prune(now.AddDate(0, 0, -90)); err != nil {
			t.Fatal(err)
		}
		var left []string
		s.eng.view(func(tx txn) error {
			return tx.Bucket(bucketTopics).ForEach(func(k, _ []byte) error { left = append(left, string(k)); return nil })
		})
		if len(left) != 1 || left[0] != "recent" {
			t.Fatalf("topics after pruning: %d left (%.3v…), want only \"recent\"", len(left), left)
		}
	})
}
