package store

import (
	"slices"
)

// write is one caller's change waiting for a shared commit. fn runs in the
// batch's transaction after the writes queued before it, so it sees their
// effects, as if the writes had committed one after another.
type write struct {
	fn func(tx txn) error
	// wake is set by fn when it added outbox entries.
	wake bool
	done chan error
}

// enqueue hands w to the commit loop. When the queue is full, a caller that
// cannot wait gets ErrBusy at once (webhook callers are told to retry); the
// others wait for room.
func (s *Store) enqueue(w *write, wait bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if !s.eng.grouped() {
		return s.start(w, wait)
	}
	if wait {
		// Close waits for this read lock, and the commit loop keeps
		// draining the queue until Close has it, so this cannot hang.
		s.queue <- w
		return nil
	}
	select {
	case s.queue <- w:
		return nil
	default:
		return ErrBusy
	}
}

// start runs w in a transaction of its own, for engines that group writes
// themselves (etcd). QueueSize bounds how many run at once, as it bounds
// the commit loop's queue.
func (s *Store) start(w *write, wait bool) error {
	if wait {
		s.inflight <- struct{}{}
	} else {
		select {
		case s.inflight <- struct{}{}:
		default:
			return ErrBusy
		}
	}
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer func() { <-s.inflight }()
		w.wake = false
		err := s.eng.update(w.fn)
		if err == nil && w.wake {
			s.signal()
		}
		w.done <- err
	}()
	return nil
}

// update runs fn in the next shared commit. When fn fails, nothing it wrote
// is kept and its error is returned; otherwise the error is the commit's.
func (s *Store) update(fn func(tx txn) error) error {
	w := &write{fn: fn, done: make(chan error, 1)}
	if err := s.enqueue(w, true); err != nil {
		return err
	}
	return <-w.done
}

// commitLoop commits whatever writes have queued up, together: one bbolt
// transaction and one fsync for the lot. There is no artificial delay: a
// lone write commits at once, and writes that arrive during an fsync share
// the next one. Ingest requests and the delivery worker's bookkeeping go
// through the same loop, so under a burst the worker's small updates ride
// along with the webhook commits instead of each paying an fsync and
// waiting for bbolt's writer lock.
func (s *Store) commitLoop() {
	defer close(s.done)
	batch := make([]*write, 0, s.opts.MaxBatch)
	for {
		select {
		case w := <-s.queue:
			batch = append(batch[:0], w)
		case <-s.stop:
			// Commit what callers already handed over before closing.
			for {
				batch = s.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				s.commit(batch)
			}
		}
		s.commit(s.fill(batch))
	}
}

// fill adds queued writes to batch, up to MaxBatch, without waiting.
func (s *Store) fill(batch []*write) []*write {
	for len(batch) < s.opts.MaxBatch {
		select {
		case w := <-s.queue:
			batch = append(batch, w)
		default:
			return batch
		}
	}
	return batch
}

// commit runs batch in one transaction and answers every write. A write
// whose fn fails gets its own error and the transaction is rolled back;
// the rest of the batch is then run again without it, so one bad write
// never costs the others theirs.
func (s *Store) commit(batch []*write) {
	for len(batch) > 0 {
		failed, wake := -1, false
		err := s.eng.update(func(tx txn) error {
			for i, w := range batch {
				w.wake = false
				if err := w.fn(tx); err != nil {
					failed = i
					return err
				}
				wake = wake || w.wake
			}
			return nil
		})
		if failed >= 0 {
			batch[failed].done <- err
			batch = slices.Delete(batch, failed, failed+1)
			continue
		}
		// Wake the delivery worker before answering, so that a caller who
		// sees its write done can count on the worker knowing too.
		if err == nil && wake {
			s.signal()
		}
		for _, w := range batch {
			w.done <- err
		}
		return
	}
}

// perTx is how many items, each writing up to writes keys, one transaction
// may take: all of them (dflt) on bbolt, fewer on etcd, whose
// transactions carry at most maxWrites operations.
func (s *Store) perTx(writes, dflt int) int {
	if m := s.eng.maxWrites(); m > 0 {
		return max(1, min(dflt, (m-8)/writes))
	}
	return dflt
}
