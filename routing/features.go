package routing

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Feature names. A feature is a short string: a one-letter kind, a colon,
// and the normalised words it stands for. Only hashes are computed when
// classifying; the names are built when training and kept in the model
// file so that reasons can be shown.
//
//	w:refund           a word
//	n:happy            a word negated by a preceding "not", "never", … ("not happy")
//	b:never arrived    two words in a row, inside one clause
//	t:cant log in      three or four words in a row (kept for lexicon phrases and frequent ones)
//	p:discri           the first letters of a long word: a crude stem ("discriminated", "discrimination")
//	h:boycottacme      a hashtag, whole
//	s:question         a signal that is not a word: see the signal* constants
const (
	kindWord    = 'w'
	kindNegated = 'n'
	kindBigram  = 'b'
	kindNgram   = 't'
	kindStem    = 'p'
	kindHashtag = 'h'
	kindSignal  = 's'
)

// Signals: facts about a post's form rather than its words.
const (
	signalQuestion = "question" // a question mark
	signalExclaim  = "exclaim"  // an exclamation mark
	signalLink     = "link"     // a URL
	signalCaps     = "caps"     // a word of three letters or more written in capitals
	signalElong    = "elongated"
	signalMoney    = "money"  // a currency sign before a number: $700, £45
	signalNumber   = "number" // a number written alone
	signalAlnum    = "code"   // a word mixing letters and digits: an order, flight or model number
)

// signals lists them in the order their flags are kept in extract.
var signalNames = [...]string{signalQuestion, signalExclaim, signalLink, signalCaps, signalElong, signalMoney, signalNumber, signalAlnum}

const (
	sigQuestion = iota
	sigExclaim
	sigLink
	sigCaps
	sigElong
	sigMoney
	sigNumber
	sigAlnum
)

// lengthSignals names a post's length in words, in buckets.
var lengthSignals = [...]struct {
	max  int
	name string
}{{2, "words:0-2"}, {5, "words:3-5"}, {10, "words:6-10"}, {20, "words:11-20"}, {1 << 30, "words:21+"}}

// maxNgram is the longest run of words that can be a feature.
const maxNgram = 4

// stemLen is the length of a stem feature; only longer words of plain
// letters get one.
const stemLen = 6

// featureNegationScope is how many words after a negator it reaches,
// inside its clause and up to "but".
const featureNegationScope = 3

// Hashing. A word's hash is FNV-1a of its bytes; a feature's hash combines
// its kind with its words' hashes, so a feature of two words costs one mix
// rather than a pass over its letters. featureHash computes the same from
// a feature's name.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func wordHash(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func wordHashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix is the splitmix64 finaliser.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

func combine(h, w uint64) uint64 { return mix(h ^ (w + 0x9e3779b97f4a7c15 + h<<6 + h>>2)) }

func kindSeed(kind byte) uint64 { return mix(uint64(kind)<<32 | 0x5bd1e995) }

// featureHash is the hash of a feature given its name, as extract
// computes it.
func featureHash(name string) uint64 {
	if len(name) < 2 {
		return combine(kindSeed(0), wordHashString(name))
	}
	h := kindSeed(name[0])
	switch name[0] {
	case kindWord, kindNegated, kindBigram, kindNgram:
		for w := range strings.SplitSeq(name[2:], " ") {
			h = combine(h, wordHashString(w))
		}
		return h
	}
	return combine(h, wordHashString(name[2:]))
}

// wordTok is one normalised word of a post: a span of scratch.buf.
type wordTok struct {
	start, end int32
	clause     int32
	negated    bool
	hash       uint64 // wordHash of the normalised word
	stem       uint64 // wordHash of its first stemLen bytes; 0: no stem
}

// extractor turns a post's text into features. It holds the settings that
// a model file carries (negators, the hashtag dictionary) and is immutable.
type extractor struct {
	negators    map[uint64]bool // by word hash
	negBloom    uint64          // bit hash%64 set for each negator: most words need no map look-up
	negatorList []string
	butHash     uint64
	tagDict     map[string][]string // hashtag part → its words: "boycott" → [boycott], "classaction" → [class action]
	tagMin      int                 // shortest dictionary entry
	mojibake    *strings.Replacer

	seedWord, seedNeg, seedBigram, seedNgram, seedStem, seedTag uint64
	signals                                                     [len(signalNames)]uint64
	lengths                                                     [len(lengthSignals)]uint64
}

