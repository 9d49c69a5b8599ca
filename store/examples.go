package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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

// Examples returns every stored example, oldest first.
func (s *Store) Examples() ([]routing.Example, error) {
	var out []routing.Example
	err := s.eng.view(func(tx txn) error {
		return tx.Bucket(bucketExamples).ForEach(func(k, v []byte) error {
			var ex routing.Example
			if err := json.Unmarshal(v, &ex); err != nil {
				return fmt.Errorf("example %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ex)
			return nil
		})
	})
	if err != nil {
		return nil, s.wrap("read examples", err)
	}
	return out, nil
}
