package routing

import (
	"math"
	"testing"
)

func TestTallyReport(t *testing.T) {
	tally := NewTally(0.55)
	add := func(label, predicted Class, n int, conf float64) {
		for range n {
			tally.Add(label, Result{Class: predicted, Confidence: conf})
		}
	}
	add(Support, Support, 8, 0.9)
	add(Support, Promotional, 2, 0.5)
	add(Reputation, Reputation, 3, 0.6)
	add(Reputation, Support, 1, 0.4)
	add(Promotional, Promotional, 4, 0.7)
	add(Support, "", 5, 0.9)      // a classifier's invalid class: ignored
	add("sales", Support, 5, 0.9) // an invalid label: ignored
	r := tally.Report()

	if r.N != 18 || r.Unsure != 3 {
		t.Errorf("n %d unsure %d, want 18 and 3", r.N, r.Unsure)
	}
	want := map[Class]ClassReport{
		Support:     {Precision: 8.0 / 9, Recall: 0.8, Support: 10},
		Reputation:  {Precision: 1, Recall: 0.75, Support: 4},
		Promotional: {Precision: 4.0 / 6, Recall: 1, Support: 4},
	}
	macro := 0.0
	for c, w := range want {
		got := r.PerClass[c]
		f1 := 2 * w.Precision * w.Recall / (w.Precision + w.Recall)
		macro += f1 / 3
		if got.Support != w.Support || !near(got.Precision, w.Precision) || !near(got.Recall, w.Recall) || !near(got.F1, f1) {
			t.Errorf("%s: %+v, want precision %.4f recall %.4f f1 %.4f support %d", c, got, w.Precision, w.Recall, f1, w.Support)
		}
	}
	if !near(r.MacroF1, macro) || !near(r.Accuracy, 15.0/18) {
		t.Errorf("macro-F1 %v accuracy %v, want %.4f %.4f", r.MacroF1, r.Accuracy, macro, 15.0/18)
	}
	if r.Confusion[Support][Promotional] != 2 || r.Confusion[Reputation][Support] != 1 || r.Confusion[Promotional][Support] != 0 {
		t.Errorf("confusion %v", r.Confusion)
	}
}

func TestTallyEmptyClass(t *testing.T) {
	tally := NewTally(0.5)
	tally.Add(Support, Result{Class: Support, Confidence: 1})
	r := tally.Report()
	// A class absent from the data still counts (as 0) in the macro average.
	if r.PerClass[Reputation].F1 != 0 || !near(r.MacroF1, 1.0/3) {
		t.Errorf("macro-F1 %v with one class present, want 1/3", r.MacroF1)
	}
}

func TestBinaryF1(t *testing.T) {
	truth := []bool{true, true, true, false, false, false}
	pred := []bool{true, true, false, true, false, false}
	b := NewBinaryF1(truth, pred)
	// positive: tp 2 fp 1 fn 1 → 4/6; negative: tp 2 fp 1 fn 1 → 4/6.
	if !near(b.Positive, 2.0/3) || !near(b.Negative, 2.0/3) || !near(b.Macro, 2.0/3) || b.N != 6 {
		t.Errorf("%+v", b)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

func TestFolds(t *testing.T) {
	exs := tinyExamples()
	a := Folds(exs, 3)
	// Stratified: each class spreads over the folds.
	perFold := map[Class]map[int]int{}
	for i, ex := range exs {
		if perFold[ex.Class] == nil {
			perFold[ex.Class] = map[int]int{}
		}
		perFold[ex.Class][a[i]]++
	}
	for c, folds := range perFold {
		lo, hi := 1<<30, 0
		for f := range 3 {
			lo, hi = min(lo, folds[f]), max(hi, folds[f])
		}
		if hi-lo > 1 {
			t.Errorf("class %s spread %v over 3 folds", c, folds)
		}
	}
	// The same examples in another order get the same folds.
	rev := make([]TrainExample, len(exs))
	for i := range exs {
		rev[len(exs)-1-i] = exs[i]
	}
	b := Folds(rev, 3)
	for i := range exs {
		if a[i] != b[len(exs)-1-i] {
			t.Fatalf("example %d: fold %d, %d when reordered", i, a[i], b[len(exs)-1-i])
		}
	}
}

func TestFitTemperature(t *testing.T) {
	// Over-confident log-odds: right 75% of the time, but scaled as if
	// sure. The fitted temperature must soften them.
	var logits [][numClasses]float64
	var classes []Class
	for i := range 400 {
		z := [numClasses]float64{6, 0, 0, 0}
		c := Support
		if i%4 == 0 {
			c = Promotional
		}
		logits, classes = append(logits, z), append(classes, c)
	}
	temp := FitTemperature(logits, classes)
	p := math.Exp(6/temp) / (math.Exp(6/temp) + 3)
	if temp <= 1 || math.Abs(p-0.75) > 0.02 {
		t.Errorf("temperature %v gives p %.3f, want about 0.75", temp, p)
	}
}
