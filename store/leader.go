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
func (s *Store) Role() Role { return s.role.Load().(Role) }

// Exclusive reports whether this process is the only one using the store
// (bbolt, whose file lock keeps others out): then nothing another process
// began can still be under way, and marks left in the store are its own
// or a dead process's.
func (s *Store) Exclusive() bool {
	_, shared := s.eng.(*etcdEngine)
	return !shared
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
		work(ctx)
		return
	}
	for ctx.Err() == nil && e.ctx.Err() == nil {
		e.campaign(ctx, s, work)
		select {
		case <-ctx.Done():
		case <-e.ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// campaign runs one session: wait to be elected, lead until the session,
// ctx or the store ends, then give the lease back so that another replica
// takes over at once.
func (e *etcdEngine) campaign(ctx context.Context, s *Store, work func(context.Context)) {
	e.leading.Add(1)
	defer e.leading.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(e.ctx, cancel)()

	ttl := max(int(e.opts.LeaseTTL/time.Second), 1)
	session, err := concurrency.NewSession(e.cli, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		s.role.Store(RoleDisconnected)
		return
	}
	defer func() {
		// Revoking the lease deletes this session's keys: as leader, the
		// successor is elected now rather than when the lease runs out; as
		// a candidate, nobody queues behind a key of a process gone.
		rctx, rcancel := context.WithTimeout(context.Background(), e.timeout)
		_, _ = e.cli.Revoke(rctx, session.Lease())
		rcancel()
	}()
	s.role.Store(RoleFollower)
	// Stop campaigning when the session dies: the key we would win with
	// is gone with its lease.
	defer context.AfterFunc(session.Ctx(), cancel)()
	election := concurrency.NewElection(session, e.prefix+"leader/")
	if err := election.Campaign(ctx, e.opts.Replica); err != nil {
		s.role.Store(sessionRole(session))
		return
	}
	e.mu.Lock()
	e.fence = &fence{key: election.Key(), rev: election.Rev()}
	e.mu.Unlock()
	s.role.Store(RoleLeader)
	work(ctx)
	e.mu.Lock()
	e.fence = nil
	e.mu.Unlock()
	s.role.Store(sessionRole(session))
}

// sessionRole is the role of a replica not leading: disconnected when its
// session died with etcd out of reach.
func sessionRole(session *concurrency.Session) Role {
	select {
	case <-session.Done():
		return RoleDisconnected
	default:
		return RoleFollower
	}
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
