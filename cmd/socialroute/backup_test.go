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
	id := dbWithPost(t, dbPath)

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
	if err := holdsPost(out, id); err != nil {
		t.Fatal(err)
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

// dbWithPost makes a bbolt database at path holding one post, "hello",
// and returns the post's id.
func dbWithPost(t *testing.T, path string) string {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Ingest(context.Background(), []routing.Post{{Source: "generic", ExternalID: "1", Platform: "x", Text: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].ID
}

// holdsPost checks that the bbolt database at path, a backup, holds the
// post dbWithPost made.
func holdsPost(path, id string) error {
	cp, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer cp.Close()
	if rec, err := cp.Get(id); err != nil || rec.Post.Text != "hello" {
		return fmt.Errorf("the copy at %s lacks post %s: %+v, %v", path, id, rec.Post, err)
	}
	return nil
}
