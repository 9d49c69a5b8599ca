package ingest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestTrailingDataRefused: every format reads exactly one JSON value;
// anything after it but white space is a 400 that says so, and nothing is
// stored.
func TestTrailingDataRefused(t *testing.T) {
	const (
		post  = `{"id":"1","platform":"x","text":"my order never arrived"}`
		tweet = `{"for_user_id":"1","tweet_create_events":[{"id_str":"5","text":"my order never arrived","user":{"id_str":"2"}}]}`
		page  = `{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"9","post_id":"1_2","message":"my order never arrived","from":{"id":"3"}}}]}]}`
	)
	tests := []struct {
		name, source, body string
	}{
		{"generic object then ]", "generic", post + `]`},
		{"generic object then }", "generic", post + `}`},
		{"generic object then object", "generic", post + ` ` + post},
		{"generic array then ]", "generic", `[` + post + `]]`},
		{"generic array then }", "generic", `[` + post + `]}`},
		{"generic array then array", "generic", `[` + post + `] [` + post + `]`},
		{"generic string then ]", "generic", `"x"]`},
		{"x object then }", "x", tweet + `}`},
		{"x object then ]", "x", tweet + "\n]"},
		{"x object then object", "x", tweet + tweet},
		{"meta object then ]", "meta", page + `]`},
		{"meta object then }", "meta", page + `}`},
		{"meta array then ]", "meta", `[` + page + `]]`},
		{"meta array then object", "meta", `[` + page + `]` + page},
	}
	f := newPlatformFixture(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.body)
			sign := signedBy(tt.source, b)
			if tt.source == "generic" {
				sign = signedAt(testSecret, time.Now(), b)
			}
			r := f.send(t, http.MethodPost, "/webhooks/"+tt.source, "application/json", b, sign)
			if r.code != http.StatusBadRequest {
				t.Fatalf("code %d, want 400: %v", r.code, r.body)
			}
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, "malformed JSON: data after the JSON value at byte") {
				t.Fatalf("error %q, want it to name the data after the JSON value", msg)
			}
		})
	}
	if n := f.pending(t); n != 0 {
		t.Fatalf("bodies with trailing data stored %d posts", n)
	}
	// White space after the value is fine.
	b := []byte(post + " \r\n\t")
	if r := f.send(t, http.MethodPost, "/webhooks/generic", "application/json", b, signedAt(testSecret, time.Now(), b)); r.code != http.StatusAccepted {
		t.Fatalf("trailing white space: %d %v", r.code, r.body)
	}
}
