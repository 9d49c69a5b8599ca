package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalidConfigs parses each testdata/invalid/*.yaml file and checks
// the exact error. A file states what it expects in its leading comment
// lines, one "# want: <line of the error>" per error line, in order.
func TestInvalidConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/invalid/*.yaml files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := wantedError(data)
			if want == "" {
				t.Fatalf("%s has no \"# want: \" line", file)
			}
			cfg, err := Parse(data, lookup(fakeEnv()))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v\nwant error:\n%s", cfg, want)
			}
			if cfg != nil {
				t.Errorf("Parse returned a config with its error")
			}
			if got := err.Error(); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid")
			}
			assertNoSecrets(t, err.Error())
		})
	}
}

// wantedError joins the "# want: " lines at the top of a test file.
func wantedError(data []byte) string {
	var want []string
	for _, line := range strings.Split(string(data), "\n") {
		w, ok := strings.CutPrefix(line, "# want: ")
		if !ok {
			break
		}
		want = append(want, w)
	}
	return strings.Join(want, "\n")
}

// assertNoSecrets fails if s holds any token or secret from fakeEnv.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testAppToken, testBotToken, testWebhook, testEtcdPass, "appsecret", "botsecret", "etcdpass", "hunter2"} {
		if strings.Contains(s, secret) {
			t.Errorf("output leaks secret %q:\n%s", secret, s)
		}
	}
}
