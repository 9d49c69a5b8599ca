package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// seedPost stores one post at the clock's time and sets its decision and
// claim/resolution marks, as delivery and people in Slack would.
func seedPost(t *testing.T, s *Store, c *clock, n int, d *routing.Decision, claimAfter, resolveAfter time.Duration) string {
	t.Helper()
	res, err := s.Ingest(context.Background(), []routing.Post{post("generic", fmt.Sprint(n), fmt.Sprintf("post %d", n))})
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].ID
	key, _ := parseID(id)
	err = s.eng.update(func(tx txn) error {
		rec, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		rec.Decision = d
		if claimAfter > 0 {
			rec.Claimed = &Mark{User: "U1", At: rec.Post.ReceivedAt.Add(claimAfter)}
		}
		if resolveAfter > 0 {
			rec.Resolved = &Mark{User: "U1", At: rec.Post.ReceivedAt.Add(resolveAfter)}
		}
		return putRecord(tx, key, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestScanAndRecentPosts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s, c := openClocked(t, db)
		start := c.t
		var all []string
		for i := range 2*scanChunk + 7 { // more than two read transactions' worth
			c.t = start.Add(time.Duration(i) * time.Second)
			all = append(all, seedPost(t, s, c, i, nil, 0, 0))
		}
		tests := []struct {
			name  string
			since time.Time
			want  int
		}{
			{"everything", time.Time{}, len(all)},
			{"from the 100th second", start.Add(100 * time.Second), len(all) - 100},
			{"the future", start.Add(time.Hour), 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var got []string
				if err := s.ScanPosts(tc.since, func(r Record) bool { got = append(got, r.Post.ID); return true }); err != nil {
					t.Fatal(err)
				}
				if len(got) != tc.want || (tc.want > 0 && got[len(got)-1] != all[len(all)-1]) {
					t.Fatalf("scanned %d posts, want %d", len(got), tc.want)
				}
				for i := 1; i < len(got); i++ {
					if got[i] <= got[i-1] {
						t.Fatalf("not oldest first at %d", i)
					}
				}
			})
		}
		t.Run("stop early", func(t *testing.T) {
			n := 0
			s.ScanPosts(time.Time{}, func(Record) bool { n++; return n < 5 })
			if n != 5 {
				t.Fatalf("fn called %d times after returning false", n)
			}
		})

		recent, err := s.RecentPosts(3, 100, nil)
		if err != nil || len(recent) != 3 || recent[0].Post.ID != all[len(all)-1] || recent[2].Post.ID != all[len(all)-3] {
			t.Fatalf("recent: %d, %v", len(recent), err)
		}
		// Every 100th post, across read transactions, newest first.
		every := func(r Record) bool { var n int; fmt.Sscanf(r.Post.Text, "post %d", &n); return n%100 == 0 }
		recent, err = s.RecentPosts(100, len(all), every)
		if err != nil || len(recent) != 11 || recent[0].Post.Text != "post 1000" || recent[10].Post.Text != "post 0" {
			t.Fatalf("filtered: %d posts, %v", len(recent), err)
		}
		recent, _ = s.RecentPosts(100, 50, every) // only the newest 50 are looked at
		if len(recent) != 1 {
			t.Fatalf("maxScan not honoured: %d", len(recent))
		}
	})
}

func TestStats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s, c := openClocked(t, db)
		dec := func(class routing.Class, dept string) *routing.Decision {
			return &routing.Decision{Class: class, Department: dept}
		}
		old := c.t
		seedPost(t, s, c, 0, dec(routing.Support, "support"), time.Minute, 0) // before the window
		c.t = old.Add(48 * time.Hour)
		since := c.t.Add(-time.Hour)
		m := time.Minute
		seedPost(t, s, c, 1, dec(routing.Support, "support"), 2*m, 10*m)
		seedPost(t, s, c, 2, dec(routing.Support, "support"), 4*m, 0)
		seedPost(t, s, c, 3, dec(routing.Support, "support"), 9*m, 30*m)
		seedPost(t, s, c, 4, dec(routing.Support, "support"), 0, 0)
		seedPost(t, s, c, 5, dec(routing.Reputation, "pr"), 6*m, 0)
		seedPost(t, s, c, 6, dec(routing.Promotional, "legal"), 0, 0) // a rule sent it to legal
		seedPost(t, s, c, 7, dec(routing.Promotional, ""), 0, 0)      // triage
		seedPost(t, s, c, 8, nil, 0, 0)                               // not routed yet

		st, err := s.Stats(since)
		if err != nil {
			t.Fatal(err)
		}
		want := PostStats{
			Total: StatsRow{Key: "all", Received: 8, Claimed: 4, Resolved: 2, MedianClaim: 5 * m, MedianResolve: 20 * m},
			ByClass: []StatsRow{
				{Key: "support", Received: 4, Claimed: 3, Resolved: 2, MedianClaim: 4 * m, MedianResolve: 20 * m},
				{Key: "reputation", Received: 1, Claimed: 1, MedianClaim: 6 * m},
				{Key: "promotional", Received: 2},
				{Key: GroupUnrouted, Received: 1},
			},
			ByDepartment: []StatsRow{
				{Key: "legal", Received: 1},
				{Key: "pr", Received: 1, Claimed: 1, MedianClaim: 6 * m},
				{Key: "support", Received: 4, Claimed: 3, Resolved: 2, MedianClaim: 4 * m, MedianResolve: 20 * m},
				{Key: GroupTriage, Received: 1},
				{Key: GroupUnrouted, Received: 1},
			},
		}
		if st.Total != want.Total {
			t.Errorf("total %+v, want %+v", st.Total, want.Total)
		}
		for _, pair := range []struct {
			name      string
			got, want []StatsRow
		}{{"by class", st.ByClass, want.ByClass}, {"by department", st.ByDepartment, want.ByDepartment}} {
			if len(pair.got) != len(pair.want) {
				t.Errorf("%s: %+v, want %+v", pair.name, pair.got, pair.want)
				continue
			}
			for i := range pair.got {
				if pair.got[i] != pair.want[i] {
					t.Errorf("%s[%d] = %+v, want %+v", pair.name, i, pair.got[i], pair.want[i])
				}
			}
		}
		if !st.Since.Equal(since) || !st.Until.Equal(c.t) {
			t.Errorf("window %v..%v", st.Since, st.Until)
		}
	})
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 2}, 3},
		{[]time.Duration{-10, 4}, 2},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
