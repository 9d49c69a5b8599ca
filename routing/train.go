package routing

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// TrainExample is one labelled text to learn from.
type TrainExample struct {
	Text   string
	Class  Class   // one of Classes, or None
	Weight float64 // relative trust in the label; 0 means 1
	Source string  // where it came from, for reports
}

// TrainOptions tune Train. The zero value trains with DefaultTrainOptions'
// settings except where a field is set.
type TrainOptions struct {
	// L2 pulls every weight towards its prior (the lexicon's weight, or 0):
	// larger values trust the lexicon more and the examples less.
	L2 float64 `json:"l2"`
	// MinCount drops words, pairs and hashtags seen in fewer examples;
	// NgramMinCount does the same for runs of three and four words.
	// Lexicon terms are always kept.
	MinCount      int `json:"min_count"`
	NgramMinCount int `json:"ngram_min_count"`
	// Exclude lists words that never become features: the brand and
	// product names the training examples happen to talk about, which say
	// nothing about what a post is.
	Exclude []string `json:"exclude,omitempty"`
	// NoneWeight is the weight of all None examples together, relative to
	// each class's (every class weighs the same in total, whatever its
	// number of examples). 0 means 1.
	NoneWeight float64 `json:"none_weight"`
	// NoLexicon trains without the lexicon prior.
	NoLexicon bool `json:"no_lexicon,omitempty"`
	// MaxIter bounds the optimiser's iterations.
	MaxIter int `json:"max_iter"`
	// Temperature divides the model's log-odds so that its probabilities
	// are calibrated; FitTemperature finds it from held-out predictions.
	// 0 means 1.
	Temperature float64 `json:"temperature"`
	// Sources are recorded in the model's Info.
	Sources []string `json:"-"`
}

// DefaultTrainOptions are the settings the shipped model is trained with.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{L2: 1, MinCount: 2, NgramMinCount: 3, MaxIter: 300, Temperature: 1}
}

func (o TrainOptions) withDefaults() TrainOptions {
	d := DefaultTrainOptions()
	if o.L2 == 0 {
		o.L2 = d.L2
	}
	if o.MinCount == 0 {
		o.MinCount = d.MinCount
	}
	if o.NgramMinCount == 0 {
		o.NgramMinCount = d.NgramMinCount
	}
	if o.MaxIter == 0 {
		o.MaxIter = d.MaxIter
	}
	if o.Temperature == 0 {
		o.Temperature = d.Temperature
	}
	if o.NoneWeight == 0 {
		o.NoneWeight = 1
	}
	return o
}

