package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

var testSecret = []byte("test-secret-0123456789")

type fixture struct {
	srv   *httptest.Server
	store *store.Store
}

func newFixture(t *testing.T, mutate func(*Options)) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "test.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts := Options{
		Sources:      []Source{{Name: "generic", Format: "generic", Secret: testSecret}},
		MaxBodyBytes: 4096,
		Logger:       zerolog.Nop(),
	}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := New(opts, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: st}
}

type response struct {
	code   int
	header http.Header
	body   map[string]any
}

// send posts body signed with secret at ts to path.
func (f *fixture) send(t *testing.T, method, path, contentType string, body []byte, sign func(http.Header)) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if sign != nil {
		sign(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json (body %s)", method, path, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %s", raw)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: m}
}

func signedAt(secret []byte, ts time.Time, body []byte) func(http.Header) {
	return func(h http.Header) {
		h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(HeaderSignature, Sign(secret, ts.Unix(), body))
	}
}

func (f *fixture) post(t *testing.T, body string) response {
	t.Helper()
	b := []byte(body)
	return f.send(t, http.MethodPost, "/webhooks/generic", "application/json", b, signedAt(testSecret, time.Now(), b))
}

func (f *fixture) pending(t *testing.T) int {
	t.Helper()
	st, err := f.store.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	return st.Pending
}

const goodPost = `{"id":"1790012345","platform":"x","text":"my order never arrived @acme",
 "author":{"handle":"@jane","name":"Jane Doe","followers":1520,"verified":false},
 "url":"https://x.com/jane/status/1790012345","created_at":"2026-11-20T14:03:00Z",
 "conversation_id":"1790010000","in_reply_to":"1790011111","lang":"en"}`

func TestAcceptedThenDuplicate(t *testing.T) {
	f := newFixture(t, nil)
	r := f.post(t, goodPost)
	if r.code != http.StatusAccepted || r.body["status"] != "accepted" {
		t.Fatalf("first post: %d %v", r.code, r.body)
	}
	id := r.body["id"].(string)
	rec, err := f.store.Get(id)
	if err != nil {
		t.Fatalf("202 but post not in store: %v", err)
	}
	want := routing.Post{
		ID: id, Source: "generic", ExternalID: "1790012345", Platform: "x", Text: "my order never arrived @acme",
		Author: routing.Author{Handle: "@jane", Name: "Jane Doe", Followers: 1520},
		URL:    "https://x.com/jane/status/1790012345", CreatedAt: time.Date(2026, 11, 20, 14, 3, 0, 0, time.UTC),
		ConversationID: "1790010000", InReplyTo: "1790011111", Lang: "en", ReceivedAt: rec.Post.ReceivedAt,
	}
	if fmt.Sprint(rec.Post) != fmt.Sprint(want) {
		t.Errorf("stored post\n got %+v\nwant %+v", rec.Post, want)
	}

	r = f.post(t, goodPost)
	if r.code != http.StatusOK || r.body["status"] != "duplicate" || r.body["id"] != id {
		t.Fatalf("resend: %d %v, want 200 duplicate of %s", r.code, r.body, id)
	}
	if n := f.pending(t); n != 1 {
		t.Fatalf("outbox holds %d entries after a duplicate, want 1", n)
	}
}

func TestArrayBodyMultiStatus(t *testing.T) {
	f := newFixture(t, nil)
	f.post(t, `{"id":"old","platform":"x","text":"seen before"}`)
	r := f.post(t, `[
		{"id":"a","platform":"x","text":"first"},
		{"id":"b","platform":"x","text":"   "},
		{"id":"old","platform":"x","text":"seen before"},
		{"id":"c","platform":"reddit","text":"third"},
		"not an object"
	]`)
	if r.code != http.StatusMultiStatus {
		t.Fatalf("code %d, want 207: %v", r.code, r.body)
	}
	results := r.body["results"].([]any)
	want := []struct {
		code   float64
		status string
	}{{202, "accepted"}, {400, "rejected"}, {200, "duplicate"}, {202, "accepted"}, {400, "rejected"}}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d", len(results), len(want))
	}
	for i, w := range want {
		got := results[i].(map[string]any)
		if got["index"] != float64(i) || got["code"] != w.code || got["status"] != w.status {
			t.Errorf("result %d = %v, want %v %s", i, got, w.code, w.status)
		}
	}
	if e := results[1].(map[string]any)["error"]; e != "text: required and not blank" {
		t.Errorf("item 1 error = %v", e)
	}
	if n := f.pending(t); n != 3 {
		t.Fatalf("outbox holds %d, want 3 (old, a, c)", n)
	}
}

