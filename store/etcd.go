package store

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// EtcdOptions say how to reach the etcd cluster a Store runs on.
type EtcdOptions struct {
	// Endpoints are the members' client URLs.
	Endpoints []string
	// Prefix is put before every key; several deployments can share a
	// cluster under different prefixes. Default "/socialroute/".
	Prefix string
	// Username and Password enable etcd's authentication when set.
	Username, Password string
	// TLS, when set, is used to connect to the members.
	TLS *tls.Config
	// DialTimeout bounds connecting; RequestTimeout bounds each request.
	// Defaults 5s.
	DialTimeout, RequestTimeout time.Duration
	// LeaseTTL is the leader's lease (see Lead): a leader that stops
	// renewing it is replaced after about this long. Whole seconds;
	// default 10s.
	LeaseTTL time.Duration
	// Replica names this process in the leader election. Default: the
	// host name.
	Replica string
}

// etcdMaxOps is etcd's default --max-txn-ops: the most operations, and
// the most comparisons, one transaction may carry.
const etcdMaxOps = 128

// etcdPageSize is how many keys a cursor reads per request.
const etcdPageSize = 256

// Keys in etcd are the prefix, "b/", the bucket name, "/", then the key
// as bbolt would hold it, so every bucket is one contiguous range in the
// same order. Sequences live apart, under "seq/", so cursors never see them.
type etcdEngine struct {
	cli     *clientv3.Client
	prefix  string
	timeout time.Duration
	opts    EtcdOptions

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc

	mu      sync.Mutex
	fence   *fence         // set while this process leads (leader.go)
	leading sync.WaitGroup // campaigns under way, waited for by close
	bg      sync.WaitGroup // watches and marker pruning

	// lostAnswer, set by tests, makes update treat a commit as if etcd's
	// answer had been lost when it returns true.
	lostAnswer func() bool

	health writeHealth
	// outboxWritten is the revision of this process's last commit that
	// changed the outbox (etcd_outbox.go).
	outboxWritten atomic.Int64
}

// OpenEtcd opens a Store on the etcd cluster eo describes. Several
// processes may open the same cluster and prefix at once: every write is
// a transaction that commits only if what it read is unchanged.
func OpenEtcd(eo EtcdOptions, opts Options) (*Store, error) {
	if len(eo.Endpoints) == 0 {
		return nil, errors.New("open etcd store: no endpoints")
	}
	if eo.Prefix == "" {
		eo.Prefix = "/socialroute/"
	}
	if eo.DialTimeout <= 0 {
		eo.DialTimeout = 5 * time.Second
	}
	if eo.RequestTimeout <= 0 {
		eo.RequestTimeout = 5 * time.Second
	}
	if eo.LeaseTTL <= 0 {
		eo.LeaseTTL = 10 * time.Second
	}
	if eo.Replica == "" {
		eo.Replica, _ = os.Hostname()
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   eo.Endpoints,
		Username:    eo.Username,
		Password:    eo.Password,
		TLS:         eo.TLS,
		DialTimeout: eo.DialTimeout,
		// The client's own logs would duplicate our errors at info level.
		Logger:               zap.NewNop(),
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
	})
	if errors.Is(err, context.DeadlineExceeded) {
		// gRPC hides why it could not connect; say where to look.
		hint := "is etcd running at these endpoints?"
		if eo.TLS != nil {
			hint = "is etcd running there, and is its certificate trusted (store.etcd.tls)?"
		}
		err = fmt.Errorf("no connection within %s: %w; %s", eo.DialTimeout, err, hint)
	}
	if err != nil {
		return nil, fmt.Errorf("open etcd store %s: %w", strings.Join(eo.Endpoints, ","), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &etcdEngine{cli: cli, prefix: eo.Prefix, timeout: eo.RequestTimeout, opts: eo, ctx: ctx, cancel: cancel}
	s, err := newStore(e, opts)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("open etcd store %s: %w", strings.Join(eo.Endpoints, ","), err)
	}
	s.role.Store(RoleFollower) // until Lead wins the election
	rev, err := e.loadOutbox(s.counts)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open etcd store %s: count outbox: %w", strings.Join(eo.Endpoints, ","), err)
	}
	e.bg.Go(func() { e.followOutbox(s.counts, rev) })
	// Posts accepted by any replica wake this one's delivery worker.
	e.bg.Go(func() { e.watch(e.bucketStart(bucketOutbox), e.bucketEnd(bucketOutbox), true, s.signal) })
	e.bg.Go(func() { e.watch(e.bucketStart(bucketRules), e.bucketEnd(bucketRules), false, s.signalRules) })
	e.bg.Go(e.pruneMarkers)
	return s, nil
}

