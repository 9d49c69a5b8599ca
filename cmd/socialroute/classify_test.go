package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// runCmd runs the binary's entry point and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestClassifyCommand(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"text", []string{"classify", "my order never arrived and I want a refund"}, 0, []string{"support 1.00"}, ""},
		{"explain", []string{"classify", "-explain", "my order never arrived and I want a refund"}, 0,
			[]string{"→ support", "why support:", "phrase   never arrived", "log-odds"}, ""},
		{"explain unsure", []string{"classify", "-explain", "@acme thoughts?"}, 0,
			[]string{"goes to the triage channel marked unsure", "note: reads like chit-chat"}, ""},
		{"reach", []string{"classify", "-explain", "-followers", "2000000", "-verified", "new store opening downtown"}, 0,
			[]string{"reach    followers ≥ 1M, verified"}, ""},
		{"blank text", []string{"classify", " "}, 2, nil, "TEXT is blank"},
		{"bad confidence", []string{"classify", "-min-confidence", "2", "x"}, 2, nil, "-min-confidence 2 not in [0, 1]"},
		{"missing model", []string{"classify", "-model", "/nonexistent/m.model", "x"}, 1, nil, "no such file"},
		{"missing store", []string{"classify", "-db", "/nonexistent/s.db", "x"}, 2, nil, "-db /nonexistent/s.db: no such file"},
		{"help", []string{"classify", "-h"}, 0, nil, "-explain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q, want %q", stderr, tc.stderr)
			}
		})
	}
}

