package bot

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socialroute/socialroute/routing"
)

func TestParseCommand(t *testing.T) {
	day := 24 * time.Hour
	rule := func(dept string, k routing.MatchKind, v, prio string, incident bool) routing.Rule {
		return routing.Rule{Department: dept, Match: k, Value: v, Priority: prio, Incident: incident}
	}
	tests := []struct {
		text string
		want Command
	}{
		{"", Command{Verb: "help"}},
		{"  ", Command{Verb: "help"}},
		{"help", Command{Verb: "help"}},
		{"HELP Add", Command{Verb: "help", Topic: "add"}},
		{"list", Command{Verb: "list"}},
		{"test my order never arrived  ", Command{Verb: "test", Text: "my order never arrived"}},
		{"test I can't log in &amp; &lt;3", Command{Verb: "test", Text: "I can't log in & <3"}},
		{"test 'unbalanced", Command{Verb: "test", Text: "'unbalanced"}},
		{"add pr keyword recall", Command{Verb: "add", Rule: rule("pr", "keyword", "recall", "", false)}},
		{"add PR Keyword Recall, lawsuit", Command{Verb: "add", Rule: rule("pr", "keyword", "recall, lawsuit", "", false)}},
		{`add pr phrase "class action"`, Command{Verb: "add", Rule: rule("pr", "phrase", "class action", "", false)}},
		{`add pr phrase “class action” priority high`, Command{Verb: "add", Rule: rule("pr", "phrase", "class action", "high", false)}},
		{`add pr phrase class action priority HIGH incident`, Command{Verb: "add", Rule: rule("pr", "phrase", "class action", "high", true)}},
		{`add pr phrase "top priority" priority normal`, Command{Verb: "add", Rule: rule("pr", "phrase", "top priority", "", false)}},
		{`add legal phrase don't buy`, Command{Verb: "add", Rule: rule("legal", "phrase", "don't buy", "", false)}},
		{`add support regex '(?i)order\s+#?\d{5,}'`, Command{Verb: "add", Rule: rule("support", "regex", `(?i)order\s+#?\d{5,}`, "", false)}},
		{`add support regex a&lt;b`, Command{Verb: "add", Rule: rule("support", "regex", `a<b`, "", false)}},
		{"add support author @BigCustomer", Command{Verb: "add", Rule: rule("support", "author", "@bigcustomer", "", false)}},
		{"add support author <@U0123|bigcustomer>", Command{Verb: "add", Rule: rule("support", "author", "@bigcustomer", "", false)}},
		{"add reputation platform review", Command{Verb: "add", Rule: rule("reputation", "platform", "review", "", false)}},
		{"add pr followers 100k incident", Command{Verb: "add", Rule: rule("pr", "followers", "100000", "", true)}},
		{"add pr verified", Command{Verb: "add", Rule: rule("pr", "verified", "true", "", false)}},
		{"remove r3", Command{Verb: "remove", RuleID: "r3"}},
		{"remove 03", Command{Verb: "remove", RuleID: "r3"}},
		{"move R3 1", Command{Verb: "move", RuleID: "r3", Position: 1}},
		{"set channel pr <#C0CRISIS|crisis-room>", Command{Verb: "set", Setting: "channel", Department: "pr", Channel: "C0CRISIS"}},
		{"set channel pr C0CRISIS", Command{Verb: "set", Setting: "channel", Department: "pr", Channel: "C0CRISIS"}},
		{"set threshold 0.6", Command{Verb: "set", Setting: "threshold", Threshold: 0.6}},
		{"set threshold 70%", Command{Verb: "set", Setting: "threshold", Threshold: 0.7}},
		{"set threshold 1", Command{Verb: "set", Setting: "threshold", Threshold: 1}},
		{"preview add pr keyword recall", Command{Verb: "preview", Window: 7 * day,
			Change: &Command{Verb: "add", Rule: rule("pr", "keyword", "recall", "", false)}}},
		{"preview 30d remove r2", Command{Verb: "preview", Window: 30 * day, Change: &Command{Verb: "remove", RuleID: "r2"}}},
		{"preview set threshold 0.9", Command{Verb: "preview", Window: 7 * day,
			Change: &Command{Verb: "set", Setting: "threshold", Threshold: 0.9}}},
		{"undo", Command{Verb: "undo"}},
		{"audit", Command{Verb: "audit", N: 10}},
		{"audit 500", Command{Verb: "audit", N: 50}},
		{"stats", Command{Verb: "stats", Window: day}},
		{"stats 30d", Command{Verb: "stats", Window: 30 * day}},
		{"stats 12h", Command{Verb: "stats", Window: 12 * time.Hour}},
		{"history", Command{Verb: "history", N: 10}},
		{"history 20 support", Command{Verb: "history", N: 20, Class: routing.Support}},
		{"history Reputation 5", Command{Verb: "history", N: 5, Class: routing.Reputation}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, err := ParseCommand(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			again, err := ParseCommand(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("String() %q parses to %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		text, verb, problem string
	}{
		{"frobnicate", "", "there is no sub-command `frobnicate`"},
		{"help frobnicate", "", "there is no sub-command `frobnicate`"},
		{"help add remove", "help", "help takes at most one word, the sub-command to explain"},
		{"list all", "list", "list takes no arguments"},
		{"test", "test", "give the text to route after `test`"},
		{"add", "add", "give a department, a kind of match and a value, e.g. `add pr keyword recall`"},
		{"add pr", "add", "give a department, a kind of match and a value, e.g. `add pr keyword recall`"},
		{"add pr word recall", "add", `match: "word" is not a kind of rule (want keyword, phrase, regex, author, platform, followers or verified)`},
		{"add pr keyword", "add", "the value of a keyword rule: empty (want one word, or several separated by commas (any of them matches))"},
		{"add pr keyword class action", "add", "the value of a keyword rule: item 1 has several words: a keyword is one word (use phrase for words in order)"},
		{"add pr regex (recall", "add", "the value of a regex rule: not a valid regular expression: missing closing ): `(recall`"},
		{"add pr platform twitter", "add", "the value of a platform rule: item 1 is not a platform (want one of x, facebook, instagram, linkedin, reddit, mastodon, tiktok, youtube, review, email, other)"},
		{"add pr keyword recall priority", "add", "`priority` wants high or normal after it"},
		{"add pr keyword recall priority urgent", "add", "the priority is high or normal, not `urgent`"},
		{"add pr keyword recall incident now", "add", "`now` after the options is not understood (quote a value that has spaces or option words in it)"},
		{`add pr phrase "class action`, "add", "a quote opened before `class action` is never closed"},
		{`add "" keyword recall`, "add", "give the department first, e.g. `add pr keyword recall`"},
		{"remove", "remove", "give the id of one rule, e.g. `remove r3` (`list` shows the ids)"},
		{"remove rule3", "remove", "`rule3` is not a rule id such as r3 (`list` shows the ids)"},
		{"move r3", "move", "give a rule id and its new position, e.g. `move r3 1`"},
		{"move r3 first", "move", "the position must be a whole number from 1 (first), not `first`"},
		{"move r3 0", "move", "the position must be a whole number from 1 (first), not `0`"},
		{"set", "set", "set what? `set channel <department> <#channel>` or `set threshold <0..1>`"},
		{"set colour red", "set", "I can set `channel` or `threshold`, not `colour`"},
		{"set channel pr", "set", "give a department and a channel, e.g. `set channel pr #crisis-room`"},
		{"set channel pr #crisis-room", "set", "`#crisis-room` is not a channel I can use: pick it from Slack's list as you type # (so Slack sends its id), or give its id (C…)"},
		{"set threshold high", "set", "the threshold is a number from 0 to 1 (or a percentage), not `high`"},
		{"set threshold 1.5", "set", "the threshold is a number from 0 to 1 (or a percentage), not `1.5`"},
		{"set threshold NaN", "set", "the threshold is a number from 0 to 1 (or a percentage), not `NaN`"},
		{"preview", "preview", "give the change to preview, e.g. `preview add pr keyword recall`"},
		{"preview undo", "preview", "I can preview add, remove, move and set threshold, not `undo`"},
		{"preview set channel pr C0X1", "preview", "a channel change moves no post to another department; there is nothing to preview"},
		{"preview add pr keyword", "add", "the value of a keyword rule: empty (want one word, or several separated by commas (any of them matches))"},
		{"audit many", "audit", "`many` is not a number of entries from 1 to 50"},
		{"audit 5 6", "audit", "audit takes at most a number of entries, e.g. `audit 20`"},
		{"stats week", "stats", "`week` is not a time span such as 24h, 7d or 30d"},
		{"stats 9999d", "stats", "`9999d` is not a time span such as 24h, 7d or 30d"},
		{"stats 1d 2d", "stats", "stats takes at most a time span, e.g. `stats 7d`"},
		{"history lots", "history", "`lots` is neither a number of posts nor a class (support, reputation or promotional)"},
		{"history 5 support 6", "history", "history takes at most a number and a class, e.g. `history 20 support`"},
		{"add pr keyword &lt;&gt;", "add", "the value of a keyword rule: item 1 has no letters or digits"},
		{strings.Repeat("x", maxCommandLen+1), "", "that command is 4001 characters long; the most I read is 4000"},
		{"test \xff", "", "that command is not valid text"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			c, err := ParseCommand(tc.text)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("got %+v, %v; want a usage error", c, err)
			}
			if ue.Verb != tc.verb || ue.Problem != tc.problem {
				t.Fatalf("got (%q) %q\nwant (%q) %q", ue.Verb, ue.Problem, tc.verb, tc.problem)
			}
		})
	}
}

func TestUnescapeSlack(t *testing.T) {
	for in, want := range map[string]string{
		"<#C0CRISIS|crisis>":            "#C0CRISIS",
		"<#C0CRISIS>":                   "#C0CRISIS",
		"<@U0123|jane>":                 "@jane",
		"<@U0123>":                      "@U0123",
		"<!subteam^S0123|@admins>":      "@admins",
		"<!here>":                       "@here",
		"<https://x.com/a|x.com/a>":     "https://x.com/a",
		"a &lt;b&gt; &amp;amp; c":       "a <b> &amp; c",
		"&amp;lt; stays a literal &lt;": "&lt; stays a literal <",
	} {
		if got := unescapeSlack(in); got != want {
			t.Errorf("unescapeSlack(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseCommand checks that any text gives a command or a usage error,
// never a panic; that a command's String reads back as the same command;
// and that an added rule is valid.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"", "help add", "list", "test hello &amp; <@U1|x>", "add pr keyword recall, lawsuit",
		`add pr phrase "class action" priority high incident`, `add support regex '(?i)a\s+b'`,
		"add support author <@U0123|big>", "add pr followers 1.5m", "add pr verified yes",
		"remove r3", "move 3 2", "set channel pr <#C0PR|pr>", "set threshold 55%",
		"preview 30d add legal phrase ‘class action’", "undo", "audit 5", "stats 7d", "history 3 support",
		`add pr phrase "it's "x"`, "add pr keyword “unclosed", "add “pr” keyword 'priority'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCommand(text)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Problem == "" {
				t.Fatalf("%q: error %v is not a usage error with a problem", text, err)
			}
			return
		}
		if c.Verb == "" || !isVerb(c.Verb) {
			t.Fatalf("%q: verb %q", text, c.Verb)
		}
		if r := c.Rule; c.Verb == "add" {
			if n, err := r.Normalize(); err != nil || n != r || r.Department == "" {
				t.Fatalf("%q: rule %+v is not valid and normalized: %v", text, r, err)
			}
		}
		s := c.String()
		if len(s) > maxCommandLen || !utf8.ValidString(s) {
			return
		}
		again, err := ParseCommand(s)
		if err != nil {
			if representable(c) {
				t.Fatalf("%q: String() %q does not parse: %v", text, s, err)
			}
			return
		}
		if !reflect.DeepEqual(again, c) && representable(c) {
			t.Fatalf("%q: String() %q parses to\n%+v, want\n%+v", text, s, again, c)
		}
	})
}

// representable reports whether every value in c can be written so that
// it reads back: quoteArg gives up on values that contain quotes of both
// kinds at the end of a word.
func representable(c Command) bool {
	if c.Change != nil {
		return representable(*c.Change)
	}
	for _, v := range []string{c.Rule.Value, c.Rule.Department, c.Department} {
		if v != "" && !quotable(v, '"') && !quotable(v, '\'') {
			return false
		}
	}
	return true
}
