package routing

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// This file turns rules into matchers and applies them inside the Router.

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
