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

// rulesRun runs the command line in-process.
func rulesRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeConfig(t *testing.T, dir, db, seed string) string {
	t.Helper()
	path := filepath.Join(dir, "config.yaml")
	doc := fmt.Sprintf(`slack: {app_token: xapp-test, bot_token: xoxb-test}
store: {path: %q}
sources: [{name: generic, format: generic, secret: s3cret}]
routing:
  triage_channel: C0TRIAGE
  departments:
    - {name: support, channel: C0SUPPORT, classes: [support]}
    - {name: pr, channel: C0PR, classes: [reputation]}
    - {name: marketing, channel: C0MARKETING, classes: [promotional]}
    - {name: legal, channel: C0LEGAL}
  rules: %s
`, db, seed)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storeRules puts rules into the database at path, as changes in Slack would.
func storeRules(t *testing.T, path string, rules ...routing.Rule) {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, r := range rules {
		r, err := r.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ChangeRules("U1", "/route add", func(rs *store.RuleSet) (string, error) {
			rs.Rules = append(rs.Rules, r)
			return "added", nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRulesExportImportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first.db")
	storeRules(t, first,
		routing.Rule{Department: "pr", Match: routing.MatchKeyword, Value: "Recall, lawsuit", Priority: "high"},
		routing.Rule{Department: "legal", Match: routing.MatchPhrase, Value: `class action, "quoted" words`, Incident: true},
		routing.Rule{Department: "support", Match: routing.MatchRegex, Value: `(?i)\border\s+#?\d{5,}: 'x' "y" # not a comment`},
		routing.Rule{Department: "support", Match: routing.MatchAuthor, Value: "@BigCustomer"},
		routing.Rule{Department: "reputation", Match: routing.MatchPlatform, Value: "review, reddit"},
		routing.Rule{Department: "pr", Match: routing.MatchFollowers, Value: "100k", Priority: "normal"},
		routing.Rule{Department: "pr", Match: routing.MatchVerified},
		routing.Rule{Department: "marketing", Match: routing.MatchPhrase, Value: "Überweisung: ja, 🎉 yes"},
		routing.Rule{Department: "legal", Match: routing.MatchKeyword, Value: "true"}, // YAML would read a bare true as a bool
	)
	code, exported, stderr := rulesRun(t, "rules", "export", "-db", first)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"rules:\n  - department: pr\n    match: keyword\n    value: recall, lawsuit\n    priority: high\n",
		"    match: verified\n    value: \"true\"\n", "incident: true"} {
		if !strings.Contains(exported, want) {
			t.Fatalf("export lacks %q:\n%s", want, exported)
		}
	}
	file := filepath.Join(dir, "rules.yaml")
	os.WriteFile(file, []byte(exported), 0o600)

	// Into a new database (created by the import) and into the first one.
	second := filepath.Join(dir, "second.db")
	cfg := writeConfig(t, dir, second, "[]")
	for _, args := range [][]string{{"-config", cfg}, {"-db", first}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, stderr := rulesRun(t, append(append([]string{"rules", "import"}, args...), file)...)
			if code != 0 || !strings.Contains(out, "imported 9 rules into ") {
				t.Fatalf("import: exit %d: %s %s", code, out, stderr)
			}
			code, again, stderr := rulesRun(t, append([]string{"rules", "export"}, args...)...)
			if code != 0 {
				t.Fatalf("export again: exit %d: %s", code, stderr)
			}
			if again != exported {
				t.Fatalf("export → import → export differs:\n%s\nwant\n%s", again, exported)
			}
		})
	}
	// The import is a change like any other: audited, and undo reverts it.
	st, err := store.Open(first, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log, _ := st.AuditLog(1)
	if len(log) != 1 || log[0].User != "cli" || !strings.HasPrefix(log[0].Detail, "imported 9 rules from ") || !strings.HasSuffix(log[0].Detail, ", replacing 9") {
		t.Fatalf("audit of the import: %+v", log)
	}
	rs, _ := st.Rules()
	if rs.Rules[0].ID != "r10" || rs.Rules[0].CreatedBy != "cli" {
		t.Fatalf("imported rules get new ids: %+v", rs.Rules[0])
	}
}

func TestRulesExportSeedAndEmpty(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "socialroute.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := writeConfig(t, dir, db, `[{department: pr, match: keyword, value: Recall}]`)
	code, out, stderr := rulesRun(t, "rules", "export", "-config", cfg)
	if code != 0 || out != rulesHeader+"rules:\n  - department: pr\n    match: keyword\n    value: recall\n" || !strings.Contains(stderr, "the config's seed rules") {
		t.Fatalf("seed export: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = rulesRun(t, "rules", "export", "-db", db)
	if code != 0 || out != rulesHeader+"rules: []\n" {
		t.Fatalf("empty export: exit %d\n%s", code, out)
	}
}

func TestRulesErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "socialroute.db")
	storeRules(t, db, routing.Rule{Department: "pr", Match: routing.MatchKeyword, Value: "recall"})
	cfg := writeConfig(t, dir, db, "[]")
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no sub-command", []string{"rules"}, 2, "rules wants export or import"},
		{"unknown sub-command", []string{"rules", "frob"}, 2, `rules "frob": want export or import`},
		{"help", []string{"rules", "-h"}, 0, "work on the database file while socialroute is stopped"},
		{"export help", []string{"rules", "export", "-h"}, 0, "-db"},
		{"export argument", []string{"rules", "export", "-db", db, "x"}, 2, "rules export takes no arguments"},
		{"no database", []string{"rules", "export", "-db", filepath.Join(dir, "none.db")}, 1, "rules export: no database at "},
		{"import without a file", []string{"rules", "import", "-db", db}, 2, "rules import wants one file, got 0 arguments"},
		{"import missing file", []string{"rules", "import", "-db", db, filepath.Join(dir, "none.yaml")}, 1, "no such file"},
		{"unknown key", []string{"rules", "import", "-db", db, file("a.yaml", "rules:\n  - {department: pr, match: keyword, value: x, prio: high}\n")}, 2,
			"field prio not found"},
		{"bad rules", []string{"rules", "import", "-config", cfg, file("b.yaml", "rules:\n  - {department: pr, match: keyword, value: x}\n  - {department: pr, match: regex, value: '('}\n  - {department: frobs, match: keyword, value: x}\n  - {department: pr, match: word, value: x}\n")}, 2,
			"rules[1].value: not a valid regular expression: missing closing ): `(`\nrules[2].department: \"frobs\" is not a configured department or a class\nrules[3].match: \"word\" is not a kind of rule"},
		{"invalid config", []string{"rules", "export", "-config", file("bad.yaml", "slack:\n  bot_tokn: x\n")}, 2, "config: slack.bot_tokn: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := rulesRun(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if rs, _ := st.Rules(); len(rs.Rules) != 1 {
		t.Fatalf("a failed import changed the rules: %+v", rs.Rules)
	}
}

func TestRulesWhileTheDaemonRuns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "socialroute.db")
	storeRules(t, db, routing.Rule{Department: "pr", Match: routing.MatchKeyword, Value: "recall"})
	running, err := store.Open(db, store.Options{}) // holds bbolt's file lock, as the daemon does
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	rules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rules, []byte("rules: []\n"), 0o600)
	for _, args := range [][]string{{"rules", "export", "-db", db}, {"rules", "import", "-db", db, rules}} {
		code, out, stderr := rulesRun(t, args...)
		want := "the database " + db + " is in use by a running socialroute; stop it first"
		if code != 1 || out != "" || !strings.Contains(stderr, want) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
}
