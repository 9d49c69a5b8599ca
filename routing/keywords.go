package routing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Weights of the signals that are not words. See doc.go for how they add up.
const (
	// supportPrior is added to support for every post: most posts that
	// name a brand are about a customer's problem, and a complaint left in
	// triage costs more than a compliment left there.
	supportPrior = 0.2
	// addressedQuestion is added to support when a post asks a question and
	// mentions an account: a question put to the brand is usually a
	// customer asking for help.
	addressedQuestion = 0.4

	// Reach: an author with a large audience makes a post matter to the
	// brand's public standing. The total is capped below the weight of one
	// clear complaint phrase, so reach alone never outweighs a complaint.
	reachFollowers10k  = 0.5
	reachFollowers100k = 1.0
	reachFollowers1M   = 1.25
	reachVerified      = 0.5
	reachMax           = 1.5

	// hashtagAffixMin is the shortest term matched inside a hashtag
	// (#boycottacme → boycott); shorter ones match too much by chance.
	hashtagAffixMin = 4
)

// lexEntry is one compiled lexicon term.
type lexEntry struct {
	id      int
	term    string   // normalised words joined by spaces: "cant log in"
	words   []string // normalised words
	joined  string   // words without spaces, as a hashtag writes them: "cantlogin"
	emoji   bool
	class   Class // "" for a neutral phrase
	weight  float64
	negated Class
}

// KeywordClassifier classifies posts with a built-in lexicon of keywords and
// phrases per class, negation, hashtags and the author's reach. It is
// immutable once built and safe for concurrent use.
type KeywordClassifier struct {
	entries     []*lexEntry
	words       map[string]*lexEntry   // one-word terms
	phrases     map[string][]*lexEntry // several-word terms by first word, longest first
	joined      map[string]*lexEntry   // every term with its words run together, for hashtags
	affixes     []*lexEntry            // terms that may start or end a hashtag, longest first
	vocab       map[string]bool        // every word of every term
	negators    map[string]bool
	tagNegators []string
}

var _ Classifier = (*KeywordClassifier)(nil)

// NewKeywordClassifier returns a classifier using the built-in lexicon.
func NewKeywordClassifier() *KeywordClassifier {
	k, err := compileLexicon(builtinLexicon(), builtinNegators(), builtinHashtagNegators())
	if err != nil {
		// The lexicon is part of the source and TestBuiltinLexicon compiles it.
		panic("routing: built-in lexicon: " + err.Error())
	}
	return k
}

// compileLexicon normalises every term like post text and indexes it.
func compileLexicon(groups []lexGroup, negators, tagNegators []string) (*KeywordClassifier, error) {
	k := &KeywordClassifier{
		words:       make(map[string]*lexEntry),
		phrases:     make(map[string][]*lexEntry),
		joined:      make(map[string]*lexEntry),
		vocab:       make(map[string]bool),
		negators:    make(map[string]bool),
		tagNegators: slices.Clone(tagNegators),
	}
	terms := make(map[string]*lexEntry)
	for gi, g := range groups {
		if g.class != "" && !g.class.Valid() {
			return nil, fmt.Errorf("group %d: unknown class %q", gi, g.class)
		}
		if g.negated != "" && !g.negated.Valid() {
			return nil, fmt.Errorf("group %d: unknown negated class %q", gi, g.negated)
		}
		if g.class != "" && (g.weight <= 0 || math.IsInf(g.weight, 0) || math.IsNaN(g.weight)) {
			return nil, fmt.Errorf("group %d (%s): weight %v not positive", gi, g.class, g.weight)
		}
		for _, term := range g.terms {
			toks := tokenize(term)
			if len(toks) == 0 {
				return nil, fmt.Errorf("group %d: term %q has no words", gi, term)
			}
			e := &lexEntry{id: len(k.entries), class: g.class, weight: g.weight, negated: g.negated}
			for _, t := range toks {
				if t.tag || t.clause != toks[0].clause || t.alt != "" || (t.emoji && len(toks) > 1) {
					return nil, fmt.Errorf("group %d: term %q: write it as plain words of one clause", gi, term)
				}
				e.words = append(e.words, t.text)
			}
			e.emoji = toks[0].emoji
			e.term = strings.Join(e.words, " ")
			e.joined = strings.Join(e.words, "")
			if prev, dup := terms[e.term]; dup {
				return nil, fmt.Errorf("group %d: term %q: already listed (%s)", gi, term, prev.class)
			}
			terms[e.term] = e
			k.entries = append(k.entries, e)
			if _, ok := k.joined[e.joined]; !ok { // "pre order" and "preorder": the first listed wins
				k.joined[e.joined] = e
			}
			for _, w := range e.words {
				k.vocab[w] = true
			}
			if len(e.words) == 1 {
				k.words[e.term] = e
			} else {
				k.phrases[e.words[0]] = append(k.phrases[e.words[0]], e)
			}
			if e.class != "" && !e.emoji && e.weight >= 1 && utf8.RuneCountInString(e.joined) >= hashtagAffixMin {
				k.affixes = append(k.affixes, e)
			}
		}
	}
	longestFirst := func(a, b *lexEntry) int {
		return cmp.Or(cmp.Compare(len(b.joined), len(a.joined)), cmp.Compare(a.joined, b.joined))
	}
	for _, ps := range k.phrases {
		slices.SortFunc(ps, func(a, b *lexEntry) int {
			return cmp.Or(cmp.Compare(len(b.words), len(a.words)), longestFirst(a, b))
		})
	}
	slices.SortFunc(k.affixes, longestFirst)
	for _, n := range negators {
		k.negators[n] = true
	}
	return k, nil
}

