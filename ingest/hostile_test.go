package ingest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/socialroute/socialroute/internal/metrics"
)

// scrape returns the server's /metrics text.
func (f *fixture) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUnknownSourcesAreNotLabels sends requests for made-up sources with
// every method: none of the names may reach /metrics, or each new name
// would hold memory for the life of the process.
func TestUnknownSourcesAreNotLabels(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Metrics = metrics.New() })
	for i, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodPost, http.MethodGet} {
		for j := range 20 {
			name := "made-up-source-" + strings.Repeat("x", i) + string(rune('a'+j))
			req, _ := http.NewRequest(method, f.srv.URL+"/webhooks/"+name, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s %s: %d, want 405 or 404", method, name, resp.StatusCode)
			}
		}
	}
	// A configured source keeps its own label.
	req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/webhooks/generic", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	text := f.scrape(t)
	if strings.Contains(text, "made-up-source") {
		t.Fatalf("an unknown source name became a metric label:\n%s", grepLines(text, "made-up-source"))
	}
	var series []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "socialroute_webhook_rejected_total{") {
			series = append(series, line)
		}
	}
	want := []string{
		`socialroute_webhook_rejected_total{reason="method",source=""} 60`,
		`socialroute_webhook_rejected_total{reason="method",source="generic"} 1`,
		`socialroute_webhook_rejected_total{reason="source",source=""} 40`,
	}
	if strings.Join(series, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rejected series:\n%s\nwant:\n%s", strings.Join(series, "\n"), strings.Join(want, "\n"))
	}
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	if len(out) > 5 {
		out = append(out[:5], "…")
	}
	return strings.Join(out, "\n")
}
