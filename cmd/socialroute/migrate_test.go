package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialroute/socialroute/internal/etcdtest"
)

// A bbolt file moves into etcd with migrate; backup and rules then work
// on the etcd store.
func TestMigrateBackupAndRulesOnEtcd(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "old.db")
	id := dbWithPost(t, dbPath)

	cluster := etcdtest.Start(t, 1)
	endpoints, _ := json.Marshal(cluster.Endpoints())
	config := func(backend string) string {
		path := filepath.Join(dir, backend+".yaml")
		os.WriteFile(path, fmt.Appendf(nil, `
slack: {app_token: xapp-test, bot_token: xoxb-test}
store:
  backend: %s
  path: %q
  etcd: {endpoints: %s, prefix: /migrated/}
sources: [{name: generic, format: generic, secret: a-secret-of-some-length}]
routing:
  triage_channel: C0TRIAGE
  departments:
    - {name: support, channel: C0SUPPORT, classes: [support, reputation, promotional]}
  rules:
    - {department: support, match: keyword, value: refund}
`, backend, dbPath, endpoints), 0o600)
		return path
	}
	etcdCfg := config("etcd")
	sh := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	if code, _, stderr := sh("migrate", "-config", config("bbolt")); code == 0 || !strings.Contains(stderr, "set it to etcd") {
		t.Errorf("migrate with backend bbolt: exit %d, %q", code, stderr)
	}
	code, stdout, stderr := sh("migrate", "-config", etcdCfg)
	if code != 0 || !strings.Contains(stdout, "copied") || !strings.Contains(stdout, dbPath) {
		t.Fatalf("migrate: exit %d, %q %q", code, stdout, stderr)
	}
	if code, _, stderr := sh("migrate", "-config", etcdCfg); code == 0 || !strings.Contains(stderr, "already holds socialroute data") {
		t.Errorf("second migrate: exit %d, %q", code, stderr)
	}

	out := filepath.Join(dir, "backup.db")
	if code, stdout, stderr := sh("backup", "-config", etcdCfg, out); code != 0 || !strings.Contains(stdout, "from etcd") {
		t.Fatalf("backup: exit %d, %q %q", code, stdout, stderr)
	}
	if err := holdsPost(out, id); err != nil {
		t.Fatalf("backup of etcd: %v", err)
	}

	rulesPath := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rulesPath, []byte("rules:\n  - {department: support, match: keyword, value: broken}\n"), 0o600)
	if code, stdout, stderr := sh("rules", "import", "-config", etcdCfg, rulesPath); code != 0 || !strings.Contains(stdout, "into etcd") {
		t.Fatalf("rules import: exit %d, %q %q", code, stdout, stderr)
	}
	if code, stdout, stderr := sh("rules", "export", "-config", etcdCfg); code != 0 || !strings.Contains(stdout, "value: broken") {
		t.Fatalf("rules export: exit %d, %q %q", code, stdout, stderr)
	}
}
