package routing

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Feature names. A feature is a short string: a one-letter kind, a colon,
// and the normalised words it stands for. Only their 64-bit FNV-1a hashes
// are computed when classifying; the names themselves are built when
// training and kept in the model file so that reasons can be shown.
//
//	w:refund           a word
//	n:happy            a word negated by a preceding "not", "never", … ("not happy")
//	b:never arrived    two words in a row, inside one clause
//	t:cant log in      three or four words in a row (kept only for lexicon phrases and frequent ones)
//	h:boycottacme      a hashtag, whole
//	s:question         a signal that is not a word: see the signal* constants
const (
	kindWord    = 'w'
	kindNegated = 'n'
	kindBigram  = 'b'
	kindNgram   = 't'
	kindHashtag = 'h'
	kindSignal  = 's'
	kindStem    = 'p'
)

// Signals: facts about a post's form rather than its words.
const (
	signalQuestion = "question" // a question mark
	signalExclaim  = "exclaim"  // an exclamation mark
	signalLink     = "link"     // a URL
	signalCaps     = "caps"     // a word of three letters or more written in capitals
	signalElong    = "elongated"
	signalMoney    = "money" // a currency sign before a number: $700, £45
	signalNumber   = "number"
	signalAlnum    = "code" // a word mixing letters and digits: an order, flight or model number
)

