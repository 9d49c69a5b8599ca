package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// BenchmarkPreview replays 10,000 stored posts through the routing before
// and after a new rule, as `/route preview add …` does.
func BenchmarkPreview(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	texts := []string{
		"My order never arrived and support ignores my emails. I want a refund!",
		"Journalist here: we're running a story on Acme's data breach, can you comment?",
		"Where can I buy the Acme X2 headphones? Love them!",
		"We are preparing a lawsuit over the X2",
	}
	const n = 10_000
	for i := 0; i < n; i += 500 {
		batch := make([]routing.Post, 0, 500)
		for j := range 500 {
			batch = append(batch, routing.Post{Source: "generic", ExternalID: fmt.Sprint(i + j), Platform: "x", Text: texts[(i+j)%len(texts)]})
		}
		if _, err := st.Ingest(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	base, err := routing.NewRouter(routing.Config{
		Departments: []routing.Department{
			{Name: "support", Channel: "C0SUPPORT", Classes: []routing.Class{routing.Support}},
			{Name: "pr", Channel: "C0PR", Classes: []routing.Class{routing.Reputation}},
			{Name: "marketing", Channel: "C0MARKETING", Classes: []routing.Class{routing.Promotional}},
			{Name: "legal", Channel: "C0LEGAL"},
		},
		TriageChannel: "C0TRIAGE",
		MinConfidence: 0.55,
	}, routing.NewKeywordClassifier())
	if err != nil {
		b.Fatal(err)
	}
	build := func(rs store.RuleSet) (*routing.Router, error) {
		cfg := routing.Config{Departments: base.Departments(), TriageChannel: base.TriageChannel(), MinConfidence: base.MinConfidence(), Rules: rs.Rules}
		return base.With(cfg)
	}
	h := newCommands("/route", CommandOptions{Store: st, BuildRouter: build, Admins: []string{"U1"}}, nil, nil, st, nil, func(Router) {}, time.Now, zerolog.Nop())
	c, err := ParseCommand("preview add legal keyword lawsuit")
	if err != nil {
		b.Fatal(err)
	}
	want := fmt.Sprintf("%d of %d posts would change department", n/len(texts), n)
	b.ReportAllocs()
	for b.Loop() {
		r := h.preview(context.Background(), invocation{user: "U1"}, c)
		if !strings.Contains(r.title, want) {
			b.Fatalf("preview says %q, want %q", r.title, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/post")
}
