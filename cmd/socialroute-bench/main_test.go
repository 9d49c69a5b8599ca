package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.db")
	os.WriteFile(existing, nil, 0o600)
	t.Setenv("BENCH_TEST_NO_SECRET", "")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, 2, "", "Usage: socialroute-bench"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"-h"}, 0, "", "Commands:"},
		{"command help", []string{"load", "-h"}, 0, "", "-conns"},
		{"bad flag", []string{"load", "-nope"}, 2, "", "flag provided but not defined"},
		{"stray argument", []string{"load", "extra"}, 2, "", "load takes no arguments"},
		{"bad connection list", []string{"load", "-conns", "64,x"}, 2, "", `"x" is not a positive whole number`},
		{"remote target", []string{"load", "-target", "http://example.com/webhooks/generic"}, 2, "", "not a loopback address"},
		{"target without secret", []string{"load", "-target", "http://127.0.0.1:8080/webhooks/generic", "-secret-env", "BENCH_TEST_NO_SECRET"}, 2, "", "$BENCH_TEST_NO_SECRET"},
		{"nothing to run", []string{"load", "-conns=", "-rates="}, 2, "", "nothing to run"},
		{"generate without db", []string{"generate"}, 2, "", "-db is required"},
		{"generate over a file", []string{"generate", "-db", existing, "-posts", "1"}, 1, "", "exists"},
		{"size without db", []string{"size"}, 2, "", "-db is required"},
		{"startup without db", []string{"startup"}, 2, "", "-db is required"},
		{"startup with too many runs", []string{"startup", "-db", existing, "-runs", "1000"}, 2, "", "-runs 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("stdout %q / stderr %q; want %q / %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
		})
	}
}
