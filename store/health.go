package store

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrWriteFailing is what Check reports while the last commit failed: the
// database can be read, but what it is asked to keep is not kept (a full
// disk, a file gone read-only, an etcd cluster refusing writes).
var ErrWriteFailing = errors.New("writes are failing")

// writeHealth remembers whether the engine's last commit failed. Only
// commits count: a write that its own function refused (a claim by
// someone else, a missing post) says nothing about the database.
type writeHealth struct {
	mu  sync.Mutex
	err error
	at  time.Time
}

// note records how a commit ended: err is the update's result and fnErr
// what the transaction's function returned on its last run. A success
// clears an earlier failure.
func (h *writeHealth) note(err, fnErr error) {
	switch {
	case err == nil:
		h.mu.Lock()
		h.err = nil
		h.mu.Unlock()
	case fnErr != nil, errors.Is(err, ErrNotLeader), errors.Is(err, ErrClosed), isBoltClosed(err):
		// Refused by the store's own rules, or not this process's turn.
	default:
		h.mu.Lock()
		h.err, h.at = err, time.Now()
		h.mu.Unlock()
	}
}

// check returns the last commit's failure, if the last commit failed.
func (h *writeHealth) check() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	return fmt.Errorf("%w since %s: %v", ErrWriteFailing, h.at.UTC().Format(time.RFC3339), h.err)
}

// probeEvery spaces the writes Check makes to learn whether commits work
// again.
const probeEvery = time.Second

// keyProbe is the meta key those writes go to.
var keyProbe = []byte("write_probe")

// probeWrites commits a small write, at most once per probeEvery, and
// reports whether it did. A store that stopped taking writes is marked
// unready, which can keep writers away (a load balancer stops sending
// webhooks), so it must find out on its own when writes work again.
func (s *Store) probeWrites() bool {
	now := time.Now().UnixNano()
	last := s.probed.Load()
	if now-last < int64(probeEvery) || !s.probed.CompareAndSwap(last, now) {
		return false
	}
	v, _ := time.Unix(0, now).UTC().MarshalBinary()
	_ = s.eng.update(func(tx txn) error { return tx.Bucket(bucketMeta).Put(keyProbe, v) })
	return true
}
