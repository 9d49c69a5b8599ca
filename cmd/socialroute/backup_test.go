package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

func TestBackupOfAStoppedDaemon(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "live.db")
	st, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Ingest(context.Background(), []routing.Post{{Source: "generic", ExternalID: "1", Platform: "x", Text: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, fmt.Appendf(nil, `
slack: {app_token: xapp-test, bot_token: xoxb-test}
store: {path: %q}
sources: [{name: generic, format: generic, secret: a-secret-of-some-length}]
routing:
  triage_channel: C0TRIAGE
  departments:
    - {name: support, channel: C0SUPPORT, classes: [support, reputation, promotional]}
`, dbPath), 0o600)
	out := filepath.Join(dir, "copy.db")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"backup", "-config", cfgPath, out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "from the database file") {
		t.Errorf("stdout %q", stdout.String())
	}
	cp, err := store.Open(out, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if _, err := cp.Get(res[0].ID); err != nil {
		t.Fatalf("copy lacks the post: %v", err)
	}

	// Locked by a running daemon and no admin token: a clear refusal.
	live, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	stderr.Reset()
	if code := run(context.Background(), []string{"backup", "-config", cfgPath, out}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "set http.admin_token") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
