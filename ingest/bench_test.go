package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// nullStore accepts every post without I/O, to measure the handler alone.
type nullStore struct{ n atomic.Int64 }

func (s *nullStore) Ingest(_ context.Context, posts []routing.Post) ([]store.IngestResult, error) {
	res := make([]store.IngestResult, len(posts))
	for i := range res {
		res[i].ID = strconv.FormatInt(s.n.Add(1), 10)
	}
	return res, nil
}

// signedRequests builds n signed webhook requests, each a new post.
func signedRequests(n int) []*http.Request {
	reqs := make([]*http.Request, n)
	ts := time.Now().Unix()
	for i := range reqs {
		body := fmt.Appendf(nil, `{"id":"%d","platform":"x","text":"@acme my order #%d never arrived and nobody answers my emails. I want a refund.",`+
			`"author":{"handle":"@user%d","name":"Bench User","followers":1520},"url":"https://x.com/user/status/%d","created_at":"2026-11-20T14:03:00Z","lang":"en"}`,
			1790000000000000000+i, i, i%5000, 1790000000000000000+i)
		r := httptest.NewRequest(http.MethodPost, "/webhooks/generic", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		r.Header.Set(HeaderSignature, Sign(testSecret, ts, body))
		reqs[i] = r
	}
	return reqs
}

func benchServer(b *testing.B, st Storer) http.Handler {
	b.Helper()
	s, err := New(Options{
		Sources: []Source{{Name: "generic", Format: "generic", Secret: testSecret}},
		Logger:  zerolog.Nop(),
	}, st)
	if err != nil {
		b.Fatal(err)
	}
	return s.Handler()
}

// BenchmarkWebhook measures POST /webhooks/{source} for one post: the
// handler alone (signature, parsing, validation, answer), then with the
// real store on disk, one request at a time (a commit and fsync each) and
// 64 at a time (sharing commits). Run with -benchtime=5000x or more for
// the parallel case; see BENCHMARKS.md.
func BenchmarkWebhook(b *testing.B) {
	b.Run("handler", func(b *testing.B) {
		h := benchServer(b, &nullStore{})
		reqs := signedRequests(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := serve(h, reqs[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, conc := range []int{1, 64} {
		b.Run(fmt.Sprintf("store-%d", conc), func(b *testing.B) {
			st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			h := benchServer(b, st)
			reqs := signedRequests(b.N)
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			if conc == 1 {
				for i := range b.N {
					if err := serve(h, reqs[i]); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := serve(h, reqs[next.Add(1)-1]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// serve runs one request and wants it accepted.
func serve(h http.Handler, r *http.Request) error {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusAccepted {
		return fmt.Errorf("status %d: %s", w.Code, w.Body)
	}
	return nil
}
