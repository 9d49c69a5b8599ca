package store

import (
	"context"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// Role is what this process is in the leader election.
type Role string

const (
	// RoleLeader runs the work that must run once: delivery, reminders,
	// retention. A bbolt store is always its own leader.
	RoleLeader Role = "leader"
	// RoleFollower accepts webhooks and Slack interactions and waits to
	// take over.
	RoleFollower Role = "follower"
	// RoleDisconnected has lost etcd and cannot tell who leads.
	RoleDisconnected Role = "disconnected"
)

// fence identifies one term of leadership: the election key and the
// revision that created it. Transactions that require the leader commit
// only while that key still exists as created.
type fence struct {
	key string
	rev int64
}

// Role reports this process's place in the leader election.
func (s *Store) Role() Role {
	if r, ok := s.role.Load().(Role); ok {
		return r
	}
	if s.eng.grouped() {
		return RoleLeader
	}
	return RoleFollower
}

// Lead calls work whenever this process becomes the leader, with a context
// that ends when the leadership does, and returns when ctx ends. With
// bbolt the process is the only one and leads at once, until ctx ends.
//
// With etcd the replicas campaign in an election under a lease of
// LeaseTTL. When the leader dies its lease expires and another replica
// takes over; when a leader loses etcd for longer than its lease, its
// work is cancelled before another can win, and requireLeader keeps any
// write it still attempts from committing.
func (s *Store) Lead(ctx context.Context, work func(ctx context.Context)) {
	e, ok := s.eng.(*etcdEngine)
	if !ok {
		s.role.Store(RoleLeader)
		work(ctx)
		return
	}
	for ctx.Err() == nil {
		e.campaign(ctx, s, work)
		if ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// campaign runs one session: wait to be elected, lead until the session
// or ctx ends.
func (e *etcdEngine) campaign(ctx context.Context, s *Store, work func(context.Context)) {
	ttl := max(int(e.opts.LeaseTTL/time.Second), 1)
	session, err := concurrency.NewSession(e.cli, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		s.role.Store(RoleDisconnected)
		return
	}
	defer session.Close()
	s.role.Store(RoleFollower)
	// Stop campaigning when the session dies: the key we would win with
	// is gone with its lease.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-session.Done():
			cancel()
		case <-cctx.Done():
		}
	}()
	election := concurrency.NewElection(session, e.prefix+"leader/")
	if err := election.Campaign(cctx, e.opts.Replica); err != nil {
		if ctx.Err() == nil {
			s.role.Store(RoleDisconnected)
		}
		return
	}
	f := &fence{key: election.Key(), rev: election.Rev()}
	e.mu.Lock()
	e.fence = f
	e.mu.Unlock()
	s.role.Store(RoleLeader)
	work(cctx)
	e.mu.Lock()
	e.fence = nil
	e.mu.Unlock()
	if ctx.Err() != nil {
		// Hand over at once rather than after the lease runs out.
		rctx, rcancel := context.WithTimeout(context.Background(), e.timeout)
		_ = election.Resign(rctx)
		rcancel()
		s.role.Store(RoleFollower)
		return
	}
	s.role.Store(RoleDisconnected)
}

// stillLeader reports whether f's election key still exists as created.
func (e *etcdEngine) stillLeader(f *fence) bool {
	ctx, cancel := e.reqCtx()
	defer cancel()
	resp, err := e.cli.Get(ctx, f.key)
	if err != nil || len(resp.Kvs) == 0 {
		return false
	}
	return resp.Kvs[0].CreateRevision == f.rev
}

// requireLeader makes tx commit only if this process leads (etcd) when it
// commits. bbolt transactions are always the leader's.
func requireLeader(tx txn) {
	if t, ok := tx.(*etcdTxn); ok {
		t.requireLeader()
	}
}
