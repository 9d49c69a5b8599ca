package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestSecretRedactedByFmt(t *testing.T) {
	s := Secret(testBotToken)
	tests := []struct {
		format string
		want   string
	}{
		{"%v", "[redacted]"},
		{"%+v", "[redacted]"},
		{"%#v", "[redacted]"},
		{"%s", "[redacted]"},
		{"%q", `"[redacted]"`},
		{"%x", "[redacted]"},
		{"%X", "[redacted]"},
		{"%d", "[redacted]"}, // a bad verb must not fall back to the raw value
		{"%12s", "[redacted]"},
		{"%T", "config.Secret"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			if got := fmt.Sprintf(tt.format, s); got != tt.want {
				t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
			}
		})
	}
	if got := fmt.Sprint(s) + fmt.Sprintln(s) + s.String() + s.GoString(); strings.Contains(got, "botsecret") {
		t.Errorf("leak: %q", got)
	}
	if s.Value() != testBotToken {
		t.Errorf("Value() = %q, want the raw token", s.Value())
	}
}

func TestSecretRedactedByMarshal(t *testing.T) {
	s := Secret(testBotToken)
	j, err := json.Marshal(s)
	if err != nil || string(j) != `"[redacted]"` {
		t.Errorf("json.Marshal = %s, %v", j, err)
	}
	y, err := yaml.Marshal(s)
	if err != nil || string(y) != "'[redacted]'\n" {
		t.Errorf("yaml.Marshal = %q, %v", y, err)
	}
	txt, err := s.MarshalText()
	if err != nil || string(txt) != "[redacted]" {
		t.Errorf("MarshalText = %q, %v", txt, err)
	}
}

// TestConfigPrintedRedacted prints and marshals a whole parsed Config the
// ways a log line or a debug endpoint might.
func TestConfigPrintedRedacted(t *testing.T) {
	cfg, err := Parse([]byte(minimal), lookup(fakeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sources[0].VerifyToken = "verifytokenverifytoken"
	outputs := map[string]string{}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs[f+" value"] = fmt.Sprintf(f, *cfg)
		outputs[f+" pointer"] = fmt.Sprintf(f, cfg)
		outputs[f+" slice"] = fmt.Sprintf(f, cfg.Sources)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(j)
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs["yaml"] = string(y)
	for name, out := range outputs {
		assertNoSecrets(t, out)
		if strings.Contains(out, "verifytoken") {
			t.Errorf("%s leaks the verify token:\n%s", name, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s does not show [redacted]:\n%s", name, out)
		}
	}
}

// TestMarshalledConfigParses checks that what yaml.Marshal writes uses the
// keys Parse reads: only the redacted tokens are then wrong.
func TestMarshalledConfigParses(t *testing.T) {
	cfg := minimalConfig()
	cfg.Routing.Rules = []Rule{{Department: "pr", Match: "keyword", Value: "recall"}}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(y, lookup(nil))
	want := "config: slack.app_token: does not start with \"xapp-\" (want an app-level token for Socket Mode)\n" +
		"config: slack.bot_token: does not start with \"xoxb-\" (want the bot token)"
	if err == nil || err.Error() != want {
		t.Errorf("Parse(yaml.Marshal(cfg)) error:\n%v\nwant:\n%s\ndocument:\n%s", err, want, y)
	}
}

func TestDuration(t *testing.T) {
	d := Duration(90 * time.Second)
	if d.String() != "1m30s" {
		t.Errorf("String() = %q", d.String())
	}
	j, err := json.Marshal(d)
	if err != nil || string(j) != `"1m30s"` {
		t.Errorf("json.Marshal = %s, %v", j, err)
	}
	y, err := yaml.Marshal(d)
	if err != nil || string(y) != "1m30s\n" {
		t.Errorf("yaml.Marshal = %q, %v", y, err)
	}
	var back Duration
	if err := json.Unmarshal(j, &back); err != nil || back != d {
		t.Errorf("json round trip = %v, %v", back, err)
	}
	if err := back.UnmarshalText([]byte("10")); err == nil {
		t.Error("UnmarshalText(\"10\") accepted a duration without a unit")
	}
}
