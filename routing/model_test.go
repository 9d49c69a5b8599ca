package routing

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// tinyExamples is a small training set written for the tests.
func tinyExamples() []TrainExample {
	return []TrainExample{
		{Text: "my order never arrived, I want a refund", Class: Support},
		{Text: "the app crashes every time I log in, please help", Class: Support},
		{Text: "charged twice for my subscription this month", Class: Support},
		{Text: "still waiting for my parcel after two weeks", Class: Support},
		{Text: "journalist here, can your press office comment on the recall?", Class: Reputation},
		{Text: "boycott this company until they pay a living wage", Class: Reputation},
		{Text: "my lawyer is preparing a class action over the data breach", Class: Reputation},
		{Text: "love my new blender, best purchase this year", Class: Promotional},
		{Text: "where can I buy the blue one? need it before Friday", Class: Promotional},
		{Text: "I run a cooking channel and would love a sponsorship", Class: Promotional},
		{Text: "lol same", Class: None},
		{Text: "good morning everyone", Class: None, Weight: 0.5},
	}
}

func trainTiny(t *testing.T) *Model {
	t.Helper()
	m, err := Train(tinyExamples(), TrainOptions{MinCount: 1, Temperature: 1.3, Exclude: []string{"blender"}, Sources: []string{"tests"}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func modelBytes(t *testing.T, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDefaultModel(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Features() < 5000 {
		t.Errorf("built-in model has %d features, want thousands", m.Features())
	}
	info := m.Info()
	if len(info.Sources) < 3 || info.Examples["reputation"] == 0 || info.Options.Temperature <= 0 {
		t.Errorf("built-in model info incomplete: %+v", info)
	}
	// The file is what WriteTo makes of the model: nothing is lost or
	// added by reading it.
	if got := modelBytes(t, m); !bytes.Equal(got, defaultModelFile) {
		t.Errorf("re-writing the built-in model gives %d different bytes (file has %d)", len(got), len(defaultModelFile))
	}
}

func TestTrainDeterministic(t *testing.T) {
	a, b := modelBytes(t, trainTiny(t)), modelBytes(t, trainTiny(t))
	if !bytes.Equal(a, b) {
		t.Fatal("two trainings on the same examples wrote different model files")
	}
	// And it is a model of those examples.
	m := trainTiny(t)
	for _, ex := range tinyExamples() {
		if ex.Class == None {
			continue
		}
		if got := m.Classify(Post{Text: ex.Text}); got.Class != ex.Class {
			t.Errorf("%q: got %s, want %s", ex.Text, got.Class, ex.Class)
		}
	}
	if slices.Contains(m.names, "w:blender") {
		t.Error("excluded word became a feature")
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := trainTiny(t)
	file := modelBytes(t, m)
	r, err := ReadModel(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if again := modelBytes(t, r); !bytes.Equal(file, again) {
		t.Fatal("read then written model differs from the original file")
	}
	for _, p := range []Post{
		{Text: "where is my refund"}, {Text: "press inquiry about the boycott", Author: Author{Followers: 2e6}}, {Text: ""},
	} {
		if a, b := m.Classify(p), r.Classify(p); !resultsEqual(a, b) {
			t.Errorf("%q: %+v before writing, %+v after reading", p.Text, a, b)
		}
	}
}

func resultsEqual(a, b Result) bool {
	return a.Class == b.Class && a.Confidence == b.Confidence && a.Scores == b.Scores && slices.Equal(a.Reasons, b.Reasons)
}

// rewriteBody decompresses a model file, lets edit change the body, and
// compresses it again.
func rewriteBody(t *testing.T, file []byte, edit func(body []byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(file[len(modelMagic):]))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.WriteString(modelMagic)
	zw := gzip.NewWriter(&out)
	zw.Write(edit(body))
	zw.Close()
	return out.Bytes()
}

// editHeader changes the JSON header of a model body.
func editHeader(t *testing.T, edit func(h map[string]any)) func([]byte) []byte {
	return func(body []byte) []byte {
		n, k := binary.Uvarint(body)
		var h map[string]any
		if err := json.Unmarshal(body[k:k+int(n)], &h); err != nil {
			t.Fatal(err)
		}
		edit(h)
		hdr, _ := json.Marshal(h)
		out := binary.AppendUvarint(nil, uint64(len(hdr)))
		out = append(out, hdr...)
		return append(out, body[k+int(n):]...)
	}
}

func TestReadModelErrors(t *testing.T) {
	file := modelBytes(t, trainTiny(t))
	nan := math.Float32bits(float32(math.NaN()))
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not a socialroute model"},
		{"other file", []byte("PK\x03\x04 a zip file"), "not a socialroute model"},
		{"not compressed", append([]byte(modelMagic), "plain text"...), "compressed body"},
		{"cut short", file[:len(file)/2], "compressed body"},
		{"newer format", rewriteBody(t, file, editHeader(t, func(h map[string]any) { h["format"] = 2 })), "format 2, this build reads format 1"},
		{"other classes", rewriteBody(t, file, editHeader(t, func(h map[string]any) {
			h["classes"] = []string{"support", "sales", "promotional", "none"}
		})), "classes [support sales promotional none]"},
		{"unknown header key", rewriteBody(t, file, editHeader(t, func(h map[string]any) { h["extra"] = 1 })), `unknown field "extra"`},
		{"zero temperature", rewriteBody(t, file, editHeader(t, func(h map[string]any) { h["temperature"] = 0 })), "temperature 0 is not a positive number"},
		{"missing weights", rewriteBody(t, file, func(b []byte) []byte { return b[:len(b)-4] }), "bytes of weights"},
		{"NaN weight", rewriteBody(t, file, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[len(b)-4:], nan)
			return b
		}), "is NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadModel(bytes.NewReader(tc.file))
			if err == nil {
				t.Fatalf("read a model (%d features) from a bad file", m.Features())
			}
			if !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want ErrBadModel and %q", err, tc.want)
			}
		})
	}
}

func TestTrainErrors(t *testing.T) {
	tests := []struct {
		name string
		exs  []TrainExample
		opts TrainOptions
		want string
	}{
		{"no examples", nil, TrainOptions{}, "no examples"},
		{"unknown class", []TrainExample{{Text: "a", Class: "sales"}, {Text: "b", Class: Support}}, TrainOptions{}, `class "sales"`},
		{"one class", []TrainExample{{Text: "a", Class: Support}, {Text: "b", Class: Support}}, TrainOptions{}, "at least two classes"},
		{"negative weight", []TrainExample{{Text: "a", Class: Support, Weight: -1}, {Text: "b", Class: None}}, TrainOptions{}, "weight -1"},
		{"negative l2", tinyExamples(), TrainOptions{L2: -1}, "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Train(tc.exs, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestModelDemoPosts(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range demoPosts {
		t.Run(tc.post.Text, func(t *testing.T) {
			got := m.Classify(tc.post)
			if got.Class != tc.want || got.Confidence < 0.55 {
				t.Errorf("got %s %.3f, want %s ≥ 0.55; reasons %v", got.Class, got.Confidence, tc.want, got.Reasons)
			}
		})
	}
	t.Run("no evidence", func(t *testing.T) {
		if got := m.Classify(Post{Text: "@acme thoughts?"}); got.Confidence >= 0.55 {
			t.Errorf("got %s %.3f, want confidence < 0.55", got.Class, got.Confidence)
		}
	})
}

// TestModelCheckSet measures the built-in model on posts written for the
// project and never trained on (testdata/check.jsonl): a guard against a
// model that only fits its training data.
func TestModelCheckSet(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/check.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tally := NewTally(0.55)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			Text  string
			Label Class
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		tally.Add(l.Label, m.Classify(Post{Text: l.Text}))
	}
	r := tally.Report()
	if r.N != 80 || r.MacroF1 < 0.8 {
		t.Errorf("check set: %d posts, macro-F1 %.3f, want 80 posts and ≥ 0.8; %+v", r.N, r.MacroF1, r.PerClass)
	}
}

func TestModelResultShape(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		"my parcel never arrived", "journalist here, comment on the lawsuit?", "love it 😍", "", "ok", strings.Repeat("refund ", 300),
	} {
		res := m.Classify(Post{Text: text})
		sum := 0.0
		for i, p := range res.Scores {
			if !(p >= 0 && p <= 1) {
				t.Fatalf("%q: score %d is %v", text, i, p)
			}
			sum += p
		}
		if sum > 1+1e-9 || res.Confidence != res.Scores[res.Class.index()] || slices.Max(res.Scores[:]) != res.Confidence {
			t.Errorf("%q: class %s confidence %v scores %v", text, res.Class, res.Confidence, res.Scores)
		}
		// Reasons: the decided class's first, strongest first within it.
		seenOther := false
		for i, r := range res.Reasons {
			if r.Class != res.Class {
				seenOther = true
			} else if seenOther {
				t.Errorf("%q: reason %v for %s after reasons for other classes", text, r, res.Class)
			}
			if i > 0 && r.Class == res.Reasons[i-1].Class && r.Weight > res.Reasons[i-1].Weight {
				t.Errorf("%q: reasons not strongest first: %v", text, res.Reasons)
			}
		}
	}
}

