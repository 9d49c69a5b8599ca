package trainset

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/socialroute/socialroute/routing"
)

// CVReport is what k-fold cross-validation measured: every example is
// classified by a model trained without its fold.
type CVReport struct {
	Folds       int     `json:"folds"`
	Temperature float64 `json:"temperature"` // fitted on the out-of-fold predictions
	// ThreeClass measures the examples labelled support, reputation or
	// promotional (calibrated with Temperature).
	ThreeClass routing.Report `json:"three_class"`
	// Core measures only the examples whose label comes straight from a
	// data set or was written as an example of its class: complaints
	// (support), purchase intent "yes" (promotional) and the written
	// examples; not the rows we labelled ourselves.
	Core routing.Report `json:"three_class_core"`
	// FoldMacroF1 is each fold's three-class macro-F1.
	FoldMacroF1 []float64 `json:"fold_macro_f1"`
	MeanMacroF1 float64   `json:"mean_macro_f1"`
	StdMacroF1  float64   `json:"std_macro_f1"`
	// Complaint vs rest on the complaints data set, with its own labels:
	// a post counts as predicted complaint when the classifier says
	// support (argmax of the three classes), or when the Router would send
	// it to the support channel (support with confidence ≥ 0.55).
	ComplaintArgmax        routing.BinaryF1 `json:"complaint_vs_rest_argmax"`
	ComplaintRouted        routing.BinaryF1 `json:"complaint_vs_rest_routed"`
	ComplaintArgmaxToBrand routing.BinaryF1 `json:"complaint_vs_rest_argmax_brand_addressed"`
	ComplaintRoutedToBrand routing.BinaryF1 `json:"complaint_vs_rest_routed_brand_addressed"`
	// ComplaintAgreed leaves out the non-complaints we read as requests for
	// help (our support, the paper's "not a complaint"): where the two
	// label sets agree on what is and is not support's business.
	ComplaintAgreed       routing.BinaryF1 `json:"complaint_vs_rest_argmax_brand_addressed_agreed"`
	ComplaintRoutedAgreed routing.BinaryF1 `json:"complaint_vs_rest_routed_brand_addressed_agreed"`
	// Thresholds shows what min_confidence does: for each value, the share
	// of support/reputation/promotional posts routed to a department, how
	// many of those are right, and the share of posts labelled none that
	// are routed anyway.
	Thresholds []Threshold `json:"thresholds"`
	// BySource is the share of each source's examples given their label
	// (argmax over all four classes, none included).
	BySource map[string]float64 `json:"accuracy_by_source"`
	// Calibration is the expected calibration error of the confidence,
	// over ten equal-width bins and every example.
	Calibration float64 `json:"expected_calibration_error"`

	results []routing.Result // out-of-fold, by example
}

// Threshold is the effect of one min_confidence.
type Threshold struct {
	MinConfidence float64 `json:"min_confidence"`
	Routed        float64 `json:"routed"`      // share of labelled posts above it
	Precision     float64 `json:"precision"`   // share of those with the right class
	NoneRouted    float64 `json:"none_routed"` // share of posts labelled none above it
}