func (e *etcdEngine) bucketStart(name []byte) string { return e.prefix + "b/" + string(name) + "/" }
func (e *etcdEngine) bucketEnd(name []byte) string   { return e.prefix + "b/" + string(name) + "0" }
func (e *etcdEngine) seqKey(name []byte) string      { return e.prefix + "seq/" + string(name) }

func (e *etcdEngine) grouped() bool  { return false }
func (e *etcdEngine) maxWrites() int { return etcdMaxOps - 1 } // one op is the commit marker

// check asks the cluster for a linearizable read, which needs a quorum,
// and reports the last commit's failure, if it failed.
func (e *etcdEngine) check() error {
	ctx, cancel := e.reqCtx()
	defer cancel()
	if _, err := e.cli.Get(ctx, e.prefix+"b/meta/schema"); err != nil {
		return e.rpcErr(err)
	}
	return e.health.check()
}

func (e *etcdEngine) close() error {
	e.cancel()
	e.leading.Wait()
	e.bg.Wait()
	return e.cli.Close()
}

// watch calls fn after changes to keys in [start, end) that count, and
// after each reconnection, since changes may have been missed meanwhile.
// With createdOnly, only new keys count: the outbox's new entries wake the
// delivery worker, not the updates and deletes it makes itself.
func (e *etcdEngine) watch(start, end string, createdOnly bool, fn func()) {
	opts := []clientv3.OpOption{clientv3.WithRange(end)}
	if createdOnly {
		opts = append(opts, clientv3.WithFilterDelete())
	}
	for first := true; e.ctx.Err() == nil; first = false {
		ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(e.ctx))
		wc := e.cli.Watch(ctx, start, opts...)
		if !first {
			fn()
		}
		for resp := range wc {
			if resp.Err() != nil {
				break
			}
			if slices.ContainsFunc(resp.Events, func(ev *clientv3.Event) bool { return !createdOnly || ev.IsCreate() }) {
				fn()
			}
		}
		cancel()
		select {
		case <-e.ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// view runs fn on a snapshot: every read is at the revision of the first.
func (e *etcdEngine) view(fn func(txn) error) error {
	t := e.newTxn(false)
	err := fn(t)
	if t.err != nil {
		return t.err
	}
	return err
}

// update runs fn optimistically: reads at one revision, writes buffered,
// then one etcd transaction that commits the writes only if nothing fn
// read changed after that revision. On a conflict fn runs again.
//
// When etcd fails to answer — the member dies, loses its leader or is too
// slow — update tries again, on whichever member answers, for up to twice
// the request timeout. A commit that failed that way may still have
// happened: every transaction also writes a marker key of its own, and
// update looks for it before running fn again, so no change is made twice.
func (e *etcdEngine) update(fn func(txn) error) error {
	var fnErr error
	err := e.updateRetrying(func(t txn) error {
		fnErr = fn(t)
		return fnErr
	})
	e.health.note(err, fnErr)
	return err
}

// updateRetrying is update without the bookkeeping of failed commits.
func (e *etcdEngine) updateRetrying(fn func(txn) error) error {
	deadline := time.Now().Add(2 * e.timeout)
	for attempt := 0; ; attempt++ {
		t := e.newTxn(true)
		err := fn(t)
		if t.err != nil {
			err = t.err // a read failed: nothing was written
		} else if err == nil {
			var ok bool
			ok, err = t.commit()
			if e.lostAnswer != nil && err == nil && ok && e.lostAnswer() {
				err = fmt.Errorf("%w: answer lost", ErrUnavailable)
			}
			switch {
			case err == nil && ok:
				return nil
			case err == nil:
				// Someone changed what fn read.
				if t.fence != nil && !e.stillLeader(t.fence) {
					return ErrNotLeader
				}
				if attempt >= 100 {
					return errors.New("etcd transaction: too many conflicting writers")
				}
				if !e.pause(time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))) {
					return ErrClosed
				}
				continue
			case errors.Is(err, ErrUnavailable) && t.marker != "":
				landed, lerr := e.landed(t.marker, deadline)
				if landed {
					return nil
				}
				if lerr != nil {
					return lerr
				}
			}
		}
		if !errors.Is(err, ErrUnavailable) || time.Now().After(deadline) {
			return err
		}
		if !e.pause(50 * time.Millisecond) {
			return ErrClosed
		}
	}
}

