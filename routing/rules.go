package routing

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MatchKind is what a Rule looks at in a post.
type MatchKind string

// The kinds of rule. Keyword, phrase, author and platform rules take a
// comma-separated list and match when any item does.
const (
	MatchKeyword   MatchKind = "keyword"   // a whole word, case-insensitive
	MatchPhrase    MatchKind = "phrase"    // words in this order, case-insensitive
	MatchRegex     MatchKind = "regex"     // an RE2 regular expression on the post text
	MatchAuthor    MatchKind = "author"    // the author's handle, case-insensitive, "@" optional
	MatchPlatform  MatchKind = "platform"  // one of Platforms
	MatchFollowers MatchKind = "followers" // the author has at least this many followers
	MatchVerified  MatchKind = "verified"  // the author's account is verified
)

// MatchKinds lists every kind of rule, in the order help texts show them.
var MatchKinds = []MatchKind{MatchKeyword, MatchPhrase, MatchRegex, MatchAuthor, MatchPlatform, MatchFollowers, MatchVerified}

// Limits on a rule's value. A regular expression is compiled once, when the
// Router is built; RE2 runs in time linear in the text, and the length bound
// keeps compiled programs small.
const (
	MaxRegexLen = 256
	MaxValueLen = 1000
	maxItems    = 50
)

// Priorities a rule can set.
const (
	PriorityHigh   = "high"
	PriorityNormal = "normal"
)

