package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/oklog/ulid/v2"

	"github.com/socialroute/socialroute/routing"
)

// Ingest stores posts durably, each with its dedupe key and outbox entry,
// and returns one result per post in order. A post whose source and
// ExternalID were stored before (or earlier in the same call) is reported as
// a duplicate and not written again. Posts get their internal ID and, if
// unset, ReceivedAt here.
//
// When Ingest returns nil, everything it reports as new is committed and
// fsynced. Concurrent calls share one commit. ErrBusy means the write queue
// is full and nothing was stored.
//
// On etcd a call with more posts than one transaction may write is stored
// in several; when one fails, those before it stay stored, and a retry of
// the call reports them as duplicates.
func (s *Store) Ingest(ctx context.Context, posts []routing.Post) ([]IngestResult, error) {
	n := s.perTx(ingestWrites, len(posts))
	if n >= len(posts) {
		return s.ingestTx(ctx, posts)
	}
	results := make([]IngestResult, 0, len(posts))
	for chunk := range slices.Chunk(posts, n) {
		res, err := s.ingestTx(ctx, chunk)
		if err != nil {
			return nil, err
		}
		results = append(results, res...)
	}
	return results, nil
}

// ingestWrites is how many keys storing one post writes.
const ingestWrites = 3

// ingestTx stores posts in one transaction.
func (s *Store) ingestTx(ctx context.Context, posts []routing.Post) ([]IngestResult, error) {
	if len(posts) == 0 {
		return nil, nil
	}
	var results []IngestResult
	w := &write{done: make(chan error, 1)}
	w.fn = func(tx txn) error {
		var err error
		results, err = s.ingest(tx, posts)
		w.wake = err == nil && added(results)
		return err
	}
	if err := s.enqueue(w, false); err != nil {
		return nil, err
	}
	select {
	case err := <-w.done:
		if err != nil {
			return nil, s.wrap("store posts", err)
		}
		return results, nil
	case <-ctx.Done():
		// The commit may still happen; a retry by the caller then reports
		// a duplicate, which is the truth.
		return nil, ctx.Err()
	}
}

func added(results []IngestResult) bool {
	for _, r := range results {
		if !r.Duplicate {
			return true
		}
	}
	return false
}

// ingest writes posts in tx and sets their ID and, if unset, ReceivedAt.
// It may run more than once, when another write in the same batch fails
// and the batch is rolled back: a rerun gives the posts new ids and keeps
// the ReceivedAt of the first run, which nobody has seen.
func (s *Store) ingest(tx txn, posts []routing.Post) ([]IngestResult, error) {
	now := s.now().UTC()
	postsB := tx.Bucket(bucketPosts)
	dedupe := tx.Bucket(bucketDedupe)
	outbox := tx.Bucket(bucketOutbox)
	entry, err := json.Marshal(OutboxEntry{})
	if err != nil {
		return nil, fmt.Errorf("encode outbox entry: %w", err)
	}
	results := make([]IngestResult, len(posts))
	for i := range posts {
		p := &posts[i]
		dk := dedupeKey(p.Source, p.ExternalID)
		if v := dedupe.Get(dk); v != nil {
			results[i] = IngestResult{ID: ulid.ULID(v).String(), Duplicate: true}
			continue
		}
		id := ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy())
		p.ID = id.String()
		if p.ReceivedAt.IsZero() {
			p.ReceivedAt = now
		}
		rec, err := encodePost(Record{Post: *p})
		if err != nil {
			return nil, err
		}
		if err := postsB.Put(id[:], rec); err != nil {
			return nil, err
		}
		if err := dedupe.Put(dk, id[:]); err != nil {
			return nil, err
		}
		if err := outbox.Put(id[:], entry); err != nil {
			return nil, err
		}
		results[i] = IngestResult{ID: id.String()}
	}
	return results, nil
}