// landed reports whether the transaction that wrote marker committed,
// asking until deadline. A linearizable read answers after the cluster's
// leader has committed every entry it will ever commit from an earlier
// term, so the answer does not change afterwards.
func (e *etcdEngine) landed(marker string, deadline time.Time) (bool, error) {
	for {
		ctx, cancel := e.reqCtx()
		resp, err := e.cli.Get(ctx, marker, clientv3.WithCountOnly())
		cancel()
		if err == nil {
			return resp.Count > 0, nil
		}
		if time.Now().After(deadline) || !e.pause(50*time.Millisecond) {
			return false, e.rpcErr(err)
		}
	}
}

// pause waits d, and reports false when the store closed meanwhile.
func (e *etcdEngine) pause(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-e.ctx.Done():
		return false
	}
}

// markerTTL is how long commit markers are kept: long enough to look one
// up after a failed answer, then pruned.
const markerTTL = 10 * time.Minute

// pruneMarkers deletes commit markers older than markerTTL, now and every
// markerTTL until the store closes. Any replica may do it; deleting twice
// is harmless.
func (e *etcdEngine) pruneMarkers() {
	for {
		var limit ulid.ULID
		if limit.SetTime(ulid.Timestamp(time.Now().Add(-markerTTL))) == nil {
			ctx, cancel := e.reqCtx()
			_, _ = e.cli.Delete(ctx, e.prefix+"txn/", clientv3.WithRange(e.prefix+"txn/"+limit.String()))
			cancel()
		}
		if !e.pause(markerTTL) {
			return
		}
	}
}

// rpcErr maps a failed etcd request to the store's errors: ErrUnavailable
// for what may pass on another try, the error itself for what will not
// (a request etcd refuses, permissions).
func (e *etcdEngine) rpcErr(err error) error {
	if e.ctx.Err() != nil {
		return ErrClosed
	}
	code := codes.Unknown
	var coded interface{ Code() codes.Code }
	if errors.As(err, &coded) {
		code = coded.Code()
	} else if st, ok := status.FromError(err); ok {
		code = st.Code()
	}
	switch code {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition, codes.OutOfRange, codes.Unimplemented:
		return fmt.Errorf("etcd: %w", err)
	}
	return fmt.Errorf("%w: etcd: %v", ErrUnavailable, err)
}

// reqCtx bounds one request.
func (e *etcdEngine) reqCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(e.ctx, e.timeout)
}

type etcdWrite struct {
	value []byte
	del   bool
}

type keyRange struct{ start, end string }

// etcdTxn is one transaction. It reads at a single revision (the first
// read's), caches what it read, and keeps its writes until commit.
type etcdTxn struct {
	e        *etcdEngine
	writable bool
	rev      int64
	cache    map[string][]byte // point reads; nil value = absent
	ranges   []keyRange        // ranges cursors read, in writable txns
	writes   map[string]etcdWrite
	fence    *fence
	marker   string // key the commit writes to prove it happened
	err      error
}

