// Package trainset reads the labelled posts socialroute's model is trained
// and measured on: the two public data sets (read from wherever the
// operator keeps them, never copied into the repository), the labels we
// give their rows for our three classes (routing/train/*-relabel.csv), and
// the examples written for the project (routing/train/*.jsonl). See
// routing/train/README.md for what each source is and under which terms.
package trainset

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/socialroute/socialroute/routing"
)

// Sources say where the training material is. Empty paths are skipped.
type Sources struct {
	Complaints string // complaints-dev.csv (Preoțiuc-Pietro et al., ACL 2019)
	Purchase   string // purchase-intent-dev.csv (hasanimran96/Predicting-Consumer-Purchase-intention-using-Twitter-Data)
	Dir        string // routing/train: relabel files, written examples, exclude.txt
}

// Source tags on examples. Complaints rows keep their original label in
// the tag so that complaint-vs-rest can be measured as the paper does.
const (
	SourceComplaint     = "complaints:complaint"
	SourceNotComplaint  = "complaints:not-complaint"
	SourceNotToBrand    = "complaints:not-to-brand" // random_tweet / random_reply
	SourcePurchaseYes   = "purchase-intent:yes"
	SourcePurchaseOther = "purchase-intent:no-or-undefined"
	SourceWrittenPrefix = "written:"

	// purchaseIntentWeight: noisy labels, one product: a weak signal.
	purchaseIntentWeight = 0.5
	// relabelledWeight: rows that had no label of ours, labelled by us.
	// They teach what questions, praise and chit-chat mean for the three
	// classes, but many are borderline (a pre-sale question or a request
	// for help?), so they count less than labels given by the data sets'
	// annotators.
	relabelledWeight = 0.25
)

// Set is the loaded training material.
type Set struct {
	Examples []routing.TrainExample
	Exclude  []string // words that must not become features (routing/train/exclude.txt)
	Sources  []string // descriptions of the sources, for the model's Info
	// Skipped counts rows left out, by reason.
	Skipped map[string]int
}

