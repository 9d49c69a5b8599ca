package store

import (
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// boltEngine runs the store on a bbolt file: one process, every commit
// fsynced, writes grouped by the store's commit loop.
type boltEngine struct {
	db     *bolt.DB
	health writeHealth
	// counts, once set, take in each commit's changes to the outbox.
	counts *outboxCounts
}

func openBolt(path string, opts Options) (*boltEngine, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, ErrLocked
		}
		return nil, err
	}
	err = db.Update(func(btx *bolt.Tx) error {
		for _, b := range allBuckets() {
			if _, err := btx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &boltEngine{db: db}, nil
}

func (e *boltEngine) view(fn func(txn) error) error {
	return e.db.View(func(btx *bolt.Tx) error { return fn(boltTx{btx}) })
}

func (e *boltEngine) update(fn func(txn) error) error {
	var (
		fnErr error
		d     outboxDelta
	)
	err := e.db.Update(func(btx *bolt.Tx) error {
		packAppendBuckets(btx)
		var tx txn = boltTx{btx}
		if e.counts != nil {
			tx = countingTxn{txn: tx, d: &d}
		}
		fnErr = fn(tx)
		return fnErr
	})
	e.health.note(err, fnErr)
	if err == nil && e.counts != nil && len(d.changes) > 0 {
		e.counts.apply(d.changes, 0)
	}
	return err
}

func (e *boltEngine) grouped() bool  { return true }
func (e *boltEngine) maxWrites() int { return 0 }
func (e *boltEngine) close() error   { return e.db.Close() }
func (e *boltEngine) check() error   { return e.health.check() }

func (e *boltEngine) backup(w io.Writer) (int64, error) {
	var size int64
	err := e.db.View(func(btx *bolt.Tx) error {
		var err error
		size, err = btx.WriteTo(w)
		return err
	})
	return size, err
}

// boltTx and boltBucket adapt bbolt's types to tx and bucket. Both are a
// single pointer, so wrapping them allocates nothing.
type boltTx struct{ *bolt.Tx }

func (t boltTx) Bucket(name []byte) bucket { return boltBucket{t.Tx.Bucket(name)} }

type boltBucket struct{ *bolt.Bucket }

func (b boltBucket) Cursor() cursor { return b.Bucket.Cursor() }

// appendFill is how full bbolt packs a page when it splits one in the
// buckets whose keys grow with time.
const appendFill = 0.9

// packAppendBuckets sets appendFill on the buckets whose keys grow with
// time: posts, decisions and deliveries (ULIDs), dedupe (platform ids,
// increasing per platform) and messages (Slack ts, increasing per channel).
// New keys land at the right edge and values are written once (record.go),
// so pages behind that edge are seldom written again; bbolt's default of
// splitting at 50% would leave them half empty for good. The outbox is a
// queue, emptied from the front, and keeps the default.
// Writable transactions hand out one *Bucket per name, so the setting holds
// for every write in the batch.
func packAppendBuckets(tx *bolt.Tx) {
	for _, name := range [][]byte{bucketPosts, bucketDecisions, bucketDeliveries, bucketDedupe, bucketMessages, bucketUnclaimed} {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = appendFill
		}
	}
}

// isBoltClosed reports whether err says the bbolt file was closed.
func isBoltClosed(err error) bool { return errors.Is(err, berrors.ErrDatabaseNotOpen) }