func (e *etcdEngine) newTxn(writable bool) *etcdTxn {
	return &etcdTxn{e: e, writable: writable, cache: map[string][]byte{}, writes: map[string]etcdWrite{}}
}

func (t *etcdTxn) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *etcdTxn) Bucket(name []byte) bucket {
	return &etcdBucket{t: t, name: name, start: t.e.bucketStart(name), end: t.e.bucketEnd(name)}
}

// get reads key at the transaction's revision, or its own write.
func (t *etcdTxn) get(key string) []byte {
	if w, ok := t.writes[key]; ok {
		if w.del {
			return nil
		}
		return w.value
	}
	if v, ok := t.cache[key]; ok {
		return v
	}
	if t.err != nil {
		return nil
	}
	resp, err := t.rangeAt(key, "", 0, false)
	if err != nil {
		t.fail(err)
		return nil
	}
	var v []byte
	if len(resp.Kvs) > 0 {
		v = resp.Kvs[0].Value
	}
	t.cache[key] = v
	return v
}

// rangeAt reads [start, end) (or key start alone when end is empty) at the
// transaction's revision, fixing that revision on the first read.
func (t *etcdTxn) rangeAt(start, end string, limit int64, descend bool) (*clientv3.GetResponse, error) {
	opts := []clientv3.OpOption{}
	if end != "" {
		opts = append(opts, clientv3.WithRange(end))
	}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	if descend {
		opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	}
	if t.rev > 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	ctx, cancel := t.e.reqCtx()
	defer cancel()
	resp, err := t.e.cli.Get(ctx, start, opts...)
	if err != nil {
		return nil, t.e.rpcErr(err)
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp, nil
}

func (t *etcdTxn) put(key string, v []byte) error {
	if !t.writable {
		return errors.New("write in a read-only transaction")
	}
	t.writes[key] = etcdWrite{value: bytes.Clone(v)}
	return nil
}

func (t *etcdTxn) del(key string) error {
	if !t.writable {
		return errors.New("write in a read-only transaction")
	}
	t.writes[key] = etcdWrite{del: true}
	return nil
}

// requireLeader makes the transaction commit only while this process
// still holds the leadership it had when the transaction began.
func (t *etcdTxn) requireLeader() {
	t.e.mu.Lock()
	f := t.e.fence
	t.e.mu.Unlock()
	if f == nil {
		t.fail(ErrNotLeader)
		return
	}
	t.fence = f
}

// commit sends the writes with a comparison for everything read: each key
// read, and each range scanned, must be unmodified since the snapshot.
// It reports false on a conflict. A range comparison sees keys added or
// changed in the range, not keys deleted from it (etcd compares only keys
// that exist); no write of the store depends on a key staying absent
// from a range it scanned.
func (t *etcdTxn) commit() (bool, error) {
	if len(t.writes) == 0 {
		return true, nil
	}
	var cmps []clientv3.Cmp
	if t.rev > 0 {
		for k := range t.cache {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "<", t.rev+1))
		}
		for _, r := range t.ranges {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.start), "<", t.rev+1).WithRange(r.end))
		}
	}
	if t.fence != nil {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(t.fence.key), "=", t.fence.rev))
	}
	ops := make([]clientv3.Op, 0, len(t.writes)+1)
	// Random bits of its own, not the default monotonic entropy, which
	// would tie the order of post ids to how commits interleave.
	t.marker = t.e.prefix + "txn/" + ulid.MustNew(ulid.Now(), crand.Reader).String()
	ops = append(ops, clientv3.OpPut(t.marker, ""))
	for _, k := range slices.Sorted(maps.Keys(t.writes)) {
		w := t.writes[k]
		if w.del {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(w.value)))
		}
	}
	if len(ops) > etcdMaxOps || len(cmps) > etcdMaxOps {
		t.marker = ""
		return false, fmt.Errorf("etcd transaction too large: %d writes and %d reads, at most %d each", len(ops), len(cmps), etcdMaxOps)
	}
	ctx, cancel := t.e.reqCtx()
	defer cancel()
	resp, err := t.e.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, t.e.rpcErr(err)
	}
	if resp.Succeeded && t.wroteOutbox() {
		for rev := resp.Header.Revision; ; {
			cur := t.e.outboxWritten.Load()
			if cur >= rev || t.e.outboxWritten.CompareAndSwap(cur, rev) {
				break
			}
		}
	}
	return resp.Succeeded, nil
}

