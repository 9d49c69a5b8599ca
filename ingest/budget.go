package ingest

import (
	"container/list"
	"context"
	"sync"
)

// budget bounds the bytes of request bodies held at once. Requests take
// what their body may need before reading it and give it back when they
// are answered; those that find too little wait in arrival order, so a
// large body is not passed over for ever by small ones.
type budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters list.List // of *budgetWaiter, oldest first
	// onChange, when set, is told the bytes in use after every change.
	onChange func(used int64)
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once n is granted
}

func newBudget(size int64, onChange func(int64)) *budget {
	return &budget{size: size, onChange: onChange}
}

// acquire takes n bytes (at most the whole budget), waiting until ctx
// ends; it reports whether it got them.
func (b *budget) acquire(ctx context.Context, n int64) bool {
	n = min(n, b.size)
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.size-b.used >= n {
		b.take(n)
		b.mu.Unlock()
		return true
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	e := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return true
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		// Granted while giving up: hand it back.
		b.used -= n
	default:
		b.waiters.Remove(e)
	}
	b.grant() // the waiters behind this one may fit now
	b.changed()
	return false
}

// release gives back n bytes taken by acquire.
func (b *budget) release(n int64) {
	n = min(n, b.size)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.grant()
	b.changed()
}

func (b *budget) take(n int64) {
	b.used += n
	b.changed()
}

// grant serves waiters in order while the oldest fits.
func (b *budget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.size-b.used < w.n {
			return
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}

func (b *budget) changed() {
	if b.onChange != nil {
		b.onChange(b.used)
	}
}