func newExtractor(negators []string, tagDict map[string][]string) *extractor {
	x := &extractor{
		negators:    make(map[uint64]bool, len(negators)),
		negatorList: slices.Clone(negators),
		butHash:     wordHashString("but"),
		tagDict:     tagDict,
		tagMin:      1 << 30,
		mojibake: strings.NewReplacer(
			"â€™", "’", "â€˜", "‘", "â€œ", "“", "â€\u009d", "”", "â€¦", "…", "â€“", "–", "â€”", "—", "â€", "”",
		),
		seedWord:   kindSeed(kindWord),
		seedNeg:    kindSeed(kindNegated),
		seedBigram: kindSeed(kindBigram),
		seedNgram:  kindSeed(kindNgram),
		seedStem:   kindSeed(kindStem),
		seedTag:    kindSeed(kindHashtag),
	}
	for _, n := range negators {
		h := wordHashString(n)
		x.negators[h] = true
		x.negBloom |= 1 << (h & 63)
	}
	for k := range tagDict {
		x.tagMin = min(x.tagMin, len(k))
	}
	for i, n := range signalNames {
		x.signals[i] = featureHash("s:" + n)
	}
	for i, l := range lengthSignals {
		x.lengths[i] = featureHash("s:" + l.name)
	}
	return x
}

// scratch is the reusable working memory of one extraction.
type scratch struct {
	buf     []byte    // normalised words, back to back
	words   []wordTok // the post's words in order
	hashes  []uint64  // features found, one entry per occurrence
	names   []string  // the same features' names; only filled when naming
	naming  bool
	tagWork []byte
}

func (s *scratch) word(i int) []byte { return s.buf[s.words[i].start:s.words[i].end] }