// evidence accumulates what a post says for each class.
type evidence struct {
	logits  [len(Classes)]float64
	reasons []Reason
	seen    []bool // by entry id: each term counts once per post
}

func (ev *evidence) add(c Class, kind, detail string, w float64) {
	ev.logits[c.index()] += w
	ev.reasons = append(ev.reasons, Reason{Class: c, Kind: kind, Detail: detail, Weight: w})
}

// match credits entry e, matched at a token that negator (if not "")
// negates. Neutral entries and repeated terms add nothing.
func (ev *evidence) match(e *lexEntry, kind, detail, negator string) {
	if ev.seen[e.id] || e.class == "" {
		ev.seen[e.id] = true
		return
	}
	ev.seen[e.id] = true
	if negator != "" && e.negated != "" {
		ev.add(e.negated, "negated", negator+" "+detail, round2(e.weight*negatedFactor))
		return
	}
	ev.add(e.class, kind, detail, e.weight)
}

// Classify scores p's text and author against the lexicon and returns
// probabilities per class. It never fails; a post with no evidence gets a
// low confidence.
func (k *KeywordClassifier) Classify(p Post) Result {
	ev := evidence{seen: make([]bool, len(k.entries)), reasons: make([]Reason, 0, 8)}
	ev.logits[Support.index()] = supportPrior

	toks := tokenize(p.Text)
	for i := range toks {
		// "loooove" is kept as "loove" unless only the shorter form is a word we know.
		if t := &toks[i]; t.alt != "" && !k.vocab[t.text] && k.vocab[t.alt] {
			t.text = t.alt
		}
	}

	// Phrases first, longest first at each position; their words are used up.
	used := make([]bool, len(toks))
	type hit struct {
		e     *lexEntry
		start int
	}
	var phraseHits []hit
	for i := 0; i < len(toks); i++ {
		for _, e := range k.phrases[toks[i].text] {
			if k.matchAt(toks, i, e) {
				phraseHits = append(phraseHits, hit{e, i})
				for j := range e.words {
					used[i+j] = true
				}
				i += len(e.words) - 1
				break
			}
		}
	}

	// A negator not inside a phrase negates the next few words of its clause.
	negatedBy := make([]string, len(toks))
	for i, t := range toks {
		if used[i] || !k.negators[t.text] {
			continue
		}
		for j := i + 1; j < len(toks) && j <= i+negationScope && toks[j].clause == t.clause; j++ {
			if toks[j].text == "but" {
				break
			}
			if negatedBy[j] == "" {
				negatedBy[j] = t.text
			}
		}
	}

	for _, h := range phraseHits {
		ev.match(h.e, "phrase", h.e.term, negatedBy[h.start])
	}
	for i, t := range toks {
		if used[i] {
			continue
		}
		switch {
		case t.tag:
			if e, negator := k.matchHashtag(t.text); e != nil {
				ev.match(e, "hashtag", "#"+t.text+" ("+e.term+")", cmp.Or(negator, negatedBy[i]))
			}
		case k.words[t.text] != nil:
			e, kind := k.words[t.text], "keyword"
			if t.emoji {
				kind = "emoji"
			}
			ev.match(e, kind, e.term, negatedBy[i])
		}
	}

	if isAddressedQuestion(p.Text) {
		ev.add(Support, "context", "question to an account", addressedQuestion)
	}
	addReach(&ev, p.Author)

	return ev.result()
}

