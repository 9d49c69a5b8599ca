package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

func runClassify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return classify(ctx, args, os.Stdin, stdout, stderr)
}

// classify is runClassify with its input as a parameter, for tests.
func classify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("classify", "[-explain] [-json] [-followers N] [-verified] [-model FILE] [-db FILE] [TEXT]\n\nClassifies TEXT, or each line of standard input.", stderr)
	explain := fs.Bool("explain", false, "show why: the words and signals that decided, and what pulled elsewhere")
	asJSON := fs.Bool("json", false, `print one JSON object per post: {"class","confidence","reasons"}`)
	followers := fs.Int64("followers", 0, "the author's followers (a large audience counts towards reputation)")
	verified := fs.Bool("verified", false, "the author is verified")
	minConf := fs.Float64("min-confidence", 0.55, "below this confidence a post goes to triage, marked unsure")
	src := addModelFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *minConf < 0 || *minConf > 1 {
		return fmt.Errorf("%w: -min-confidence %v not in [0, 1]", errUsage, *minConf)
	}
	c, err := src.load()
	if err != nil {
		return err
	}
	author := routing.Author{Followers: *followers, Verified: *verified}
	show := func(text string, withText bool) error {
		res := c.model.Classify(routing.Post{Text: text, Author: author})
		switch {
		case *asJSON:
			if res.Reasons == nil {
				res.Reasons = []routing.Reason{}
			}
			b, err := json.Marshal(struct {
				Class      routing.Class    `json:"class"`
				Confidence float64          `json:"confidence"`
				Reasons    []routing.Reason `json:"reasons"`
			}{res.Class, round3(res.Confidence), res.Reasons})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		case *explain:
			writeExplanation(stdout, text, res, *minConf)
		case withText:
			fmt.Fprintf(stdout, "%s\t%.2f\t%s\n", res.Class, res.Confidence, text)
		default:
			fmt.Fprintf(stdout, "%s %.2f\n", res.Class, res.Confidence)
		}
		return nil
	}
	if fs.NArg() > 0 {
		text := strings.Join(fs.Args(), " ")
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf("%w: TEXT is blank", errUsage)
		}
		return show(text, false)
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := show(line, true); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	return nil
}

// writeExplanation prints a decision the way a support lead reads it.
func writeExplanation(w io.Writer, text string, res routing.Result, minConf float64) {
	fmt.Fprintf(w, "%q\n", text)
	runner, runnerP := routing.Class(""), -1.0
	for i, c := range routing.Classes {
		if c != res.Class && res.Scores[i] > runnerP {
			runner, runnerP = c, res.Scores[i]
		}
	}
	fmt.Fprintf(w, "→ %s, %.0f%% sure (next: %s %.0f%%)\n", res.Class, 100*res.Confidence, runner, 100*runnerP)
	if res.Confidence < minConf {
		fmt.Fprintf(w, "  below %.0f%%: goes to the triage channel marked unsure, offering %s or %s\n", 100*minConf, res.Class, runner)
	}
	var forIt, against, other []routing.Reason
	for _, r := range res.Reasons {
		switch {
		case r.Class == res.Class:
			forIt = append(forIt, r)
		case r.Class.Valid():
			against = append(against, r)
		default:
			other = append(other, r)
		}
	}
	if len(forIt) > 0 {
		fmt.Fprintf(w, "  why %s:\n", res.Class)
		for _, r := range forIt {
			fmt.Fprintf(w, "    %+5.2f  %-8s %s\n", r.Weight, r.Kind, r.Detail)
		}
	}
	if len(against) > 0 {
		fmt.Fprintln(w, "  pulling elsewhere:")
		for _, r := range against {
			fmt.Fprintf(w, "    %+5.2f  %-8s %s → %s\n", r.Weight, r.Kind, r.Detail, r.Class)
		}
	}
	for _, r := range other {
		fmt.Fprintf(w, "  note: %s\n", r.Detail)
	}
	if len(res.Reasons) == 0 {
		fmt.Fprintln(w, "  no word or signal the model knows: it falls back on how common each class is")
	}
	fmt.Fprintln(w, "  (weights are log-odds: +1 makes the class about 2.7 times likelier)")
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// modelSource is the -model and -db flags shared by classify and eval.
type modelSource struct {
	path, db *string
}

func addModelFlags(fs *flag.FlagSet) modelSource {
	return modelSource{
		path: fs.String("model", "", "model file (default: the model built into socialroute)"),
		db:   fs.String("db", "", "store file whose learned examples (reclassifications made in Slack) are applied to the model; socialroute must not be running on it"),
	}
}

// loadedModel is a model and how it was made.
type loadedModel struct {
	model   *routing.Model
	base    *routing.Model // without learned examples
	learned int
	name    string
}

func (s modelSource) load() (*loadedModel, error) {
	m, name, err := readModel(*s.path)
	if err != nil {
		return nil, err
	}
	out := &loadedModel{model: m, base: m, name: name}
	if *s.db == "" {
		return out, nil
	}
	exs, err := readExamples(*s.db)
	if err != nil {
		return nil, err
	}
	learned, err := m.Learn(exs, routing.LearnOptions{})
	if err != nil {
		return nil, fmt.Errorf("apply examples from %s: %w", *s.db, err)
	}
	out.model, out.learned = learned, learned.Learned()
	return out, nil
}

func readModel(path string) (*routing.Model, string, error) {
	if path == "" {
		m, err := routing.DefaultModel()
		return m, "built-in", err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	m, err := routing.ReadModel(f)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return m, path, nil
}

// readExamples reads the learned examples the daemon would use from a
// store file, which must exist (opening a store creates it otherwise).
func readExamples(path string) ([]routing.Example, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: -db %s: no such file", errUsage, path)
		}
		return nil, err
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Examples(routing.DefaultMaxExamples)
}
