package store

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/socialroute/socialroute/routing"
)

// scanChunk is how many posts one read transaction copies out; scans of
// many posts use several short transactions instead of one long one.
const scanChunk = 512

// ScanPosts calls fn with every post stored at or after since (by arrival),
// oldest first, until fn returns false. fn runs outside any transaction.
func (s *Store) ScanPosts(since time.Time, fn func(Record) bool) error {
	var start ulid.ULID
	if !since.IsZero() && since.After(time.UnixMilli(0)) {
		if err := start.SetTime(ulid.Timestamp(since)); err != nil {
			return fmt.Errorf("scan posts: %w", err)
		}
	}
	from := start[:]
	first := true
	for {
		var chunk []Record
		var last []byte
		err := s.eng.view(func(tx txn) error {
			c := tx.Bucket(bucketPosts).Cursor()
			k, _ := c.Seek(from)
			if !first && k != nil && bytes.Equal(k, from) {
				k, _ = c.Next()
			}
			for ; k != nil && len(chunk) < scanChunk; k, _ = c.Next() {
				rec, err := getRecord(tx, k)
				if err != nil {
					return fmt.Errorf("post %s: %w", ulid.ULID(k), err)
				}
				chunk = append(chunk, rec)
				last = append(last[:0], k...)
			}
			return nil
		})
		if err != nil {
			return s.wrap("scan posts", err)
		}
		for _, rec := range chunk {
			if !fn(rec) {
				return nil
			}
		}
		if len(chunk) < scanChunk {
			return nil
		}
		from, first = last, false
	}
}

// RecentPosts returns up to n posts for which keep returns true (all when
// keep is nil), newest first, looking at no more than the newest maxScan
// posts.
func (s *Store) RecentPosts(n, maxScan int, keep func(Record) bool) ([]Record, error) {
	var out []Record
	var from []byte // exclusive upper bound; nil: from the newest
	scanned := 0
	for len(out) < n && scanned < maxScan {
		got := 0
		err := s.eng.view(func(tx txn) error {
			c := tx.Bucket(bucketPosts).Cursor()
			var k []byte
			if from == nil {
				k, _ = c.Last()
			} else {
				c.Seek(from)
				k, _ = c.Prev()
			}
			for ; k != nil && got < scanChunk && len(out) < n && scanned < maxScan; k, _ = c.Prev() {
				got++
				scanned++
				from = append(from[:0], k...)
				rec, err := getRecord(tx, k)
				if err != nil {
					return fmt.Errorf("post %s: %w", ulid.ULID(k), err)
				}
				if keep == nil || keep(rec) {
					out = append(out, rec)
				}
			}
			return nil
		})
		if err != nil {
			return nil, s.wrap("read recent posts", err)
		}
		if got < scanChunk {
			break
		}
	}
	return out, nil
}

// Group keys in PostStats for posts without a department.
const (
	GroupTriage   = "triage"     // routed to the triage channel: no department
	GroupUnrouted = "not routed" // not routed yet (waiting for delivery)
)

// StatsRow counts the posts of one class or department.
type StatsRow struct {
	Key      string
	Received int
	Claimed  int
	Resolved int
	// MedianClaim and MedianResolve are the median times from arrival to
	// claim and to resolution of the posts claimed or resolved; zero when
	// none was.
	MedianClaim   time.Duration
	MedianResolve time.Duration
}

// PostStats sums up the posts that arrived in a time window.
type PostStats struct {
	Since, Until time.Time
	Total        StatsRow
	ByClass      []StatsRow // in routing.Classes order, then GroupUnrouted
	ByDepartment []StatsRow // by name, then GroupTriage and GroupUnrouted
}

// Stats counts the posts that arrived from since on: received, claimed and
// resolved, and the median times to claim and to resolve, per class and
// per department. A post's claim and resolution are read from Claimed and
// Resolved (nil: not claimed, not resolved).
func (s *Store) Stats(since time.Time) (PostStats, error) {
	st := PostStats{Since: since, Until: s.now().UTC()}
	type acc struct {
		row            StatsRow
		claim, resolve []time.Duration
	}
	groups := map[string]*acc{}
	get := func(prefix, key string) *acc {
		a := groups[prefix+key]
		if a == nil {
			a = &acc{row: StatsRow{Key: key}}
			groups[prefix+key] = a
		}
		return a
	}
	total := &acc{row: StatsRow{Key: "all"}}
	err := s.ScanPosts(since, func(rec Record) bool {
		class, dept := GroupUnrouted, GroupUnrouted
		if d := rec.Decision; d != nil {
			class, dept = string(d.Class), d.Department
			if dept == "" {
				dept = GroupTriage
			}
		}
		for _, a := range []*acc{total, get("class:", class), get("dept:", dept)} {
			a.row.Received++
			if rec.Claimed != nil {
				a.row.Claimed++
				a.claim = append(a.claim, rec.Claimed.At.Sub(rec.Post.ReceivedAt))
			}
			if rec.Resolved != nil {
				a.row.Resolved++
				a.resolve = append(a.resolve, rec.Resolved.At.Sub(rec.Post.ReceivedAt))
			}
		}
		return true
	})
	if err != nil {
		return PostStats{}, err
	}
	finish := func(a *acc) StatsRow {
		a.row.MedianClaim, a.row.MedianResolve = median(a.claim), median(a.resolve)
		return a.row
	}
	st.Total = finish(total)
	for _, c := range routing.Classes {
		if a, ok := groups["class:"+string(c)]; ok {
			st.ByClass = append(st.ByClass, finish(a))
		}
	}
	if a, ok := groups["class:"+GroupUnrouted]; ok {
		st.ByClass = append(st.ByClass, finish(a))
	}
	var depts []string
	for k := range groups {
		if d, ok := strings.CutPrefix(k, "dept:"); ok && d != GroupTriage && d != GroupUnrouted {
			depts = append(depts, d)
		}
	}
	slices.Sort(depts)
	for _, d := range append(depts, GroupTriage, GroupUnrouted) {
		if a, ok := groups["dept:"+d]; ok {
			st.ByDepartment = append(st.ByDepartment, finish(a))
		}
	}
	return st, nil
}

// median returns the median of ds (the mean of the middle two for an even
// count), or zero for none. Negative durations (clock skew) count as zero.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	for i, d := range ds {
		ds[i] = max(d, 0)
	}
	slices.Sort(ds)
	m := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[m]
	}
	return (ds[m-1] + ds[m]) / 2
}
