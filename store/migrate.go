package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

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
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil && !bytes.Equal(name, bucketMeta) {
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
	n, err := copyEngine(dst.eng, src.eng, progress)
	return n, dst.wrap("migrate", err)
}

// copyEngine copies every key and sequence of every bucket of src, as of
// one snapshot, into dst, in transactions as large as dst takes, the meta
// bucket (the schema mark) last. It returns how many keys it copied.
func copyEngine(dst, src engine, progress func(keys int)) (int, error) {
	limit := dst.maxWrites() - 1 // room for the sequence
	if limit <= 0 {
		limit = 10000
	}
	copied := 0
	write := func(name []byte, keys, values [][]byte, seq uint64, last bool) error {
		if len(keys) == 0 && (!last || seq == 0) {
			return nil
		}
		err := dst.update(func(tx txn) error {
			b := tx.Bucket(name)
			for i, k := range keys {
				if err := b.Put(k, values[i]); err != nil {
					return err
				}
			}
			if last {
				return b.SetSequence(seq)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
		copied += len(keys)
		if progress != nil {
			progress(copied)
		}
		return nil
	}
	order := slices.DeleteFunc(allBuckets(), func(b []byte) bool { return bytes.Equal(b, bucketMeta) })
	order = append(order, bucketMeta)
	err := src.view(func(stx txn) error {
		for _, name := range order {
			from := stx.Bucket(name)
			var keys, values [][]byte
			err := from.ForEach(func(k, v []byte) error {
				keys, values = append(keys, bytes.Clone(k)), append(values, bytes.Clone(v))
				if len(keys) < limit {
					return nil
				}
				err := write(name, keys, values, 0, false)
				keys, values = keys[:0], values[:0]
				return err
			})
			if err == nil {
				err = write(name, keys, values, from.Sequence(), true)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return copied, err
}
