package trainset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialroute/socialroute/routing"
)

func testSources() Sources {
	return Sources{Complaints: "testdata/complaints.csv", Purchase: "testdata/purchase.csv", Dir: "testdata/train"}
}

func TestLoad(t *testing.T) {
	set, err := Load(testSources())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		class  routing.Class
		weight float64
		source string
	}
	want := map[string]row{
		"@acme my order never arrived, where is it?":      {routing.Support, 0, SourceComplaint},
		"@acme the app keeps crashing when I log in":      {routing.Support, 0, SourceComplaint},
		"@acme how do I change my delivery address?":      {routing.Support, relabelledWeight, SourceNotComplaint},
		"@acme love the new colours!":                     {routing.Promotional, relabelledWeight, SourceNotComplaint},
		"@acme thanks!":                                   {routing.None, relabelledWeight, SourceNotComplaint},
		"just watched the game lol":                       {routing.None, 0, SourceNotToBrand},
		"@friend see you tomorrow":                        {routing.None, 0, SourceNotToBrand},
		"I want the new phone so bad":                     {routing.Promotional, purchaseIntentWeight, SourcePurchaseYes},
		"gonna buy one tomorrow, can't wait":              {routing.Promotional, purchaseIntentWeight, SourcePurchaseYes},
		"I hate how heavy this phone is":                  {routing.None, purchaseIntentWeight * relabelledWeight, SourcePurchaseOther},
		"my phone froze again and won't restart":          {routing.Support, purchaseIntentWeight * relabelledWeight, SourcePurchaseOther},
		"journalist here, can your press office comment?": {routing.Reputation, 0, "written:written.jsonl"},
		"boycott acme until they pay a living wage":       {routing.Reputation, 0, "written:written.jsonl"},
	}
	got := make(map[string]row)
	for _, ex := range set.Examples {
		if _, dup := got[ex.Text]; dup {
			t.Errorf("%q loaded twice", ex.Text)
		}
		got[ex.Text] = row{ex.Class, ex.Weight, ex.Source}
	}
	for text, w := range want {
		if g, ok := got[text]; !ok || g != w {
			t.Errorf("%q: %+v (loaded %v), want %+v", text, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d examples, want %d: %v", len(got), len(want), got)
	}
	// Left out: a non-complaint we gave no class (1006), an unlabelled
	// purchase row, and two duplicates (1009 differs only in case; the
	// written copy of 1001).
	wantSkipped := map[string]int{
		"complaints: not a complaint, no class given":      1,
		"purchase intent: no or undefined, no class given": 1,
		"duplicate text": 2,
	}
	for k, n := range wantSkipped {
		if set.Skipped[k] != n {
			t.Errorf("skipped %q: %d, want %d (all: %v)", k, set.Skipped[k], n, set.Skipped)
		}
	}
	if len(set.Exclude) != 1 || set.Exclude[0] != "acme" {
		t.Errorf("exclude %q, want [acme]", set.Exclude)
	}
	if len(set.Sources) != 3 {
		t.Errorf("sources %q", set.Sources)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	relabelDir := func(complaints string) string {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "complaints-relabel.csv"), []byte(complaints), 0o600)
		os.WriteFile(filepath.Join(d, "purchase-relabel.csv"), []byte("text_sha256,class\n"), 0o600)
		return d
	}
	okRelabel := relabelDir("id,class\n")
	tests := []struct {
		name string
		src  Sources
		want string
	}{
		{"nothing", Sources{}, "no examples"},
		{"missing file", Sources{Complaints: filepath.Join(dir, "none.csv"), Dir: okRelabel}, "no such file"},
		{"wrong header", Sources{Complaints: write("h.csv", "id,text,label\n1,a,1\n"), Dir: okRelabel}, "wrong number of fields"},
		{"wrong columns", Sources{Complaints: write("c.csv", "id,label,text,domain\n1,1,a,retail\n"), Dir: okRelabel}, `header must be "id,text,label,domain"`},
		{"bad complaint label", Sources{Complaints: write("l.csv", "id,text,label,domain\n7,a,yes,retail\n"), Dir: okRelabel}, `row 7: label "yes"`},
		{"bad purchase label", Sources{Purchase: write("p.csv", "label,text\nmaybe,a\n"), Dir: okRelabel}, `row 2: label "maybe"`},
		{"bad relabel class", Sources{Complaints: write("ok.csv", "id,text,label,domain\n1,a,1,retail\n"), Dir: relabelDir("id,class\n1,sales\n")}, `class "sales"`},
		{"bad relabel header", Sources{Complaints: write("ok2.csv", "id,text,label,domain\n1,a,1,retail\n"), Dir: relabelDir("id,label\n")}, `header must be "id,class"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Load(tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDecodeJSONL(t *testing.T) {
	good := `{"text": "my order never arrived", "label": "support", "id": 17, "source": "x"}

{"text": "big account", "label": " Reputation", "author": {"followers": 250000, "verified": true}}
`
	got, err := DecodeJSONL(strings.NewReader(good), "good.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Label != routing.Support || got[1].Label != routing.Reputation ||
		got[1].Author == nil || got[1].Author.Followers != 250000 || !got[1].Author.Verified {
		t.Fatalf("got %+v", got)
	}
	tests := []struct {
		name, in, want string
	}{
		{"not json", `{"text": "a", "label": "support"}` + "\nnope\n", "bad.jsonl:2: invalid character"},
		{"misspelt label key", `{"text": "a", "lable": "support"}`, `bad.jsonl:1: "label" "" is not support`},
		{"label not a string", `{"text": "a", "label": 1}`, "bad.jsonl:1: json: cannot unmarshal number"},
		{"unknown label", `{"text": "a", "label": "sales"}`, `bad.jsonl:1: "label" "sales" is not support, reputation, promotional or none`},
		{"blank text", `{"text": "  ", "label": "support"}`, `bad.jsonl:1: "text" is missing or blank`},
		{"no text", `{"label": "support"}`, `bad.jsonl:1: "text" is missing or blank`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeJSONL(strings.NewReader(tc.in), "bad.jsonl"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestHoldoutAndCrossValidate(t *testing.T) {
	set, err := Load(testSources())
	if err != nil {
		t.Fatal(err)
	}
	// Enough examples per class for 3 folds.
	for i, text := range []string{
		"where is my parcel", "refund me now please", "my card was charged twice", "the website is down again",
		"reporter asking for comment", "lawsuit filed over the leak", "sign the petition against them", "protest outside their office",
		"where can I buy it", "love my new one", "best purchase ever", "would love a collab",
		"ok", "lol", "same here", "good night",
	} {
		set.Examples = append(set.Examples, routing.TrainExample{Text: text, Class: [...]routing.Class{routing.Support, routing.Reputation, routing.Promotional, routing.None}[i/4], Source: "written:test"})
	}
	total := len(set.Examples)
	cv, err := set.CrossValidate(routing.TrainOptions{MinCount: 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Folds != 3 || len(cv.FoldMacroF1) != 3 || cv.ThreeClass.N == 0 || cv.Temperature <= 0 || len(cv.Thresholds) != 5 {
		t.Errorf("cross-validation report %+v", cv)
	}
	if cv.ComplaintArgmax.N != 7 || cv.ComplaintArgmaxToBrand.N != 5 || cv.ComplaintAgreed.N != 4 {
		t.Errorf("complaint rows counted %d / %d / %d, want 7 / 5 / 4", cv.ComplaintArgmax.N, cv.ComplaintArgmaxToBrand.N, cv.ComplaintAgreed.N)
	}
	if _, err := set.CrossValidate(routing.TrainOptions{}, 1); err == nil {
		t.Error("1 fold accepted")
	}

	held, err := set.Holdout(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Examples)+len(held) > total || len(held) == 0 || len(set.Examples) == total {
		t.Fatalf("holdout: %d kept, %d held out of %d", len(set.Examples), len(held), total)
	}
	kept := make(map[string]bool)
	for _, ex := range set.Examples {
		kept[ex.Text] = true
	}
	for _, h := range held {
		if kept[h.Text] || !h.Label.Valid() {
			t.Errorf("held-out %q (%s) is also trained on or has no department", h.Text, h.Label)
		}
	}
}