// wroteOutbox reports whether the transaction writes to the outbox.
func (t *etcdTxn) wroteOutbox() bool {
	start := t.e.bucketStart(bucketOutbox)
	for k := range t.writes {
		if strings.HasPrefix(k, start) {
			return true
		}
	}
	return false
}

type etcdBucket struct {
	t          *etcdTxn
	name       []byte
	start, end string
}

func (b *etcdBucket) key(k []byte) string { return b.start + string(k) }

func (b *etcdBucket) Get(key []byte) []byte { return b.t.get(b.key(key)) }

func (b *etcdBucket) Put(key, value []byte) error {
	if len(key) == 0 {
		return errors.New("put: empty key")
	}
	return b.t.put(b.key(key), value)
}

func (b *etcdBucket) Delete(key []byte) error { return b.t.del(b.key(key)) }

func (b *etcdBucket) Cursor() cursor { return &etcdCursor{b: b} }

func (b *etcdBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.t.err
}

func (b *etcdBucket) Sequence() uint64 {
	v := b.t.get(b.t.e.seqKey(b.name))
	n, _ := strconv.ParseUint(string(v), 10, 64)
	return n
}

func (b *etcdBucket) SetSequence(n uint64) error {
	return b.t.put(b.t.e.seqKey(b.name), []byte(strconv.FormatUint(n, 10)))
}

func (b *etcdBucket) NextSequence() (uint64, error) {
	n := b.Sequence() + 1
	if b.t.err != nil {
		return 0, b.t.err
	}
	return n, b.SetSequence(n)
}

// etcdCursor walks a bucket as the transaction sees it: the snapshot, read
// a page at a time, with the transaction's own writes laid over it.
type etcdCursor struct {
	b   *etcdBucket
	cur string // full key the cursor is on; "" before the first move

	// page holds every snapshot key in [lo, hi), in order.
	page   []*mvccpb.KeyValue
	lo, hi string
}

func (c *etcdCursor) First() ([]byte, []byte) { return c.move(c.b.start, true, true) }
func (c *etcdCursor) Last() ([]byte, []byte)  { return c.move(c.b.end, false, false) }
func (c *etcdCursor) Seek(seek []byte) ([]byte, []byte) {
	return c.move(c.b.key(seek), true, true)
}

func (c *etcdCursor) Next() ([]byte, []byte) {
	if c.cur == "" {
		return nil, nil
	}
	return c.move(c.cur, true, false)
}

func (c *etcdCursor) Prev() ([]byte, []byte) {
	if c.cur == "" {
		return nil, nil
	}
	return c.move(c.cur, false, false)
}

// move goes to the first key after from (or at it, when inclusive), or
// the last key before it, and returns it without the bucket's prefix.
func (c *etcdCursor) move(from string, forward, inclusive bool) ([]byte, []byte) {
	t := c.b.t
	if t.err != nil {
		c.cur = ""
		return nil, nil
	}
	// The nearest snapshot key that the transaction has not deleted.
	snapKey, snapVal, at, incl := "", []byte(nil), from, inclusive
	for {
		kv := c.snapshot(at, forward, incl)
		if kv == nil {
			break
		}
		k := string(kv.Key)
		if w, ok := t.writes[k]; ok && w.del {
			at, incl = k, false
			continue
		}
		snapKey, snapVal = k, kv.Value
		break
	}
	if t.err != nil {
		c.cur = ""
		return nil, nil
	}
	// The nearest key the transaction wrote itself.
	bestKey, found := snapKey, snapKey != ""
	for k, w := range t.writes {
		if w.del || k < c.b.start || k >= c.b.end {
			continue
		}
		if forward && (k > from || inclusive && k == from) && (!found || k < bestKey) ||
			!forward && (k < from || inclusive && k == from) && (!found || k > bestKey) {
			bestKey, found = k, true
		}
	}
	if !found {
		c.cur = ""
		return nil, nil
	}
	c.cur = bestKey
	v := snapVal
	if w, ok := t.writes[bestKey]; ok {
		v = w.value
	}
	if v == nil {
		v = []byte{}
	}
	return []byte(bestKey[len(c.b.start):]), v
}