// Load reads every source in src. Duplicate texts (after trimming and
// lowercasing) are kept once, the first time they are seen, in the order
// complaints, purchase intent, written examples.
func Load(src Sources) (*Set, error) {
	set := &Set{Skipped: make(map[string]int)}
	seen := make(map[string]bool)
	add := func(ex routing.TrainExample) {
		key := strings.ToLower(strings.Join(strings.Fields(ex.Text), " "))
		if key == "" {
			set.Skipped["empty text"]++
			return
		}
		if seen[key] {
			set.Skipped["duplicate text"]++
			return
		}
		seen[key] = true
		set.Examples = append(set.Examples, ex)
	}

	if src.Complaints != "" {
		relabel, err := readRelabel(filepath.Join(src.Dir, "complaints-relabel.csv"), "id")
		if err != nil {
			return nil, err
		}
		if err := loadComplaints(src.Complaints, relabel, add, set.Skipped); err != nil {
			return nil, err
		}
		set.Sources = append(set.Sources, "complaints: Preoțiuc-Pietro, Găman and Aletras, \"Automatically Identifying Complaints in Social Media\", ACL 2019 (danielpreotiuc/complaints-social-media); no licence stated, cite the paper; tweets under X's terms")
	}
	if src.Purchase != "" {
		relabel, err := readRelabel(filepath.Join(src.Dir, "purchase-relabel.csv"), "text_sha256")
		if err != nil {
			return nil, err
		}
		if err := loadPurchase(src.Purchase, relabel, add, set.Skipped); err != nil {
			return nil, err
		}
		set.Sources = append(set.Sources, "purchase intent: hasanimran96/Predicting-Consumer-Purchase-intention-using-Twitter-Data (data/Annotated4.csv), MIT licence; tweets under X's terms")
	}
	if src.Dir != "" {
		files, err := filepath.Glob(filepath.Join(src.Dir, "*.jsonl"))
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		for _, f := range files {
			exs, err := ReadJSONL(f)
			if err != nil {
				return nil, err
			}
			for _, ex := range exs {
				add(routing.TrainExample{Text: ex.Text, Class: ex.Label, Source: SourceWrittenPrefix + filepath.Base(f)})
			}
		}
		if len(files) > 0 {
			set.Sources = append(set.Sources, "written for socialroute: routing/train/*.jsonl (same licence as the project)")
		}
		ex, err := readWords(filepath.Join(src.Dir, "exclude.txt"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		set.Exclude = ex
	}
	if len(set.Examples) == 0 {
		return nil, errors.New("trainset: no examples (give -complaints, -purchase or a directory of .jsonl files)")
	}
	return set, nil
}

// Labelled is one line of a JSONL file of labelled posts, as `socialroute
// eval` reads them: {"text": "...", "label": "support"}. Author is
// optional and carries the reach signals.
type Labelled struct {
	Text   string          `json:"text"`
	Label  routing.Class   `json:"label"`
	Author *routing.Author `json:"author,omitempty"`
}

// ReadJSONL reads labelled posts, one JSON object a line; blank lines are
// skipped. Labels may be support, reputation, promotional or none, in any
// case. Errors name the file and line.
func ReadJSONL(path string) ([]Labelled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeJSONL(f, path)
}

// DecodeJSONL is ReadJSONL on a reader; name is used in errors.
func DecodeJSONL(r io.Reader, name string) ([]Labelled, error) {
	var out []Labelled
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		// Other keys (an id, a source) are allowed and ignored; labels are
		// read case-insensitively.
		var l Labelled
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		l.Label = routing.Class(strings.ToLower(strings.TrimSpace(string(l.Label))))
		switch {
		case strings.TrimSpace(l.Text) == "":
			return nil, fmt.Errorf("%s:%d: \"text\" is missing or blank", name, line)
		case !l.Label.Valid() && l.Label != routing.None:
			return nil, fmt.Errorf("%s:%d: \"label\" %q is not support, reputation, promotional or none", name, line, l.Label)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// readRelabel reads "key,class" lines with a header naming the key column.
func readRelabel(path, keyColumn string) (map[string]routing.Class, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || len(rows[0]) != 2 || rows[0][0] != keyColumn || rows[0][1] != "class" {
		return nil, fmt.Errorf("%s: header must be %q", path, keyColumn+",class")
	}
	m := make(map[string]routing.Class, len(rows)-1)
	for i, r := range rows[1:] {
		c := routing.Class(r[1])
		if !c.Valid() && c != routing.None {
			return nil, fmt.Errorf("%s:%d: class %q", path, i+2, r[1])
		}
		m[r[0]] = c
	}
	return m, nil
}

func loadComplaints(path string, relabel map[string]routing.Class, add func(routing.TrainExample), skipped map[string]int) error {
	rows, err := readCSV(path, []string{"id", "text", "label", "domain"})
	if err != nil {
		return err
	}
	for _, r := range rows {
		id, text, label, domain := r[0], r[1], r[2], r[3]
		switch {
		case label == "1":
			add(routing.TrainExample{Text: text, Class: routing.Support, Source: SourceComplaint})
		case label != "0":
			return fmt.Errorf("%s: row %s: label %q (want 0 or 1)", path, id, label)
		case strings.HasPrefix(domain, "random_"):
			add(routing.TrainExample{Text: text, Class: routing.None, Source: SourceNotToBrand})
		default:
			c, ok := relabel[id]
			if !ok {
				// A brand-addressed non-complaint we have not read: it could
				// be a question, praise, a press request. Leave it out.
				skipped["complaints: not a complaint, no class given"]++
				continue
			}
			add(routing.TrainExample{Text: text, Class: c, Weight: relabelledWeight, Source: SourceNotComplaint})
		}
	}
	return nil
}

func loadPurchase(path string, relabel map[string]routing.Class, add func(routing.TrainExample), skipped map[string]int) error {
	rows, err := readCSV(path, []string{"label", "text"})
	if err != nil {
		return err
	}
	for i, r := range rows {
		label, text := r[0], r[1]
		switch label {
		case "yes":
			add(routing.TrainExample{Text: text, Class: routing.Promotional, Weight: purchaseIntentWeight, Source: SourcePurchaseYes})
		case "no", "undefined":
			c, ok := relabel[TextKey(text)]
			if !ok {
				skipped["purchase intent: no or undefined, no class given"]++
				continue
			}
			add(routing.TrainExample{Text: text, Class: c, Weight: purchaseIntentWeight * relabelledWeight, Source: SourcePurchaseOther})
		default:
			return fmt.Errorf("%s: row %d: label %q (want yes, no or undefined)", path, i+2, label)
		}
	}
	return nil
}

// TextKey identifies a post by the first 16 hex digits of the SHA-256 of
// its text, so labels can be kept without the text.
func TextKey(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

func readCSV(path string, header []string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(header)
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		return nil, fmt.Errorf("%s: header must be %q", path, strings.Join(header, ","))
	}
	return rows[1:], nil
}

// readWords reads one word a line; # starts a comment.
func readWords(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if w := strings.TrimSpace(line); w != "" {
			out = append(out, strings.ToLower(w))
		}
	}
	return out, nil
}

// Holdout removes one of k folds (routing.Folds' fold 0) from the set and
// returns its posts labelled support, reputation or promotional, for
// measuring a model trained on the rest.
func (s *Set) Holdout(k int) ([]Labelled, error) {
	if k < 2 {
		return nil, fmt.Errorf("holdout: need at least 2 folds, got %d", k)
	}
	folds := routing.Folds(s.Examples, k)
	var keep []routing.TrainExample
	var out []Labelled
	for i, ex := range s.Examples {
		switch {
		case folds[i] != 0:
			keep = append(keep, ex)
		case ex.Class.Valid():
			out = append(out, Labelled{Text: ex.Text, Label: ex.Class})
		}
	}
	s.Examples = keep
	return out, nil
}
