package store

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// /readyz and the metrics ask for the outbox's depth all the time, and the
// outbox may hold tens of thousands of posts, so the counts are kept as
// entries come and go instead of read from the whole outbox per call.
//
// On bbolt the process is the only writer: each commit's changes to the
// outbox are noted as the transaction makes them (countingTxn) and applied
// once it has committed. On etcd other replicas write too, and a follower
// never sees their transactions; the counts follow the cluster's own
// history instead (etcd_outbox.go), which every replica watches.
//
// Counts are exact; the oldest pending post is kept as its key and looked
// up again only when that entry goes, seeking from where it was: the
// parked entries skipped on the way are read once, not per call.

// outboxCounts is the outbox's depth as last seen.
type outboxCounts struct {
	mu      sync.Mutex
	changed *sync.Cond // broadcast when rev moves (etcd)

	pending, parked int
	// oldest is the smallest key of a pending entry, nil when there is
	// none; with stale set, the entry it names may have gone or been
	// parked, and no pending entry is smaller.
	oldest []byte
	stale  bool
	gen    uint64 // counts changes to oldest and stale
	// rev is the etcd revision the counts are at.
	rev int64
}

func newOutboxCounts() *outboxCounts {
	c := &outboxCounts{}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// outboxChange is one outbox key's change in a transaction: what it was
// before and what it is after (present, parked).
type outboxChange struct {
	key                   []byte
	was, wasParked, is, p bool
}

// outboxDelta is a transaction's changes to the outbox, applied once it has
// committed.
type outboxDelta struct {
	changes []outboxChange
}

// entryParked reports whether outbox value v is a parked entry.
func entryParked(v []byte) bool {
	var e struct {
		Parked bool `json:"parked"`
	}
	return json.Unmarshal(v, &e) == nil && e.Parked
}

// load sets the counts from a scan of the whole outbox; rev, called after
// it, says at which etcd revision the scan read.
func (c *outboxCounts) load(b bucket, rev func() int64) error {
	pending, parked := 0, 0
	var oldest []byte
	err := b.ForEach(func(k, v []byte) error {
		if entryParked(v) {
			parked++
			return nil
		}
		if oldest == nil {
			oldest = bytes.Clone(k)
		}
		pending++
		return nil
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.pending, c.parked, c.oldest, c.stale, c.rev = pending, parked, oldest, false, rev()
	c.gen++
	c.changed.Broadcast()
	c.mu.Unlock()
	return nil
}

// apply takes in the changes of a committed transaction.
func (c *outboxCounts) apply(changes []outboxChange, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range changes {
		switch {
		case ch.was && ch.wasParked:
			c.parked--
		case ch.was:
			c.pending--
		}
		switch {
		case ch.is && ch.p:
			c.parked++
		case ch.is:
			c.pending++
		}
		wasPending, isPending := ch.was && !ch.wasParked, ch.is && !ch.p
		switch {
		case isPending && (c.oldest == nil || bytes.Compare(ch.key, c.oldest) < 0):
			// A pending entry ahead of the oldest: new posts come last,
			// but a reclassified post comes back under its old key.
			c.oldest = bytes.Clone(ch.key)
			c.gen++
		case wasPending && !isPending && bytes.Equal(ch.key, c.oldest):
			c.stale = true
			c.gen++
		}
	}
	if rev > c.rev {
		c.rev = rev
		c.changed.Broadcast()
	}
}

// stats returns the counts; seek finds the first pending key at or after
// a key (nil when none) when the oldest must be looked up again.
func (c *outboxCounts) stats(seek func(from []byte) ([]byte, error)) (OutboxStats, error) {
	c.mu.Lock()
	st := OutboxStats{Pending: c.pending, Parked: c.parked}
	oldest, stale, gen := c.oldest, c.stale, c.gen
	c.mu.Unlock()
	if stale {
		// Looked up outside the lock, so that commits never wait for it;
		// kept only if nothing moved meanwhile.
		k, err := seek(oldest)
		if err != nil {
			return OutboxStats{}, err
		}
		c.mu.Lock()
		if c.gen == gen {
			c.oldest, c.stale = k, false
			c.gen++
		}
		c.mu.Unlock()
		oldest = k
	}
	if st.Pending > 0 && oldest != nil {
		st.Oldest = time.UnixMilli(int64(ulid.ULID(oldest).Time())).UTC()
	}
	return st, nil
}

// waitRev waits until the counts are at etcd revision rev or later, or
// until deadline.
func (c *outboxCounts) waitRev(rev int64, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rev >= rev {
		return
	}
	// sync.Cond has no timeout: a timer wakes the waiters at the deadline.
	t := time.AfterFunc(time.Until(deadline), func() {
		c.mu.Lock()
		c.changed.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	for c.rev < rev && time.Now().Before(deadline) {
		c.changed.Wait()
	}
}

// firstPending returns the first key at or after from (the first key
// when from is nil) of an entry that is not parked, nil when there is none.
func firstPending(b bucket, from []byte) []byte {
	c := b.Cursor()
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
	}
	for ; k != nil; k, v = c.Next() {
		if !entryParked(v) {
			return bytes.Clone(k)
		}
	}
	return nil
}

// countingTxn notes a transaction's changes to the outbox in d.
type countingTxn struct {
	txn
	d *outboxDelta
}

func (t countingTxn) Bucket(name []byte) bucket {
	b := t.txn.Bucket(name)
	if !bytes.Equal(name, bucketOutbox) {
		return b
	}
	return countingBucket{bucket: b, d: t.d}
}

type countingBucket struct {
	bucket
	d *outboxDelta
}

func (b countingBucket) note(key []byte, is, parked bool) {
	old := b.bucket.Get(key)
	b.d.changes = append(b.d.changes, outboxChange{key: bytes.Clone(key), was: old != nil, wasParked: old != nil && entryParked(old), is: is, p: parked})
}

func (b countingBucket) Put(key, value []byte) error {
	b.note(key, true, entryParked(value))
	return b.bucket.Put(key, value)
}

func (b countingBucket) Delete(key []byte) error {
	b.note(key, false, false)
	return b.bucket.Delete(key)
}

// OutboxStats counts outbox entries.
type OutboxStats struct {
	Pending int       // waiting for delivery, including retries
	Parked  int       // failed permanently
	Oldest  time.Time // ReceivedAt of the oldest pending post
}

// OutboxStats reports the outbox's depth, from counts kept as entries come
// and go: it reads no more than the entries parked since the last call.
func (s *Store) OutboxStats() (OutboxStats, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return OutboxStats{}, s.wrap("read outbox", ErrClosed)
	}
	if e, ok := s.eng.(*etcdEngine); ok {
		// This process's own writes are in the counts before it asks.
		s.counts.waitRev(e.outboxWritten.Load(), time.Now().Add(e.timeout))
	}
	st, err := s.counts.stats(func(from []byte) ([]byte, error) {
		var k []byte
		err := s.eng.view(func(tx txn) error {
			k = firstPending(tx.Bucket(bucketOutbox), from)
			return nil
		})
		return k, err
	})
	return st, s.wrap("read outbox", err)
}