// matchAt reports whether phrase e starts at toks[i], within one clause.
func (k *KeywordClassifier) matchAt(toks []token, i int, e *lexEntry) bool {
	if i+len(e.words) > len(toks) {
		return false
	}
	for j, w := range e.words {
		if t := toks[i+j]; t.text != w || t.clause != toks[i].clause {
			return false
		}
	}
	return true
}

// matchHashtag finds the term a hashtag word stands for: the whole tag
// (#refund, #classaction), a negated term (#nothappy → negator "not"), or a
// term the tag starts or ends with (#boycottacme, #acmefail).
func (k *KeywordClassifier) matchHashtag(tag string) (e *lexEntry, negator string) {
	if e := k.joined[tag]; e != nil {
		return e, ""
	}
	for _, n := range k.tagNegators {
		if rest, ok := strings.CutPrefix(tag, n); ok {
			if e := k.joined[rest]; e != nil && !e.emoji {
				return e, n
			}
		}
	}
	for _, e := range k.affixes {
		if len(e.joined) < len(tag) && (strings.HasPrefix(tag, e.joined) || strings.HasSuffix(tag, e.joined)) {
			return e, ""
		}
	}
	return nil, ""
}

// addReach credits reputation for the author's audience, capped at reachMax.
func addReach(ev *evidence, a Author) {
	total := 0.0
	switch {
	case a.Followers >= 1_000_000:
		total = reachFollowers1M
		ev.add(Reputation, "reach", "followers ≥ 1M", total)
	case a.Followers >= 100_000:
		total = reachFollowers100k
		ev.add(Reputation, "reach", "followers ≥ 100k", total)
	case a.Followers >= 10_000:
		total = reachFollowers10k
		ev.add(Reputation, "reach", "followers ≥ 10k", total)
	}
	if a.Verified {
		ev.add(Reputation, "reach", "verified author", min(reachVerified, reachMax-total))
	}
}

// isAddressedQuestion reports whether text asks a question and mentions an
// account (@acme).
func isAddressedQuestion(text string) bool {
	if !strings.ContainsAny(text, "?？") {
		return false
	}
	prev := ' '
	for i, r := range text {
		if r == '@' && !isWordRune(prev) {
			if next, _ := utf8.DecodeRuneInString(text[i+1:]); isWordRune(next) || next == '_' {
				return true
			}
		}
		prev = r
	}
	return false
}

// result turns the evidence into probabilities with a softmax over the
// per-class log-odds, and orders the reasons strongest first.
func (ev *evidence) result() Result {
	var res Result
	hi := slices.Max(ev.logits[:])
	sum := 0.0
	for i, l := range ev.logits {
		res.Scores[i] = math.Exp(l - hi)
		sum += res.Scores[i]
	}
	best := 0
	for i := range res.Scores {
		res.Scores[i] /= sum
		if res.Scores[i] > res.Scores[best] {
			best = i
		}
	}
	res.Class = Classes[best]
	res.Confidence = res.Scores[best]
	slices.SortStableFunc(ev.reasons, func(a, b Reason) int {
		return cmp.Or(
			cmp.Compare(b.Weight, a.Weight),
			cmp.Compare(a.Class.index(), b.Class.index()),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Detail, b.Detail),
		)
	})
	res.Reasons = ev.reasons
	return res
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
