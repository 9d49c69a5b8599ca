package routing

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one normalised word (or emoji) of a post.
type token struct {
	text   string // lowercased, apostrophes dropped, letter runs of 3+ cut to 2
	alt    string // text with those runs cut to 1 ("loooove" → "love"); "" when no run was cut
	clause int    // index of the clause the token is in; phrases and negation stay inside one
	tag    bool   // written as a hashtag
	emoji  bool   // a pictographic symbol, one rune
}

// tokenize splits text into tokens: lowercased, URLs and @mentions removed,
// hashtag words kept (marked), apostrophes inside words dropped ("don't" →
// "dont", so lexicon terms are written the same way), letters repeated three
// times or more collapsed, emoji kept one per token. Sentence and clause
// punctuation starts a new clause. It accepts any input, valid UTF-8 or not.
func tokenize(text string) []token {
	s := strings.ToLower(text) // also replaces invalid UTF-8 with U+FFFD
	var (
		toks   []token
		word   []rune
		tag    bool
		clause int
	)
	flush := func() {
		if len(word) > 0 {
			toks = append(toks, newToken(word, clause, tag))
		}
		word, tag = word[:0], false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		atStart := len(word) == 0
		switch {
		case atStart && (r == 'h' || r == 'w' || r == 'p' || r == 't') && isURLStart(s[i:]):
			i = skipUntilSpace(s, i)
			continue
		case r == '@' && atStart:
			// A mention: drop the handle. "@ o2" (a space after @) keeps "o2".
			i += size
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if r == '.' { // "@acme.support" is one handle; "@acme." ends a sentence
					if next, _ := utf8.DecodeRuneInString(s[i+size:]); !isWordRune(next) {
						break
					}
				} else if !isWordRune(r) && r != '_' {
					break
				}
				i += size
			}
			continue
		case r == '#' && atStart:
			if next, _ := utf8.DecodeRuneInString(s[i+size:]); isWordRune(next) {
				tag = true
			}
		case isWordRune(r) || (unicode.IsMark(r) && !atStart):
			word = append(word, r)
		case isApostrophe(r) && !atStart:
			// Inside a word ("don't", "acme's") the apostrophe is dropped.
			if next, _ := utf8.DecodeRuneInString(s[i+size:]); !unicode.IsLetter(next) {
				flush()
			}
		case r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f'):
			// Zero-width joiner and variation selectors belong to an emoji.
		case isEmoji(r):
			flush()
			toks = append(toks, token{text: string(r), clause: clause, emoji: true})
		default:
			flush()
			if isClauseBreak(r) {
				clause++
			}
		}
		i += size
	}
	flush()
	return toks
}

// newToken builds a token from a word, collapsing elongated letters.
func newToken(word []rune, clause int, tag bool) token {
	var two, one strings.Builder
	cut := false
	for i := 0; i < len(word); {
		j := i
		for j < len(word) && word[j] == word[i] {
			j++
		}
		n := j - i
		if n >= 3 && unicode.IsLetter(word[i]) {
			cut = true
			two.WriteRune(word[i])
			two.WriteRune(word[i])
			one.WriteRune(word[i])
		} else {
			for k := 0; k < n; k++ {
				two.WriteRune(word[i])
				one.WriteRune(word[i])
			}
		}
		i = j
	}
	t := token{text: two.String(), clause: clause, tag: tag}
	if cut {
		t.alt = one.String()
	}
	return t
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '’' || r == 'ʼ' || r == '`'
}

func isEmoji(r rune) bool {
	// U+FFFD (what invalid UTF-8 became) is a symbol too, but not an emoji.
	return r != utf8.RuneError && unicode.Is(unicode.So, r)
}

func isClauseBreak(r rune) bool {
	switch r {
	case '.', ',', '!', '?', ';', ':', '\n', '\r', '(', ')', '"', '“', '”',
		'—', '–', '…', '¡', '¿', '。', '！', '？', '，', '；':
		return true
	}
	return false
}

// isURLStart reports whether s starts with something that is a link.
func isURLStart(s string) bool {
	for _, p := range [...]string{"http://", "https://", "www.", "pic.twitter.com/", "t.co/"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func skipUntilSpace(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return i
		}
		i += size
	}
	return i
}