func TestClassifyStdinJSON(t *testing.T) {
	in := "my order never arrived\n\njournalist here, can your press office comment on the recall?\nlove it 😍 where can I buy one\n"
	var stdout, stderr bytes.Buffer
	if err := classify(context.Background(), []string{"-json"}, strings.NewReader(in), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	want := []routing.Class{routing.Support, routing.Reputation, routing.Promotional}
	if len(lines) != len(want) {
		t.Fatalf("%d lines for 3 posts (a blank line is skipped):\n%s", len(lines), stdout.String())
	}
	for i, line := range lines {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatal(err)
		}
		if len(obj) != 3 || obj["class"] == nil || obj["confidence"] == nil || obj["reasons"] == nil {
			t.Errorf("line %d: keys %v, want class, confidence, reasons", i, obj)
		}
		var res struct {
			Class      routing.Class
			Confidence float64
			Reasons    []routing.Reason
		}
		json.Unmarshal([]byte(line), &res)
		if res.Class != want[i] || res.Confidence <= 0.55 || len(res.Reasons) == 0 {
			t.Errorf("line %d: %+v, want %s", i, res, want[i])
		}
	}

	// Without -json: class, confidence and the text, tab-separated.
	stdout.Reset()
	classify(context.Background(), nil, strings.NewReader("my order never arrived\n"), &stdout, &stderr)
	if f := strings.Split(strings.TrimSpace(stdout.String()), "\t"); len(f) != 3 || f[0] != "support" || f[2] != "my order never arrived" {
		t.Errorf("plain output %q", stdout.String())
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const evalPosts = `{"text": "my order never arrived and I want a refund", "label": "support"}
{"text": "the app crashes every time I log in since the update", "label": "support"}
{"text": "reporter here, can your press office comment on the lawsuit?", "label": "reputation"}
{"text": "new store opening downtown", "label": "reputation", "author": {"followers": 3000000, "verified": true}}
{"text": "where can I buy the blue one?", "label": "promotional"}
{"text": "love my new blender 😍 best purchase", "label": "promotional"}
`

func TestEvalCommand(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "posts.jsonl", evalPosts)
	code, stdout, stderr := runCmd(t, "eval", "-json", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		MacroF1   *float64                              `json:"macro_f1"`
		Accuracy  *float64                              `json:"accuracy"`
		PerClass  map[routing.Class]routing.ClassReport `json:"per_class"`
		Confusion map[routing.Class]map[routing.Class]int
		N         int
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.MacroF1 == nil || r.Accuracy == nil || len(r.PerClass) != 3 || len(r.Confusion) != 3 || r.N != 6 {
		t.Fatalf("report %s", stdout)
	}
	if *r.Accuracy < 0.8 || r.PerClass[routing.Reputation].Support != 2 {
		t.Errorf("accuracy %.2f on six clear posts; per class %+v", *r.Accuracy, r.PerClass)
	}

	code, stdout, _ = runCmd(t, "eval", "-keywords", "-json", file)
	if code != 0 || !strings.Contains(stdout, `"macro_f1"`) {
		t.Errorf("eval -keywords: exit %d, %s", code, stdout)
	}
	code, stdout, _ = runCmd(t, "eval", file)
	for _, s := range []string{"6 posts from", "macro-F1", "accuracy", "confusion (rows: label, columns: predicted)", "promotional"} {
		if code != 0 || !strings.Contains(stdout, s) {
			t.Errorf("exit %d, text report lacks %q:\n%s", code, s, stdout)
		}
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no file", []string{"eval"}, 2, "eval takes one FILE.jsonl, got 0 arguments"},
		{"missing file", []string{"eval", filepath.Join(dir, "absent.jsonl")}, 1, "no such file"},
		{"bad line", []string{"eval", writeFile(t, dir, "bad.jsonl", "{\"text\": \"x\", \"label\": \"sales\"}\n")}, 1, `bad.jsonl:1: "label" "sales"`},
		{"none label", []string{"eval", writeFile(t, dir, "none.jsonl", "{\"text\": \"x\", \"label\": \"none\"}\n")}, 1, `post 1: label "none" cannot be evaluated`},
		{"empty", []string{"eval", writeFile(t, dir, "empty.jsonl", "\n")}, 1, "no posts"},
		{"keywords with a model", []string{"eval", "-keywords", "-model", "m.model", file}, 2, "-keywords measures the keyword classifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d stderr %q, want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestEvalLearned measures the model with and without the examples people
// taught it, read from a real store file.
func TestEvalLearned(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "socialroute.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"zorgblatt is trending", "read this about zorgblatt", "who is behind zorgblatt", "the zorgblatt mess", "thoughts on zorgblatt"} {
		err := st.AddExample(routing.Example{Post: routing.Post{ID: text, Text: text}, Class: routing.Reputation, User: "U" + string(rune('1'+i))})
		if err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	file := writeFile(t, dir, "posts.jsonl", evalPosts+`{"text": "can't believe what I just read about the zorgblatt", "label": "reputation"}`+"\n")

	code, stdout, stderr := runCmd(t, "eval", "-json", "-db", db, file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Accuracy        float64
		LearnedExamples *int            `json:"learned_examples"`
		WithoutLearned  *routing.Report `json:"without_learned"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.LearnedExamples == nil || *r.LearnedExamples != 5 || r.WithoutLearned == nil {
		t.Fatalf("report %s", stdout)
	}
	if r.Accuracy <= r.WithoutLearned.Accuracy {
		t.Errorf("accuracy %.3f with learned examples, %.3f without: want better", r.Accuracy, r.WithoutLearned.Accuracy)
	}
	code, stdout, _ = runCmd(t, "eval", "-db", db, file)
	if code != 0 || !strings.Contains(stdout, "with 5 learned examples from") || !strings.Contains(stdout, "without learned examples:") {
		t.Errorf("text report:\n%s", stdout)
	}
	code, stdout, _ = runCmd(t, "classify", "-db", db, "can't believe what I just read about the zorgblatt")
	if code != 0 || !strings.HasPrefix(stdout, "reputation") {
		t.Errorf("classify -db: %s", stdout)
	}
}

func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	fixtures := filepath.Join("..", "..", "internal", "trainset", "testdata")
	args := func(out string, extra ...string) []string {
		return append([]string{"train",
			"-complaints", filepath.Join(fixtures, "complaints.csv"),
			"-purchase", filepath.Join(fixtures, "purchase.csv"),
			"-dir", filepath.Join(fixtures, "train"),
			"-cv", "2", "-min-count", "1", "-o", out}, extra...)
	}
	a, b := filepath.Join(dir, "a.model"), filepath.Join(dir, "b.model")
	code, stdout, stderr := runCmd(t, args(a)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"2-fold cross-validation", "macro-F1", "complaint vs rest", "min_confidence"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("report lacks %q:\n%s", s, stdout)
		}
	}
	if !strings.Contains(stderr, "13 examples: 4 support, 2 reputation, 3 promotional, 4 none") || !strings.Contains(stderr, "wrote "+a) {
		t.Errorf("summary: %s", stderr)
	}
	if code, _, stderr := runCmd(t, args(b)...); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	fa, _ := os.ReadFile(a)
	fb, _ := os.ReadFile(b)
	if len(fa) == 0 || !bytes.Equal(fa, fb) {
		t.Fatal("two trainings on the same data wrote different model files")
	}
	// The model file works with classify and eval.
	if code, stdout, stderr := runCmd(t, "classify", "-model", a, "my order never arrived"); code != 0 || !strings.HasPrefix(stdout, "support") {
		t.Errorf("classify with the trained model: %d %q %q", code, stdout, stderr)
	}

	// -holdout-out writes the held-out posts for eval.
	held := filepath.Join(dir, "held.jsonl")
	if code, _, stderr := runCmd(t, args(filepath.Join(dir, "c.model"), "-holdout-out", held)...); code != 0 || !strings.Contains(stderr, "held out") {
		t.Fatalf("holdout: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "eval", "-model", filepath.Join(dir, "c.model"), held); code != 0 {
		t.Errorf("eval of the held-out posts: exit %d: %s", code, stderr)
	}

	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no data", []string{"train", "-o", filepath.Join(dir, "x.model")}, "give -complaints and/or -purchase"},
		{"one fold", []string{"train", "-cv", "1", "-complaints", "x.csv"}, "-cv 1: want 0 or at least 2 folds"},
		{"stray argument", []string{"train", "extra"}, "train takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, stderr := runCmd(t, tc.args...); code != 2 || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d stderr %q, want 2 and %q", code, stderr, tc.stderr)
			}
		})
	}
}
