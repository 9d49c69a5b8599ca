package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/socialroute/socialroute/internal/trainset"
	"github.com/socialroute/socialroute/routing"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "[-complaints FILE] [-purchase FILE] [-dir DIR] [-cv K] [-holdout-out FILE] [-o FILE]\n\nBuilds the model file from the labelled data sets and the examples in DIR (see MODEL.md).", stderr)
	complaints := fs.String("complaints", "", "complaints data set (CSV: id,text,label,domain), e.g. /work/shared/data/complaints-dev.csv")
	purchase := fs.String("purchase", "", "purchase-intent data set (CSV: label,text), e.g. /work/shared/data/purchase-intent-dev.csv")
	dir := fs.String("dir", filepath.Join("routing", "train"), "our labels for the data sets' rows, written examples (*.jsonl) and exclude.txt")
	out := fs.String("o", filepath.Join("routing", "model", "socialroute.model"), "model file to write")
	folds := fs.Int("cv", 5, "cross-validate with this many folds first, and calibrate on them (0: no cross-validation, temperature 1)")
	holdout := fs.String("holdout-out", "", "hold one fifth of the examples out of training and write its support/reputation/promotional posts to `FILE` (JSONL), for socialroute eval")
	asJSON := fs.Bool("json", false, "print the cross-validation report as JSON")
	def := routing.DefaultTrainOptions()
	l2 := fs.Float64("l2", def.L2, "pull of the weights towards the lexicon prior")
	minCount := fs.Int("min-count", def.MinCount, "drop words, pairs and hashtags seen in fewer examples")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: train takes no arguments, got %q", errUsage, fs.Args())
	}
	if *folds == 1 || *folds < 0 {
		return fmt.Errorf("%w: -cv %d: want 0 or at least 2 folds", errUsage, *folds)
	}
	if *complaints == "" && *purchase == "" {
		return fmt.Errorf("%w: give -complaints and/or -purchase (the data sets are not kept in the repository)", errUsage)
	}

	set, err := trainset.Load(trainset.Sources{Complaints: *complaints, Purchase: *purchase, Dir: *dir})
	if err != nil {
		return err
	}
	if *holdout != "" {
		test, err := set.Holdout(5)
		if err != nil {
			return err
		}
		if err := writeJSONL(*holdout, test); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "held out %d posts to %s\n", len(test), *holdout)
	}
	opts := def
	opts.L2, opts.MinCount = *l2, *minCount
	opts.Exclude = set.Exclude
	opts.Sources = set.Sources

	counts := make(map[routing.Class]int)
	for _, ex := range set.Examples {
		counts[ex.Class]++
	}
	fmt.Fprintf(stderr, "%d examples: %d support, %d reputation, %d promotional, %d none\n",
		len(set.Examples), counts[routing.Support], counts[routing.Reputation], counts[routing.Promotional], counts[routing.None])
	for _, reason := range slices.Sorted(maps.Keys(set.Skipped)) {
		fmt.Fprintf(stderr, "  skipped %d: %s\n", set.Skipped[reason], reason)
	}

	if *folds > 1 {
		cv, err := set.CrossValidate(opts, *folds)
		if err != nil {
			return err
		}
		opts.Temperature = cv.Temperature
		if *asJSON {
			b, err := json.MarshalIndent(cv, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", b)
		} else {
			writeCV(stdout, cv)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := routing.Train(set.Examples, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d features, %d bytes, sha256 %x\n", *out, m.Features(), buf.Len(), sha256.Sum256(buf.Bytes()))
	return nil
}

func writeCV(w io.Writer, r *trainset.CVReport) {
	fmt.Fprintf(w, "%d-fold cross-validation (every post classified by a model that never saw it)\n", r.Folds)
	fmt.Fprintf(w, "\nsupport / reputation / promotional, all labelled posts:\n")
	writeReport(w, r.ThreeClass)
	fmt.Fprintf(w, "macro-F1 per fold: %v (mean %.3f, sd %.3f)\n", r.FoldMacroF1, r.MeanMacroF1, r.StdMacroF1)
	fmt.Fprintf(w, "\ncore posts only (data-set labels and written examples, not our relabelling): macro-F1 %.3f, accuracy %.3f\n", r.Core.MacroF1, r.Core.Accuracy)
	fmt.Fprintf(w, "\ncomplaint vs rest on the complaints data set (its own labels), macro-F1 / complaint F1:\n")
	fmt.Fprintf(w, "  brand-addressed tweets, class support:           %.3f / %.3f\n", r.ComplaintArgmaxToBrand.Macro, r.ComplaintArgmaxToBrand.Positive)
	fmt.Fprintf(w, "  brand-addressed tweets, routed to support:       %.3f / %.3f\n", r.ComplaintRoutedToBrand.Macro, r.ComplaintRoutedToBrand.Positive)
	fmt.Fprintf(w, "  all tweets (random ones too), class support:     %.3f / %.3f\n", r.ComplaintArgmax.Macro, r.ComplaintArgmax.Positive)
	fmt.Fprintf(w, "  all tweets (random ones too), routed to support: %.3f / %.3f\n", r.ComplaintRouted.Macro, r.ComplaintRouted.Positive)
	fmt.Fprintf(w, "  brand-addressed, without the help requests we label support:\n")
	fmt.Fprintf(w, "    class support:                                 %.3f / %.3f\n", r.ComplaintAgreed.Macro, r.ComplaintAgreed.Positive)
	fmt.Fprintf(w, "    routed to support:                             %.3f / %.3f\n", r.ComplaintRoutedAgreed.Macro, r.ComplaintRoutedAgreed.Positive)
	fmt.Fprintf(w, "\nmin_confidence  routed  right  none routed\n")
	for _, t := range r.Thresholds {
		fmt.Fprintf(w, "%15.2f  %5.1f%%  %4.1f%%  %10.1f%%\n", t.MinConfidence, 100*t.Routed, 100*t.Precision, 100*t.NoneRouted)
	}
	fmt.Fprintf(w, "\ncalibration: temperature %.3f, expected calibration error %.3f\n", r.Temperature, r.Calibration)
}

func writeJSONL(path string, posts []trainset.Labelled) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, p := range posts {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}
