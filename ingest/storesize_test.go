package ingest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/internal/etcdtest"
	"github.com/socialroute/socialroute/store"
)

// TestLargePostsFitTheStore: a body within http.max_body_bytes whose posts
// grow when the store encodes them ("<" becomes six bytes in JSON) is
// stored, on etcd too, whose request size limit a single store call of all
// of them would exceed on every retry.
func TestLargePostsFitTheStore(t *testing.T) {
	c := etcdtest.Start(t, 1)
	st, err := store.OpenEtcd(store.EtcdOptions{Endpoints: c.Endpoints()}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Options{Sources: allSources, StoreCallBytes: EtcdStoreCallBytes, Logger: zerolog.Nop()}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, store: st}

	var items []string
	for i := range MaxBatch {
		items = append(items, fmt.Sprintf(`{"id":"big-%d","platform":"x","text":"%s"}`, i, strings.Repeat("<", 9990)))
	}
	body := "[" + strings.Join(items, ",") + "]"
	if len(body) > 1<<20 {
		t.Fatalf("body of %d bytes is over the default max_body_bytes", len(body))
	}
	r := f.post(t, body)
	results, _ := r.body["results"].([]any)
	if r.code != http.StatusMultiStatus || len(results) != MaxBatch {
		t.Fatalf("%d %v, want 207 with %d results", r.code, r.body, MaxBatch)
	}
	for i, res := range results {
		if res.(map[string]any)["code"] != 202.0 {
			t.Fatalf("post %d: %v, want accepted", i, res)
		}
	}
	if n := f.pending(t); n != MaxBatch {
		t.Fatalf("%d posts pending, want %d", n, MaxBatch)
	}
}
