package app_test

import (
	"fmt"
	"net/http"
	"path/filepath"
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
	cfg := loadConfig(t, emu, filepath.Join(t.TempDir(), "unused.db"), emu.BotToken())
	cfg.Store.Backend = "etcd"
	cfg.Store.Etcd = config.Etcd{
		Endpoints: cluster.Endpoints(), Prefix: "/size/", Replica: "a",
		DialTimeout: config.Duration(5 * time.Second), RequestTimeout: config.Duration(5 * time.Second),
		LeaseTTL: config.Duration(2 * time.Second),
	}
	d := start(t, cfg)

	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprintf(`{"id":"big-%d","platform":"x","text":"%s"}`, i, strings.Repeat("<", 9990)))
	}
	body := "[" + strings.Join(items, ",") + "]"
	if int64(len(body)) > cfg.HTTP.MaxBodyBytes {
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
