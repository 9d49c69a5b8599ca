package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
)

// Bucket names. Keys in posts and outbox are binary ULIDs, so iteration
// order is arrival order.
var (
	bucketPosts      = []byte("posts")      // id → Record without Decision and Delivery (JSON)
	bucketDecisions  = []byte("decisions")  // id → routing.Decision (JSON), see record.go
	bucketDeliveries = []byte("deliveries") // id → Delivery (JSON)
	bucketDedupe     = []byte("dedupe")     // source 0x00 external id → id
	bucketOutbox     = []byte("outbox")     // id → OutboxEntry (JSON)
	bucketMessages   = []byte("messages")   // channel 0x00 ts → id
	bucketMeta       = []byte("meta")       // schema version and other singletons
)

// schemaVersion 2 keeps decisions and deliveries out of the post records
// (record.go). Version 1 files are read as they are, since getRecord also
// takes a decision or delivery found inside a record, and are marked 2 on
// open.
const schemaVersion = "2"

// Options tune a Store. The zero value is usable.
type Options struct {
	// Timeout bounds the wait for bbolt's file lock, held by another
	// process using the same file. Default 1s.
	Timeout time.Duration
	// QueueSize bounds the writes waiting for a commit; beyond it Ingest
	// fails fast with ErrBusy. Default 4096.
	QueueSize int
	// MaxBatch bounds how many writes share one commit. Default 512.
	MaxBatch int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Store is socialroute's state, on bbolt or etcd. It is safe for
// concurrent use.
type Store struct {
	eng  engine
	opts Options
	now  func() time.Time

	queue chan *write
	stop  chan struct{}
	done  chan struct{}
	wake  chan struct{}

	closeOnce sync.Once
	mu        sync.RWMutex // guards closed against in-flight enqueues
	closed    bool
	// inflight bounds concurrent writes on engines without the commit
	// loop, so a flood of webhooks gets ErrBusy instead of piling up.
	inflight chan struct{}
	running  sync.WaitGroup

	role  atomic.Value // Role: set on open, then by Lead
	rules chan struct{}

	maxRefused int // refusals kept in the audit log: maxRefused, less in tests

	counts *outboxCounts // the outbox's depth, kept as entries come and go
	probed atomic.Int64  // unix nanoseconds of the last write probe
}

// Open opens (creating if needed) the bbolt store at path.
func Open(path string, opts Options) (*Store, error) {
	eng, err := openBolt(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	s, err := newStore(eng, opts)
	if err != nil {
		eng.close()
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	s.role.Store(RoleLeader) // the file's lock makes this process the only one
	// Nothing writes before Open returns, so the counts start from this
	// scan and each commit's changes follow it.
	err = eng.view(func(tx txn) error { return s.counts.load(tx.Bucket(bucketOutbox), noRev) })
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %q: count outbox: %w", path, err)
	}
	eng.counts = s.counts
	return s, nil
}

func newStore(eng engine, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := eng.update(checkSchema); err != nil {
		return nil, err
	}
	s := &Store{
		eng:      eng,
		opts:     opts,
		now:      opts.Now,
		queue:    make(chan *write, opts.QueueSize),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
		rules:    make(chan struct{}, 1),
		inflight: make(chan struct{}, opts.QueueSize),

		maxRefused: maxRefused,
		counts:     newOutboxCounts(),
	}
	if eng.grouped() {
		go s.commitLoop()
	} else {
		close(s.done)
	}
	return s, nil
}

// checkSchema marks a new store with schemaVersion and refuses one
// written by a build with another format.
func checkSchema(tx txn) error {
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get([]byte("schema")); {
	case v == nil, string(v) == "1":
		return meta.Put([]byte("schema"), []byte(schemaVersion))
	case string(v) != schemaVersion:
		return fmt.Errorf("unsupported schema version %q (this build reads %q)", v, schemaVersion)
	}
	return nil
}

// Close stops accepting writes, finishes the commits already queued and
// closes the file. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
		<-s.done
		s.running.Wait()
		err = s.eng.close()
	})
	return err
}

// Check reports whether the store can serve requests: the database can
// be reached, and its last commit succeeded (ErrWriteFailing otherwise).
func (s *Store) Check() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	err := s.eng.check()
	if errors.Is(err, ErrWriteFailing) && s.probeWrites() {
		err = s.eng.check()
	}
	return err
}

// Wake is signalled after a commit adds outbox entries, so the delivery
// worker need not poll.
func (s *Store) Wake() <-chan struct{} { return s.wake }

// RulesChanged is signalled when another process may have changed the
// routing rules (etcd: any replica's /route). A process sees its own
// changes in the values ChangeRules and UndoRules return.
func (s *Store) RulesChanged() <-chan struct{} { return s.rules }

func (s *Store) signalRules() {
	select {
	case s.rules <- struct{}{}:
	default:
	}
}

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Get returns the record of post id.
func (s *Store) Get(id string) (Record, error) {
	key, err := parseID(id)
	if err != nil {
		return Record{}, err
	}
	var rec Record
	err = s.eng.view(func(tx txn) error {
		rec, err = getRecord(tx, key)
		return err
	})
	if err != nil {
		return Record{}, s.wrap("get post "+id, err)
	}
	return rec, nil
}

// PostByMessage returns the id of the post delivered as message ts in channel.
func (s *Store) PostByMessage(channel, ts string) (string, error) {
	var id string
	err := s.eng.view(func(tx txn) error {
		v := tx.Bucket(bucketMessages).Get(messageKey(channel, ts))
		if v == nil {
			return ErrNotFound
		}
		id = ulid.ULID(v).String()
		return nil
	})
	return id, s.wrap("look up message", err)
}

// wrap adds context to err and maps bbolt's closed-database error to ours.
func (s *Store) wrap(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case isBoltClosed(err), errors.Is(err, ErrClosed):
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func parseID(id string) ([]byte, error) {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return nil, fmt.Errorf("post id %q: %w", id, ErrNotFound)
	}
	return u[:], nil
}

func dedupeKey(source, externalID string) []byte {
	k := make([]byte, 0, len(source)+1+len(externalID))
	k = append(k, source...)
	k = append(k, 0)
	return append(k, externalID...)
}

func messageKey(channel, ts string) []byte {
	k := make([]byte, 0, len(channel)+1+len(ts))
	k = append(k, channel...)
	k = append(k, 0)
	return append(k, ts...)
}
