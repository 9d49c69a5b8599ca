package config

import (
	"slices"
	"strings"
	"testing"
)

// TestDecodeBoundsAliases feeds a small document whose aliases would make
// a naive walk visit millions of values.
func TestDecodeBoundsAliases(t *testing.T) {
	var b strings.Builder
	b.WriteString("routing:\n  departments:\n    - {name: a, classes: &c [")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("support")
	}
	b.WriteString("]}\n")
	for range 1000 {
		b.WriteString("    - {classes: *c}\n")
	}
	_, err := Parse([]byte(b.String()), lookup(fakeEnv()))
	want := "config: document too large or too many aliases (more than 100000 values)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestDecodeShapes(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"key that is a list", "slack:\n  [a]: b\n", `config: slack: a key must be a plain name, got a list (line 2)`},
		{"odd key is quoted", "slack:\n  \"a\\nb\": 1\n", `config: slack."a\nb": unknown key (line 2)`},
		{"long key is cut short", "slack:\n  " + strings.Repeat("k", 100) + ": 1\n", `config: slack."` + strings.Repeat("k", 64) + `…": unknown key (line 2)`},
		{"typo by case", "slack:\n  App_Token: x\n", `config: slack.App_Token: unknown key (line 2; did you mean app_token?)`},
		{"list where a value is wanted", "log:\n  level: [debug]\n", `config: log.level: want a single value, got a list (line 2)`},
		{"mapping where a list is wanted", "sources: {name: x}\n", `config: sources: want a list, got a mapping (line 1)`},
		{"float into int", "store:\n  retention_days: 1.5\n", `config: store.retention_days: want a whole number, got "1.5" (line 2)`},
		{"int overflow", "store:\n  retention_days: 99999999999999999999\n", `config: store.retention_days: want a whole number, got "99999999999999999999" (line 2)`},
		{"NaN", "routing:\n  min_confidence: NaN\n", `config: routing.min_confidence: want a number, got "NaN" (line 2)`},
		{"second document", "log: {}\n---\nlog: {}\n", `config: line 2: a second YAML document starts here; want exactly one`},
		{"trailing document marker", "log: {level: loud}\n---\n", `config: log.level: "loud" is not a log level (want debug, info, warn or error)`},
		{"tab indentation", "slack:\n\tcommand: /x\n", `config: line 2: found character that cannot start any token`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), lookup(fakeEnv()))
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			if !slices.Contains(strings.Split(err.Error(), "\n"), tt.want) {
				t.Errorf("error:\n%v\nwant a line:\n%s", err, tt.want)
			}
		})
	}
}
