package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRuleNormalize(t *testing.T) {
	tests := []struct {
		name    string
		rule    Rule
		value   string // canonical value; "" when an error is expected
		prio    string
		wantErr string
	}{
		{"keyword lowercased", Rule{Match: MatchKeyword, Value: " Recall "}, "recall", "", ""},
		{"keyword list", Rule{Match: MatchKeyword, Value: "Recall,lawsuit , recall"}, "recall, lawsuit", "", ""},
		{"hyphenated keyword", Rule{Match: MatchKeyword, Value: "pre-order"}, "pre-order", "", ""},
		{"keyword with a space", Rule{Match: MatchKeyword, Value: "class action"}, "", "",
			"value: item 1 has several words: a keyword is one word (use phrase for words in order)"},
		{"keyword of punctuation", Rule{Match: MatchKeyword, Value: "!!"}, "", "", "value: item 1 has no letters or digits"},
		{"empty list item", Rule{Match: MatchKeyword, Value: "a,,b"}, "", "", "value: item 2 of the list is empty"},
		{"phrase spaces collapsed", Rule{Match: MatchPhrase, Value: "Class   Action"}, "class action", "", ""},
		{"phrase list", Rule{Match: MatchPhrase, Value: "class action, data breach"}, "class action, data breach", "", ""},
		{"regex kept as written", Rule{Match: MatchRegex, Value: `(?i)\bOrder\s+#?\d{5,}`}, `(?i)\bOrder\s+#?\d{5,}`, "", ""},
		{"regex invalid", Rule{Match: MatchRegex, Value: "(recall"}, "", "", "value: not a valid regular expression: missing closing ): `(recall`"},
		{"regex too long", Rule{Match: MatchRegex, Value: strings.Repeat("a", MaxRegexLen+1)}, "", "",
			fmt.Sprintf("value: regular expression of %d characters; at most %d", MaxRegexLen+1, MaxRegexLen)},
		{"author with @", Rule{Match: MatchAuthor, Value: "@BigCustomer"}, "@bigcustomer", "", ""},
		{"author without @", Rule{Match: MatchAuthor, Value: "bigcustomer, @@other"}, "@bigcustomer, @other", "", ""},
		{"author only @", Rule{Match: MatchAuthor, Value: "@"}, "", "", "value: item 1 is not a handle such as @bigcustomer"},
		{"platform", Rule{Match: MatchPlatform, Value: "X, Reddit"}, "x, reddit", "", ""},
		{"platform unknown", Rule{Match: MatchPlatform, Value: "twitter"}, "", "",
			"value: item 1 is not a platform (want one of x, facebook, instagram, linkedin, reddit, mastodon, tiktok, youtube, review, email, other)"},
		{"followers", Rule{Match: MatchFollowers, Value: "100,000"}, "100000", "", ""},
		{"followers k", Rule{Match: MatchFollowers, Value: "100k"}, "100000", "", ""},
		{"followers m", Rule{Match: MatchFollowers, Value: "1.5M"}, "1500000", "", ""},
		{"followers not a number", Rule{Match: MatchFollowers, Value: "many"}, "", "", "value: not a number of followers (want e.g. 100000 or 100k)"},
		{"followers zero", Rule{Match: MatchFollowers, Value: "0"}, "", "", "value: not a number of followers (want e.g. 100000 or 100k)"},
		{"followers fraction", Rule{Match: MatchFollowers, Value: "10.5"}, "", "", "value: not a number of followers (want e.g. 100000 or 100k)"},
		{"followers hex", Rule{Match: MatchFollowers, Value: "0x10"}, "", "", "value: not a number of followers (want e.g. 100000 or 100k)"},
		{"verified bare", Rule{Match: MatchVerified}, "true", "", ""},
		{"verified yes", Rule{Match: MatchVerified, Value: "Yes"}, "true", "", ""},
		{"verified false", Rule{Match: MatchVerified, Value: "false"}, "", "",
			"value: a verified rule matches verified authors: leave the value out or write true"},
		{"empty value", Rule{Match: MatchKeyword, Value: "  "}, "", "",
			"value: empty (want one word, or several separated by commas (any of them matches))"},
		{"value too long", Rule{Match: MatchPhrase, Value: strings.Repeat("a ", MaxValueLen)}, "", "", "value: longer than 1000 bytes"},
		{"no match", Rule{Value: "x"}, "", "", "match: empty (want keyword, phrase, regex, author, platform, followers or verified)"},
		{"unknown match", Rule{Match: "word", Value: "x"}, "", "",
			`match: "word" is not a kind of rule (want keyword, phrase, regex, author, platform, followers or verified)`},
		{"priority high", Rule{Match: MatchKeyword, Value: "x", Priority: "high"}, "x", "high", ""},
		{"priority normal is the default", Rule{Match: MatchKeyword, Value: "x", Priority: "normal"}, "x", "", ""},
		{"priority unknown", Rule{Match: MatchKeyword, Value: "x", Priority: "urgent"}, "", "", `priority: "urgent" is not a priority (want high or normal)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.rule.Normalize()
			if tc.wantErr != "" {
				var re *RuleError
				if err == nil || err.Error() != tc.wantErr || !errors.As(err, &re) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Value != tc.value || got.Priority != tc.prio {
				t.Fatalf("got value %q priority %q, want %q %q", got.Value, got.Priority, tc.value, tc.prio)
			}
			again, err := got.Normalize()
			if err != nil || again != got {
				t.Fatalf("normalizing twice: %+v, %v", again, err)
			}
		})
	}
}

func TestRuleMatches(t *testing.T) {
	post := func(text string) Post { return Post{Text: text, Platform: "x"} }
	tests := []struct {
		name  string
		rule  Rule
		post  Post
		match bool
	}{
		{"keyword whole word", Rule{Match: MatchKeyword, Value: "recall"}, post("Is there a RECALL on the X2?"), true},
		{"keyword in another sense", Rule{Match: MatchKeyword, Value: "recall"}, post("I can't recall my password"), true},
		{"keyword not a substring", Rule{Match: MatchKeyword, Value: "call"}, post("is there a recall"), false},
		{"keyword in a hashtag", Rule{Match: MatchKeyword, Value: "recall"}, post("#recall now"), true},
		{"keyword list any", Rule{Match: MatchKeyword, Value: "lawsuit, recall"}, post("recall!"), true},
		{"keyword apostrophe", Rule{Match: MatchKeyword, Value: "don't"}, post("I DON'T like it"), true},
		{"keyword not in a mention", Rule{Match: MatchKeyword, Value: "recall"}, post("@recall hi"), false},
		{"keyword not in a link", Rule{Match: MatchKeyword, Value: "recall"}, post("see https://news.example/recall"), false},
		{"hyphenated keyword", Rule{Match: MatchKeyword, Value: "pre-order"}, post("can I pre order?"), true},
		{"phrase in order", Rule{Match: MatchPhrase, Value: "class action"}, post("a Class-Action lawsuit"), true},
		{"phrase across punctuation", Rule{Match: MatchPhrase, Value: "class action"}, post("class, action"), true},
		{"phrase out of order", Rule{Match: MatchPhrase, Value: "class action"}, post("action class"), false},
		{"phrase not adjacent", Rule{Match: MatchPhrase, Value: "class action"}, post("class of action"), false},
		{"phrase unicode", Rule{Match: MatchPhrase, Value: "Überweisung fehlgeschlagen"}, post("ÜBERWEISUNG fehlgeschlagen!!"), true},
		{"regex", Rule{Match: MatchRegex, Value: `(?i)order\s+#?\d{5,}`}, post("Order #123456 missing"), true},
		{"regex is case sensitive by default", Rule{Match: MatchRegex, Value: `order`}, post("ORDER"), false},
		{"author with @", Rule{Match: MatchAuthor, Value: "@BigCustomer"}, Post{Author: Author{Handle: "bigcustomer"}}, true},
		{"author without @", Rule{Match: MatchAuthor, Value: "bigcustomer"}, Post{Author: Author{Handle: "@BIGCUSTOMER"}}, true},
		{"author other", Rule{Match: MatchAuthor, Value: "bigcustomer"}, Post{Author: Author{Handle: "@bigcustomer2"}}, false},
		{"author none", Rule{Match: MatchAuthor, Value: "bigcustomer"}, Post{}, false},
		{"platform", Rule{Match: MatchPlatform, Value: "reddit, review"}, Post{Platform: "review"}, true},
		{"platform other", Rule{Match: MatchPlatform, Value: "reddit"}, Post{Platform: "x"}, false},
		{"followers at least", Rule{Match: MatchFollowers, Value: "100k"}, Post{Author: Author{Followers: 100000}}, true},
		{"followers below", Rule{Match: MatchFollowers, Value: "100k"}, Post{Author: Author{Followers: 99999}}, false},
		{"verified", Rule{Match: MatchVerified}, Post{Author: Author{Verified: true}}, true},
		{"not verified", Rule{Match: MatchVerified}, Post{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.rule.Department = "pr"
			cfg.Rules = []Rule{tc.rule}
			r, err := NewRouter(cfg, fixed([3]float64{0.9, 0.05, 0.05}))
			if err != nil {
				t.Fatal(err)
			}
			_, got := r.MatchingRule(tc.post)
			if got != tc.match {
				t.Fatalf("match = %v, want %v", got, tc.match)
			}
			if d := r.Route(tc.post); (d.Department == "pr") != tc.match {
				t.Fatalf("routed to %q; rule matched: %v", d.Department, tc.match)
			}
		})
	}
}

func TestRouteWithRules(t *testing.T) {
	cfg := testConfig()
	cfg.Departments = append(cfg.Departments, Department{Name: "legal", Channel: "C0LEGAL"})
	cfg.Rules = []Rule{
		{ID: "r1", Department: "legal", Match: MatchPhrase, Value: "class action", Priority: "high", Incident: true},
		{ID: "r2", Department: "pr", Match: MatchKeyword, Value: "recall"},
		{ID: "r3", Department: "reputation", Match: MatchAuthor, Value: "@journo"},
		{ID: "r4", Department: "support", Match: MatchKeyword, Value: "recall, refund"}, // shadowed by r2 for "recall"
	}
	// The classifier says promotional, confidently.
	r, err := NewRouter(cfg, fixed([3]float64{0.05, 0.15, 0.8}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		post Post
		want Decision
		rule string // Detail of the first reason
	}{
		{"no rule: the classifier decides", Post{Text: "love it"},
			Decision{Class: Promotional, Confidence: 0.8, Department: "marketing", Channel: "C0MARKETING", Runner: Reputation}, ""},
		{"rule to a department without classes keeps the model's class", Post{Text: "a class action is coming"},
			Decision{Class: Promotional, Confidence: 1, Department: "legal", Channel: "C0LEGAL", Runner: Reputation, Priority: "high"},
			"r1: phrase class action → legal"},
		{"rule to a department takes its class", Post{Text: "recall!"},
			Decision{Class: Reputation, Confidence: 1, Department: "pr", Channel: "C0PR", Runner: Promotional},
			"r2: keyword recall → pr"},
		{"rule to a class", Post{Text: "hello", Author: Author{Handle: "Journo"}},
			Decision{Class: Reputation, Confidence: 1, Department: "pr", Channel: "C0PR", Runner: Promotional},
			"r3: author @journo → reputation"},
		{"first match wins", Post{Text: "class action over the recall"},
			Decision{Class: Promotional, Confidence: 1, Department: "legal", Channel: "C0LEGAL", Runner: Reputation, Priority: "high"},
			"r1: phrase class action → legal"},
		{"a later rule still applies", Post{Text: "refund"},
			Decision{Class: Support, Confidence: 1, Department: "support", Channel: "C0SUPPORT", Runner: Promotional},
			"r4: keyword recall, refund → support"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := r.Route(tc.post)
			if !equalDecision(d, tc.want) {
				t.Fatalf("got %+v, want %+v", d, tc.want)
			}
			if tc.rule == "" {
				if len(d.Reasons) > 0 && d.Reasons[0].Kind == "rule" || d.Incident {
					t.Fatalf("no rule should match: %+v", d)
				}
				return
			}
			if len(d.Reasons) == 0 || d.Reasons[0].Kind != "rule" || d.Reasons[0].Detail != tc.rule || d.Reasons[0].Class != d.Class {
				t.Fatalf("first reason %+v, want rule %q", d.Reasons, tc.rule)
			}
			if d.Incident != strings.HasPrefix(tc.rule, "r1:") {
				t.Fatalf("incident = %v", d.Incident)
			}
		})
	}
	if got := r.Rules(); len(got) != 4 || got[3].Value != "recall, refund" || got[0].ID != "r1" {
		t.Fatalf("Rules() = %+v", got)
	}
}

func TestRuleClassFromModelWhenDepartmentOwnsIt(t *testing.T) {
	cfg := testConfig()
	cfg.Departments[0].Classes = []Class{Support, Promotional} // support owns two classes
	cfg.Departments[2].Classes = nil
	cfg.Rules = []Rule{{ID: "r1", Department: "support", Match: MatchKeyword, Value: "x"}}
	for _, tc := range []struct {
		scores [3]float64
		want   Class
	}{
		{[3]float64{0.1, 0.1, 0.8}, Promotional}, // owned: kept
		{[3]float64{0.1, 0.8, 0.1}, Support},     // not owned: the department's first class
	} {
		r, err := NewRouter(cfg, fixed(tc.scores))
		if err != nil {
			t.Fatal(err)
		}
		if d := r.Route(Post{Text: "x"}); d.Class != tc.want || d.Department != "support" {
			t.Errorf("scores %v: got %+v, want class %s", tc.scores, d, tc.want)
		}
	}
}

func TestNewRouterRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want string
	}{
		{"unknown department", Rule{Department: "legal", Match: MatchKeyword, Value: "x"}, `rules[1].department: "legal" is not a department or a class`},
		{"empty department", Rule{Match: MatchKeyword, Value: "x"}, `rules[1].department: empty`},
		{"bad value", Rule{Department: "pr", Match: MatchRegex, Value: "("}, "rules[1].value: not a valid regular expression: missing closing ): `(`"},
		{"bad kind", Rule{Department: "pr", Match: "word", Value: "x"}, `rules[1].match: "word" is not a kind of rule (want keyword, phrase, regex, author, platform, followers or verified)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Rules = []Rule{{Department: "pr", Match: MatchKeyword, Value: "ok"}, tc.rule}
			_, err := NewRouter(cfg, fixed([3]float64{1, 0, 0}))
			if err == nil || err.Error() != tc.want || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRouterWith(t *testing.T) {
	calls := 0
	c := &fakeClassifier{ClassifyFunc: func(Post) Result {
		calls++
		return Result{Class: Support, Confidence: 0.9, Scores: [3]float64{0.9, 0.05, 0.05}}
	}}
	base, err := NewRouter(testConfig(), c)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.MinConfidence = 0.95
	cfg.Departments[0].Channel = "C0OTHER"
	cfg.Rules = []Rule{{ID: "r1", Department: "pr", Match: MatchKeyword, Value: "recall"}}
	next, err := base.With(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := next.Route(Post{Text: "hi"}); !d.Unsure || d.Channel != "C0TRIAGE" {
		t.Errorf("new threshold not applied: %+v", d)
	}
	if d := next.Route(Post{Text: "recall"}); d.Channel != "C0PR" {
		t.Errorf("new rule not applied: %+v", d)
	}
	if d := base.Route(Post{Text: "recall"}); d.Channel != "C0SUPPORT" {
		t.Errorf("the old router changed: %+v", d)
	}
	if calls != 3 || next.MinConfidence() != 0.95 || next.TriageChannel() != "C0TRIAGE" {
		t.Errorf("classifier calls %d, min %v", calls, next.MinConfidence())
	}
	if _, err := base.With(Config{}); err == nil {
		t.Error("With accepted an empty config")
	}
}

func TestRuleWords(t *testing.T) {
	got := ruleWords("Don’t BUY the #X2 pre-order @acme https://x.com/a — c'est 50% off!")
	want := []string{"dont", "buy", "the", "x2", "pre", "order", "cest", "50", "off"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func BenchmarkRouteWithRules(b *testing.B) {
	cfg := testConfig()
	for i := range 50 {
		cfg.Rules = append(cfg.Rules,
			Rule{Department: "pr", Match: MatchKeyword, Value: fmt.Sprintf("word%d", i)},
			Rule{Department: "pr", Match: MatchPhrase, Value: fmt.Sprintf("some phrase %d", i)},
		)
	}
	cfg.Rules = append(cfg.Rules, Rule{Department: "pr", Match: MatchRegex, Value: `(?i)order\s+#?\d{5,}`})
	r, err := NewRouter(cfg, fixed([3]float64{0.9, 0.05, 0.05}))
	if err != nil {
		b.Fatal(err)
	}
	p := Post{Text: "My order never arrived and support ignores my emails. I want a refund, order 123456!"}
	b.ReportAllocs()
	for b.Loop() {
		r.Route(p)
	}
}
