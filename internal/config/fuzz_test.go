package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSentinel is in every value the fuzz environment hands out; no error
// may repeat it unless the document itself contains it.
const fuzzSentinel = "SENTINEL"

func fuzzEnv(name string) (string, bool) {
	switch {
	case strings.HasPrefix(name, "UNSET"):
		return "", false
	case name == "SLACK_APP_TOKEN":
		return "xapp-" + fuzzSentinel, true
	case name == "SLACK_BOT_TOKEN":
		return "xoxb-" + fuzzSentinel, true
	}
	return fuzzSentinel + "-" + name, true
}

// FuzzParse checks that Parse never panics, returns a config or an error
// but not both, and that its errors keep their shape and never repeat a
// value from the environment.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(""))
	f.Add([]byte("slack: &a {command: *a}\n"))
	f.Add([]byte("routing:\n  departments:\n    - &d {name: a, classes: &c [support, support]}\n    - *d\n  rules: [{match: regex, value: '${X}('}]\n"))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	seeds = append(seeds, examplePath)
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, fuzzEnv)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", cfg, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			msg := err.Error()
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, "config: ") {
					t.Errorf("error line %q lacks the \"config: \" prefix", line)
				}
			}
			if strings.Contains(msg, fuzzSentinel) && !strings.Contains(string(data), fuzzSentinel) {
				t.Errorf("error repeats a value from the environment:\n%s", msg)
			}
			return
		}
		if !strings.HasSuffix(cfg.Slack.APIURL, "/") {
			t.Errorf("api_url %q does not end in /", cfg.Slack.APIURL)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Parse accepted a config that Validate then refuses: %v", err)
		}
	})
}