// Train fits a Model to examples. It is deterministic: the same examples
// and options give the same model, byte for byte once written.
func Train(examples []TrainExample, opts TrainOptions) (*Model, error) {
	opts = opts.withDefaults()
	if err := checkExamples(examples); err != nil {
		return nil, err
	}
	if !(opts.L2 > 0) || !(opts.Temperature > 0) || opts.MinCount < 1 || opts.NgramMinCount < 1 {
		return nil, fmt.Errorf("train: options %+v: l2 and temperature must be positive, counts at least 1", opts)
	}
	x := newExtractor(builtinNegators(), builtinTagDict())

	// Features of every example, by name.
	docs := make([][]string, len(examples))
	var s scratch
	s.naming = true
	df := make(map[string]int)
	for i, ex := range examples {
		x.extract(ex.Text, &s)
		docs[i] = slices.Clone(s.names)
		seen := make(map[string]bool, len(s.names))
		for _, n := range s.names {
			if !seen[n] {
				seen[n] = true
				df[n]++
			}
		}
	}

	// The vocabulary: frequent enough features, and every lexicon term.
	prior := make(map[string][numClasses]float64)
	if !opts.NoLexicon {
		prior = lexiconPrior(x)
	}
	exclude := make(map[string]bool, len(opts.Exclude))
	for _, w := range opts.Exclude {
		exclude[strings.ToLower(w)] = true
	}
	var names []string
	for n, c := range df {
		min := opts.MinCount
		if n[0] == kindNgram {
			min = opts.NgramMinCount
		}
		if _, lex := prior[n]; (c >= min || lex) && !excluded(n, exclude) {
			names = append(names, n)
		}
	}
	for n := range prior {
		if df[n] == 0 && !excluded(n, exclude) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	index := make(map[string]int32, len(names))
	for i, n := range names {
		index[n] = int32(i)
	}

	p := newProblem(len(names))
	for i, n := range names {
		pr := prior[n]
		copy(p.prior[i*numClasses:], pr[:])
	}
	p.l2 = opts.L2
	p.scale = 1
	// Balance the classes: each class weighs as much in total.
	perClass := make(map[Class]float64)
	for _, ex := range examples {
		perClass[ex.Class] += exampleWeight(ex)
	}
	total := 0.0
	for _, v := range perClass {
		total += v
	}
	for i, ex := range examples {
		row := sparseRow(docs[i], index)
		w := exampleWeight(ex) * total / (float64(len(perClass)) * perClass[ex.Class])
		if ex.Class == None {
			w *= opts.NoneWeight
		}
		p.add(row, modelClassIndex(ex.Class), w, [numClasses]float64{})
	}
	theta := p.solve(p.initial(), opts.MaxIter)

	weights := make([]float32, len(names)*numClasses)
	for i := range weights {
		weights[i] = float32(theta[i])
	}
	var bias [numClasses]float64
	for c := range bias {
		bias[c] = float64(float32(theta[len(weights)+c]))
	}
	counts := make(map[string]int)
	for _, ex := range examples {
		counts[string(ex.Class)]++
	}
	stored := opts
	stored.Sources = nil
	info := ModelInfo{Sources: slices.Clone(opts.Sources), Examples: counts, Options: stored}
	return newModel(x, names, weights, bias, opts.Temperature, info), nil
}

func exampleWeight(ex TrainExample) float64 {
	if ex.Weight == 0 {
		return 1
	}
	return ex.Weight
}

func checkExamples(examples []TrainExample) error {
	if len(examples) == 0 {
		return errors.New("train: no examples")
	}
	seen := make(map[Class]bool)
	for i, ex := range examples {
		if modelClassIndex(ex.Class) < 0 {
			return fmt.Errorf("train: example %d: class %q (want support, reputation, promotional or none)", i, ex.Class)
		}
		if w := ex.Weight; w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("train: example %d: weight %v", i, w)
		}
		seen[ex.Class] = true
	}
	if len(seen) < 2 {
		return errors.New("train: examples of at least two classes are needed")
	}
	return nil
}

// excluded reports whether feature name n involves an excluded word.
func excluded(n string, exclude map[string]bool) bool {
	if len(exclude) == 0 {
		return false
	}
	rest := n[2:]
	if n[0] == kindStem {
		for w := range exclude {
			if strings.HasPrefix(w, rest) {
				return true
			}
		}
		return false
	}
	if n[0] == kindHashtag {
		for w := range exclude {
			if strings.Contains(rest, w) {
				return true
			}
		}
		return false
	}
	for w := range strings.SplitSeq(rest, " ") {
		if exclude[w] {
			return true
		}
	}
	return false
}

// sparseRow counts the features of a document that are in the vocabulary.
func sparseRow(doc []string, index map[string]int32) []entry {
	row := make([]entry, 0, len(doc))
	for _, n := range doc {
		if i, ok := index[n]; ok {
			row = append(row, entry{i, 1})
		}
	}
	slices.SortFunc(row, func(a, b entry) int { return cmp.Compare(a.f, b.f) })
	// Merge repeats into counts.
	out := row[:0]
	for _, e := range row {
		if len(out) > 0 && out[len(out)-1].f == e.f {
			out[len(out)-1].v++
			continue
		}
		out = append(out, e)
	}
	return out
}

