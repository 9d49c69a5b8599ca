package routing

import "math"

// ClassReport is precision, recall and F1 for one class.
type ClassReport struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // how many examples carry this label
}

// Report measures a classifier on labelled posts.
type Report struct {
	MacroF1   float64                 `json:"macro_f1"`
	Accuracy  float64                 `json:"accuracy"`
	PerClass  map[Class]ClassReport   `json:"per_class"`
	Confusion map[Class]map[Class]int `json:"confusion"` // label → predicted class → count
	N         int                     `json:"n"`
	// Unsure counts posts whose confidence is below the MinConfidence the
	// report was made with: the Router would send them to triage.
	Unsure        int     `json:"unsure"`
	MinConfidence float64 `json:"min_confidence"`
}

// Tally accumulates predictions into a Report.
type Tally struct {
	confusion     [len(Classes)][len(Classes)]int
	n, unsure     int
	minConfidence float64
}

// NewTally starts a tally; posts under minConfidence count as unsure (they
// still count with their class in the confusion matrix).
func NewTally(minConfidence float64) *Tally { return &Tally{minConfidence: minConfidence} }

// Add counts one prediction. Labels and predictions outside Classes are
// ignored.
func (t *Tally) Add(label Class, res Result) {
	l, p := label.index(), res.Class.index()
	if l < 0 || p < 0 {
		return
	}
	t.confusion[l][p]++
	t.n++
	if res.Confidence < t.minConfidence {
		t.unsure++
	}
}

// Report computes the measures. A class with no examples and no
// predictions has F1 0 and still counts in the macro average, so leaving a
// class out of the test data shows.
func (t *Tally) Report() Report {
	r := Report{
		PerClass:      make(map[Class]ClassReport, len(Classes)),
		Confusion:     make(map[Class]map[Class]int, len(Classes)),
		N:             t.n,
		Unsure:        t.unsure,
		MinConfidence: t.minConfidence,
	}
	correct := 0
	for i, c := range Classes {
		row := make(map[Class]int, len(Classes))
		tp, fn, fp := t.confusion[i][i], 0, 0
		for j, d := range Classes {
			row[d] = t.confusion[i][j]
			if j != i {
				fn += t.confusion[i][j]
				fp += t.confusion[j][i]
			}
		}
		r.Confusion[c] = row
		correct += tp
		cr := ClassReport{Support: tp + fn}
		cr.Precision = ratio(tp, tp+fp)
		cr.Recall = ratio(tp, tp+fn)
		if cr.Precision+cr.Recall > 0 {
			cr.F1 = 2 * cr.Precision * cr.Recall / (cr.Precision + cr.Recall)
		}
		cr.Precision, cr.Recall, cr.F1 = round4(cr.Precision), round4(cr.Recall), round4(cr.F1)
		r.PerClass[c] = cr
		r.MacroF1 += cr.F1 / float64(len(Classes))
	}
	r.MacroF1 = round4(r.MacroF1)
	r.Accuracy = round4(ratio(correct, t.n))
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

// BinaryF1 measures a yes/no decision: the F1 of the positive class, of
// the negative class, and their mean (the macro F1 papers report).
type BinaryF1 struct {
	Positive float64 `json:"f1_positive"`
	Negative float64 `json:"f1_negative"`
	Macro    float64 `json:"macro_f1"`
	N        int     `json:"n"`
}

// NewBinaryF1 computes BinaryF1 from truth and predictions, pairwise.
func NewBinaryF1(truth, predicted []bool) BinaryF1 {
	var tp, fp, fn, tn int
	for i := range truth {
		switch {
		case truth[i] && predicted[i]:
			tp++
		case truth[i]:
			fn++
		case predicted[i]:
			fp++
		default:
			tn++
		}
	}
	f1 := func(tp, fp, fn int) float64 {
		if 2*tp+fp+fn == 0 {
			return 0
		}
		return float64(2*tp) / float64(2*tp+fp+fn)
	}
	b := BinaryF1{Positive: f1(tp, fp, fn), Negative: f1(tn, fn, fp), N: len(truth)}
	b.Macro = round4((b.Positive + b.Negative) / 2)
	b.Positive, b.Negative = round4(b.Positive), round4(b.Negative)
	return b
}
