package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// MaxGenerate bounds the posts Generate writes.
const MaxGenerate = 10_000_000

// Generate builds a database at path (which must not exist) holding n
// posts that went the whole way: ingested in webhook-sized batches, routed
// by the real router, delivered to a channel and recorded, through the
// store's own API — so the file has the layout and the record sizes a
// daemon produces. ReceivedAt times spread over the 90 days before now, the
// default retention. Progress goes to w.
func Generate(ctx context.Context, w io.Writer, path string, n int) error {
	if n < 1 || n > MaxGenerate {
		return fmt.Errorf("posts: %d; want 1..%d", n, MaxGenerate)
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists; generate writes a new database", path)
	}
	model, err := routing.DefaultModel()
	if err != nil {
		return err
	}
	router, err := app.NewRouter(benchRouting(), model)
	if err != nil {
		return err
	}
	// A clock that advances a little on every reading, so posts spread
	// over the retention period instead of all arriving this second.
	const span = 90 * 24 * time.Hour
	start := time.Now().Add(-span)
	step := span / time.Duration(n+n/batchSize+1)
	var ticks atomic.Int64
	clock := func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * step) }

	s, err := store.Open(path, store.Options{Now: clock})
	if err != nil {
		return err
	}
	began := time.Now()
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			s.Close()
			return err
		}
		chunk := min(chunkSize, n-done)
		if err := generateChunk(ctx, s, router, done, chunk); err != nil {
			s.Close()
			return err
		}
		done += chunk
		if done%100_000 == 0 || done == n {
			fmt.Fprintf(w, "  %d posts stored and delivered (%s)\n", done, time.Since(began).Round(time.Second))
		}
	}
	return s.Close()
}

const (
	batchSize = 10  // posts per Ingest call, as under moderately concurrent webhooks
	chunkSize = 640 // posts ingested before they are delivered
	wave      = 64  // concurrent delivery calls, sharing commits
)

// generateChunk ingests posts first..first+n and delivers them.
func generateChunk(ctx context.Context, s *store.Store, router *routing.Router, first, n int) error {
	var ids []string
	for i := 0; i < n; i += batchSize {
		posts := make([]routing.Post, 0, batchSize)
		for j := i; j < min(i+batchSize, n); j++ {
			posts = append(posts, generatedPost(first+j))
		}
		res, err := s.Ingest(ctx, posts)
		if err != nil {
			return err
		}
		for _, r := range res {
			ids = append(ids, r.ID)
		}
	}
	due, _, err := s.Due(time.Now().Add(24*time.Hour), len(ids))
	if err != nil {
		return err
	}
	// The daemon's delivery worker routes and records posts in arrival
	// order. Waves of concurrent calls share commits like that worker's
	// calls share them with webhook commits, and keep the order between
	// waves, so decisions and deliveries are appended as the daemon appends
	// them rather than scattered.
	for i := 0; i < len(due); i += wave {
		batch := due[i:min(i+wave, len(due))]
		decisions := make([]routing.Decision, len(batch))
		err := each(len(batch), func(j int) error {
			p := batch[j].Record.Post
			d, err := s.BeginAttempt(p.ID, router.Route(p))
			decisions[j] = d
			return err
		})
		if err != nil {
			return err
		}
		err = each(len(batch), func(j int) error {
			p := batch[j].Record.Post
			return s.Delivered(p.ID, decisions[j].Channel, slackTS(p.ReceivedAt, first+i+j))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// each calls fn(0..n-1) concurrently and returns the first error.
func each(n int, fn func(int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// slackTS is a unique Slack-like ts near t.
func slackTS(t time.Time, n int) string {
	return strconv.FormatInt(t.Unix(), 10) + "." + fmt.Sprintf("%06d", n%1_000_000)
}

// generatedPost is post number i: one of the sample texts with a number
// woven in, an X-sized id, an author and a link.
func generatedPost(i int) routing.Post {
	id := strconv.Itoa(1790000000000000000 + i)
	handle := "@user" + strconv.Itoa(i%50_000)
	platform := platforms[i%len(platforms)]
	return routing.Post{
		Source:     Source,
		ExternalID: id,
		Platform:   platform,
		Text:       sampleTexts[i%len(sampleTexts)] + " (ref " + strconv.Itoa(i) + ")",
		Author: routing.Author{
			Handle:    handle,
			Name:      "User " + strconv.Itoa(i%50_000),
			Followers: int64(i*7919) % 100_000,
		},
		URL:       "https://example.com/" + platform + "/" + handle[1:] + "/status/" + id,
		CreatedAt: time.Now().UTC().Truncate(time.Second),
		Lang:      "en",
	}
}

// benchRouting is the routing section of the benchmark's configuration.
func benchRouting() config.Routing {
	return config.Routing{
		MinConfidence: 0.55,
		TriageChannel: "C0TRIAGE",
		Departments: []config.Department{
			{Name: "support", Channel: "C0SUPPORT", Classes: []string{"support"}},
			{Name: "pr", Channel: "C0PR", Classes: []string{"reputation"}},
			{Name: "marketing", Channel: "C0MARKETING", Classes: []string{"promotional"}},
		},
	}
}

// DBSize is how much room a database takes.
type DBSize struct {
	Path      string
	FileBytes int64
	Posts     int
	Buckets   []BucketSize
}

// BucketSize is one bbolt bucket's share of the file.
type BucketSize struct {
	Name  string
	Keys  int
	InUse int64 // bytes of pages holding data
	Alloc int64 // bytes of pages allocated to the bucket
}

// PerPost is the file size divided by the number of posts.
func (d DBSize) PerPost() float64 {
	if d.Posts == 0 {
		return 0
	}
	return float64(d.FileBytes) / float64(d.Posts)
}

// Allocated is the bytes of pages the buckets hold.
func (d DBSize) Allocated() int64 {
	var n int64
	for _, b := range d.Buckets {
		n += b.Alloc
	}
	return n
}

// MeasureDB reports the size of the database at path, which must not be
// open elsewhere.
func MeasureDB(path string) (DBSize, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return DBSize{}, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return DBSize{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	out := DBSize{Path: path, FileBytes: fi.Size()}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			st := b.Stats()
			bs := BucketSize{
				Name:  string(name),
				Keys:  st.KeyN,
				InUse: int64(st.LeafInuse + st.BranchInuse),
				Alloc: int64(st.LeafAlloc + st.BranchAlloc),
			}
			if bs.Name == "posts" {
				out.Posts = bs.Keys
			}
			out.Buckets = append(out.Buckets, bs)
			return nil
		})
	})
	return out, err
}