// CrossValidate trains k models, each without one fold (routing.Folds),
// and measures every example with the model that did not see it.
func (s *Set) CrossValidate(opts routing.TrainOptions, k int) (*CVReport, error) {
	if k < 2 {
		return nil, fmt.Errorf("cross-validation needs at least 2 folds, got %d", k)
	}
	opts.Temperature = 1
	folds := routing.Folds(s.Examples, k)
	logits := make([][4]float64, len(s.Examples))
	errs := make([]error, k)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for f := range k {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var train []routing.TrainExample
			for i, ex := range s.Examples {
				if folds[i] != f {
					train = append(train, ex)
				}
			}
			m, err := routing.Train(train, opts)
			if err != nil {
				errs[f] = fmt.Errorf("fold %d: %w", f, err)
				return
			}
			for i, ex := range s.Examples {
				if folds[i] == f {
					logits[i] = m.PredictLogits(ex.Text)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	classes := make([]routing.Class, len(s.Examples))
	for i, ex := range s.Examples {
		classes[i] = ex.Class
	}
	r := &CVReport{Folds: k, Temperature: routing.FitTemperature(logits, classes), BySource: make(map[string]float64)}

	all := routing.NewTally(0.55)
	core := routing.NewTally(0.55)
	perFold := make([]*routing.Tally, k)
	for f := range perFold {
		perFold[f] = routing.NewTally(0.55)
	}
	var (
		truthAll, argmaxAll, routedAll    []bool
		truthBrand, argmaxBrand, routedBr []bool
		truthAgreed, argmaxAgreed         []bool
		routedAgreed                      []bool
		sourceN                           = make(map[string]int)
		sourceOK                          = make(map[string]int)
		bins                              [10]struct {
			n, correct int
			conf       float64
		}
	)
	for i, ex := range s.Examples {
		res, top := resultOf(logits[i], r.Temperature)
		r.results = append(r.results, res)
		sourceN[ex.Source]++
		if top == ex.Class {
			sourceOK[ex.Source]++
		}
		// Calibration: is Confidence the chance that the post belongs to
		// the class given? Over every example: one labelled none never does.
		b := min(int(res.Confidence*10), 9)
		bins[b].n++
		bins[b].conf += res.Confidence
		if res.Class == ex.Class {
			bins[b].correct++
		}
		if ex.Class.Valid() {
			all.Add(ex.Class, res)
			if ex.Source == SourceComplaint || ex.Source == SourcePurchaseYes || strings.HasPrefix(ex.Source, SourceWrittenPrefix) {
				core.Add(ex.Class, res)
			}
			perFold[folds[i]].Add(ex.Class, res)
		}
		if strings.HasPrefix(ex.Source, "complaints:") {
			truth := ex.Source == SourceComplaint
			argmax := res.Class == routing.Support
			routed := argmax && res.Confidence >= 0.55
			truthAll, argmaxAll, routedAll = append(truthAll, truth), append(argmaxAll, argmax), append(routedAll, routed)
			if ex.Source != SourceNotToBrand {
				truthBrand, argmaxBrand, routedBr = append(truthBrand, truth), append(argmaxBrand, argmax), append(routedBr, routed)
				if !(ex.Source == SourceNotComplaint && ex.Class == routing.Support) {
					truthAgreed, argmaxAgreed = append(truthAgreed, truth), append(argmaxAgreed, argmax)
					routedAgreed = append(routedAgreed, routed)
				}
			}
		}
	}
	r.ThreeClass = all.Report()
	r.Core = core.Report()
	for _, t := range perFold {
		r.FoldMacroF1 = append(r.FoldMacroF1, t.Report().MacroF1)
	}
	mean, sd := meanStd(r.FoldMacroF1)
	r.MeanMacroF1, r.StdMacroF1 = round4(mean), round4(sd)
	r.ComplaintArgmax = routing.NewBinaryF1(truthAll, argmaxAll)
	r.ComplaintRouted = routing.NewBinaryF1(truthAll, routedAll)
	r.ComplaintArgmaxToBrand = routing.NewBinaryF1(truthBrand, argmaxBrand)
	r.ComplaintRoutedToBrand = routing.NewBinaryF1(truthBrand, routedBr)
	r.ComplaintAgreed = routing.NewBinaryF1(truthAgreed, argmaxAgreed)
	r.ComplaintRoutedAgreed = routing.NewBinaryF1(truthAgreed, routedAgreed)
	for _, t := range []float64{0.35, 0.45, 0.55, 0.65, 0.75} {
		var labelled, routed, right, none, noneRouted int
		for i, ex := range s.Examples {
			res := r.results[i]
			if ex.Class.Valid() {
				labelled++
				if res.Confidence >= t {
					routed++
					if res.Class == ex.Class {
						right++
					}
				}
			} else {
				none++
				if res.Confidence >= t {
					noneRouted++
				}
			}
		}
		r.Thresholds = append(r.Thresholds, Threshold{
			MinConfidence: t,
			Routed:        round4(ratio(routed, labelled)),
			Precision:     round4(ratio(right, routed)),
			NoneRouted:    round4(ratio(noneRouted, none)),
		})
	}
	for src, n := range sourceN {
		r.BySource[src] = round4(float64(sourceOK[src]) / float64(n))
	}
	total := 0
	ece := 0.0
	for _, b := range bins {
		total += b.n
	}
	for _, b := range bins {
		if b.n > 0 {
			ece += float64(b.n) / float64(total) * math.Abs(b.conf/float64(b.n)-float64(b.correct)/float64(b.n))
		}
	}
	r.Calibration = round4(ece)
	return r, nil
}

// resultOf turns uncalibrated log-odds into the Result a Model would give
// (without reach), and the top class of all four.
func resultOf(z [4]float64, temperature float64) (routing.Result, routing.Class) {
	hi := math.Inf(-1)
	for c := range z {
		z[c] /= temperature
		hi = math.Max(hi, z[c])
	}
	var p [4]float64
	sum := 0.0
	for c := range z {
		p[c] = math.Exp(z[c] - hi)
		sum += p[c]
	}
	top := 0
	for c := range p {
		p[c] /= sum
		if p[c] > p[top] {
			top = c
		}
	}
	var res routing.Result
	best := 0
	for c := range 3 {
		res.Scores[c] = p[c]
		if p[c] > p[best] {
			best = c
		}
	}
	res.Class, res.Confidence = routing.Classes[best], p[best]
	topClass := routing.None
	if top < 3 {
		topClass = routing.Classes[top]
	}
	return res, topClass
}

func meanStd(xs []float64) (float64, float64) {
	mean := 0.0
	for _, x := range xs {
		mean += x / float64(len(xs))
	}
	v := 0.0
	for _, x := range xs {
		v += (x - mean) * (x - mean) / float64(len(xs))
	}
	return mean, math.Sqrt(v)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }
