package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := lookup(map[string]string{
		"A":      "alpha",
		"B":      "beta",
		"EMPTY":  "",
		"NESTED": "${A}",
		"DOLLAR": "pa$$word",
	})
	tests := []struct {
		in      string
		want    string
		vars    []string
		wantErr string
	}{
		{in: "plain", want: "plain"},
		{in: "", want: ""},
		{in: "${A}", want: "alpha", vars: []string{"A"}},
		{in: "x${A}y${B}z", want: "xalphaybetaz", vars: []string{"A", "B"}},
		{in: "${A}${A}", want: "alphaalpha", vars: []string{"A", "A"}},
		{in: "${EMPTY}", want: "", vars: []string{"EMPTY"}},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha", vars: []string{"A"}},
		{in: "cost: $5", want: "cost: $5"},
		{in: "$A", want: "$A"},
		{in: "trailing $", want: "trailing $"},
		{in: "a}b", want: "a}b"},
		// A variable's value is used as it is: not expanded again, and
		// its "$$" is not halved.
		{in: "${NESTED}", want: "${A}", vars: []string{"NESTED"}},
		{in: "${DOLLAR}", want: "pa$$word", vars: []string{"DOLLAR"}},
		{in: "${UNSET}", wantErr: "environment variable UNSET is not set"},
		{in: "ok ${A} then ${UNSET}", wantErr: "environment variable UNSET is not set"},
		{in: "${A", wantErr: "unterminated ${ (write $$ for a literal $)"},
		{in: "${}", wantErr: `bad environment variable name "" in ${…} (want letters, digits and _; write $$ for a literal $)`},
		{in: "${1A}", wantErr: `bad environment variable name "1A" in ${…} (want letters, digits and _; write $$ for a literal $)`},
		{in: "${A B}", wantErr: `bad environment variable name "A B" in ${…} (want letters, digits and _; write $$ for a literal $)`},
		{in: "${A:-x}", wantErr: `bad environment variable name "A:-x" in ${…} (want letters, digits and _; write $$ for a literal $)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, vars, err := expand(tt.in, env)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("expand(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("expand(%q): %v", tt.in, err)
			}
			if got != tt.want || !reflect.DeepEqual(vars, tt.vars) {
				t.Errorf("expand(%q) = %q, %q; want %q, %q", tt.in, got, vars, tt.want, tt.vars)
			}
		})
	}
}

func TestParseEnv(t *testing.T) {
	withEnv := func(changes map[string]string, unset ...string) map[string]string {
		env := fakeEnv()
		for k, v := range changes {
			env[k] = v
		}
		for _, k := range unset {
			delete(env, k)
		}
		return env
	}
	tests := []struct {
		name    string
		doc     string // appended to minimal, or replacing what replace says
		replace [2]string
		env     map[string]string
		check   func(t *testing.T, c *Config)
		wantErr string
	}{
		{
			name:    "unset variable: the error names key and variable",
			env:     withEnv(nil, "SLACK_BOT_TOKEN"),
			wantErr: "config: slack.bot_token: environment variable SLACK_BOT_TOKEN is not set",
		},
		{
			name: "every unset variable is reported",
			env:  withEnv(nil, "SLACK_APP_TOKEN", "WEBHOOK_SECRET"),
			wantErr: "config: slack.app_token: environment variable SLACK_APP_TOKEN is not set\n" +
				"config: sources[0].secret: environment variable WEBHOOK_SECRET is not set",
		},
		{
			name:    "an escaped variable is not expanded",
			doc:     "store:\n  retention_days: $${DAYS}\n",
			env:     withEnv(map[string]string{"DAYS": "30"}),
			wantErr: `config: store.retention_days: want a whole number, got "${DAYS}" (line 14)`,
		},
		{
			name:    "numbers, durations and mixed text from the environment",
			doc:     "http:\n  listen: ${HOST}:${PORT}\n  max_body_bytes: ${BODY}\n  shutdown_timeout: ${GRACE}\nstore:\n  retention_days: ${DAYS}\n",
			replace: [2]string{"routing:\n", "routing:\n  min_confidence: ${MIN}\n"},
			env:     withEnv(map[string]string{"HOST": "127.0.0.1", "PORT": "9000", "BODY": "2048", "GRACE": "3s", "DAYS": "30", "MIN": "0.7"}),
			check: func(t *testing.T, c *Config) {
				want := HTTP{Listen: "127.0.0.1:9000", MaxBodyBytes: 2048, MaxBodyMemory: 64 << 20, ShutdownTimeout: Duration(3e9)}
				if c.HTTP != want || c.Store.RetentionDays != 30 || c.Routing.MinConfidence != 0.7 {
					t.Errorf("got %+v, %+v, %v", c.HTTP, c.Store, c.Routing.MinConfidence)
				}
			},
		},
		{
			name:    "escaped dollar is literal",
			replace: [2]string{`secret: "${WEBHOOK_SECRET}"`, `secret: "pa$$word-$${WEBHOOK_SECRET}-$5"`},
			check: func(t *testing.T, c *Config) {
				if got := c.Sources[0].Secret.Value(); got != "pa$word-${WEBHOOK_SECRET}-$5" {
					t.Errorf("secret = %q", got)
				}
			},
		},
		{
			name: "values that look like YAML stay strings",
			env:  withEnv(map[string]string{"WEBHOOK_SECRET": "null", "SLACK_BOT_TOKEN": "xoxb-1:[#not-yaml"}),
			check: func(t *testing.T, c *Config) {
				if got := c.Sources[0].Secret.Value(); got != "null" {
					t.Errorf("secret = %q", got)
				}
				if got := c.Slack.BotToken.Value(); got != "xoxb-1:[#not-yaml" {
					t.Errorf("bot token = %q", got)
				}
			},
		},
		{
			name:    "an alias expands once per use",
			replace: [2]string{`secret: "${WEBHOOK_SECRET}"`, `secret: &s "${WEBHOOK_SECRET}"`},
			doc:     "  - {name: second, format: generic, secret: *s}\n",
			env:     withEnv(map[string]string{"WEBHOOK_SECRET": "a$$b${C}"}),
			check: func(t *testing.T, c *Config) {
				for _, s := range c.Sources {
					if got := s.Secret.Value(); got != "a$$b${C}" {
						t.Errorf("%s secret = %q", s.Name, got)
					}
				}
			},
		},
		{
			name:    "keys are not expanded",
			doc:     "log: {\"${LEVEL}\": debug}\n",
			env:     withEnv(map[string]string{"LEVEL": "level"}),
			wantErr: `config: log."${LEVEL}": unknown key (line 13)`,
		},
		{
			name:    "a bad value from the environment is named, not quoted",
			doc:     "log: {format: \"${SLACK_APP_TOKEN}\"}\n",
			wantErr: "config: log.format: the value of ${SLACK_APP_TOKEN} is not a log format (want json or console)",
		},
		{
			name:    "a value built from several variables",
			doc:     "log: {format: \"x-${SLACK_APP_TOKEN}-${WEBHOOK_SECRET}\"}\n",
			wantErr: "config: log.format: the value built from ${SLACK_APP_TOKEN}, ${WEBHOOK_SECRET} is not a log format (want json or console)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := minimal
			if tt.replace[0] != "" {
				if !strings.Contains(doc, tt.replace[0]) {
					t.Fatalf("minimal does not contain %q", tt.replace[0])
				}
				doc = strings.Replace(doc, tt.replace[0], tt.replace[1], 1)
			}
			if strings.HasPrefix(tt.doc, "  - ") {
				doc = strings.Replace(doc, "routing:\n", tt.doc+"routing:\n", 1)
			} else {
				doc += tt.doc
			}
			env := tt.env
			if env == nil {
				env = fakeEnv()
			}
			cfg, err := Parse([]byte(doc), lookup(env))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tt.wantErr)
				}
				assertNoSecrets(t, err.Error())
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}
