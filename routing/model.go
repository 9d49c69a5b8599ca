package routing

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// None labels a training example that belongs to no department: thanks,
// chit-chat, a post not about the brand. The model learns it so that it can
// tell when a post gives no reason to bother anyone; it is never a
// Result's Class (such a post gets a low confidence and goes to triage).
const None Class = "none"

// modelClasses are the classes a Model scores, in the order of its weight
// rows: Classes, then None.
var modelClasses = [...]Class{Support, Reputation, Promotional, None}

const (
	numClasses = len(modelClasses)
	noneIndex  = numClasses - 1
)

// modelClassIndex returns c's index in modelClasses, or -1.
func modelClassIndex(c Class) int {
	for i, k := range modelClasses {
		if k == c {
			return i
		}
	}
	return -1
}

// Reach: an author with a large audience makes a post matter to the
// brand's public standing. These are added to the reputation log-odds
// after calibration; the total is capped below the weight of a clear
// complaint, so reach alone never turns a complaint into PR's business.
const (
	modelReach10k  = 0.5
	modelReach100k = 1.0
	modelReach1M   = 1.25
	modelVerified  = 0.5
	modelReachMax  = 1.5
)

// maxReasons bounds the word and signal reasons a Result lists.
const maxReasons = 6

// Model is a trained text classifier: multinomial logistic regression over
// words, negated words, word pairs, lexicon phrases, hashtags and form
// signals of a post, with the lexicon as its prior (see MODEL.md). Its
// scores are calibrated on held-out data, and the author's reach is added
// for reputation. A Model is immutable and safe for concurrent use; Learn
// returns a new one.
type Model struct {
	x           *extractor
	names       []string  // feature names
	weights     []float32 // numClasses per feature, by feature index
	bias        [numClasses]float64
	temperature float64
	table       featureTable
	labels      []featureLabel // how each feature reads in a Reason
	// push is each feature's pull towards each department against the
	// average of the four classes, in calibrated log-odds: what a Reason
	// shows. Computed once, as reasons are given for every post.
	push    []float32
	info    ModelInfo
	learned int    // examples applied by Learn
	base    *Model // the trained model Learn started from; nil for a trained model
	pool    sync.Pool
}

var _ Classifier = (*Model)(nil)

// ModelInfo describes how a model was built. It is stored in the model file.
type ModelInfo struct {
	Sources  []string       `json:"sources"`  // where the training examples came from, with their terms
	Examples map[string]int `json:"examples"` // training examples per class
	Options  TrainOptions   `json:"options"`
}

// featureLabel is a feature as a Reason shows it. Hidden features count
// but are not listed: a post's length, like the classes' base rates, is
// not something a reader can act on or argue with.
type featureLabel struct {
	kind, detail string
	hidden       bool
}

func labelFor(name string) featureLabel {
	kind, rest := name[0], name[2:]
	switch kind {
	case kindWord:
		if r := firstRune(rest); isEmoji(r) {
			return featureLabel{kind: "emoji", detail: rest}
		}
		return featureLabel{kind: "word", detail: rest}
	case kindNegated:
		return featureLabel{kind: "negated", detail: "not … " + rest}
	case kindBigram, kindNgram:
		return featureLabel{kind: "phrase", detail: rest}
	case kindHashtag:
		return featureLabel{kind: "hashtag", detail: "#" + rest}
	case kindStem:
		return featureLabel{kind: "word", detail: rest + "…"}
	case kindSignal:
		if strings.HasPrefix(rest, "words:") {
			return featureLabel{"length", rest, true}
		}
		return featureLabel{kind: "signal", detail: signalDetail(rest)}
	}
	return featureLabel{kind: "feature", detail: name}
}

func signalDetail(s string) string {
	switch s {
	case signalQuestion:
		return "asks a question"
	case signalExclaim:
		return "exclamation mark"
	case signalLink:
		return "contains a link"
	case signalCaps:
		return "a word in capitals"
	case signalElong:
		return "an elongated word"
	case signalMoney:
		return "an amount of money"
	case signalNumber:
		return "a number"
	case signalAlnum:
		return "letters and digits mixed (an order, flight or model number, a time)"
	}
	return s
}

// featureTable maps feature hashes to indexes: open addressing, linear
// probing, no deletions. Hash 0 marks an empty slot (a name that hashes to
// 0 is stored as 1, which is harmless: it only adds one collision chance).
type featureTable struct {
	keys []uint64
	vals []int32
	mask uint64
}