// snapshot returns the snapshot's nearest key to at in the bucket, reading
// a page when the one held does not cover the answer.
func (c *etcdCursor) snapshot(at string, forward, inclusive bool) *mvccpb.KeyValue {
	for {
		if kv, done := c.search(at, forward, inclusive); done {
			return kv
		}
		if !c.fetch(at, forward, inclusive) {
			return nil
		}
	}
}

// search looks for the answer in the page. done is false when the page
// does not cover the range the answer lies in.
func (c *etcdCursor) search(at string, forward, inclusive bool) (*mvccpb.KeyValue, bool) {
	cmp := func(kv *mvccpb.KeyValue, k string) int { return strings.Compare(string(kv.Key), k) }
	if forward {
		// The first key at or after from.
		from := at
		if !inclusive {
			from = at + "\x00"
		}
		if from < c.lo {
			return nil, false
		}
		if from >= c.hi {
			return nil, c.hi == c.b.end
		}
		if i, _ := slices.BinarySearchFunc(c.page, from, cmp); i < len(c.page) {
			return c.page[i], true
		}
		return nil, c.hi == c.b.end
	}
	// The last key before until.
	until := at
	if inclusive {
		until = at + "\x00"
	}
	if until > c.hi {
		return nil, false
	}
	if until > c.lo {
		if i, _ := slices.BinarySearchFunc(c.page, until, cmp); i > 0 {
			return c.page[i-1], true
		}
	}
	return nil, c.lo == c.b.start
}

// fetch reads the page from at onwards (or up to at, backwards) and
// reports whether there might be anything left to find.
func (c *etcdCursor) fetch(at string, forward, inclusive bool) bool {
	t := c.b.t
	if forward {
		start := at
		if !inclusive {
			start = at + "\x00"
		}
		if start < c.b.start {
			start = c.b.start
		}
		if start >= c.b.end {
			return false
		}
		resp, err := t.rangeAt(start, c.b.end, etcdPageSize, false)
		if err != nil {
			t.fail(err)
			return false
		}
		c.page, c.lo, c.hi = resp.Kvs, start, c.b.end
		if resp.More && len(resp.Kvs) > 0 {
			c.hi = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		}
	} else {
		end := at
		if inclusive {
			end = at + "\x00"
		}
		if end > c.b.end {
			end = c.b.end
		}
		if end <= c.b.start {
			return false
		}
		resp, err := t.rangeAt(c.b.start, end, etcdPageSize, true)
		if err != nil {
			t.fail(err)
			return false
		}
		kvs := slices.Clone(resp.Kvs)
		slices.Reverse(kvs)
		c.page, c.lo, c.hi = kvs, c.b.start, end
		if resp.More && len(kvs) > 0 {
			c.lo = string(kvs[0].Key)
		}
	}
	if t.writable {
		t.ranges = append(t.ranges, keyRange{c.lo, c.hi})
	}
	return true
}

// backup copies every bucket, as of one revision, into a bbolt file and
// writes that file to w: a backup of an etcd store is a bbolt store.
func (e *etcdEngine) backup(w io.Writer) (int64, error) {
	dir, err := os.MkdirTemp("", "socialroute-backup-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	dst, err := openBolt(filepath.Join(dir, "backup.db"), Options{})
	if err != nil {
		return 0, err
	}
	defer dst.close()
	if _, err := copyEngine(dst, e, nil); err != nil {
		return 0, err
	}
	return dst.backup(w)
}
