package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

var errRollback = errors.New("roll back")

// The etcd engine's cursors, which read a page at a time and lay the
// transaction's own writes over the snapshot, walk a bucket exactly as
// bbolt's do: the same random walk with writes mixed in gives the same
// keys and values on both engines.
func TestEtcdCursorWalksLikeBbolt(t *testing.T) {
	bolt, err := openBolt(filepath.Join(t.TempDir(), "c.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.close()
	s, err := OpenEtcd(etcdPrefix(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	etcd := s.eng

	key := func(rng *rand.Rand) []byte { // short keys from a small alphabet collide and cluster
		k := make([]byte, 1+rng.IntN(3))
		for i := range k {
			k[i] = "abcdefgh"[rng.IntN(8)]
		}
		return k
	}
	seedRng := rand.New(rand.NewPCG(1, 2))
	// More keys than one page of the etcd cursor (etcdPageSize), written in
	// transactions within etcd's bounds.
	seed := map[string][]byte{}
	for len(seed) < 2*etcdPageSize+50 {
		seed[string(key(seedRng))+fmt.Sprint(len(seed))] = []byte(fmt.Sprint("v", len(seed)))
	}
	var keys []string
	for k := range seed {
		keys = append(keys, k)
	}
	for i := 0; i < len(keys); i += 100 {
		chunk := keys[i:min(i+100, len(keys))]
		for _, e := range []engine{bolt, etcd} {
			err := e.update(func(tx txn) error {
				for _, k := range chunk {
					if err := tx.Bucket(bucketTopics).Put([]byte(k), seed[k]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	for round := range 20 {
		type step struct {
			op   int
			k, v []byte
		}
		walk := func(e engine, rng *rand.Rand) []step {
			var out []step
			e.update(func(tx txn) error {
				b := tx.Bucket(bucketTopics)
				c := b.Cursor()
				k, _ := c.First()
				var v []byte
				// bbolt's rule: after a write the cursor is positioned
				// again, as the store's code does.
				for range 300 {
					op := rng.IntN(10)
					switch {
					case op == 0:
						if rng.IntN(2) == 0 {
							b.Put(key(rng), []byte(fmt.Sprint("w", round)))
						} else {
							b.Delete(key(rng))
						}
						k, v = c.Seek(key(rng))
					case op == 1 && k != nil: // delete where the cursor is
						dk := bytes.Clone(k)
						b.Delete(dk)
						k, v = c.Seek(dk)
					case op == 2:
						k, v = c.First()
					case op == 3:
						k, v = c.Last()
					case op == 4 || k == nil:
						k, v = c.Seek(key(rng))
					case op <= 7:
						k, v = c.Next()
					default:
						k, v = c.Prev()
					}
					out = append(out, step{op, bytes.Clone(k), bytes.Clone(v)})
				}
				return errRollback
			})
			return out
		}
		a := walk(bolt, rand.New(rand.NewPCG(uint64(round), 7)))
		b := walk(etcd, rand.New(rand.NewPCG(uint64(round), 7)))
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("round %d: %d steps vs %d", round, len(a), len(b))
		}
		for i := range a {
			if !bytes.Equal(a[i].k, b[i].k) || !bytes.Equal(a[i].v, b[i].v) {
				for j := max(0, i-6); j <= i; j++ {
					t.Logf("step %d op %d: bbolt %q, etcd %q", j, a[j].op, a[j].k, b[j].k)
				}
				t.Fatalf("round %d, step %d: bbolt at %q=%q, etcd at %q=%q", round, i, a[i].k, a[i].v, b[i].k, b[i].v)
			}
		}
	}
}
