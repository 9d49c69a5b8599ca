package bot

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reads command text as Slack sends it: words, quotes and
// Slack's escapes, and writes it back the same way.

// quoteArg quotes s when it would not read back as one token: empty, with
// spaces, starting with a quote, or an option word.
func quoteArg(s string) string {
	needs := s == "" || strings.IndexFunc(s, unicode.IsSpace) >= 0 || isOption(token{text: s})
	if r, _ := utf8.DecodeRuneInString(s); quoteFamily(r) != 0 {
		needs = true
	}
	if !needs {
		return escapeSlack(s)
	}
	for _, q := range []rune{'"', '\''} {
		if quotable(s, q) {
			return string(q) + escapeSlack(s) + string(q)
		}
	}
	return escapeSlack(s) // not representable; ParseCommand reads something else
}

// quotable reports whether s can sit between quotes of q's family: no
// quote of that family in it may end a token.
func quotable(s string, q rune) bool {
	rs := []rune(s)
	for i, r := range rs {
		if quoteFamily(r) == q && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])) {
			return false
		}
	}
	return true
}

// token is one word of a command; quoted tokens are never option words.
type token struct {
	text   string
	quoted bool
}

// quoteFamily groups straight and typographic quotes (Slack clients turn
// "x" into “x”): it returns the straight double quote for the double
// family, the apostrophe for the single family, and 0 for other runes.
func quoteFamily(r rune) rune {
	switch r {
	case '"', '“', '”', '„':
		return '"'
	case '\'', '‘', '’':
		return '\''
	}
	return 0
}

// tokenize splits s into words at white space. A quote at the start of a
// word opens a quoted word that runs to the next quote of the same family
// followed by white space or the end; quotes inside a word are kept, so
// "don't" needs no quoting.
func tokenize(s string) ([]token, error) {
	var toks []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		if q := quoteFamily(rs[i]); q != 0 {
			end := -1
			for j := i + 1; j < len(rs); j++ {
				if quoteFamily(rs[j]) == q && (j+1 == len(rs) || unicode.IsSpace(rs[j+1])) {
					end = j
					break
				}
			}
			if end < 0 {
				return nil, fmt.Errorf("a quote opened before %s is never closed", code(truncate(string(rs[i+1:]), 30)))
			}
			toks = append(toks, token{text: string(rs[i+1 : end]), quoted: true})
			i = end + 1
			continue
		}
		j := i
		for j < len(rs) && !unicode.IsSpace(rs[j]) {
			j++
		}
		toks = append(toks, token{text: string(rs[i:j])})
		i = j
	}
	return toks, nil
}

// cutWord splits off the first word of s.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// slackRefRe finds Slack's escaped references: <#C…|name>, <@U…|name>,
// <!subteam^S…|@name>, <https://…|label>.
var slackRefRe = regexp.MustCompile(`<([^<>]*)>`)

// unescapeSlack turns Slack's escaped command text back into what the user
// typed: channels become their id (#C…), users and groups @name (or @id),
// links their URL, and &amp; &lt; &gt; their characters.
func unescapeSlack(s string) string {
	s = slackRefRe.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[1 : len(m)-1]
		ref, label, hasLabel := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(ref, "#"):
			return ref
		case strings.HasPrefix(ref, "@"):
			if hasLabel && label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return ref
		case strings.HasPrefix(ref, "!"):
			if hasLabel && label != "" {
				return label
			}
			return "@" + strings.TrimPrefix(ref, "!")
		}
		return ref
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// escapeSlack escapes what Slack escapes in command text.
func escapeSlack(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
