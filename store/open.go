package store

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/socialroute/socialroute/routing"
)

// Open items are indexed so that reminders, App Home and counts never scan
// every post: a delivered post that nobody claimed is in bucketUnclaimed
// under its delivery time, a claimed unresolved one in bucketClaimed under
// its claim time. Keys are time (8 bytes, big-endian unix nanoseconds)
// then post id, so iteration goes oldest first. updateRecord keeps both in
// step with every change to a record.
var (
	bucketUnclaimed = []byte("open_unclaimed")
	bucketClaimed   = []byte("open_claimed")
)

// indexEntry is where a record sits in the open-item indexes, if anywhere.
type indexEntry struct {
	bucket []byte
	key    []byte
	value  []byte
}

func openIndex(id []byte, rec Record) indexEntry {
	if !rec.Open() || rec.Decision == nil {
		return indexEntry{}
	}
	bucket, at := bucketUnclaimed, rec.Delivery.At
	if rec.Claimed != nil {
		bucket, at = bucketClaimed, rec.Claimed.At
	}
	key := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(key, uint64(at.UnixNano()))
	key = append(key, id...)
	value := []byte(rec.Decision.Department + "\x00" + string(rec.Decision.Class))
	return indexEntry{bucket: bucket, key: key, value: value}
}

func reindex(tx txn, before, after indexEntry) error {
	if bytes.Equal(before.bucket, after.bucket) && bytes.Equal(before.key, after.key) && bytes.Equal(before.value, after.value) {
		return nil
	}
	if before.bucket != nil {
		if err := tx.Bucket(before.bucket).Delete(before.key); err != nil {
			return err
		}
	}
	if after.bucket != nil {
		return tx.Bucket(after.bucket).Put(after.key, after.value)
	}
	return nil
}

// OpenItem is one open post as the indexes know it.
type OpenItem struct {
	PostID     string
	Since      time.Time // delivered (unclaimed) or claimed (claimed)
	Department string
	Class      routing.Class
	Claimed    bool
}

// OpenItems calls fn for every open post, unclaimed ones first, each group
// oldest first, until fn returns false.
func (s *Store) OpenItems(fn func(OpenItem) bool) error {
	err := s.eng.view(func(tx txn) error {
		for _, b := range [][]byte{bucketUnclaimed, bucketClaimed} {
			c := tx.Bucket(b).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				dept, class, _ := bytes.Cut(v, []byte{0})
				item := OpenItem{
					PostID:     ulid.ULID(k[8:]).String(),
					Since:      time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(),
					Department: string(dept),
					Class:      routing.Class(class),
					Claimed:    bytes.Equal(b, bucketClaimed),
				}
				if !fn(item) {
					return nil
				}
			}
		}
		return nil
	})
	return s.wrap("read open items", err)
}

// PostsSince calls fn for every post received at or after t, oldest first,
// until fn returns false. Post ids are time-ordered, so this reads only
// those posts.
func (s *Store) PostsSince(t time.Time, fn func(Record) bool) error {
	var start ulid.ULID
	if err := start.SetTime(ulid.Timestamp(t)); err != nil {
		start = ulid.ULID{}
	}
	err := s.eng.view(func(tx txn) error {
		c := tx.Bucket(bucketPosts).Cursor()
		for k, _ := c.Seek(start[:]); k != nil; k, _ = c.Next() {
			rec, err := getRecord(tx, k)
			if err != nil {
				return err
			}
			if !fn(rec) {
				return nil
			}
		}
		return nil
	})
	return s.wrap("read posts", err)
}