// extract fills s with the features of text. s is reset first.
func (x *extractor) extract(text string, s *scratch) {
	s.buf = s.buf[:0]
	s.words = s.words[:0]
	s.hashes = s.hashes[:0]
	s.names = s.names[:0]
	if strings.IndexByte(text, 0xc3) >= 0 && strings.Contains(text, "â€") {
		// UTF-8 read as Windows-1252 and written back ("Iâ€™m"), which
		// some exports are full of.
		text = x.mojibake.Replace(text)
	}
	var (
		clause int32
		saw    [len(signalNames)]bool
		// What the previous chunk asks of the next: skipHandle after a lone
		// "@" ("@ AppleSupport", a handle cut off by a space); afterScheme
		// after a lone "https://" (a link cut by a space: the rest follows);
		// afterLink after a link, whose cut-off pieces contain slashes.
		skipHandle, afterScheme, afterLink bool
	)
	for i := 0; i < len(text); {
		// Whitespace-separated chunks: links and mentions are recognised whole.
		for i < len(text) {
			if isSpaceByte(text[i]) {
				i++
				continue
			}
			if r, size := utf8.DecodeRuneInString(text[i:]); r >= utf8.RuneSelf && unicode.IsSpace(r) {
				i += size // a no-break space, an ideographic space, …
				continue
			}
			break
		}
		if i >= len(text) {
			break
		}
		j := i
		for j < len(text) && !isSpaceByte(text[j]) {
			if text[j] >= utf8.RuneSelf {
				r, size := utf8.DecodeRuneInString(text[j:])
				if unicode.IsSpace(r) {
					break
				}
				j += size
				continue
			}
			j++
		}
		chunk := text[i:j]
		i = j
		switch {
		case skipHandle:
			skipHandle = false
			continue
		case afterScheme && strings.ContainsAny(chunk, "./"),
			afterLink && strings.IndexByte(chunk, '/') >= 0,
			isLinkChunk(chunk):
			saw[sigLink] = true
			afterScheme = chunk == "http://" || chunk == "https://" || chunk == "https:" || chunk == "http:"
			afterLink = !afterScheme
			continue
		case chunk == "@":
			skipHandle = true
			continue
		}
		afterScheme, afterLink = false, false
		// Inside a chunk: words, emoji, punctuation, @mentions and #hashtags.
		for k := 0; k < len(chunk); {
			r, size := rune(chunk[k]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(chunk[k:])
			}
			switch {
			case isWordRune(r):
				end := k + size
				for end < len(chunk) {
					c := chunk[end]
					if c < utf8.RuneSelf {
						if isASCIIAlnum(c) {
							end++
							continue
						}
						if (c == '\'' || c == '`') && end+1 < len(chunk) && unicode.IsLetter(firstRune(chunk[end+1:])) {
							end++ // "don't", "acme's": the apostrophe is dropped in addWord
							continue
						}
						break
					}
					r2, s2 := utf8.DecodeRuneInString(chunk[end:])
					if isWordRune(r2) || unicode.IsMark(r2) {
						end += s2
						continue
					}
					if isApostrophe(r2) && end+s2 < len(chunk) && unicode.IsLetter(firstRune(chunk[end+s2:])) {
						end += s2
						continue
					}
					break
				}
				x.addWord(chunk[k:end], clause, s, &saw)
				k = end
			case r == '@' && (k == 0 || !isWordRune(prevRune(chunk, k))):
				k += size
				for k < len(chunk) {
					r2, s2 := utf8.DecodeRuneInString(chunk[k:])
					if !isWordRune(r2) && r2 != '_' && !(r2 == '.' && k+1 < len(chunk) && isWordRune(rune(chunk[k+1]))) {
						break
					}
					k += s2
				}
			case r == '#' && k+1 < len(chunk) && isWordRune(firstRune(chunk[k+1:])):
				k += size
				end := k
				for end < len(chunk) {
					r2, s2 := utf8.DecodeRuneInString(chunk[end:])
					if !isWordRune(r2) && r2 != '_' {
						break
					}
					end += s2
				}
				x.hashtag(chunk[k:end], clause, s, &saw)
				k = end
			case (r == '$' || r == '£' || r == '€' || r == '¥' || r == '₹') && k+size < len(chunk) && isASCIIDigit(chunk[k+size]):
				saw[sigMoney] = true
				k += size
				for k < len(chunk) && (isASCIIDigit(chunk[k]) || chunk[k] == ',' || chunk[k] == '.') {
					k++
				}
			case r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f') || (r >= 0x1f3fb && r <= 0x1f3ff):
				// Zero-width joiner, variation selectors, skin tones: part of an emoji.
				k += size
			case isEmoji(r):
				start := len(s.buf)
				s.buf = utf8.AppendRune(s.buf, r)
				s.words = append(s.words, wordTok{
					start: int32(start), end: int32(len(s.buf)), clause: clause,
					hash: wordHash(s.buf[start:]),
				})
				k += size
			default:
				switch r {
				case '?', '？':
					saw[sigQuestion] = true
				case '!', '！':
					saw[sigExclaim] = true
				}
				if isClauseBreak(r) {
					clause++
				}
				k += size
			}
		}
	}

	x.markNegation(s)
	x.emitWords(s)
	for i, on := range saw {
		if on {
			s.hashes = append(s.hashes, x.signals[i])
			if s.naming {
				s.names = append(s.names, "s:"+signalNames[i])
			}
		}
	}
	for i, l := range lengthSignals {
		if len(s.words) <= l.max {
			s.hashes = append(s.hashes, x.lengths[i])
			if s.naming {
				s.names = append(s.names, "s:"+l.name)
			}
			break
		}
	}
}

type shape int

const (
	shapeWord shape = iota
	shapeNumber
	shapeAlnum
)

