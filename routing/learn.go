package routing

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Example is a post whose class a person decided, by reclassifying it in
// Slack. Examples are what the model learns from after it ships.
type Example struct {
	Post  Post      `json:"post"`
	Class Class     `json:"class"`
	User  string    `json:"user"` // who decided: a Slack user id
	At    time.Time `json:"at,omitzero"`
}

// LearnOptions bound what people's examples can do to a model.
type LearnOptions struct {
	// MaxUserWeight is the most one person's examples weigh together,
	// counted in examples: someone who makes 500 corrections counts as
	// much as someone who makes MaxUserWeight, so no single person can
	// flip the model. Default 3.
	MaxUserWeight float64
	// Strength (L2) ties the learned weights to the trained ones; larger
	// values make each example count less. Default 8: one person's
	// examples (weight 3 at most) settle a close call but cannot overturn
	// a decision the model is sure of, while many people agreeing can.
	Strength float64
	// MaxExamples keeps only the most recent examples. Default
	// DefaultMaxExamples.
	MaxExamples int
	// MaxIter bounds the optimiser. Default 100.
	MaxIter int
}

// DefaultMaxExamples is how many of the most recent examples Learn uses
// when LearnOptions.MaxExamples is not set.
const DefaultMaxExamples = 5000

// newWordStrength scales Strength for features the trained model lacks.
const newWordStrength = 0.5

func (o LearnOptions) withDefaults() LearnOptions {
	if o.MaxUserWeight <= 0 {
		o.MaxUserWeight = 3
	}
	if o.Strength <= 0 {
		o.Strength = 8
	}
	if o.MaxExamples <= 0 {
		o.MaxExamples = DefaultMaxExamples
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	return o
}

// Learn returns a new model: m adjusted to agree with examples, which m
// itself is not changed by. It starts from m's weights and moves only the
// weights of features the examples contain (adding the ones m has never
// seen), as little as it can while fitting them, so everything else the
// model knows stays as it was.
//
// Learning is bounded per person: all of one user's examples together
// weigh at most opts.MaxUserWeight. Only the latest example for a post
// counts (by Post.ID, or by text when there is no ID), and only the most
// recent opts.MaxExamples. The same examples always give the same model.
// Learn on a model that has learned already starts from the trained model
// it came from, not on top of the earlier examples.
func (m *Model) Learn(examples []Example, opts LearnOptions) (*Model, error) {
	opts = opts.withDefaults()
	base := m.baseModel()
	for i, ex := range examples {
		if !ex.Class.Valid() {
			return nil, fmt.Errorf("learn: example %d: class %q (want support, reputation or promotional)", i, ex.Class)
		}
	}
	exs := latestPerPost(examples, opts.MaxExamples)
	if len(exs) == 0 {
		return base, nil
	}

	// Each user's share: MaxUserWeight spread over their examples.
	perUser := make(map[string]int)
	for _, ex := range exs {
		perUser[ex.User]++
	}

	// Features of the examples: known ones map to the base model's
	// indexes, new ones are appended.
	names := slices.Clone(base.names)
	index := make(map[string]int32)
	var s scratch
	s.naming = true
	docs := make([][]string, len(exs))
	for i, ex := range exs {
		base.x.extract(ex.Post.Text, &s)
		docs[i] = slices.Clone(s.names)
		for _, n := range s.names {
			if _, ok := index[n]; ok {
				continue
			}
			if idx := base.table.get(featureHash(n)); idx >= 0 {
				index[n] = idx
			} else {
				index[n] = int32(len(names))
				names = append(names, n)
			}
		}
	}

	// The problem is solved over the touched features only: every other
	// weight would stay at its prior anyway.
	touched := make([]int32, 0, len(index))
	for _, idx := range index {
		touched = append(touched, idx)
	}
	slices.Sort(touched)
	local := make(map[int32]int32, len(touched))
	for i, idx := range touched {
		local[idx] = int32(i)
	}
	p := newProblem(len(touched))
	p.l2 = opts.Strength
	p.l2f = make([]float32, len(touched))
	p.fixedBias = true // corrections move words, not the model's overall leaning
	p.bias0 = base.bias
	p.scale = 1 / base.temperature
	for i, idx := range touched {
		p.l2f[i] = newWordStrength
		if int(idx) < len(base.names) {
			p.l2f[i] = 1
			for c := range numClasses {
				p.prior[i*numClasses+c] = float64(base.weights[int(idx)*numClasses+c])
			}
		}
	}
	for i, ex := range exs {
		lidx := make(map[string]int32, len(docs[i]))
		for _, n := range docs[i] {
			lidx[n] = local[index[n]]
		}
		row := sparseRow(docs[i], lidx)
		var off [numClasses]float64
		off[Reputation.index()] = reach(ex.Post.Author)
		w := min(1, opts.MaxUserWeight/float64(perUser[ex.User]))
		p.add(row, ex.Class.index(), w, off)
	}
	theta := p.solve(p.initial(), opts.MaxIter)

	weights := make([]float32, len(names)*numClasses)
	copy(weights, base.weights)
	for i, idx := range touched {
		for c := range numClasses {
			weights[int(idx)*numClasses+c] = float32(theta[i*numClasses+c])
		}
	}
	var bias [numClasses]float64
	for c := range bias {
		bias[c] = float64(float32(theta[len(touched)*numClasses+c]))
	}
	out := newModel(base.x, names, weights, bias, base.temperature, base.info)
	out.learned = len(exs)
	out.base = base
	return out, nil
}

// baseModel is the trained model m was learned from, or m itself.
func (m *Model) baseModel() *Model {
	if m.base != nil {
		return m.base
	}
	return m
}

// latestPerPost keeps the last example for each post (by ID, else by
// text), then the most recent max of them, in their original order.
func latestPerPost(examples []Example, max int) []Example {
	last := make(map[string]int)
	for i, ex := range examples {
		last[exampleKey(ex)] = i
	}
	keep := make([]int, 0, len(last))
	for _, i := range last {
		keep = append(keep, i)
	}
	slices.Sort(keep)
	if len(keep) > max {
		// Most recent by time, then by position.
		slices.SortStableFunc(keep, func(a, b int) int {
			return cmp.Or(examples[b].At.Compare(examples[a].At), cmp.Compare(b, a))
		})
		keep = keep[:max]
		slices.Sort(keep)
	}
	out := make([]Example, len(keep))
	for i, k := range keep {
		out[i] = examples[k]
	}
	return out
}

func exampleKey(ex Example) string {
	if ex.Post.ID != "" {
		return "id:" + ex.Post.ID
	}
	return "text:" + ex.Post.Text
}