// Rule sends every post it matches to a department, whatever the classifier
// says. Rules are applied in order; the first that matches decides.
type Rule struct {
	ID string `json:"id"` // "r1", "r2", …: stable, never reused
	// Department is a department name, or a class meaning the department
	// that owns it (and then the decision carries that class).
	Department string    `json:"department"`
	Match      MatchKind `json:"match"`
	Value      string    `json:"value"`
	Priority   string    `json:"priority,omitempty"` // "" (normal) or "high"
	Incident   bool      `json:"incident,omitempty"` // mark matching posts as an incident
	CreatedBy  string    `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

// RuleError is one problem with a rule; Field is "department", "match",
// "value" or "priority". Problems never quote the whole value, which may
// come from anywhere.
type RuleError struct {
	Field   string
	Problem string
}

func (e *RuleError) Error() string { return e.Field + ": " + e.Problem }

// String describes r the way /route list shows it, e.g.
// `pr ← phrase "class action" · priority high`.
func (r Rule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s ← %s %s", r.Department, r.Match, strconv.Quote(r.Value))
	if r.Priority == PriorityHigh {
		b.WriteString(" · priority high")
	}
	if r.Incident {
		b.WriteString(" · incident")
	}
	return b.String()
}

// Normalize checks r's match kind, value and priority and returns r with
// its value and priority in canonical form: list items trimmed, lowercased
// (but regular expressions) and joined with ", ", handles with one "@",
// follower counts as plain digits, "normal" priority as "". Normalizing a
// normalized rule changes nothing. The department is not checked: only a
// Router knows the departments.
func (r Rule) Normalize() (Rule, error) {
	if !slices.Contains(MatchKinds, r.Match) {
		if r.Match == "" {
			return r, &RuleError{"match", "empty (want " + kindList() + ")"}
		}
		return r, &RuleError{"match", fmt.Sprintf("%q is not a kind of rule (want %s)", truncateRunes(string(r.Match), 20), kindList())}
	}
	v, err := normalizeValue(r.Match, r.Value)
	if err != nil {
		return r, &RuleError{"value", err.Error()}
	}
	r.Value = v
	switch r.Priority {
	case "", PriorityNormal:
		r.Priority = ""
	case PriorityHigh:
	default:
		return r, &RuleError{"priority", fmt.Sprintf("%q is not a priority (want high or normal)", truncateRunes(r.Priority, 20))}
	}
	return r, nil
}

func kindList() string {
	s := make([]string, len(MatchKinds))
	for i, k := range MatchKinds {
		s[i] = string(k)
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// ValueHelp says what a value of kind k looks like, for usage texts.
func ValueHelp(k MatchKind) string {
	switch k {
	case MatchKeyword:
		return "one word, or several separated by commas (any of them matches)"
	case MatchPhrase:
		return "words in order, or several phrases separated by commas"
	case MatchRegex:
		return fmt.Sprintf("a regular expression (RE2 syntax, at most %d characters; add (?i) to ignore case)", MaxRegexLen)
	case MatchAuthor:
		return "a handle such as @bigcustomer, or several separated by commas"
	case MatchPlatform:
		return "one of " + strings.Join(Platforms, ", ") + " (or several, separated by commas)"
	case MatchFollowers:
		return "the least number of followers, e.g. 100000 or 100k"
	case MatchVerified:
		return "nothing (or true): matches verified authors"
	}
	return ""
}

func normalizeValue(k MatchKind, v string) (string, error) {
	if len(v) > MaxValueLen {
		return "", fmt.Errorf("longer than %d bytes", MaxValueLen)
	}
	v = strings.TrimSpace(v)
	if v == "" && k != MatchVerified {
		return "", fmt.Errorf("empty (want %s)", ValueHelp(k))
	}
	switch k {
	case MatchRegex:
		if n := len([]rune(v)); n > MaxRegexLen {
			return "", fmt.Errorf("regular expression of %d characters; at most %d", n, MaxRegexLen)
		}
		if _, err := regexp.Compile(v); err != nil {
			return "", fmt.Errorf("not a valid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		return v, nil
	case MatchFollowers:
		n, ok := parseCount(v)
		if !ok {
			return "", fmt.Errorf("not a number of followers (want e.g. 100000 or 100k)")
		}
		return strconv.FormatInt(n, 10), nil
	case MatchVerified:
		switch strings.ToLower(v) {
		case "", "true", "yes":
			return "true", nil
		}
		return "", fmt.Errorf("a verified rule matches verified authors: leave the value out or write true")
	}
	items := strings.Split(v, ",")
	if len(items) > maxItems {
		return "", fmt.Errorf("%d items; at most %d", len(items), maxItems)
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		it = strings.Join(strings.Fields(strings.ToLower(it)), " ")
		if it == "" {
			return "", fmt.Errorf("item %d of the list is empty", i+1)
		}
		switch k {
		case MatchKeyword:
			if strings.Contains(it, " ") {
				return "", fmt.Errorf("item %d has several words: a keyword is one word (use phrase for words in order)", i+1)
			}
			if len(ruleWords(it)) == 0 {
				return "", fmt.Errorf("item %d has no letters or digits", i+1)
			}
		case MatchPhrase:
			if len(ruleWords(it)) == 0 {
				return "", fmt.Errorf("item %d has no letters or digits", i+1)
			}
		case MatchAuthor:
			it = "@" + strings.TrimLeft(it, "@")
			if len(it) == 1 || strings.ContainsAny(it, " \t<>") {
				return "", fmt.Errorf("item %d is not a handle such as @bigcustomer", i+1)
			}
		case MatchPlatform:
			if !ValidPlatform(it) {
				return "", fmt.Errorf("item %d is not a platform (want one of %s)", i+1, strings.Join(Platforms, ", "))
			}
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return strings.Join(out, ", "), nil
}

// parseCount reads a positive count: digits with optional "_" or ","
// separators and an optional k or m suffix ("1.5m").
func parseCount(s string) (int64, bool) {
	s = strings.ToLower(strings.NewReplacer("_", "", ",", "").Replace(s))
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	}
	if s == "" || strings.ContainsAny(s, "+-eEnNiIxX") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f*mult < 1 || f*mult > 1e12 {
		return 0, false
	}
	n := int64(f * mult)
	if mult == 1 && float64(n) != f {
		return 0, false
	}
	return n, true
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