func newFeatureTable(hashes []uint64) featureTable {
	size := 16
	for size < 2*len(hashes) {
		size *= 2
	}
	t := featureTable{keys: make([]uint64, size), vals: make([]int32, size), mask: uint64(size - 1)}
	for i, h := range hashes {
		t.put(h, int32(i))
	}
	return t
}

func (t *featureTable) put(h uint64, v int32) {
	if h == 0 {
		h = 1
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		if t.keys[i] == 0 || t.keys[i] == h {
			t.keys[i], t.vals[i] = h, v
			return
		}
	}
}

func (t *featureTable) get(h uint64) int32 {
	if h == 0 {
		h = 1
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case h:
			return t.vals[i]
		case 0:
			return -1
		}
	}
}

// newModel builds a Model from its parts; names and weights are owned by
// the Model from now on.
func newModel(x *extractor, names []string, weights []float32, bias [numClasses]float64, temperature float64, info ModelInfo) *Model {
	m := &Model{
		x:           x,
		names:       names,
		weights:     weights,
		bias:        bias,
		temperature: temperature,
		info:        info,
		labels:      make([]featureLabel, len(names)),
	}
	hashes := make([]uint64, len(names))
	for i, n := range names {
		hashes[i] = featureHash(n)
		m.labels[i] = labelFor(n)
	}
	m.table = newFeatureTable(hashes)
	m.push = make([]float32, len(names)*len(Classes))
	for i := range names {
		w := weights[i*numClasses : i*numClasses+numClasses]
		mean := 0.0
		for _, v := range w {
			mean += float64(v) / float64(numClasses)
		}
		for c := range len(Classes) {
			m.push[i*len(Classes)+c] = float32((float64(w[c]) - mean) / temperature)
		}
	}
	m.pool.New = func() any { return new(classifyScratch) }
	return m
}

// classifyScratch is the working memory of one Classify call, reused
// through Model.pool so that classifying allocates only the Result.
type classifyScratch struct {
	scratch
	found []int32
	// seen and count de-duplicate found in reasons: seen[f] == gen marks
	// feature f as met in this call (sized to the model's features).
	seen  []uint32
	count []uint32
	gen   uint32
	uniq  []int32
}

// uniqueFound returns the distinct features of s.found, in order of
// first occurrence, and leaves how often each occurs in s.count.
func (s *classifyScratch) uniqueFound(features int) []int32 {
	if len(s.seen) != features {
		s.seen, s.count, s.gen = make([]uint32, features), make([]uint32, features), 0
	}
	s.gen++
	if s.gen == 0 { // wrapped: start the marks afresh
		clear(s.seen)
		s.gen = 1
	}
	s.uniq = s.uniq[:0]
	for _, f := range s.found {
		if s.seen[f] != s.gen {
			s.seen[f], s.count[f] = s.gen, 0
			s.uniq = append(s.uniq, f)
		}
		s.count[f]++
	}
	return s.uniq
}

// Info describes how the model was trained.
func (m *Model) Info() ModelInfo { return m.info }

// Features is the number of features the model weighs.
func (m *Model) Features() int { return len(m.names) }

// Learned is the number of people's examples applied to the model by Learn.
func (m *Model) Learned() int { return m.learned }

// Classify scores p and returns the likeliest class, its calibrated
// probability and the evidence behind it. Scores holds the probability of
// each class; what they leave to 1 is the chance that the post is for no
// department at all ("thanks!", chit-chat), which keeps the confidence of
// such posts low. Classify never fails.
func (m *Model) Classify(p Post) Result {
	s := m.pool.Get().(*classifyScratch)
	defer m.pool.Put(s)

	logits := m.logits(p, s)
	probs := softmax(logits)

	var res Result
	best := 0
	for i := range len(Classes) {
		res.Scores[i] = probs[i]
		if probs[i] > probs[best] {
			best = i
		}
	}
	res.Class = Classes[best]
	res.Confidence = probs[best]
	res.Reasons = m.reasons(s, best, probs, p.Author)
	return res
}

// logits returns the calibrated log-odds of each class for p; s.found
// lists the model's features present in p, once per occurrence.
func (m *Model) logits(p Post, s *classifyScratch) [numClasses]float64 {
	m.x.extract(p.Text, &s.scratch)
	z := m.bias
	s.found = s.found[:0]
	for _, h := range s.hashes {
		idx := m.table.get(h)
		if idx < 0 {
			continue
		}
		s.found = append(s.found, idx)
		w := m.weights[int(idx)*numClasses : int(idx)*numClasses+numClasses]
		for c := range numClasses {
			z[c] += float64(w[c])
		}
	}
	for c := range z {
		z[c] /= m.temperature
	}
	z[Reputation.index()] += reach(p.Author)
	return z
}

