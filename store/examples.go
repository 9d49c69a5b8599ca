package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// bucketExamples holds the posts people labelled by reclassifying them in
// Slack: big-endian sequence number → routing.Example (JSON). The sequence
// keeps them in the order they were given.
var bucketExamples = []byte("examples")

// AddExample stores a labelled example durably (the commit is fsynced
// before it returns). Each call adds one; a later example for the same
// post is kept too, and the learner decides which counts.
func (s *Store) AddExample(ex routing.Example) error {
	switch {
	case !ex.Class.Valid():
		return fmt.Errorf("add example: class %q (want support, reputation or promotional)", ex.Class)
	case strings.TrimSpace(ex.Post.Text) == "":
		return errors.New("add example: post text is empty")
	case ex.User == "":
		return errors.New("add example: no user")
	}
	if ex.At.IsZero() {
		ex.At = s.now().UTC()
	}
	v, err := json.Marshal(ex)
	if err != nil {
		return fmt.Errorf("add example: %w", err)
	}
	err = s.eng.update(func(tx txn) error {
		b := tx.Bucket(bucketExamples)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		return b.Put(k[:], v)
	})
	return s.wrap("add example", err)
}

// Examples returns the newest limit examples (all when there are fewer),
// oldest first. Examples carry whole posts, so callers load only as many
// as they use: the learner, routing.LearnOptions.MaxExamples.
func (s *Store) Examples(limit int) ([]routing.Example, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("read examples: limit %d (want at least 1)", limit)
	}
	var out []routing.Example
	err := s.eng.view(func(tx txn) error {
		c := tx.Bucket(bucketExamples).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var ex routing.Example
			if err := json.Unmarshal(v, &ex); err != nil {
				return fmt.Errorf("example %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ex)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap("read examples", err)
	}
	slices.Reverse(out)
	return out, nil
}

// pruneExamples forgets the examples stored before t, in small
// transactions. Examples are kept in the order they were stored, which is
// the order of their times unless a caller gave one; the walk stops at the
// first example not old enough, so one given out of order goes with a
// later pruning, once those stored before it have gone.
func (s *Store) pruneExamples(before time.Time) (int, error) {
	total, limit := 0, s.perTx(1, pruneBatch)
	for {
		var old [][]byte
		done := false
		err := s.eng.update(func(tx txn) error {
			old, done = old[:0], false
			b := tx.Bucket(bucketExamples)
			c := b.Cursor()
			for k, v := c.First(); ; k, v = c.Next() {
				if k == nil {
					done = true
					break
				}
				if len(old) == limit {
					break
				}
				var ex struct {
					At time.Time `json:"at"`
				}
				if json.Unmarshal(v, &ex) == nil && !ex.At.Before(before) {
					done = true
					break
				}
				old = append(old, bytes.Clone(k))
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(old)
		if done {
			return total, nil
		}
	}
}
