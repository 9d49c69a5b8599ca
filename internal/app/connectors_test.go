package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socialroute/socialroute/ingest"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/slackemu"
)

const (
	xSecret     = "e2e-x-consumer-secret-0123456789"
	metaSecret  = "e2e-meta-app-secret-0123456789"
	metaToken   = "e2e-meta-verify-token"
	testdataDir = "../../ingest/testdata"
)

// loadConnectorConfig is loadConfig with an X and a Meta source besides
// the generic one, configured as config.example.yaml does. Retention is a
// century: the platforms' documented payloads are years old, and events
// older than the retention period are refused.
func loadConnectorConfig(t *testing.T, emu *slackemu.Server, dbPath string) *config.Config {
	t.Helper()
	doc := fmt.Sprintf(`
slack: {app_token: "${APP}", bot_token: "${BOT}", api_url: %q, channel_rate: 0}
http: {listen: "127.0.0.1:0"}
store: {path: %q, retention_days: 36500}
sources:
  - {name: generic, format: generic, secret: "${SECRET}"}
  - {name: x, format: x, secret: "${X_CONSUMER_SECRET}"}
  - {name: meta, format: meta, secret: "${META_APP_SECRET}", verify_token: "${META_VERIFY_TOKEN}"}
routing:
  triage_channel: C0TRIAGE
  departments:
    - {name: support,   channel: C0SUPPORT,   classes: [support]}
    - {name: pr,        channel: C0PR,        classes: [reputation]}
    - {name: marketing, channel: C0MARKETING, classes: [promotional]}
`, emu.APIURL(), dbPath)
	env := map[string]string{
		"APP": emu.AppToken(), "BOT": emu.BotToken(), "SECRET": secret,
		"X_CONSUMER_SECRET": xSecret, "META_APP_SECRET": metaSecret, "META_VERIFY_TOKEN": metaToken,
	}
	cfg, err := config.Parse([]byte(doc), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// platformSend posts a testdata payload to source, signed as the platform
// signs it (or with key instead of the configured secret).
func (d *daemon) platformSend(t *testing.T, source, file string, key string) (int, map[string]any) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(testdataDir, file))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.app.Addr()+"/webhooks/"+source, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	switch source {
	case "x":
		req.Header.Set(ingest.HeaderXSignature, ingest.SignX([]byte(key), body))
	case "meta":
		req.Header.Set(ingest.HeaderMetaSignature, ingest.SignMeta([]byte(key), body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.app.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPlatformWebhooksReachSlack runs X's and Meta's handshakes and
// documented payloads through the real daemon: each post the platforms
// send lands in Slack once, in the channel its routing decision names,
// and a platform's retry posts nothing again.
func TestPlatformWebhooksReachSlack(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConnectorConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db")))

	// The handshakes each platform runs before it sends anything.
	const crcToken = "9b4507b3-9040-4669-9ca3-6b94edb50553"
	code, body := d.get(t, "/webhooks/x?crc_token="+crcToken)
	want, _ := json.Marshal(map[string]string{"response_token": ingest.CRCResponse([]byte(xSecret), crcToken)})
	if code != http.StatusOK || strings.TrimSpace(body) != string(want) {
		t.Fatalf("X CRC: %d %s, want 200 %s", code, body, want)
	}
	q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1158201444"}, "hub.verify_token": {metaToken}}
	if code, body := d.get(t, "/webhooks/meta?"+q.Encode()); code != http.StatusOK || body != "1158201444" {
		t.Fatalf("Meta verification: %d %q, want 200 1158201444", code, body)
	}

	// A forged notification is refused and stores nothing.
	if code, m := d.platformSend(t, "meta", "meta/page_feed_comment.json", "not-the-app-secret"); code != http.StatusUnauthorized {
		t.Fatalf("forged Meta notification: %d %v, want 401", code, m)
	}

	sends := []struct {
		source, file string
		accepted     float64
		platform     map[string]string // external id → platform
	}{
		{"x", "x/mention.json", 1, map[string]string{"1050118621198921728": "x"}},
		{"x", "x/direct_message.json", 1, map[string]string{"954491830116155396": "x"}},
		{"meta", "meta/page_feed_comment.json", 1, map[string]string{"2816341875243890_2816349011909843": "facebook"}},
		{"meta", "meta/instagram_comments.json", 1, map[string]string{"17865799348089039": "instagram"}},
	}
	wantPlatform := map[string]string{}
	for _, s := range sends {
		code, m := d.platformSend(t, s.source, s.file, map[string]string{"x": xSecret, "meta": metaSecret}[s.source])
		if code != http.StatusOK || m["status"] != "ok" || m["accepted"] != s.accepted {
			t.Fatalf("%s: %d %v, want 200 with %v accepted", s.file, code, m, s.accepted)
		}
		for id, p := range s.platform {
			wantPlatform[id] = p
		}
	}
	waitFor(t, emu, "four messages", func() bool { return total(emu) >= 4 })

	// The retry of a delivered notification is a duplicate; a generic post
	// sent after it is the barrier that shows it caused no message.
	if code, m := d.platformSend(t, "meta", "meta/page_feed_comment.json", metaSecret); code != http.StatusOK || m["duplicate"] != 1.0 || m["accepted"] != 0.0 {
		t.Fatalf("Meta retry: %d %v, want 200 with 1 duplicate", code, m)
	}
	barrier := d.accept(t, post("900", "The app crashes when I try to pay, please help", 10, false))
	waitFor(t, emu, "the barrier post", func() bool { return total(emu) >= 5 })

	seen := map[string]int{}
	for _, ch := range []string{"C0SUPPORT", "C0PR", "C0MARKETING", "C0TRIAGE"} {
		for _, id := range postIDs(emu, ch) {
			if id == barrier {
				continue
			}
			rec, err := d.app.Store().Get(id)
			if err != nil {
				t.Fatal(err)
			}
			ext := rec.Post.ExternalID
			seen[ext]++
			if rec.Post.Platform != wantPlatform[ext] || rec.Post.Source != map[string]string{"x": "x", "facebook": "meta", "instagram": "meta"}[rec.Post.Platform] {
				t.Errorf("post %s stored with source %q platform %q", ext, rec.Post.Source, rec.Post.Platform)
			}
			waitFor(t, emu, "delivery record of "+id, func() bool {
				rec, err = d.app.Store().Get(id)
				return err == nil && rec.Delivery != nil
			})
			if rec.Delivery.Channel != ch || rec.Decision.Channel != ch {
				t.Errorf("post %s is in %s but recorded for %s (decision %s)", ext, ch, rec.Delivery.Channel, rec.Decision.Channel)
			}
		}
	}
	for ext := range wantPlatform {
		if seen[ext] != 1 {
			t.Errorf("post %s reached Slack %d times, want once (all: %v)", ext, seen[ext], seen)
		}
	}
	if n := emu.Calls("chat.postMessage"); n != 5 {
		t.Fatalf("chat.postMessage called %d times, want 5", n)
	}

	// What the people in Slack see of an X mention: who wrote it and where.
	var texts []string
	for _, ch := range []string{"C0SUPPORT", "C0PR", "C0MARKETING", "C0TRIAGE"} {
		for _, m := range emu.Messages(ch) {
			texts = append(texts, m.Text+string(mustJSON(m.Blocks)))
		}
	}
	if !slices.ContainsFunc(texts, func(s string) bool {
		return strings.Contains(s, "@TwitterAPI") && strings.Contains(s, "https://x.com/TwitterAPI/status/1050118621198921728")
	}) {
		t.Errorf("no Slack message shows the X mention's author and link:\n%s", strings.Join(texts, "\n"))
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestStalePlatformEventNotPostedAgain: an X body captured long ago —
// here X's own documented payload from 2018 — replayed to a daemon that
// keeps posts for store.retention_days is refused, since the store may
// have pruned the post and its dedupe key; nothing reaches Slack.
func TestStalePlatformEventNotPostedAgain(t *testing.T) {
	emu := newEmulator(t)
	cfg := loadConnectorConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"))
	cfg.Store.RetentionDays = 90
	d := start(t, cfg)

	code, m := d.platformSend(t, "x", "x/mention.json", xSecret)
	if code != http.StatusOK || m["accepted"] != 0.0 || m["skipped"] != 1.0 {
		t.Fatalf("replayed X body: %d %v, want 200 with the tweet skipped", code, m)
	}
	barrier := d.accept(t, post("901", "The app crashes when I try to pay, please help", 10, false))
	waitFor(t, emu, "the barrier post", func() bool { return total(emu) >= 1 })
	if n := emu.Calls("chat.postMessage"); n != 1 || total(emu) != 1 {
		t.Fatalf("chat.postMessage called %d times (%d messages), want only the barrier %s", n, total(emu), barrier)
	}
}
