package store

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
)

// benchText is a mention of typical length.
const benchText = "@acme my order #4411 never arrived and nobody answers my emails. I want a refund."

// BenchmarkIngest stores one post per call, one caller at a time: every
// call pays a commit and its fsync. BenchmarkIngestParallel is the same
// with many callers sharing commits.
func BenchmarkIngest(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("posts-%d", size), func(b *testing.B) {
			s, _ := openTemp(b)
			posts := make([]routing.Post, size)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range posts {
					n++
					posts[i] = post("generic", fmt.Sprint(n), benchText)
				}
				if _, err := s.Ingest(context.Background(), posts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
		})
	}
}

// BenchmarkDelivery measures the delivery worker's bookkeeping for one post
// (BeginAttempt, then Delivered: two writes), by one worker and by four
// side by side, whose writes share commits.
func BenchmarkDelivery(b *testing.B) {
	decision := routing.Decision{
		Class: routing.Support, Confidence: 0.97, Department: "support", Channel: "C0SUPPORT", Runner: routing.Reputation,
		Reasons: []routing.Reason{
			{Class: routing.Support, Kind: "phrase", Detail: "never arrived", Weight: 3},
			{Class: routing.Support, Kind: "phrase", Detail: "want a refund", Weight: 3},
			{Class: routing.Support, Kind: "keyword", Detail: "emails", Weight: 0.5},
		},
	}
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers-%d", workers), func(b *testing.B) {
			s, _ := openTemp(b)
			var ids []string
			for len(ids) < b.N {
				posts := make([]routing.Post, min(100, b.N-len(ids)))
				for i := range posts {
					posts[i] = post("generic", fmt.Sprint(len(ids)+i), benchText)
				}
				res, err := s.Ingest(context.Background(), posts)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					ids = append(ids, r.ID)
				}
			}
			var next atomic.Int64
			b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1) - 1
					id := ids[i]
					if _, err := s.BeginAttempt(id, decision); err != nil {
						b.Error(err)
						return
					}
					if err := s.Delivered(id, "C0SUPPORT", fmt.Sprintf("1700000000.%06d", i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkDue reads a full batch from the front of a deep outbox, as the
// delivery worker does after a burst.
func BenchmarkDue(b *testing.B) {
	s, _ := openTemp(b)
	for i := 0; i < 20_000; i += 100 {
		posts := make([]routing.Post, 100)
		for j := range posts {
			posts[j] = post("generic", fmt.Sprint(i+j), benchText)
		}
		if _, err := s.Ingest(context.Background(), posts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		due, _, err := s.Due(time.Now(), 64)
		if err != nil || len(due) != 64 {
			b.Fatalf("due = %d, %v", len(due), err)
		}
	}
}

// BenchmarkIngestEtcd stores one post per call on the package's one-member
// etcd cluster, running in this process: one caller at a time, and 64 at
// once. Every commit is a Raft proposal fsynced by etcd.
func BenchmarkIngestEtcd(b *testing.B) {
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("callers-%d", callers), func(b *testing.B) {
			s, err := OpenEtcd(EtcdOptions{Endpoints: etcdCluster.Endpoints(), Prefix: fmt.Sprintf("/bench/%d/", prefixes.Add(1))}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p := post("generic", fmt.Sprint(n.Add(1)), benchText)
					if _, err := s.Ingest(context.Background(), []routing.Post{p}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "posts/s")
		})
	}
}

// BenchmarkEtcdBytesPerPost stores, routes and delivers b.N posts through
// the store on the package's etcd member, compacts and defragments, and
// reports how much of etcd's database each post takes.
func BenchmarkEtcdBytesPerPost(b *testing.B) {
	s, _, _ := replica(b, etcdPrefix(b), "bench")
	testutil.Eventually(b, "leadership", func() bool { return s.Role() == RoleLeader })
	cli := etcdCluster.Client(b)
	ctx, ep := context.Background(), etcdCluster.Endpoint(0)
	inUse := func() int64 {
		st, err := cli.Status(ctx, ep)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cli.Compact(ctx, st.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
			b.Fatal(err)
		}
		if _, err := cli.Defragment(ctx, ep); err != nil {
			b.Fatal(err)
		}
		if st, err = cli.Status(ctx, ep); err != nil {
			b.Fatal(err)
		}
		return st.DbSizeInUse
	}
	decision := routing.Decision{Class: routing.Support, Confidence: 0.97, Department: "support", Channel: "C0SUPPORT", Runner: routing.Reputation,
		Reasons: []routing.Reason{{Class: routing.Support, Kind: "phrase", Detail: "never arrived", Weight: 3}}}
	before := inUse()
	n := 0
	for b.Loop() {
		n++
		res, err := s.Ingest(ctx, []routing.Post{post("generic", fmt.Sprint(n), benchText)})
		if err == nil {
			_, err = s.BeginAttempt(res[0].ID, decision)
		}
		if err == nil {
			err = s.Delivered(res[0].ID, "C0SUPPORT", fmt.Sprintf("1700000000.%06d", n))
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// Commit markers are kept for markerTTL; the steady size is without
	// them.
	b.ReportMetric(float64(inUse()-before)/float64(n), "B/post-with-markers")
	if _, err := cli.Delete(ctx, s.eng.(*etcdEngine).prefix+"txn/", clientv3.WithPrefix()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(inUse()-before)/float64(n), "B/post")
}

// BenchmarkOutboxStats is what /readyz and each metrics scrape ask of the
// store, at outboxes of different depths: the cost must not grow with
// the depth.
func BenchmarkOutboxStats(b *testing.B) {
	for _, depth := range []int{100, 30_000} {
		b.Run(fmt.Sprintf("outbox-%d", depth), func(b *testing.B) {
			s, _ := openTemp(b)
			fillOutbox(b, s, depth)
			b.ReportAllocs()
			for b.Loop() {
				if st, err := s.OutboxStats(); err != nil || st.Pending != depth {
					b.Fatalf("stats = %+v, %v", st, err)
				}
			}
		})
	}
}

// fillOutbox accepts n posts, 100 per commit.
func fillOutbox(tb testing.TB, s *Store, n int) {
	tb.Helper()
	for i := 0; i < n; i += 100 {
		posts := make([]routing.Post, min(100, n-i))
		for j := range posts {
			posts[j] = post("generic", fmt.Sprint(i+j), benchText)
		}
		if _, err := s.Ingest(context.Background(), posts); err != nil {
			tb.Fatal(err)
		}
	}
}
