package store

import (
	"context"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// On etcd the outbox's counts (outboxcount.go) follow the cluster's
// history: one scan at a revision, then every change to the outbox after
// it, whichever replica made it, from a watch that carries each key's
// previous value. A replica thus counts the leader's deliveries as well
// as its own posts, with no shared counter for every write to contend on.
// When the watch breaks (the history it needs was compacted, the member
// went away) the counts start again from a new scan.
//
// The watch answers a little after a commit; OutboxStats waits for the
// revision of this process's last write to the outbox (outboxWritten), so
// a caller sees its own posts counted.

func noRev() int64 { return 0 }

// loadOutbox sets counts from a scan of the outbox and returns the
// revision it read at.
func (e *etcdEngine) loadOutbox(counts *outboxCounts) (int64, error) {
	t := e.newTxn(false)
	err := counts.load(t.Bucket(bucketOutbox), func() int64 { return t.rev })
	if t.err != nil {
		err = t.err
	}
	return t.rev, err
}

// followOutbox keeps counts in step with the outbox from revision rev on,
// until the store closes.
func (e *etcdEngine) followOutbox(counts *outboxCounts, rev int64) {
	start, end := e.bucketStart(bucketOutbox), e.bucketEnd(bucketOutbox)
	for e.ctx.Err() == nil {
		if rev == 0 {
			var err error
			if rev, err = e.loadOutbox(counts); err != nil {
				rev = 0
				if !e.pause(200 * time.Millisecond) {
					return
				}
				continue
			}
		}
		ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(e.ctx))
		wc := e.cli.Watch(ctx, start, clientv3.WithRange(end), clientv3.WithPrevKV(), clientv3.WithRev(rev+1))
		for resp := range wc {
			if resp.Err() != nil {
				break
			}
			changes := make([]outboxChange, 0, len(resp.Events))
			last := rev
			for _, ev := range resp.Events {
				ch := outboxChange{key: []byte(strings.TrimPrefix(string(ev.Kv.Key), start))}
				if ev.PrevKv != nil {
					ch.was, ch.wasParked = true, entryParked(ev.PrevKv.Value)
				}
				if ev.Type == mvccpb.PUT {
					ch.is, ch.p = true, entryParked(ev.Kv.Value)
				}
				changes = append(changes, ch)
				last = max(last, ev.Kv.ModRevision)
			}
			counts.apply(changes, last)
			rev = last
		}
		cancel()
		// What happened while the watch was down may be gone from the
		// history: count afresh.
		rev = 0
		if !e.pause(200 * time.Millisecond) {
			return
		}
	}
}
