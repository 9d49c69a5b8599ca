package routing

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
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

// compiledRule is a rule ready to match: its department resolved and its
// value turned into a matcher.
type compiledRule struct {
	rule  Rule
	dept  int   // index into Router.depts
	class Class // the class named by Rule.Department, or ""
	match func(*postView) bool
}

// postView is a post as rules see it; the words are computed once, and only
// when a rule needs them.
type postView struct {
	post  *Post
	words []string
	done  bool
}

func (v *postView) text() []string {
	if !v.done {
		v.words, v.done = ruleWords(v.post.Text), true
	}
	return v.words
}

// compileRule builds the matcher of a normalized rule.
func compileRule(r Rule) func(*postView) bool {
	switch r.Match {
	case MatchKeyword, MatchPhrase:
		var seqs [][]string
		for it := range strings.SplitSeq(r.Value, ", ") {
			seqs = append(seqs, ruleWords(it))
		}
		return func(v *postView) bool {
			w := v.text()
			for _, seq := range seqs {
				if containsSeq(w, seq) {
					return true
				}
			}
			return false
		}
	case MatchRegex:
		re := regexp.MustCompile(r.Value) // checked by Normalize
		return func(v *postView) bool { return re.MatchString(v.post.Text) }
	case MatchAuthor:
		handles := strings.Split(r.Value, ", ")
		return func(v *postView) bool {
			h := v.post.Author.Handle
			if h == "" {
				return false
			}
			return slices.Contains(handles, "@"+strings.ToLower(strings.TrimLeft(strings.TrimSpace(h), "@")))
		}
	case MatchPlatform:
		ps := strings.Split(r.Value, ", ")
		return func(v *postView) bool { return slices.Contains(ps, strings.ToLower(v.post.Platform)) }
	case MatchFollowers:
		n, _ := strconv.ParseInt(r.Value, 10, 64)
		return func(v *postView) bool { return v.post.Author.Followers >= n }
	case MatchVerified:
		return func(v *postView) bool { return v.post.Author.Verified }
	}
	return func(*postView) bool { return false }
}

// containsSeq reports whether seq occurs in words as consecutive words.
func containsSeq(words, seq []string) bool {
	if len(seq) == 0 {
		return false
	}
	for i := 0; i+len(seq) <= len(words); i++ {
		if words[i] == seq[0] && slices.Equal(words[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

// ruleWords splits text into the lowercase words rules match against.
// Words are runs of letters, digits and marks; an apostrophe inside a word
// is dropped ("don't" → "dont"); everything else separates words, so
// "#recall" and "recall!" hold the word "recall" and "pre-order" the words
// "pre" and "order". Links and @mentions are skipped: they name places and
// accounts, not what the post says (author rules look at the author).
func ruleWords(text string) []string {
	var words []string
	for field := range strings.FieldsSeq(strings.ToLower(text)) {
		if strings.HasPrefix(field, "@") || strings.HasPrefix(field, "http://") ||
			strings.HasPrefix(field, "https://") || strings.HasPrefix(field, "www.") {
			continue
		}
		var w []rune
		rs := []rune(field)
		for i, r := range rs {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
				w = append(w, r)
			case (r == '\'' || r == '’') && len(w) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
				// inside a word: dropped
			default:
				if len(w) > 0 {
					words = append(words, string(w))
					w = w[:0]
				}
			}
		}
		if len(w) > 0 {
			words = append(words, string(w))
		}
	}
	return words
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// compileRule checks rule against the router's departments and builds its
// matcher. names maps department names to indexes.
func (r *Router) compileRule(rule Rule, names map[string]int) (compiledRule, *RuleError) {
	n, err := rule.Normalize()
	if err != nil {
		return compiledRule{}, err.(*RuleError)
	}
	cr := compiledRule{rule: n, dept: -1}
	if i, ok := names[n.Department]; ok {
		cr.dept = i
	} else if c := Class(n.Department); c.Valid() {
		if o := r.owner[c.index()]; o >= 0 {
			cr.dept, cr.class = o, c
		}
	}
	if cr.dept < 0 {
		if strings.TrimSpace(n.Department) == "" {
			return compiledRule{}, &RuleError{"department", "empty"}
		}
		return compiledRule{}, &RuleError{"department", fmt.Sprintf("%q is not a department or a class", truncateRunes(n.Department, 40))}
	}
	cr.match = compileRule(n)
	return cr, nil
}

// matchRule returns the first rule that matches p.
func (r *Router) matchRule(p *Post) (*compiledRule, bool) {
	if len(r.rules) == 0 {
		return nil, false
	}
	v := &postView{post: p}
	for i := range r.rules {
		if r.rules[i].match(v) {
			return &r.rules[i], true
		}
	}
	return nil, false
}

// ruleDecision sends a post to the department of the rule that matched it.
// The class is the one the rule names, else the classifier's when the
// department owns it, else the department's first class; a department that
// owns no class keeps the classifier's. The rule is the first reason, the
// classifier's evidence follows.
func (r *Router) ruleDecision(cr *compiledRule, res Result) Decision {
	dept := r.depts[cr.dept]
	class := cr.class
	switch {
	case class != "":
	case slices.Contains(dept.Classes, res.Class) || len(dept.Classes) == 0:
		class = res.Class
	default:
		class = dept.Classes[0]
	}
	reasons := make([]Reason, 0, len(res.Reasons)+1)
	reasons = append(reasons, Reason{Class: class, Kind: "rule", Detail: ruleDetail(cr.rule), Weight: 1})
	reasons = append(reasons, res.Reasons...)
	d := Decision{
		Class:      class,
		Confidence: 1,
		Department: dept.Name,
		Channel:    dept.Channel,
		Runner:     runnerUp(res, class),
		Reasons:    reasons,
		Incident:   cr.rule.Incident,
	}
	if cr.rule.Priority == PriorityHigh {
		d.Priority = PriorityHigh
	}
	return d
}

func ruleDetail(r Rule) string {
	id := r.ID
	if id == "" {
		id = "rule"
	}
	return fmt.Sprintf("%s: %s %s → %s", id, r.Match, r.Value, r.Department)
}

// Rules returns the router's rules, normalized, in the order they apply.
func (r *Router) Rules() []Rule {
	out := make([]Rule, len(r.rules))
	for i, cr := range r.rules {
		out[i] = cr.rule
	}
	return out
}

// MatchingRule returns the first of the router's rules that matches p.
func (r *Router) MatchingRule(p Post) (Rule, bool) {
	cr, ok := r.matchRule(&p)
	if !ok {
		return Rule{}, false
	}
	return cr.rule, true
}

// TriageChannel is where posts go when the classifier is unsure.
func (r *Router) TriageChannel() string { return r.triage }

// MinConfidence is the least confidence for a post to skip triage.
func (r *Router) MinConfidence() float64 { return r.min }

// With builds a Router for cfg that classifies with r's classifier: how a
// change of rules, channels or threshold makes the next routing value.
func (r *Router) With(cfg Config) (*Router, error) {
	return NewRouter(cfg, r.classifier)
}
