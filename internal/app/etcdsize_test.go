package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/etcdtest"
)

// TestLargeArrayOnEtcd: a generic array within the default
// http.max_body_bytes whose posts grow when stored ("<" takes six bytes in
// JSON) is stored on etcd, not refused by etcd's request size limit on
// every retry.
func TestLargeArrayOnEtcd(t *testing.T) {
	cluster := etcdtest.Start(t, 1)
	emu := newEmulator(t)
	d := etcdReplica(t, emu, cluster, "/size/", "a")

	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprintf(`{"id":"big-%d","platform":"x","text":"%s"}`, i, strings.Repeat("<", 9990)))
	}
	body := "[" + strings.Join(items, ",") + "]"
	if int64(len(body)) > config.Default().HTTP.MaxBodyBytes {
		t.Fatalf("body of %d bytes is over http.max_body_bytes", len(body))
	}
	code, m := d.send(t, body, time.Now(), secret)
	results, _ := m["results"].([]any)
	if code != http.StatusMultiStatus || len(results) != 100 {
		t.Fatalf("%d %v, want 207 with 100 results", code, m["error"])
	}
	for i, r := range results {
		if r.(map[string]any)["code"] != 202.0 {
			t.Fatalf("post %d: %v, want accepted", i, r)
		}
	}
}