func TestBadRequests(t *testing.T) {
	long := strings.Repeat("é", MaxTextRunes+1)
	var many []string
	for i := range MaxBatch + 1 {
		many = append(many, fmt.Sprintf(`{"id":"%d","platform":"x","text":"t"}`, i))
	}
	tests := []struct {
		name, body, want string
	}{
		{"malformed", `{"id":`, "malformed JSON"},
		{"trailing value", `{"id":"1","platform":"x","text":"t"} {}`, "data after the JSON value"},
		{"empty body", ``, "body is empty"},
		{"not an object", `"hello"`, "post must be a JSON object"},
		{"missing id", `{"platform":"x","text":"t"}`, "id: required"},
		{"numeric id", `{"id":17,"platform":"x","text":"t"}`, "id: must be a string"},
		{"missing platform", `{"id":"1","text":"t"}`, "platform: required"},
		{"unknown platform", `{"id":"1","platform":"myspace","text":"t"}`, `platform: "myspace" is not one of`},
		{"missing text", `{"id":"1","platform":"x"}`, "text: required"},
		{"blank text", `{"id":"1","platform":"x","text":" \n\t"}`, "text: required and not blank"},
		{"text too long", `{"id":"1","platform":"x","text":"` + long + `"}`, "text: 10001 characters; at most 10000"},
		{"negative followers", `{"id":"1","platform":"x","text":"t","author":{"followers":-1}}`, "author.followers: must not be negative"},
		{"followers not a number", `{"id":"1","platform":"x","text":"t","author":{"followers":"many"}}`, "author.followers: must be a number"},
		{"bad url", `{"id":"1","platform":"x","text":"t","url":"javascript:alert(1)"}`, "url: must be an absolute http(s) URL"},
		{"bad created_at", `{"id":"1","platform":"x","text":"t","created_at":"yesterday"}`, "created_at:"},
		{"empty array", `[]`, "array is empty"},
		{"nested too deep", `{"id":"1","platform":"x","text":"t","author":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, "nested deeper than 32 levels"},
		{"brackets in strings do not count", `{"id":"1","platform":"x","text":"` + strings.Repeat(`[{`, 40) + `","url":"ftp://x"}`, "url: must be an absolute http(s) URL"},
		{"array too long", "[" + strings.Join(many, ",") + "]", "array has 101 posts; at most 100"},
	}
	f := newFixture(t, func(o *Options) { o.MaxBodyBytes = 1 << 20 })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.post(t, tt.body)
			if r.code != http.StatusBadRequest {
				t.Fatalf("code %d, want 400: %v", r.code, r.body)
			}
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q, want it to contain %q", msg, tt.want)
			}
		})
	}
	t.Run("invalid UTF-8", func(t *testing.T) {
		b := []byte("{\"id\":\"1\",\"platform\":\"x\",\"text\":\"bad \xff byte\"}")
		r := f.send(t, http.MethodPost, "/webhooks/generic", "application/json", b, signedAt(testSecret, time.Now(), b))
		if r.code != http.StatusBadRequest || r.body["error"] != "body is not valid UTF-8" {
			t.Fatalf("%d %v", r.code, r.body)
		}
	})
	if n := f.pending(t); n != 0 {
		t.Fatalf("bad requests stored %d posts", n)
	}
}

func TestSignatureRefusals(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(goodPost)
	now := time.Now()
	tests := []struct {
		name string
		sign func(http.Header)
		want string
	}{
		{"no headers", nil, "missing X-Socialroute-Timestamp"},
		{"no signature", func(h http.Header) { h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10)) }, "missing X-Socialroute-Signature"},
		{"wrong secret", signedAt([]byte("another-secret-000000"), now, body), "does not match"},
		{"signature of other body", signedAt(testSecret, now, []byte(`{}`)), "does not match"},
		{"stale timestamp", signedAt(testSecret, now.Add(-301*time.Second), body), "replay"},
		{"future timestamp", signedAt(testSecret, now.Add(301*time.Second), body), "replay"},
		{"timestamp not a number", func(h http.Header) {
			h.Set(HeaderTimestamp, "yesterday")
			h.Set(HeaderSignature, Sign(testSecret, now.Unix(), body))
		}, "not a unix time"},
		{"no v1 scheme", func(h http.Header) {
			signedAt(testSecret, now, body)(h)
			h.Set(HeaderSignature, strings.TrimPrefix(h.Get(HeaderSignature), "v1="))
		}, `want "v1=`},
		{"signed timestamp replaced", func(h http.Header) {
			signedAt(testSecret, now.Add(-10*time.Second), body)(h)
			h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		}, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.send(t, http.MethodPost, "/webhooks/generic", "application/json", body, tt.sign)
			if r.code != http.StatusUnauthorized {
				t.Fatalf("code %d, want 401: %v", r.code, r.body)
			}
			msg, _ := r.body["error"].(string)
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q, want it to contain %q", msg, tt.want)
			}
			if strings.Contains(msg, string(testSecret)) {
				t.Fatal("error leaks the secret")
			}
		})
	}
	t.Run("rotation: one of several signatures matches", func(t *testing.T) {
		r := f.send(t, http.MethodPost, "/webhooks/generic", "application/json", body, func(h http.Header) {
			signedAt(testSecret, now, body)(h)
			h.Set(HeaderSignature, "v1=00ff,"+h.Get(HeaderSignature))
		})
		if r.code != http.StatusAccepted {
			t.Fatalf("code %d: %v", r.code, r.body)
		}
	})
	if n := f.pending(t); n != 1 {
		t.Fatalf("outbox holds %d, want only the rotation post", n)
	}
}

