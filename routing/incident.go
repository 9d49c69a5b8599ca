package routing

import (
	"hash/fnv"
	"slices"
	"strings"
	"unicode"
)

// Incident grouping looks at three things: the platform conversation a
// post belongs to, how much its words overlap with posts already in an
// incident (retweets and copy-paste campaigns are near-identical), and the
// topics it shares with a burst of other posts. This file holds the pure
// text part; the store keeps incidents and decides membership with it.

// Fingerprint is a set of hashed word triples (shingles) of a text,
// sorted and without duplicates. Two fingerprints' overlap estimates how
// much of the text two posts share.
type Fingerprint []uint64

// fingerprintWords strips what differs between copies of one message —
// case, URLs, @mentions, "RT" prefixes, punctuation — and returns the words.
func fingerprintWords(text string) []string {
	var words []string
	for _, f := range strings.Fields(strings.ToLower(text)) {
		switch {
		case strings.HasPrefix(f, "http://"), strings.HasPrefix(f, "https://"), strings.HasPrefix(f, "@"), f == "rt":
			continue
		}
		w := strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
		if w != "" {
			words = append(words, w)
		}
	}
	return words
}

// NewFingerprint computes the fingerprint of text. Texts of fewer than
// three words are fingerprinted by their words alone.
func NewFingerprint(text string) Fingerprint {
	words := fingerprintWords(text)
	n := 3
	if len(words) < n {
		n = 1
	}
	var fp Fingerprint
	for i := 0; i+n <= len(words); i++ {
		h := fnv.New64a()
		for _, w := range words[i : i+n] {
			h.Write([]byte(w))
			h.Write([]byte{0})
		}
		fp = append(fp, h.Sum64())
	}
	slices.Sort(fp)
	return slices.Compact(fp)
}

// Similarity is the Jaccard overlap of two fingerprints, 0..1.
func Similarity(a, b Fingerprint) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	common, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(common) / float64(len(a)+len(b)-common)
}

// topicStopwords are frequent words that say nothing about a topic.
var topicStopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`about above after again against also because been before being below between
		both could does doing down during each from further have having here hers herself himself into itself just
		more most myself once only other ought ours ourselves over same should some such than that their theirs them
		themselves then there these they this those through under until very what when where which while whom with
		would your yours yourself yourselves really still every never anyone someone people company brand today thing
		things think know want will shall must like please thanks thank`) {
		topicStopwords[w] = true
	}
}

// Topics returns what in text can name a topic shared by a burst of
// posts: hashtags (as "#tag") and pairs of adjacent content words (as
// "data breach"). Single words are not topics: the brand's own name is in
// nearly every post. At most max topics, in order of appearance, without
// duplicates.
func Topics(text string, max int) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) bool {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
		return len(out) < max
	}
	prev := ""
	for _, f := range strings.Fields(strings.ToLower(text)) {
		if strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://") || strings.HasPrefix(f, "@") {
			prev = ""
			continue
		}
		w := strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
		switch {
		case w == "":
			prev = ""
		case strings.HasPrefix(f, "#"):
			prev = ""
			if !add("#" + w) {
				return out
			}
		case len([]rune(w)) < 4 || topicStopwords[w]:
			prev = ""
		default:
			if prev != "" && !add(prev+" "+w) {
				return out
			}
			prev = w
			// A word ending a clause does not pair with the next one.
			if strings.ContainsAny(f[len(f)-1:], ".,;:!?") {
				prev = ""
			}
		}
	}
	return out
}
