package routing

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

func defaultModel(t *testing.T) *Model {
	t.Helper()
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func learn(t *testing.T, m *Model, exs []Example) *Model {
	t.Helper()
	l, err := m.Learn(exs, LearnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// examples labels each text with class, the i-th by users[i % len(users)].
func examples(texts []string, class Class, users ...string) []Example {
	exs := make([]Example, len(texts))
	for i, text := range texts {
		exs[i] = Example{Post: Post{ID: "post" + strconv.Itoa(i), Text: text}, Class: class, User: users[i%len(users)]}
	}
	return exs
}

func TestLearnFromCorrections(t *testing.T) {
	m := defaultModel(t)
	// Praise for staff reads like PR business to the trained model;
	// people who move such posts to marketing teach it otherwise.
	probe := Post{Text: "the team at the Bristol branch went above and beyond for us today"}
	if got := m.Classify(probe); got.Class == Promotional {
		t.Fatalf("probe is already promotional (%v): pick another", got.Scores)
	}
	corrections := examples([]string{
		"Sam at the Camden store went above and beyond to find my size",
		"huge thanks to Priya in the Leeds branch, she went above and beyond",
		"the delivery guy went above and beyond, carried it up 4 flights",
	}, Promotional, "U1", "U2", "U3")
	l := learn(t, m, corrections)
	if got := l.Classify(probe); got.Class != Promotional {
		t.Errorf("after 3 corrections: %s %v, want promotional", got.Class, got.Scores)
	}
	if l.Learned() != 3 || m.Learned() != 0 {
		t.Errorf("Learned() = %d (model learned from), %d (trained model); want 3, 0", l.Learned(), m.Learned())
	}
	// The trained model is unchanged.
	if got := m.Classify(probe); got.Class == Promotional {
		t.Error("Learn changed the model it was called on")
	}
	// Posts unlike the corrections keep their class.
	for _, tc := range demoPosts {
		if got := l.Classify(tc.post); got.Class != tc.want || got.Confidence < 0.55 {
			t.Errorf("after learning, %q: %s %.2f, want %s", tc.post.Text, got.Class, got.Confidence, tc.want)
		}
	}
}

// zorgTexts mention a word the model has never seen, in varied posts.
func zorgTexts() []string {
	return []string{
		"the zorgblatt again", "zorgblatt is trending", "read this about zorgblatt", "my aunt sent me the zorgblatt link",
		"zorgblatt, seriously?", "who is behind zorgblatt", "not the zorgblatt", "zorgblatt zorgblatt zorgblatt",
		"is anyone going to explain zorgblatt", "I saw zorgblatt on tv", "the zorgblatt mess", "zorgblatt update please",
		"my feed is all zorgblatt", "zorgblatt day 3", "thoughts on zorgblatt", "zorgblatt 🙄",
		"and now zorgblatt", "heard about zorgblatt at work", "zorgblatt explained", "why zorgblatt",
	}
}

func TestLearnNewWords(t *testing.T) {
	m := defaultModel(t)
	probe := Post{Text: "can't believe what I just read about the zorgblatt"}
	before := m.Classify(probe)
	if before.Class == Reputation {
		t.Fatalf("probe is already reputation: %v", before.Scores)
	}
	few := learn(t, m, examples(zorgTexts()[:3], Reputation, "U1", "U2", "U3"))
	many := learn(t, m, examples(zorgTexts(), Reputation, userIDs(20)...))
	rep := func(l *Model) float64 { return l.Classify(probe).Scores[Reputation.index()] }
	if !(rep(few) > rep(m)+0.15 && rep(many) > rep(few)+0.15) {
		t.Errorf("a word taught by 3 then 20 people: reputation %.2f → %.2f → %.2f, want clear rises", rep(m), rep(few), rep(many))
	}
	if got := many.Classify(probe); got.Class != Reputation || got.Confidence < 0.55 {
		t.Errorf("taught by 20 people: %s %.2f, want reputation ≥ 0.55", got.Class, got.Confidence)
	}
	if few.Features() <= m.Features() {
		t.Errorf("learned model has %d features, trained %d: new words not added", few.Features(), m.Features())
	}
}

// TestLearnBoundedPerUser: one person's clicks weigh at most
// MaxUserWeight examples together, so one person cannot flip the model.
func TestLearnBoundedPerUser(t *testing.T) {
	m := defaultModel(t)
	bogus := make([]string, 300)
	for i := range bogus {
		bogus[i] = "my parcel never arrived, refund please"
	}
	probe := Post{Text: "my parcel never arrived, refund please"}
	repOf := func(l *Model) float64 { return l.Classify(probe).Scores[Reputation.index()] }

	alone300 := learn(t, m, examples(bogus, Reputation, "U1"))
	alone3 := learn(t, m, examples(bogus[:3], Reputation, "U1"))
	crowd := learn(t, m, examples(bogus, Reputation, userIDs(300)...))

	// 300 clicks by one person count as 3.
	if a, b := repOf(alone300), repOf(alone3); abs(a-b) > 1e-4 {
		t.Errorf("one user's 300 corrections: reputation %.5f; their 3: %.5f; want the same", a, b)
	}
	// One person cannot flip a clear complaint...
	if got := alone300.Classify(probe); got.Class != Support {
		t.Errorf("one user's 300 corrections flipped a complaint: %s %v", got.Class, got.Scores)
	}
	for _, tc := range demoPosts {
		if got := alone300.Classify(tc.post); got.Class != tc.want {
			t.Errorf("after one user's 300 corrections, %q: %s, want %s", tc.post.Text, got.Class, tc.want)
		}
	}
	// ...though 300 people agreeing do.
	if got := crowd.Classify(probe); got.Class != Reputation {
		t.Errorf("300 users' corrections: %s %v, want reputation", got.Class, got.Scores)
	}
	if repOf(crowd) <= repOf(alone300) {
		t.Errorf("300 users moved reputation to %.3f, one user to %.3f: want more", repOf(crowd), repOf(alone300))
	}
}

func userIDs(n int) []string {
	u := make([]string, n)
	for i := range u {
		u[i] = "U" + strconv.Itoa(i)
	}
	return u
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestLearnLatestPerPost(t *testing.T) {
	m := defaultModel(t)
	post := Post{ID: "01J0", Text: "the zorgblatt is back"}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	exs := []Example{
		{Post: post, Class: Reputation, User: "U1", At: at},
		{Post: post, Class: Promotional, User: "U2", At: at.Add(time.Minute)},
	}
	l := learn(t, m, exs)
	if l.Learned() != 1 {
		t.Errorf("two labels for one post: Learned() = %d, want 1", l.Learned())
	}
	only := learn(t, m, exs[1:])
	if !bytes.Equal(modelBytes(t, l), modelBytes(t, only)) {
		t.Error("the later label of a post did not replace the earlier one")
	}
}

func TestLearnDeterministicAndRestartable(t *testing.T) {
	m := defaultModel(t)
	exs := examples([]string{"the zorgblatt is back", "love the zorgblatt", "where is my zorgblatt"}, Promotional, "U1", "U2")
	a, b := learn(t, m, exs), learn(t, m, exs)
	if !bytes.Equal(modelBytes(t, a), modelBytes(t, b)) {
		t.Error("the same examples gave different models")
	}
	// Learning again from a learned model starts from the trained one, as
	// a restart does.
	c := learn(t, a, exs)
	if !bytes.Equal(modelBytes(t, a), modelBytes(t, c)) {
		t.Error("learning the same examples twice stacked them")
	}
	if none := learn(t, a, nil); !bytes.Equal(modelBytes(t, none), modelBytes(t, m)) {
		t.Error("learning no examples did not give back the trained model")
	}
}

func TestLearnErrors(t *testing.T) {
	m := defaultModel(t)
	for _, c := range []Class{"", "none", "sales"} {
		_, err := m.Learn([]Example{{Post: Post{Text: "x"}, Class: c, User: "U1"}}, LearnOptions{})
		if err == nil || !strings.Contains(err.Error(), "example 0: class") {
			t.Errorf("class %q: error %v", c, err)
		}
	}
}

func TestLearnKeepsMostRecent(t *testing.T) {
	exs := examples([]string{"a", "b", "c", "d"}, Support, "U1")
	for i := range exs {
		exs[i].At = time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC)
	}
	got := latestPerPost(exs, 2)
	if len(got) != 2 || got[0].Post.Text != "c" || got[1].Post.Text != "d" {
		t.Errorf("kept %v, want the two most recent in order", got)
	}
}