// lexiconPrior turns the built-in lexicon into prior weights: a term's
// weight for its class (in log-odds, like the keyword classifier), and for
// one-word terms the negated form's weight for the class negation moves it
// to ("not happy" → support).
func lexiconPrior(x *extractor) map[string][numClasses]float64 {
	prior := make(map[string][numClasses]float64)
	var s scratch
	for _, g := range builtinLexicon() {
		if g.class == "" {
			continue
		}
		for _, term := range g.terms {
			x.extract(term, &s)
			if len(s.words) == 0 {
				continue
			}
			words := make([]string, 0, len(s.words))
			for _, w := range s.words {
				words = append(words, string(s.buf[w.start:w.end]))
			}
			if len(words) > maxNgram {
				words = words[:maxNgram]
			}
			var name string
			switch len(words) {
			case 1:
				name = "w:" + words[0]
			case 2:
				name = "b:" + words[0] + " " + words[1]
			default:
				name = "t:" + strings.Join(words, " ")
			}
			pr := prior[name]
			pr[modelClassIndex(g.class)] = max(pr[modelClassIndex(g.class)], g.weight)
			prior[name] = pr
			if len(words) == 1 {
				neg := "n:" + words[0]
				to, w := g.class, g.weight
				if g.negated != "" {
					to, w = g.negated, g.weight*negatedFactor
				}
				pn := prior[neg]
				pn[modelClassIndex(to)] = max(pn[modelClassIndex(to)], w)
				prior[neg] = pn
			}
		}
	}
	return prior
}

// builtinTagDict is the dictionary hashtags are split with: the lexicon's
// terms of four letters or more, written as hashtags are ("classaction"),
// and the negators ("nothappy").
func builtinTagDict() map[string][]string {
	d := make(map[string][]string)
	for _, g := range builtinLexicon() {
		if g.class == "" {
			continue
		}
		for _, term := range g.terms {
			toks := tokenize(term)
			var words []string
			joined := ""
			for _, t := range toks {
				if t.emoji || wordShape(t.text) != shapeWord {
					words = nil
					break
				}
				words = append(words, t.text)
				joined += t.text
			}
			if len(words) == 0 || len(joined) < hashtagAffixMin {
				continue
			}
			if _, dup := d[joined]; !dup {
				d[joined] = words
			}
		}
	}
	for _, n := range builtinNegators() {
		if len(n) >= 3 {
			if _, dup := d[n]; !dup {
				d[n] = []string{n}
			}
		}
	}
	return d
}

// FitTemperature finds the temperature that makes held-out predictions
// best calibrated: the one minimising the log-loss of softmax(z/T) for
// the given log-odds z (as PredictLogits returns) and true classes.
func FitTemperature(logits [][numClasses]float64, classes []Class) float64 {
	nll := func(t float64) float64 {
		sum := 0.0
		for i, z := range logits {
			for c := range z {
				z[c] /= t
			}
			p := softmax(z)
			sum -= math.Log(max(p[modelClassIndex(classes[i])], 1e-12))
		}
		return sum
	}
	// Golden-section search on log T in [0.2, 5].
	lo, hi := math.Log(0.2), math.Log(5)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := nll(math.Exp(a)), nll(math.Exp(b))
	for range 60 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = nll(math.Exp(a))
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = nll(math.Exp(b))
		}
	}
	return math.Round(math.Exp((lo+hi)/2)*1000) / 1000
}

// PredictLogits returns the model's uncalibrated log-odds for each class
// of modelClasses (support, reputation, promotional, none) for text, as
// FitTemperature wants them.
func (m *Model) PredictLogits(text string) [numClasses]float64 {
	s := m.pool.Get().(*classifyScratch)
	defer m.pool.Put(s)
	z := m.logits(Post{Text: text}, s)
	for c := range z {
		z[c] *= m.temperature
	}
	return z
}

// Folds assigns each example to one of k folds for cross-validation:
// stratified by class, and decided by a hash of the text, so the same
// examples always get the same folds whatever their order.
func Folds(examples []TrainExample, k int) []int {
	byClass := make(map[Class][]int)
	for i, ex := range examples {
		byClass[ex.Class] = append(byClass[ex.Class], i)
	}
	folds := make([]int, len(examples))
	for _, idx := range byClass {
		slices.SortFunc(idx, func(a, b int) int {
			return cmp.Or(
				cmp.Compare(wordHashString(examples[a].Text), wordHashString(examples[b].Text)),
				cmp.Compare(examples[a].Text, examples[b].Text),
				cmp.Compare(a, b),
			)
		})
		for r, i := range idx {
			folds[i] = r % k
		}
	}
	return folds
}
