package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/socialroute/socialroute/internal/trainset"
	"github.com/socialroute/socialroute/routing"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "[-json] [-model FILE] [-db FILE] [-keywords] [-min-confidence X] FILE.jsonl\n\nFILE.jsonl holds one post a line: {\"text\": \"...\", \"label\": \"support|reputation|promotional\"},\noptionally with \"author\": {\"followers\": N, \"verified\": true}.", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object: macro_f1, accuracy, per_class, confusion (and, with -db, the same without learned examples)")
	minConf := fs.Float64("min-confidence", 0.55, "posts below this confidence are counted as unsure (they would go to triage)")
	keywords := fs.Bool("keywords", false, "measure the keyword classifier (the lexicon alone) instead of the model, for comparison")
	src := addModelFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: eval takes one FILE.jsonl, got %d arguments", errUsage, fs.NArg())
	}
	if *minConf < 0 || *minConf > 1 {
		return fmt.Errorf("%w: -min-confidence %v not in [0, 1]", errUsage, *minConf)
	}
	if *keywords && (*src.db != "" || *src.path != "") {
		return fmt.Errorf("%w: -keywords measures the keyword classifier: it takes no -model or -db", errUsage)
	}
	posts, err := trainset.ReadJSONL(fs.Arg(0))
	if err != nil {
		return err
	}
	for i, p := range posts {
		if !p.Label.Valid() {
			return fmt.Errorf("%s: post %d: label %q cannot be evaluated (want support, reputation or promotional)", fs.Arg(0), i+1, p.Label)
		}
	}
	if len(posts) == 0 {
		return fmt.Errorf("%s: no posts", fs.Arg(0))
	}
	var c *loadedModel
	if *keywords {
		c = &loadedModel{name: "keywords (lexicon only)"}
	} else if c, err = src.load(); err != nil {
		return err
	}
	measure := func(m routing.Classifier) routing.Report {
		t := routing.NewTally(*minConf)
		for _, p := range posts {
			post := routing.Post{Text: p.Text}
			if p.Author != nil {
				post.Author = *p.Author
			}
			t.Add(p.Label, m.Classify(post))
		}
		return t.Report()
	}
	var report routing.Report
	if *keywords {
		report = measure(routing.NewKeywordClassifier())
	} else {
		report = measure(c.model)
	}
	var base *routing.Report
	if *src.db != "" {
		b := measure(c.base)
		base = &b
	}

	if *asJSON {
		out := struct {
			routing.Report
			LearnedExamples *int            `json:"learned_examples,omitempty"`
			WithoutLearned  *routing.Report `json:"without_learned,omitempty"`
		}{Report: report}
		if base != nil {
			out.LearnedExamples, out.WithoutLearned = &c.learned, base
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	if c.model != nil {
		fmt.Fprintf(stdout, "%d posts from %s; model %s (%d features)\n", len(posts), fs.Arg(0), c.name, c.model.Features())
	} else {
		fmt.Fprintf(stdout, "%d posts from %s; %s\n", len(posts), fs.Arg(0), c.name)
	}
	if base != nil {
		fmt.Fprintf(stdout, "\nwith %d learned examples from %s:\n", c.learned, *src.db)
	}
	writeReport(stdout, report)
	if base != nil {
		fmt.Fprintf(stdout, "\nwithout learned examples:\n")
		writeReport(stdout, *base)
	}
	return nil
}

func writeReport(w io.Writer, r routing.Report) {
	fmt.Fprintf(w, "\n%-12s %9s %7s %7s %8s\n", "class", "precision", "recall", "f1", "support")
	for _, c := range routing.Classes {
		pc := r.PerClass[c]
		fmt.Fprintf(w, "%-12s %9.3f %7.3f %7.3f %8d\n", c, pc.Precision, pc.Recall, pc.F1, pc.Support)
	}
	fmt.Fprintf(w, "\nmacro-F1  %.3f\naccuracy  %.3f\n", r.MacroF1, r.Accuracy)
	fmt.Fprintf(w, "unsure    %d of %d below confidence %.2f (the router would send them to triage)\n", r.Unsure, r.N, r.MinConfidence)
	fmt.Fprintf(w, "\nconfusion (rows: label, columns: predicted)\n%-12s", "")
	for _, c := range routing.Classes {
		fmt.Fprintf(w, " %12s", c)
	}
	fmt.Fprintln(w)
	for _, l := range routing.Classes {
		fmt.Fprintf(w, "%-12s", l)
		for _, p := range routing.Classes {
			fmt.Fprintf(w, " %12d", r.Confusion[l][p])
		}
		fmt.Fprintln(w)
	}
}
