package store

import (
	"bytes"
	"errors"
	"fmt"
)

// copyBuckets copies every key and sequence of every bucket from src to
// dst in one transaction.
func copyBuckets(dst, src txn) error {
	for _, name := range allBuckets() {
		from, to := src.Bucket(name), dst.Bucket(name)
		err := from.ForEach(func(k, v []byte) error { return to.Put(k, v) })
		if err != nil {
			return fmt.Errorf("copy bucket %s: %w", name, err)
		}
		if err := to.SetSequence(from.Sequence()); err != nil {
			return fmt.Errorf("copy bucket %s: %w", name, err)
		}
	}
	return nil
}

// ErrNotEmpty is returned by Migrate when the destination holds data.
var ErrNotEmpty = errors.New("destination store is not empty")

// Migrate copies everything in src into dst, which must be empty, and
// returns how many keys it copied. It writes in transactions as large as
// dst allows, so an interrupted copy leaves a partial destination: the
// schema mark is written last, and a rerun (after clearing dst) starts
// over. progress, when not nil, is called after each transaction.
func Migrate(dst, src *Store, progress func(keys int)) (int, error) {
	empty := true
	err := dst.eng.view(func(tx txn) error {
		for _, name := range allBuckets() {
			if bytes.Equal(name, bucketMeta) {
				continue
			}
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
				empty = false
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return 0, dst.wrap("migrate: read destination", err)
	}
	if !empty {
		return 0, ErrNotEmpty
	}
	limit := dst.eng.maxWrites()
	if limit <= 0 {
		limit = 10000
	}
	type kv struct{ k, v []byte }
	var (
		pending []kv
		copied  int
	)
	flush := func(name []byte) error {
		if len(pending) == 0 {
			return nil
		}
		err := dst.eng.update(func(tx txn) error {
			b := tx.Bucket(name)
			for _, p := range pending {
				if err := b.Put(p.k, p.v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		copied += len(pending)
		pending = pending[:0]
		if progress != nil {
			progress(copied)
		}
		return nil
	}
	var meta []kv
	err = src.eng.view(func(stx txn) error {
		for _, name := range allBuckets() {
			from := stx.Bucket(name)
			err := from.ForEach(func(k, v []byte) error {
				p := kv{bytes.Clone(k), bytes.Clone(v)}
				if bytes.Equal(name, bucketMeta) {
					meta = append(meta, p)
					return nil
				}
				pending = append(pending, p)
				if len(pending) == limit {
					return flush(name)
				}
				return nil
			})
			if err == nil {
				err = flush(name)
			}
			if err == nil {
				seq := from.Sequence()
				err = dst.eng.update(func(tx txn) error { return tx.Bucket(name).SetSequence(seq) })
			}
			if err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		pending = meta
		return flush(bucketMeta)
	})
	return copied, dst.wrap("migrate", err)
}