// reach is the reputation log-odds an author's audience adds.
func reach(a Author) float64 {
	r := 0.0
	switch {
	case a.Followers >= 1_000_000:
		r = modelReach1M
	case a.Followers >= 100_000:
		r = modelReach100k
	case a.Followers >= 10_000:
		r = modelReach10k
	}
	if a.Verified {
		r += modelVerified
	}
	return min(r, modelReachMax)
}

func softmax(z [numClasses]float64) [numClasses]float64 {
	hi := slices.Max(z[:])
	var p [numClasses]float64
	sum := 0.0
	for i, v := range z {
		p[i] = math.Exp(v - hi)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// reasons explains a decision for class index best: the features that
// pushed most towards it, the strongest ones that pulled towards another
// department, the author's reach, and whether the post reads as for no
// department at all. A feature's weight is its push towards a class
// against the average of the four classes, in calibrated log-odds, times
// the number of times it occurs.
func (m *Model) reasons(s *classifyScratch, best int, probs [numClasses]float64, a Author) []Reason {
	// The strongest few for the decided class, and against it, kept in
	// small sorted arrays: a post has tens of features, and sorting them
	// all would cost more than classifying.
	const nFor, nAgainst = maxReasons - 2, 2
	var (
		forIt   [nFor]cand
		against [nAgainst]cand
		nf, na  int
	)
	for _, idx := range s.uniqueFound(len(m.names)) {
		if m.labels[idx].hidden {
			continue
		}
		count := float64(s.count[idx])
		push := m.push[int(idx)*len(Classes) : int(idx)*len(Classes)+len(Classes)]
		for c, p := range push {
			v := float64(p) * count
			if v < 0.05 {
				continue
			}
			if c == best {
				nf = insertTop(forIt[:], nf, cand{idx, c, v})
			} else {
				na = insertTop(against[:], na, cand{idx, c, v})
			}
		}
	}
	out := make([]Reason, 0, nf+na+2)
	for _, c := range append(forIt[:nf:nf], against[:na]...) {
		l := m.labels[c.idx]
		out = append(out, Reason{Class: Classes[c.class], Kind: l.kind, Detail: l.detail, Weight: round2(c.weight)})
	}
	if r := reach(a); r > 0 {
		out = append(out, Reason{Class: Reputation, Kind: "reach", Detail: reachDetail(a), Weight: r})
	}
	if probs[noneIndex] >= 0.2 {
		// Not evidence for a class: the share of the probability that the
		// post is for no department, which is what keeps its confidence low.
		out = append(out, Reason{Class: None, Kind: "unclear",
			Detail: "reads like chit-chat or not for any department (" + strconv.Itoa(int(math.Round(probs[noneIndex]*100))) + "%)",
			Weight: round2(probs[noneIndex])})
	}
	slices.SortStableFunc(out, func(x, y Reason) int {
		return cmp.Or(
			cmp.Compare(boolInt(y.Class == Classes[best]), boolInt(x.Class == Classes[best])),
			cmp.Compare(y.Weight, x.Weight),
		)
	})
	return out
}

// cand is a feature's push towards a class, a candidate reason.
type cand struct {
	idx    int32
	class  int
	weight float64
}

// insertTop inserts c into top[:n], kept strongest first (ties: lower
// feature index first), dropping the weakest when full; it returns the new
// length.
func insertTop(top []cand, n int, c cand) int {
	i := n
	for i > 0 && (top[i-1].weight < c.weight || (top[i-1].weight == c.weight && top[i-1].idx > c.idx)) {
		i--
	}
	if i == len(top) {
		return n
	}
	if n < len(top) {
		n++
	}
	copy(top[i+1:n], top[i:n-1])
	top[i] = c
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func reachDetail(a Author) string {
	var parts []string
	switch {
	case a.Followers >= 1_000_000:
		parts = append(parts, "followers ≥ 1M")
	case a.Followers >= 100_000:
		parts = append(parts, "followers ≥ 100k")
	case a.Followers >= 10_000:
		parts = append(parts, "followers ≥ 10k")
	}
	if a.Verified {
		parts = append(parts, "verified")
	}
	return strings.Join(parts, ", ")
}
