package store

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/oklog/ulid/v2"
)

// pruneBatch bounds the posts deleted per transaction, so pruning never
// holds the writer lock long enough to delay a webhook noticeably. etcd
// bounds transactions more tightly (perTx).
const pruneBatch = 256

// pruneWrites is the most keys pruning one post deletes, and pruneReads
// the most it reads.
const (
	pruneWrites = 7 // with a pending escalation
	pruneReads  = 4
)

// Prune deletes posts received before t, with their dedupe key and index
// entries, and the examples and incident topics from before t, in small
// transactions. Posts still waiting in the outbox are
// kept: nothing accepted is dropped before it reaches Slack. It returns how
// many posts were deleted.
func (s *Store) Prune(before time.Time) (int, error) {
	var limit ulid.ULID
	if err := limit.SetTime(ulid.Timestamp(before)); err != nil {
		return 0, nil // before the epoch of ids: nothing is older
	}
	total := 0
	var from []byte
	for {
		n, next, err := s.pruneSome(from, limit[:])
		total += n
		if err != nil {
			return total, s.wrap("prune posts", err)
		}
		if next == nil {
			break
		}
		from = next
	}
	if err := s.pruneTopics(before); err != nil {
		return total, s.wrap("prune incident topics", err)
	}
	// Examples hold whole posts, so the retention period applies to them
	// as to the posts themselves.
	if _, err := s.pruneExamples(before); err != nil {
		return total, s.wrap("prune examples", err)
	}
	return total, nil
}

// pruneTopics forgets the incident topics last seen before t. Each
// reputation post notes a few topics (incidents.go); without this the
// words of every post ever seen would stay.
func (s *Store) pruneTopics(before time.Time) error {
	var from []byte
	for {
		var next []byte
		err := s.eng.update(func(tx txn) error {
			next = nil
			b := tx.Bucket(bucketTopics)
			var old [][]byte
			c := b.Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == s.perTx(pruneReads, pruneBatch) {
					next = bytes.Clone(k)
					break
				}
				n++
				var times []time.Time
				if json.Unmarshal(v, &times) != nil || len(times) == 0 || times[len(times)-1].Before(before) {
					old = append(old, bytes.Clone(k))
				}
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || next == nil {
			return err
		}
		from = next
	}
}

// pruneSome deletes up to pruneBatch posts from key from (inclusive) up to
// limit (exclusive) and returns where the next batch starts, nil when done.
func (s *Store) pruneSome(from, limit []byte) (int, []byte, error) {
	n := 0
	var next []byte
	err := s.eng.update(func(tx txn) error {
		n, next = 0, nil
		posts := tx.Bucket(bucketPosts)
		outbox := tx.Bucket(bucketOutbox)
		type victim struct {
			key []byte
			rec Record
		}
		var victims []victim
		c := posts.Cursor()
		k, _ := c.First()
		if from != nil {
			k, _ = c.Seek(from)
		}
		// Each post looked at is a read the transaction must check at
		// commit; etcd bounds those too, and a long undelivered backlog
		// could otherwise fill one transaction with reads alone.
		maxVictims, maxScanned := s.perTx(pruneWrites, pruneBatch), s.perTx(pruneReads, 1<<30)
		for scanned := 0; k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
			if len(victims) == maxVictims || scanned == maxScanned {
				next = append([]byte(nil), k...)
				break
			}
			scanned++
			if outbox.Get(k) != nil {
				continue
			}
			rec, err := getRecord(tx, k)
			if err != nil {
				return err
			}
			victims = append(victims, victim{append([]byte(nil), k...), rec})
		}
		for _, vic := range victims {
			if err := reindex(tx, openIndex(vic.key, vic.rec), indexEntry{}); err != nil {
				return err
			}
			if d := vic.rec.Delivery; d != nil {
				if err := tx.Bucket(bucketMessages).Delete(messageKey(d.Channel, d.TS)); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketDedupe).Delete(dedupeKey(vic.rec.Post.Source, vic.rec.Post.ExternalID)); err != nil {
				return err
			}
			if vic.rec.Escalated != nil && vic.rec.EscalatedTo == "" {
				if err := tx.Bucket(bucketEscalating).Delete(vic.key); err != nil {
					return err
				}
			}
			for _, b := range [][]byte{bucketPosts, bucketDecisions, bucketDeliveries} {
				if err := tx.Bucket(b).Delete(vic.key); err != nil {
					return err
				}
			}
		}
		n = len(victims)
		return nil
	})
	return n, next, err
}

// Backup writes a consistent copy of the whole database to w while the
// store stays in use, and returns its size. The copy is a bbolt file that
// can replace store.path while socialroute is stopped.
func (s *Store) Backup(w io.Writer) (int64, error) {
	size, err := s.eng.backup(w)
	return size, s.wrap("backup", err)
}
