package ingest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
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

// TestUnstorableTimesRefused: a time the store cannot keep (outside years
// 1 to 9999 once in UTC) is a 400 naming created_at for the generic
// format, and a refused event for X and Meta whose other events are still
// stored. Before, the store's write failed and every retry got a 503.
func TestUnstorableTimesRefused(t *testing.T) {
	f := newPlatformFixture(t, func(o *Options) { o.Metrics = metrics.New() })
	generic := func(id, createdAt string) string {
		return fmt.Sprintf(`{"id":%q,"platform":"x","text":"my order never arrived","created_at":%q}`, id, createdAt)
	}
	for _, ts := range []string{"9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01", "0000-06-01T00:00:00Z"} {
		r := f.post(t, generic("g-"+ts, ts))
		if msg, _ := r.body["error"].(string); r.code != http.StatusBadRequest || !strings.HasPrefix(msg, "created_at: ") || !strings.Contains(msg, "outside years 1 to 9999") {
			t.Fatalf("created_at %s: %d %v, want 400 naming created_at", ts, r.code, r.body)
		}
	}
	// In an array the other posts are stored.
	r := f.post(t, "["+generic("bad", "9999-12-31T23:59:59-23:59")+","+generic("good", "2026-11-20T14:03:00Z")+"]")
	results, _ := r.body["results"].([]any)
	if r.code != http.StatusMultiStatus || len(results) != 2 {
		t.Fatalf("array: %d %v, want 207 with two results", r.code, r.body)
	}
	if bad, good := results[0].(map[string]any), results[1].(map[string]any); bad["code"] != 400.0 || !strings.HasPrefix(bad["error"].(string), "created_at:") || good["code"] != 202.0 {
		t.Fatalf("array results %v, want the bad time rejected naming created_at and the good post accepted", results)
	}
	// The extremes that can be stored are.
	for _, ts := range []string{"9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"} {
		if r := f.post(t, generic("edge-"+ts, ts)); r.code != http.StatusAccepted {
			t.Fatalf("created_at %s: %d %v, want 202", ts, r.code, r.body)
		}
	}

	now := time.Now().UTC()
	tweet := func(id, createdAt, timestampMs string) string {
		return fmt.Sprintf(`{"id_str":%q,"text":"my order never arrived","created_at":%q,"timestamp_ms":%q,"user":{"id_str":"7","screen_name":"jane"}}`, id, createdAt, timestampMs)
	}
	x := `{"for_user_id":"1","tweet_create_events":[` +
		tweet("101", "Fri Dec 31 23:59:59 -2359 9999", "") + "," +
		tweet("102", "", "9223372036854775807") + "," +
		tweet("103", "", "99999999999999999999999") + "," +
		tweet("104", now.Format(time.RubyDate), "") +
		`],"direct_message_events":[{"type":"message_create","id":"105","created_timestamp":"9000000000000000000","message_create":{"sender_id":"7","target":{"recipient_id":"1"},"message_data":{"text":"where is my refund"}}}]}`
	if r := f.platformPost(t, "x", []byte(x)); r.code != http.StatusOK || r.body["accepted"] != 1.0 || r.body["skipped"] != 4.0 {
		t.Fatalf("x: %d %v, want 200 with 1 accepted and 4 skipped", r.code, r.body)
	}

	feed := func(id, created string) string {
		return fmt.Sprintf(`{"field":"feed","value":{"item":"comment","verb":"add","comment_id":%q,"post_id":"1_2","message":"my order never arrived","from":{"id":"3"},"created_time":%q}}`, id, created)
	}
	meta := `{"object":"page","entry":[{"id":"1","time":` + fmt.Sprint(now.Unix()) + `,"changes":[` +
		feed("201", "9999-12-31T23:59:59-2359") + "," +
		feed("202", "1000000000000000000") + "," +
		feed("203", fmt.Sprint(now.Unix())) +
		`],"messaging":[{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":9223372036854775807,"message":{"mid":"m.204","text":"hello?"}}]}]}`
	if r := f.platformPost(t, "meta", []byte(meta)); r.code != http.StatusOK || r.body["accepted"] != 1.0 || r.body["skipped"] != 3.0 {
		t.Fatalf("meta: %d %v, want 200 with 1 accepted and 3 skipped", r.code, r.body)
	}

	var ids []string
	for _, p := range f.stored(t) {
		ids = append(ids, p.ExternalID)
		if y := p.CreatedAt.Year(); y < 1 || y > 9999 {
			t.Errorf("post %s stored with created_at %s", p.ExternalID, p.CreatedAt)
		}
	}
	slices.Sort(ids)
	want := []string{"104", "203", "edge-0001-01-01T00:00:00Z", "edge-9999-12-31T23:59:59Z", "good"}
	if !slices.Equal(ids, want) {
		t.Fatalf("stored %v, want %v", ids, want)
	}
	text := f.scrape(t)
	for _, line := range []string{
		`socialroute_webhook_rejected_total{reason="timestamp",source="x"} 4`,
		`socialroute_webhook_rejected_total{reason="timestamp",source="meta"} 3`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("metrics lack %s:\n%s", line, grepLines(text, "rejected"))
		}
	}
}