// addWord normalises word (lowercase, apostrophes dropped, runs of three
// or more of a letter cut to two) and appends it, unless it holds digits:
// numbers and codes are signals, not words, and are marked in saw. A word whose runs were cut
// also adds the form with single letters as a word feature ("loooove" →
// "loove" and "love"), since either may be the real word.
func (x *extractor) addWord(word string, clause int32, s *scratch, saw *[len(signalNames)]bool) shape {
	letters, digits, upper := 0, 0, 0
	ascii := true
	for i := 0; i < len(word); i++ {
		c := word[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case isASCIIDigit(c):
			digits++
		case c >= 'A' && c <= 'Z':
			upper++
			letters++
		case c >= 'a' && c <= 'z':
			letters++
		}
	}
	if !ascii {
		letters, digits, upper = 0, 0, 0
		for _, r := range word {
			switch {
			case unicode.IsDigit(r):
				digits++
			case unicode.IsLetter(r):
				letters++
				if unicode.IsUpper(r) {
					upper++
				}
			}
		}
	}
	switch {
	case digits > 0 && letters == 0:
		saw[sigNumber] = true
		return shapeNumber
	case digits > 0:
		saw[sigAlnum] = true
		return shapeAlnum
	}
	if upper >= 3 && upper == letters {
		saw[sigCaps] = true
	}

	start := len(s.buf)
	elongated := false
	var prev rune = -1
	run := 0
	if ascii {
		for i := 0; i < len(word); i++ {
			c := word[i]
			if c == '\'' || c == '`' {
				continue
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if rune(c) == prev {
				run++
				if run >= 3 && c >= 'a' && c <= 'z' {
					elongated = true
					continue
				}
			} else {
				prev, run = rune(c), 1
			}
			s.buf = append(s.buf, c)
		}
	} else {
		for _, r := range word {
			if isApostrophe(r) {
				continue
			}
			r = unicode.ToLower(r)
			if r == prev {
				run++
				if run >= 3 && unicode.IsLetter(r) {
					elongated = true
					continue
				}
			} else {
				prev, run = r, 1
			}
			s.buf = utf8.AppendRune(s.buf, r)
		}
	}
	w := s.buf[start:]
	if len(w) == 0 {
		return shapeWord
	}
	tok := wordTok{start: int32(start), end: int32(len(s.buf)), clause: clause, hash: wordHash(w)}
	if len(w) > stemLen && isLowerASCII(w[:stemLen]) {
		tok.stem = wordHash(w[:stemLen])
	}
	s.words = append(s.words, tok)
	if elongated {
		saw[sigElong] = true
		one := collapseRuns(w)
		s.hashes = append(s.hashes, combine(x.seedWord, wordHash(one)))
		if s.naming {
			s.names = append(s.names, "w:"+string(one))
		}
	}
	return shapeWord
}

func isLowerASCII(b []byte) bool {
	for _, c := range b {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// collapseRuns returns b with every run of a repeated letter cut to one.
func collapseRuns(b []byte) []byte {
	out := make([]byte, 0, len(b))
	var prev rune = -1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != prev || !unicode.IsLetter(r) {
			out = append(out, b[i:i+size]...)
		}
		prev = r
		i += size
	}
	return out
}

// hashtag adds a hashtag: the whole tag as a feature, and its words.
// "#BoycottAcme" gives boycott, acme; "#boycottacme" gives the same when
// "boycott" is in the hashtag dictionary; "#NotHappy" gives not, happy,
// which negation then reads as "not happy".
func (x *extractor) hashtag(tag string, clause int32, s *scratch, saw *[len(signalNames)]bool) {
	s.tagWork = s.tagWork[:0]
	for _, r := range tag {
		if isWordRune(r) {
			s.tagWork = utf8.AppendRune(s.tagWork, unicode.ToLower(r))
		}
	}
	lower := s.tagWork
	s.hashes = append(s.hashes, combine(x.seedTag, wordHash(lower)))
	if s.naming {
		s.names = append(s.names, "h:"+string(lower))
	}
	// Words written in CamelCase, or letters then digits.
	if parts := camelSplit(tag); len(parts) > 1 {
		for _, p := range parts {
			x.addWord(p, clause, s, saw)
		}
		return
	}
	// A dictionary word at the start or the end of the tag.
	if before, words, after, ok := x.splitTag(string(lower)); ok {
		if len(before) >= 3 {
			x.addWord(before, clause, s, saw)
		}
		for _, w := range words {
			x.addWord(w, clause, s, saw)
		}
		if len(after) >= 3 {
			x.addWord(after, clause, s, saw)
		}
		return
	}
	x.addWord(tag, clause, s, saw)
}

// splitTag finds the tag in the dictionary, else the longest entry it
// starts with, else the longest it ends with; it returns what comes before
// the entry, the entry's words, and what comes after.
func (x *extractor) splitTag(tag string) (before string, words []string, after string, ok bool) {
	if w, found := x.tagDict[tag]; found {
		return "", w, "", true
	}
	for n := len(tag) - 1; n >= x.tagMin; n-- {
		if w, found := x.tagDict[tag[:n]]; found {
			return "", w, tag[n:], true
		}
	}
	for n := len(tag) - 1; n >= x.tagMin; n-- {
		if w, found := x.tagDict[tag[len(tag)-n:]]; found {
			return tag[:len(tag)-n], w, "", true
		}
	}
	return "", nil, "", false
}

// camelSplit splits "BoycottAcme" into Boycott, Acme and "Oneplus5T" into
// Oneplus, 5, T; a tag all in one case stays whole.
func camelSplit(tag string) []string {
	var parts []string
	start := 0
	var prev rune
	i := 0
	for _, r := range tag {
		if i > start && ((unicode.IsUpper(r) && unicode.IsLower(prev)) ||
			(unicode.IsDigit(r) != unicode.IsDigit(prev)) || r == '_') {
			parts = append(parts, tag[start:i])
			start = i
		}
		if r == '_' {
			start = i + 1
		}
		prev = r
		i += utf8.RuneLen(r)
	}
	if start < len(tag) {
		parts = append(parts, tag[start:])
	}
	return parts
}

// markNegation marks the words a negator reaches: the next
// featureNegationScope words of its clause, up to "but" or another
// negator.
func (x *extractor) markNegation(s *scratch) {
	for i := range s.words {
		if h := s.words[i].hash; x.negBloom&(1<<(h&63)) == 0 || !x.negators[h] {
			continue
		}
		for j := i + 1; j < len(s.words) && j <= i+featureNegationScope && s.words[j].clause == s.words[i].clause; j++ {
			if s.words[j].hash == x.butHash || x.negators[s.words[j].hash] {
				break
			}
			s.words[j].negated = true
		}
	}
}

// emitWords adds the word, stem and n-gram features of s.words.
func (x *extractor) emitWords(s *scratch) {
	for i := range s.words {
		w := &s.words[i]
		if w.negated {
			s.hashes = append(s.hashes, combine(x.seedNeg, w.hash))
			if s.naming {
				s.names = append(s.names, "n:"+string(s.word(i)))
			}
		} else {
			s.hashes = append(s.hashes, combine(x.seedWord, w.hash))
			if s.naming {
				s.names = append(s.names, "w:"+string(s.word(i)))
			}
		}
		if w.stem != 0 {
			s.hashes = append(s.hashes, combine(x.seedStem, w.stem))
			if s.naming {
				s.names = append(s.names, "p:"+string(s.word(i)[:stemLen]))
			}
		}
		// N-grams starting here, inside the clause.
		hb := combine(x.seedBigram, w.hash)
		ht := combine(x.seedNgram, w.hash)
		for n := 2; n <= maxNgram && i+n-1 < len(s.words); n++ {
			next := &s.words[i+n-1]
			if next.clause != w.clause {
				break
			}
			if n == 2 {
				s.hashes = append(s.hashes, combine(hb, next.hash))
				if s.naming {
					s.names = append(s.names, "b:"+joinWords(s, i, i+2))
				}
			}
			ht = combine(ht, next.hash)
			if n >= 3 {
				s.hashes = append(s.hashes, ht)
				if s.naming {
					s.names = append(s.names, "t:"+joinWords(s, i, i+n))
				}
			}
		}
	}
}

func joinWords(s *scratch, from, to int) string {
	var b strings.Builder
	for k := from; k < to; k++ {
		if k > from {
			b.WriteByte(' ')
		}
		b.Write(s.word(k))
	}
	return b.String()
}

// wordShape says whether a word is letters, a number, or a mix.
func wordShape(w string) shape {
	digits, letters := 0, 0
	for _, r := range w {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsLetter(r):
			letters++
		}
	}
	switch {
	case digits == 0:
		return shapeWord
	case letters == 0:
		return shapeNumber
	}
	return shapeAlnum
}

// isLinkChunk reports whether a whitespace-separated chunk is a link
// ("https://…", "www.…", "t.co/…", "example.com/path") or an email address.
func isLinkChunk(c string) bool {
	if strings.IndexByte(c, '.') < 0 && strings.IndexByte(c, ':') < 0 {
		return false // most chunks: plain words
	}
	if strings.Contains(c, "://") || strings.HasPrefix(c, "www.") || strings.HasPrefix(c, "http:") || strings.HasPrefix(c, "https:") {
		return true
	}
	if at := strings.IndexByte(c, '@'); at > 0 && strings.IndexByte(c[at:], '.') > 0 {
		return true
	}
	slash := strings.IndexByte(c, '/')
	dot := strings.IndexByte(c, '.')
	if slash > 0 && dot > 0 && dot < slash {
		// A domain then a path: letters on both sides of the dot.
		return isASCIILetter(c[dot-1]) && dot+1 < len(c) && isASCIILetter(c[dot+1])
	}
	return false
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

func isASCIIDigit(b byte) bool { return b >= '0' && b <= '9' }

func isASCIIAlnum(b byte) bool { return isASCIILetter(b) || isASCIIDigit(b) }

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func prevRune(s string, i int) rune {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}
