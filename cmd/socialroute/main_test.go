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
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("slack:\n  bot_tokn: x\n"), 0o600)

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, 2, "", "Usage: socialroute"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"-h"}, 0, "", "Commands:"},
		{"version", []string{"version"}, 0, "socialroute ", ""},
		{"command help", []string{"serve", "-h"}, 0, "", "-config"},
		{"bad flag", []string{"serve", "-nope"}, 2, "", "flag provided but not defined"},
		{"stray argument", []string{"serve", "extra"}, 2, "", "serve takes no arguments"},
		{"invalid config", []string{"serve", "-config", bad}, 2, "", "config: slack.bot_tokn: unknown key"},
		{"missing config file", []string{"serve", "-config", filepath.Join(dir, "none.yaml")}, 1, "", "no such file"},
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