// lengthSignal names a post's length in words, in buckets.
func lengthSignal(words int) string {
	switch {
	case words <= 2:
		return "words:0-2"
	case words <= 5:
		return "words:3-5"
	case words <= 10:
		return "words:6-10"
	case words <= 20:
		return "words:11-20"
	}
	return "words:21+"
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func fnvByte(h uint64, c byte) uint64 {
	h ^= uint64(c)
	return h * fnvPrime
}

// featureHash is the hash of a feature's name.
func featureHash(name string) uint64 { return fnvString(fnvOffset, name) }

// maxNgram is the longest run of words that can be a feature.
const maxNgram = 4

// negationScope is how many words after a negator it reaches, inside its
// clause (and up to "but").
const featureNegationScope = 3

// wordTok is one normalised word of a post: a span of extractor.buf.
type wordTok struct {
	start, end int32
	hash       uint64 // fnv of the word's bytes, continuing from fnvOffset
	clause     int32
	negated    bool
	emoji      bool
}

// extractor turns a post's text into features. It holds the settings that
// a model file carries (negators, the hashtag dictionary) and is immutable.
type extractor struct {
	negators    map[uint64]bool // by word hash
	negatorList []string
	tagDict     map[string][]string // hashtag part → its words: "boycott" → [boycott], "classaction" → [class action]
	tagMin      int                 // shortest dictionary entry
	mojibake    *strings.Replacer
}

func newExtractor(negators []string, tagDict map[string][]string) *extractor {
	x := &extractor{
		negators:    make(map[uint64]bool, len(negators)),
		negatorList: slices.Clone(negators),
		tagDict:     tagDict,
		tagMin:      1 << 30,
		mojibake: strings.NewReplacer(
			"â€™", "’", "â€˜", "‘", "â€œ", "“", "â€\u009d", "”", "â€¦", "…", "â€“", "–", "â€”", "—", "â€", "”",
		),
	}
	for _, n := range negators {
		x.negators[fnvString(fnvOffset, n)] = true
	}
	for k := range tagDict {
		x.tagMin = min(x.tagMin, len(k))
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

// emit records a feature given its name's hash; name is built only when
// naming (training), never when classifying.
func (s *scratch) emit(h uint64, name func() string) {
	s.hashes = append(s.hashes, h)
	if s.naming {
		s.names = append(s.names, name())
	}
}

func (s *scratch) emitString(name string) {
	s.hashes = append(s.hashes, featureHash(name))
	if s.naming {
		s.names = append(s.names, name)
	}
}

// extract fills s with the features of text. s is reset first.
func (x *extractor) extract(text string, s *scratch) {
	s.buf = s.buf[:0]
	s.words = s.words[:0]
	s.hashes = s.hashes[:0]
	s.names = s.names[:0]
	if strings.Contains(text, "â€") {
		// UTF-8 read as Windows-1252 and written back ("Iâ€™m"), which
		// some exports are full of.
		text = x.mojibake.Replace(text)
	}
	var (
		clause      int32
		sawQuestion bool
		sawExclaim  bool
		sawLink     bool
		sawCaps     bool
		sawElong    bool
		sawMoney    bool
		sawNumber   bool
		sawAlnum    bool
		skipNext    bool // the previous chunk was a bare "https://" (a link cut by a space)
	)
	for i := 0; i < len(text); {
		// Whitespace-separated chunks: links and mentions are recognised whole.
		for i < len(text) && isSpaceByte(text[i]) {
			i++
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
		if skipNext {
			skipNext = false
			if strings.ContainsAny(chunk, "./") {
				continue
			}
		}
		if isLinkChunk(chunk) {
			sawLink = true
			if chunk == "http://" || chunk == "https://" || chunk == "https:" || chunk == "http:" {
				skipNext = true
			}
			continue
		}
		if chunk == "@" {
			// "@ AppleSupport": a mention whose handle was cut off by a space.
			skipNext = true
			for i < len(text) && isSpaceByte(text[i]) {
				i++
			}
			k := i
			for k < len(text) && !isSpaceByte(text[k]) {
				k++
			}
			i = k
			continue
		}
		// Inside a chunk: words, emoji, punctuation, @mentions and #hashtags.
		for k := 0; k < len(chunk); {
			r, size := rune(chunk[k]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(chunk[k:])
			}
			switch {
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
				x.hashtag(chunk[k:end], clause, s)
				k = end
			case (r == '$' || r == '£' || r == '€' || r == '¥' || r == '₹') && k+size < len(chunk) && chunk[k+size] >= '0' && chunk[k+size] <= '9':
				sawMoney = true
				k += size
				for k < len(chunk) && (chunk[k] >= '0' && chunk[k] <= '9' || chunk[k] == ',' || chunk[k] == '.') {
					k++
				}
			case isWordRune(r):
				end := k
				for end < len(chunk) {
					r2, s2 := utf8.DecodeRuneInString(chunk[end:])
					if isWordRune(r2) || (unicode.IsMark(r2) && end > k) {
						end += s2
						continue
					}
					if isApostrophe(r2) && end+s2 < len(chunk) && unicode.IsLetter(firstRune(chunk[end+s2:])) {
						end += s2 // "don't", "acme's": the apostrophe is dropped below
						continue
					}
					break
				}
				word := chunk[k:end]
				k = end
				switch kind := wordShape(word); kind {
				case shapeNumber:
					sawNumber = true
					continue
				case shapeAlnum:
					sawAlnum = true
					continue
				}
				if isShouted(word) {
					sawCaps = true
				}
				if x.addWord(word, clause, s) {
					sawElong = true
				}
			case r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f') || (r >= 0x1f3fb && r <= 0x1f3ff):
				// Zero-width joiner, variation selectors, skin tones: part of an emoji.
				k += size
			case isEmoji(r):
				start := len(s.buf)
				s.buf = utf8.AppendRune(s.buf, r)
				s.words = append(s.words, wordTok{
					start: int32(start), end: int32(len(s.buf)), clause: clause, emoji: true,
					hash: fnvBytes(fnvOffset, s.buf[start:]),
				})
				k += size
			default:
				switch r {
				case '?', '？':
					sawQuestion = true
				case '!', '！':
					sawExclaim = true
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

	for _, sig := range [...]struct {
		on   bool
		name string
	}{
		{sawQuestion, signalQuestion}, {sawExclaim, signalExclaim}, {sawLink, signalLink},
		{sawCaps, signalCaps}, {sawElong, signalElong}, {sawMoney, signalMoney},
		{sawNumber, signalNumber}, {sawAlnum, signalAlnum},
	} {
		if sig.on {
			s.emitString("s:" + sig.name)
		}
	}
	s.emitString("s:" + lengthSignal(len(s.words)))
}

// addWord normalises word (lowercase, apostrophes dropped, runs of three or
// more letters cut to two) and appends it. It reports whether a run was
// cut; the word cut to single letters ("loooove" → "love") is then added
// as an extra word feature, since either form may be the real word.
func (x *extractor) addWord(word string, clause int32, s *scratch) (elongated bool) {
	start := len(s.buf)
	var prev rune = -1
	run := 0
	for _, r := range word {
		if isApostrophe(r) {
			continue
		}
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			r = unicode.ToLower(r)
		}
		if r == prev {
			run++
			if run >= 3 && unicode.IsLetter(r) {
				elongated = true
				continue
			}
		} else {
			prev, run = r, 1
		}
		if r < utf8.RuneSelf {
			s.buf = append(s.buf, byte(r))
		} else {
			s.buf = utf8.AppendRune(s.buf, r)
		}
	}
	if len(s.buf) == start {
		return false
	}
	s.words = append(s.words, wordTok{
		start: int32(start), end: int32(len(s.buf)), clause: clause,
		hash: fnvBytes(fnvOffset, s.buf[start:]),
	})
	if elongated {
		// The single-letter form, as a word feature only.
		one := collapseRuns(s.buf[start:])
		s.emit(fnvBytes(fnvString(fnvOffset, "w:"), one), func() string { return "w:" + string(one) })
	}
	return elongated
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
func (x *extractor) hashtag(tag string, clause int32, s *scratch) {
	s.tagWork = s.tagWork[:0]
	for _, r := range tag {
		if isWordRune(r) {
			s.tagWork = utf8.AppendRune(s.tagWork, unicode.ToLower(r))
		}
	}
	lower := s.tagWork
	s.emit(fnvBytes(fnvString(fnvOffset, "h:"), lower), func() string { return "h:" + string(lower) })

	// Words written in CamelCase, or letters then digits.
	if parts := camelSplit(tag); len(parts) > 1 {
		for _, p := range parts {
			if wordShape(p) == shapeWord {
				x.addWord(p, clause, s)
			}
		}
		return
	}
	// A dictionary word at the start or the end of the tag.
	if before, words, after, ok := x.splitTag(string(lower)); ok {
		if len(before) >= 3 && wordShape(before) == shapeWord {
			x.addWord(before, clause, s)
		}
		for _, w := range words {
			x.addWord(w, clause, s)
		}
		if len(after) >= 3 && wordShape(after) == shapeWord {
			x.addWord(after, clause, s)
		}
		return
	}
	if wordShape(tag) == shapeWord {
		x.addWord(tag, clause, s)
	}
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
// featureNegationScope words of its clause, up to "but".
func (x *extractor) markNegation(s *scratch) {
	butHash := fnvString(fnvOffset, "but")
	for i := range s.words {
		if !x.negators[s.words[i].hash] {
			continue
		}
		for j := i + 1; j < len(s.words) && j <= i+featureNegationScope && s.words[j].clause == s.words[i].clause; j++ {
			if s.words[j].hash == butHash || x.negators[s.words[j].hash] {
				break
			}
			s.words[j].negated = true
		}
	}
}

// emitWords adds the word and n-gram features of s.words.
func (x *extractor) emitWords(s *scratch) {
	wPrefix := fnvString(fnvOffset, "w:")
	nPrefix := fnvString(fnvOffset, "n:")
	bPrefix := fnvString(fnvOffset, "b:")
	tPrefix := fnvString(fnvOffset, "t:")
	pPrefix := fnvString(fnvOffset, "p:")
	for i := range s.words {
		w := &s.words[i]
		word := s.buf[w.start:w.end]
		if w.negated {
			s.emit(fnvBytes(nPrefix, word), func() string { return "n:" + string(word) })
		} else {
			s.emit(fnvBytes(wPrefix, word), func() string { return "w:" + string(word) })
		}
		if stem := stemOf(word); stem != nil {
			s.emit(fnvBytes(pPrefix, stem), func() string { return "p:" + string(stem) })
		}
		// N-grams starting here, inside the clause.
		h := fnvBytes(bPrefix, word)
		ht := fnvBytes(tPrefix, word)
		for n := 2; n <= maxNgram && i+n-1 < len(s.words); n++ {
			next := &s.words[i+n-1]
			if next.clause != w.clause {
				break
			}
			nw := s.buf[next.start:next.end]
			if n == 2 {
				h = fnvBytes(fnvByte(h, ' '), nw)
				s.emit(h, func() string { return "b:" + string(word) + " " + string(nw) })
			}
			ht = fnvBytes(fnvByte(ht, ' '), nw)
			if n >= 3 {
				end := i + n
				s.emit(ht, func() string { return "t:" + joinWords(s, i, end) })
			}
		}
	}
}

// stemOf returns the first stemLen bytes of a word of letters that is
// longer than that: a crude stem that makes "discriminated",
// "discrimination" and "discriminatory" one feature, and lets a form never
// seen in training count like its relatives.
func stemOf(word []byte) []byte {
	if len(word) <= stemLen {
		return nil
	}
	for _, c := range word[:stemLen] {
		if c < 'a' || c > 'z' {
			return nil
		}
	}
	return word[:stemLen]
}

const stemLen = 6

func joinWords(s *scratch, from, to int) string {
	var b strings.Builder
	for k := from; k < to; k++ {
		if k > from {
			b.WriteByte(' ')
		}
		b.Write(s.buf[s.words[k].start:s.words[k].end])
	}
	return b.String()
}

type shape int

const (
	shapeWord shape = iota
	shapeNumber
	shapeAlnum
)

// wordShape says whether a word is letters, a number, or a mix (order
// numbers, flight numbers, model names): numbers become signals, not words.
func wordShape(w string) shape {
	digits, letters := 0, 0
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9', unicode.IsDigit(r):
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

// isShouted reports whether w is a word of three letters or more, all in
// capitals.
func isShouted(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsLetter(r) {
			continue
		}
		if !unicode.IsUpper(r) {
			return false
		}
		n++
	}
	return n >= 3
}

// isLinkChunk reports whether a whitespace-separated chunk is a link:
// "https://…", "www.…", "t.co/…", "example.com/path".
func isLinkChunk(c string) bool {
	if strings.Contains(c, "://") || strings.HasPrefix(c, "www.") || strings.HasPrefix(c, "http:") || strings.HasPrefix(c, "https:") {
		return true
	}
	if at := strings.IndexByte(c, '@'); at > 0 && strings.IndexByte(c[at:], '.') > 0 {
		return true // an email address
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