func TestRoutingStatuses(t *testing.T) {
	f := newFixture(t, nil)
	body := []byte(goodPost)
	sig := signedAt(testSecret, time.Now(), body)
	big := []byte(`{"id":"1","platform":"x","text":"` + strings.Repeat("a", 5000) + `"}`)

	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		sign                      func(http.Header)
		code                      int
		want                      string
	}{
		{"get webhook", http.MethodGet, "/webhooks/generic", "", nil, nil, 405, "method GET not allowed"},
		{"unknown source", http.MethodPost, "/webhooks/nope", "application/json", body, sig, 404, `unknown source "nope"`},
		{"unknown source before method", http.MethodPut, "/webhooks/nope", "application/json", body, sig, 405, "method PUT"},
		{"unknown path", http.MethodGet, "/nothing", "", nil, nil, 404, "no such endpoint"},
		{"text/plain", http.MethodPost, "/webhooks/generic", "text/plain", body, sig, 415, "Content-Type must be application/json"},
		{"no content type", http.MethodPost, "/webhooks/generic", "", body, sig, 415, "Content-Type"},
		{"content type before signature", http.MethodPost, "/webhooks/generic", "text/plain", body, nil, 415, "Content-Type"},
		{"too large", http.MethodPost, "/webhooks/generic", "application/json", big, signedAt(testSecret, time.Now(), big), 413, "body larger than 4096 bytes"},
		{"too large before content type and signature", http.MethodPost, "/webhooks/generic", "text/plain", big, nil, 413, "body larger"},
		{"charset parameter accepted", http.MethodPost, "/webhooks/generic", "application/json; charset=utf-8", body, sig, 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.send(t, tt.method, tt.path, tt.ctype, tt.body, tt.sign)
			if r.code != tt.code {
				t.Fatalf("code %d, want %d: %v", r.code, tt.code, r.body)
			}
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q, want it to contain %q", msg, tt.want)
			}
			if tt.code == 405 && r.header.Get("Allow") != "POST" {
				t.Fatalf("Allow = %q", r.header.Get("Allow"))
			}
		})
	}
}

func TestTooLargeWithoutContentLength(t *testing.T) {
	f := newFixture(t, nil)
	big := `{"id":"1","platform":"x","text":"` + strings.Repeat("a", 5000) + `"}`
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/webhooks/generic", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1 // chunked: the limit must hold while reading
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("code %d, want 413", resp.StatusCode)
	}
}

// storerFunc lets a test decide what the store answers.
type storerFunc func(ctx context.Context, posts []routing.Post) ([]store.IngestResult, error)

func (f storerFunc) Ingest(ctx context.Context, posts []routing.Post) ([]store.IngestResult, error) {
	return f(ctx, posts)
}

func TestStoreUnavailable(t *testing.T) {
	t.Run("closed store", func(t *testing.T) {
		f := newFixture(t, nil)
		f.store.Close()
		r := f.post(t, goodPost)
		if r.code != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Fatalf("%d %v Retry-After=%q", r.code, r.body, r.header.Get("Retry-After"))
		}
	})
	t.Run("queue full", func(t *testing.T) {
		s, err := New(Options{Sources: []Source{{Name: "generic", Format: "generic", Secret: testSecret}}, Logger: zerolog.Nop()},
			storerFunc(func(context.Context, []routing.Post) ([]store.IngestResult, error) {
				return nil, fmt.Errorf("store posts: %w", store.ErrBusy)
			}))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		defer srv.Close()
		f := &fixture{srv: srv}
		r := f.post(t, goodPost)
		if r.code != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || !strings.Contains(r.body["error"].(string), "queue full") {
			t.Fatalf("%d %v Retry-After=%q", r.code, r.body, r.header.Get("Retry-After"))
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	var ready error = errors.New("slack: not connected")
	f := newFixture(t, func(o *Options) { o.Ready = func() error { return ready } })
	if r := f.send(t, http.MethodGet, "/healthz", "", nil, nil); r.code != 200 || r.body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", r.code, r.body)
	}
	if r := f.send(t, http.MethodGet, "/readyz", "", nil, nil); r.code != 503 || r.body["error"] != "slack: not connected" {
		t.Fatalf("readyz not ready: %d %v", r.code, r.body)
	}
	ready = nil
	if r := f.send(t, http.MethodGet, "/readyz", "", nil, nil); r.code != 200 || r.body["status"] != "ready" {
		t.Fatalf("readyz ready: %d %v", r.code, r.body)
	}
}
