package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/socialroute/socialroute/routing"
)

// ingestReq is one caller's posts waiting for a shared commit.
type ingestReq struct {
	posts   []routing.Post
	results []IngestResult
	done    chan error
}

// Ingest stores posts durably, each with its dedupe key and outbox entry,
// and returns one result per post in order. A post whose source and
// ExternalID were stored before (or earlier in the same call) is reported as
// a duplicate and not written again. Posts get their internal ID and, if
// unset, ReceivedAt here.
//
// When Ingest returns nil, everything it reports as new is committed and
// fsynced. Concurrent calls share one commit. ErrBusy means the write queue
// is full and nothing was stored.
func (s *Store) Ingest(ctx context.Context, posts []routing.Post) ([]IngestResult, error) {
	if len(posts) == 0 {
		return nil, nil
	}
	req := &ingestReq{posts: posts, done: make(chan error, 1)}

	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case s.queue <- req:
		s.mu.RUnlock()
	default:
		s.mu.RUnlock()
		return nil, ErrBusy
	}

	select {
	case err := <-req.done:
		if err != nil {
			return nil, err
		}
		return req.results, nil
	case <-ctx.Done():
		// The commit may still happen; a retry by the caller then reports
		// a duplicate, which is the truth.
		return nil, ctx.Err()
	}
}

// commitLoop takes queued ingest requests and commits whatever has queued
// up together. There is no artificial delay: a lone request commits at once,
// and requests that arrive during an fsync share the next one.
func (s *Store) commitLoop() {
	defer close(s.done)
	batch := make([]*ingestReq, 0, s.opts.MaxBatch)
	for {
		var first *ingestReq
		select {
		case first = <-s.queue:
		case <-s.stop:
			// Commit what callers already handed over before closing.
			for {
				select {
				case r := <-s.queue:
					s.commit([]*ingestReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case r := <-s.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

func (s *Store) commit(batch []*ingestReq) {
	now := s.now().UTC()
	added := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		added = false
		posts := tx.Bucket(bucketPosts)
		dedupe := tx.Bucket(bucketDedupe)
		outbox := tx.Bucket(bucketOutbox)
		for _, req := range batch {
			req.results = make([]IngestResult, len(req.posts))
			for i := range req.posts {
				p := &req.posts[i]
				dk := dedupeKey(p.Source, p.ExternalID)
				if v := dedupe.Get(dk); v != nil {
					req.results[i] = IngestResult{ID: ulid.ULID(v).String(), Duplicate: true}
					continue
				}
				id := ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy())
				p.ID = id.String()
				if p.ReceivedAt.IsZero() {
					p.ReceivedAt = now
				}
				rec, err := encodeRecord(Record{Post: *p})
				if err != nil {
					return fmt.Errorf("encode post: %w", err)
				}
				entry, err := json.Marshal(OutboxEntry{})
				if err != nil {
					return fmt.Errorf("encode outbox entry: %w", err)
				}
				if err := posts.Put(id[:], rec); err != nil {
					return err
				}
				if err := dedupe.Put(dk, id[:]); err != nil {
					return err
				}
				if err := outbox.Put(id[:], entry); err != nil {
					return err
				}
				req.results[i] = IngestResult{ID: id.String()}
				added = true
			}
		}
		return nil
	})
	if err != nil {
		err = s.wrap("store posts", err)
	}
	if err == nil && added {
		s.signal()
	}
	for _, req := range batch {
		if err != nil {
			req.results = nil
		}
		req.done <- err
	}
}
