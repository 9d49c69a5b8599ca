package store

import (
	"io"
)

// The store's logic is written once, against buckets of sorted keys in
// serializable transactions. bbolt provides that natively (bolt.go); etcd
// provides it through optimistic transactions over key prefixes (etcd.go).

// tx is one transaction. Reads see the transaction's own writes.
type txn interface {
	Bucket(name []byte) bucket
}

// bucket is a named, sorted key space inside a transaction. Get returns
// nil for a missing key. Slices returned by Get and cursors are valid only
// until the transaction ends.
type bucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	Cursor() cursor
	ForEach(fn func(k, v []byte) error) error
	// NextSequence returns the bucket's next number, starting at 1.
	NextSequence() (uint64, error)
	Sequence() uint64
	SetSequence(n uint64) error
}

// cursor walks a bucket in key order. Every move returns nil, nil past
// either end. Writes go through the bucket, and a cursor is positioned
// again (First, Last, Seek) after one: bbolt does not say where it is.
type cursor interface {
	First() (key, value []byte)
	Last() (key, value []byte)
	Next() (key, value []byte)
	Prev() (key, value []byte)
	Seek(seek []byte) (key, value []byte)
}

// engine is a database the store runs on.
type engine interface {
	// view runs fn in a read-only transaction.
	view(fn func(txn) error) error
	// update runs fn in a read-write transaction of its own and commits
	// it durably. fn may be run more than once (optimistic engines retry
	// on conflict), so it must not have effects outside the transaction
	// beyond setting variables it resets itself.
	update(fn func(txn) error) error
	// grouped reports whether small writes should share commits through
	// the store's commit loop (bbolt: one fsync for many writers). Engines
	// that batch on their own side take each write as it comes.
	grouped() bool
	// maxWrites bounds the keys one transaction may write; 0 means no
	// bound. Store methods that may write many keys split their work.
	maxWrites() int
	// backup writes a bbolt file holding every bucket to w.
	backup(w io.Writer) (int64, error)
	// check reports whether the database can be reached, and the last
	// commit's error while commits fail.
	check() error
	close() error
}

// allBuckets are every bucket the store keeps.
func allBuckets() [][]byte {
	b := [][]byte{bucketPosts, bucketDecisions, bucketDeliveries, bucketDedupe, bucketOutbox, bucketMessages, bucketMeta,
		bucketUnclaimed, bucketClaimed, bucketEnvelopes, bucketIncidents, bucketTopics, bucketExamples, bucketEscalating, bucketRedraws}
	return append(b, ruleBuckets...)
}
