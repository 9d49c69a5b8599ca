package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/socialroute/socialroute/routing"
)

// zorgPosts talk about something the built-in model has never seen.
var zorgPosts = []string{
	"zorgblatt is trending", "read this about zorgblatt", "who is behind zorgblatt", "the zorgblatt mess",
	"thoughts on zorgblatt", "my feed is all zorgblatt", "heard about zorgblatt at work", "zorgblatt explained",
	"and now zorgblatt", "why zorgblatt", "zorgblatt day 3", "I saw zorgblatt on tv",
}

// TestReclassificationsTeachTheRouter runs the daemon on a real store:
// reclassifications given to the Learner change where the next posts go,
// and the learned state survives a restart.
func TestReclassificationsTeachTheRouter(t *testing.T) {
	emu := newEmulator(t)
	dbPath := filepath.Join(t.TempDir(), "learn.db")
	cfg := loadConfig(t, emu, dbPath, emu.BotToken())
	probe := routing.Post{Text: "can't believe what I just read about the zorgblatt"}

	d := start(t, cfg)
	l := d.app.Learner()
	if got := l.Classify(probe); got.Class == routing.Reputation && got.Confidence >= 0.55 {
		t.Fatalf("the untaught model already routes the probe to PR: %v", got.Scores)
	}
	// A dozen people move zorgblatt posts to PR.
	for i, text := range zorgPosts {
		post := routing.Post{ID: fmt.Sprintf("01JZ%02d", i), Text: text}
		if err := l.Learn(context.Background(), post, routing.Reputation, fmt.Sprintf("U%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Classify(probe); got.Class != routing.Reputation || got.Confidence < 0.55 {
		t.Fatalf("after 12 reclassifications: %s %.2f, want reputation ≥ 0.55", got.Class, got.Confidence)
	}
	exs, err := d.app.Store().Examples(100)
	if err != nil || len(exs) != len(zorgPosts) {
		t.Fatalf("store holds %d examples (%v), want %d", len(exs), err, len(zorgPosts))
	}

	// The router uses what was learned: a new post goes to PR.
	id := d.accept(t, post("201", probe.Text, 40, false))
	waitFor(t, emu, "the probe post in #pr", func() bool { return len(postIDs(emu, "C0PR")) == 1 })
	if got := postIDs(emu, "C0PR"); got[0] != id {
		t.Fatalf("#pr holds %v, want [%s]", got, id)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	// After a restart the examples are applied again.
	d2 := start(t, cfg)
	if got := d2.app.Learner().Classify(probe); got.Class != routing.Reputation || got.Confidence < 0.55 {
		t.Fatalf("after restart: %s %.2f, want reputation ≥ 0.55", got.Class, got.Confidence)
	}
	if n := d2.app.Learner().Model().Learned(); n != len(zorgPosts) {
		t.Errorf("after restart the model learned %d examples, want %d", n, len(zorgPosts))
	}
}

func TestLearnRejectsBadInput(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "bad.db"), emu.BotToken()))
	l := d.app.Learner()
	before := l.Model()
	tests := []struct {
		name  string
		post  routing.Post
		class routing.Class
		user  string
	}{
		{"unknown class", routing.Post{Text: "x"}, "sales", "U1"},
		{"no user", routing.Post{Text: "x"}, routing.Support, ""},
		{"empty post", routing.Post{}, routing.Support, "U1"},
	}
	for _, tc := range tests {
		if err := l.Learn(context.Background(), tc.post, tc.class, tc.user); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Learn(ctx, routing.Post{Text: "x"}, routing.Support, "U1"); err == nil {
		t.Error("a cancelled context: accepted")
	}
	if l.Model() != before {
		t.Error("rejected examples changed the model")
	}
	if exs, _ := d.app.Store().Examples(100); len(exs) != 0 {
		t.Errorf("rejected examples were stored: %v", exs)
	}
}