func TestModelReasons(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text  string
		class Class
		kind  string
		has   string
	}{
		{"my order never arrived and I want a refund", Support, "phrase", "never arrived"},
		{"Boycott them. Their factories use child labour", Reputation, "word", "boycott"},
		{"I am not happy with the service at all", Support, "negated", "not … happy"},
		{"#BoycottAcme now", Reputation, "word", "boycott"},
		{"where can I buy one?", Promotional, "phrase", "where can i buy"},
	}
	for _, tc := range tests {
		res := m.Classify(Post{Text: tc.text})
		found := false
		for _, r := range res.Reasons {
			if r.Class == tc.class && r.Kind == tc.kind && r.Detail == tc.has && r.Weight > 0 {
				found = true
			}
		}
		if res.Class != tc.class || !found {
			t.Errorf("%q: %s, reasons %v; want %s with %s %q", tc.text, res.Class, res.Reasons, tc.class, tc.kind, tc.has)
		}
	}
	// A post for no department says so.
	res := m.Classify(Post{Text: "lol same"})
	if !slices.ContainsFunc(res.Reasons, func(r Reason) bool { return r.Class == None && r.Kind == "unclear" }) {
		t.Errorf("chit-chat: no 'unclear' reason in %v", res.Reasons)
	}
}

func TestModelReach(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	big := Author{Followers: 2_000_000, Verified: true}
	// Reach raises reputation, and is listed.
	neutral := "just tried the new store on the high street"
	small, large := m.Classify(Post{Text: neutral}), m.Classify(Post{Text: neutral, Author: big})
	if large.Scores[Reputation.index()] <= small.Scores[Reputation.index()] {
		t.Errorf("reach did not raise reputation: %v → %v", small.Scores, large.Scores)
	}
	if !slices.ContainsFunc(large.Reasons, func(r Reason) bool {
		return r.Kind == "reach" && r.Class == Reputation && r.Weight == modelReachMax && r.Detail == "followers ≥ 1M, verified"
	}) {
		t.Errorf("no capped reach reason in %v", large.Reasons)
	}
	// But a clear complaint from a big account stays a complaint.
	if got := m.Classify(Post{Text: "my order never arrived and nobody answers my emails, I want a refund", Author: big}); got.Class != Support {
		t.Errorf("complaint from a big account: %s %v", got.Class, got.Reasons)
	}
}

func TestModelConcurrent(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	posts := benchPosts(t)
	want := make([]Result, len(posts))
	for i, p := range posts {
		want[i] = m.Classify(p)
	}
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			for k := range 200 {
				i := (g*31 + k) % len(posts)
				if got := m.Classify(posts[i]); !resultsEqual(got, want[i]) {
					done <- errors.New("result differs under concurrency: " + posts[i].Text)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
