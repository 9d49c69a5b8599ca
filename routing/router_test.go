package routing

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

// fakeClassifier answers with ClassifyFunc.
type fakeClassifier struct {
	ClassifyFunc func(Post) Result
}

func (f *fakeClassifier) Classify(p Post) Result { return f.ClassifyFunc(p) }

// fixed returns a classifier that always gives scores (indexed like Classes).
func fixed(scores [3]float64) *fakeClassifier {
	return &fakeClassifier{ClassifyFunc: func(Post) Result {
		best := 0
		for i := range scores {
			if scores[i] > scores[best] {
				best = i
			}
		}
		return Result{Class: Classes[best], Confidence: scores[best], Scores: scores}
	}}
}

func testConfig() Config {
	return Config{
		Departments: []Department{
			{Name: "support", Channel: "C0SUPPORT", Classes: []Class{Support}},
			{Name: "pr", Channel: "C0PR", Classes: []Class{Reputation}},
			{Name: "marketing", Channel: "C0MARKETING", Classes: []Class{Promotional}},
		},
		TriageChannel: "C0TRIAGE",
		MinConfidence: 0.55,
	}
}

func TestNewRouterErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // every line of the error, in order
	}{
		{"empty channel", func(c *Config) { c.Departments[1].Channel = " " },
			[]string{"departments[1].channel: empty"}},
		{"empty name", func(c *Config) { c.Departments[0].Name = "" },
			[]string{"departments[0].name: empty"}},
		{"duplicate name", func(c *Config) { c.Departments[2].Name = "pr" },
			[]string{`departments[2].name: "pr" already used by departments[1]`}},
		{"unknown class", func(c *Config) { c.Departments[2].Classes = []Class{"sales"} },
			[]string{
				`departments[2].classes[0]: unknown class "sales" (want support, reputation or promotional)`,
				"departments: no department owns class promotional",
			}},
		{"class owned twice", func(c *Config) { c.Departments[2].Classes = []Class{Promotional, Support} },
			[]string{`departments[2].classes[1]: class support already owned by departments[0] ("support")`}},
		{"class missing", func(c *Config) { c.Departments = c.Departments[:2] },
			[]string{"departments: no department owns class promotional"}},
		{"no departments", func(c *Config) { c.Departments = nil },
			[]string{
				"departments: no department owns class support",
				"departments: no department owns class reputation",
				"departments: no department owns class promotional",
			}},
		{"no triage", func(c *Config) { c.TriageChannel = "" },
			[]string{"triage_channel: empty"}},
		{"min above 1", func(c *Config) { c.MinConfidence = 1.5 },
			[]string{"min_confidence: 1.5 not in [0, 1]"}},
		{"min below 0", func(c *Config) { c.MinConfidence = -0.1 },
			[]string{"min_confidence: -0.1 not in [0, 1]"}},
		{"min NaN", func(c *Config) { c.MinConfidence = math.NaN() },
			[]string{"min_confidence: NaN not in [0, 1]"}},
		{"several at once", func(c *Config) { c.Departments[0].Channel = ""; c.TriageChannel = "" },
			[]string{"departments[0].channel: empty", "triage_channel: empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.modify(&cfg)
			r, err := NewRouter(cfg, fixed([3]float64{1, 0, 0}))
			if err == nil {
				t.Fatalf("got router %v, want error", r)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("errors.Is(err, ErrInvalidConfig) = false")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field+": "+ce.Problem != tc.want[0] {
				t.Errorf("errors.As: got %v, want first problem %q", ce, tc.want[0])
			}
		})
	}
	t.Run("nil classifier", func(t *testing.T) {
		if _, err := NewRouter(testConfig(), nil); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("valid edge values", func(t *testing.T) {
		for _, m := range []float64{0, 1} {
			cfg := testConfig()
			cfg.MinConfidence = m
			cfg.Departments = append(cfg.Departments, Department{Name: "legal", Channel: "C0LEGAL"}) // rule-only department
			if _, err := NewRouter(cfg, fixed([3]float64{1, 0, 0})); err != nil {
				t.Errorf("min %v: %v", m, err)
			}
		}
	})
}

func TestRoute(t *testing.T) {
	tests := []struct {
		name   string
		scores [3]float64
		want   Decision
	}{
		{"support", [3]float64{0.9, 0.06, 0.04},
			Decision{Class: Support, Confidence: 0.9, Department: "support", Channel: "C0SUPPORT", Runner: Reputation}},
		{"reputation", [3]float64{0.2, 0.7, 0.1},
			Decision{Class: Reputation, Confidence: 0.7, Department: "pr", Channel: "C0PR", Runner: Support}},
		{"promotional", [3]float64{0.1, 0.2, 0.7},
			Decision{Class: Promotional, Confidence: 0.7, Department: "marketing", Channel: "C0MARKETING", Runner: Reputation}},
		{"at threshold", [3]float64{0.55, 0.15, 0.3},
			Decision{Class: Support, Confidence: 0.55, Department: "support", Channel: "C0SUPPORT", Runner: Promotional}},
		{"unsure", [3]float64{0.2, 0.35, 0.45},
			Decision{Class: Promotional, Confidence: 0.45, Channel: "C0TRIAGE", Unsure: true, Runner: Reputation}},
		{"unsure tie", [3]float64{0.5, 0.25, 0.25},
			Decision{Class: Support, Confidence: 0.5, Channel: "C0TRIAGE", Unsure: true, Runner: Reputation}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRouter(testConfig(), fixed(tc.scores))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Route(Post{Text: "x"}); !equalDecision(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("invalid class from classifier goes to triage", func(t *testing.T) {
		c := &fakeClassifier{ClassifyFunc: func(Post) Result { return Result{Class: "bogus", Confidence: 0.99} }}
		r, err := NewRouter(testConfig(), c)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Route(Post{}); !got.Unsure || got.Channel != "C0TRIAGE" || got.Department != "" {
			t.Errorf("got %+v", got)
		}
	})
}

func equalDecision(a, b Decision) bool {
	a.Reasons, b.Reasons = nil, nil
	return a.Class == b.Class && a.Confidence == b.Confidence && a.Department == b.Department &&
		a.Channel == b.Channel && a.Unsure == b.Unsure && a.Runner == b.Runner && a.Priority == b.Priority
}

// TestRouteKeywordClassifier runs the real classifier through the router.
func TestRouteKeywordClassifier(t *testing.T) {
	r, err := NewRouter(testConfig(), NewKeywordClassifier())
	if err != nil {
		t.Fatal(err)
	}
	wantChannel := map[Class]string{Support: "C0SUPPORT", Reputation: "C0PR", Promotional: "C0MARKETING"}
	for _, tc := range demoPosts {
		d := r.Route(tc.post)
		if d.Unsure || d.Channel != wantChannel[tc.want] || d.Class != tc.want || len(d.Reasons) == 0 {
			t.Errorf("%q: got %+v", tc.post.Text, d)
		}
	}
	d := r.Route(Post{Text: "@acme thoughts?"})
	if !d.Unsure || d.Channel != "C0TRIAGE" || d.Department != "" || d.Runner == "" || d.Runner == d.Class {
		t.Errorf("no-evidence post: got %+v, want triage with a runner-up", d)
	}
}

func TestRouterIsACopy(t *testing.T) {
	cfg := testConfig()
	r, err := NewRouter(cfg, fixed([3]float64{1, 0, 0}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Departments[0].Channel = "CHANGED"
	cfg.Departments[0].Classes[0] = Promotional
	ds := r.Departments()
	ds[0].Name = "changed"
	ds[0].Classes[0] = Reputation
	d, ok := r.DepartmentFor(Support)
	if !ok || d.Name != "support" || d.Channel != "C0SUPPORT" || len(d.Classes) != 1 || d.Classes[0] != Support {
		t.Errorf("DepartmentFor(support) = %+v, %v", d, ok)
	}
	d.Classes[0] = Promotional
	if got := r.Departments(); got[0].Classes[0] != Support || len(got) != 3 {
		t.Errorf("Departments() = %+v", got)
	}
	if _, ok := r.DepartmentFor("sales"); ok {
		t.Error("DepartmentFor(sales) found a department")
	}
	if got := r.Route(Post{}); got.Channel != "C0SUPPORT" {
		t.Errorf("Route went to %q after the config was changed", got.Channel)
	}
}

func TestRouterConcurrent(t *testing.T) {
	r, err := NewRouter(testConfig(), NewKeywordClassifier())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				tc := demoPosts[(g+i)%len(demoPosts)]
				if d := r.Route(tc.post); d.Class != tc.want {
					t.Errorf("%q: got %s", tc.post.Text, d.Class)
				}
				r.Departments()
				r.DepartmentFor(tc.want)
			}
		})
	}
	wg.Wait()
}
