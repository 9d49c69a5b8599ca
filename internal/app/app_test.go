package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/ingest"
	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

const secret = "e2e-webhook-secret-0123456789"

var channelIDs = map[routing.Class]string{
	routing.Support:     "C0SUPPORT",
	routing.Reputation:  "C0PR",
	routing.Promotional: "C0MARKETING",
}

func newEmulator(t *testing.T) *slackemu.Server {
	t.Helper()
	emu := slackemu.New(slackemu.Options{
		PingInterval: 500 * time.Millisecond,
		Channels: []slackemu.Channel{
			{ID: "C0SUPPORT", Name: "support"}, {ID: "C0PR", Name: "pr"},
			{ID: "C0MARKETING", Name: "marketing"}, {ID: "C0TRIAGE", Name: "triage"},
		},
	})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}

// loadConfig builds the test configuration; extra YAML is appended to it.
func loadConfig(t *testing.T, emu *slackemu.Server, dbPath, botToken string, extra ...string) *config.Config {
	t.Helper()
	doc := fmt.Sprintf(`
slack: {app_token: "${APP}", bot_token: "${BOT}", api_url: %q, admins: [UADMIN], channel_rate: 0}
http: {listen: "127.0.0.1:0"}
store: {path: %q}
sources: [{name: generic, format: generic, secret: "${SECRET}"}]
routing:
  triage_channel: C0TRIAGE
  departments:
    - {name: support,   channel: C0SUPPORT,   classes: [support]}
    - {name: pr,        channel: C0PR,        classes: [reputation]}
    - {name: marketing, channel: C0MARKETING, classes: [promotional]}
`, emu.APIURL(), dbPath) + strings.Join(extra, "\n")
	env := map[string]string{"APP": emu.AppToken(), "BOT": botToken, "SECRET": secret}
	cfg, err := config.Parse([]byte(doc), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// daemon is one running socialroute process, as far as a test can tell.
type daemon struct {
	app  *app.App
	stop func() error
	logs *syncBuffer
}

func start(t *testing.T, cfg *config.Config) *daemon {
	t.Helper()
	return startWith(t, cfg, app.Options{})
}

func startWith(t *testing.T, cfg *config.Config, opts app.Options) *daemon {
	t.Helper()
	logs := &syncBuffer{}
	opts.Logger = zerolog.New(logs)
	a, err := app.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var err2 error
	stop := func() error {
		once.Do(func() { cancel(); err2 = <-done })
		return err2
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("daemon logs:\n%s", logs)
		}
	})
	return &daemon{app: a, stop: stop, logs: logs}
}

func (d *daemon) send(t *testing.T, body string, ts time.Time, key string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.app.Addr()+"/webhooks/generic", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ingest.HeaderTimestamp, fmt.Sprint(ts.Unix()))
	req.Header.Set(ingest.HeaderSignature, ingest.Sign([]byte(key), ts.Unix(), []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (d *daemon) accept(t *testing.T, body string) string {
	t.Helper()
	code, m := d.send(t, body, time.Now(), secret)
	if code != http.StatusAccepted {
		t.Fatalf("webhook answered %d %v, want 202", code, m)
	}
	return m["id"].(string)
}

func waitFor(t *testing.T, emu *slackemu.Server, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := emu.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// postIDs returns the post id in each socialroute message of channel.
func postIDs(emu *slackemu.Server, channel string) []string {
	var ids []string
	for _, m := range emu.Messages(channel) {
		if m.Metadata == nil || m.Metadata.EventType != "socialroute_post" {
			continue
		}
		var p struct {
			PostID string `json:"post_id"`
		}
		json.Unmarshal(m.Metadata.EventPayload, &p)
		ids = append(ids, p.PostID)
	}
	return ids
}

// allPostIDs is postIDs with the posts in threads (incidents) included.
func allPostIDs(emu *slackemu.Server, channel string) []string {
	ids := postIDs(emu, channel)
	for _, m := range emu.Messages(channel) {
		for _, r := range emu.Replies(channel, m.TS) {
			if r.TS == m.TS || r.Metadata == nil || r.Metadata.EventType != "socialroute_post" {
				continue
			}
			var p struct {
				PostID string `json:"post_id"`
			}
			json.Unmarshal(r.Metadata.EventPayload, &p)
			ids = append(ids, p.PostID)
		}
	}
	return ids
}

func total(emu *slackemu.Server) int {
	n := 0
	for _, ch := range []string{"C0SUPPORT", "C0PR", "C0MARKETING", "C0TRIAGE"} {
		n += len(emu.Messages(ch))
	}
	return n
}

func post(id, text string, followers int, verified bool) string {
	b, _ := json.Marshal(map[string]any{
		"id": id, "platform": "x", "text": text, "url": "https://x.com/u/status/" + id,
		"author": map[string]any{"handle": "@u" + id, "followers": followers, "verified": verified},
	})
	return string(b)
}

var (
	supportPost     = post("101", "My order never arrived and support ignores my emails. I want a refund!", 120, false)
	reputationPost  = post("102", "Journalist at the Ledger here: we're running a story on Acme's data breach, can you comment?", 90000, true)
	promotionalPost = post("103", "Where can I buy the Acme X2 headphones? Love them, want to order two!", 300, false)
)

func TestSignedPostsLandInTheirDepartmentOnce(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))

	ids := map[routing.Class]string{
		routing.Support:     d.accept(t, supportPost),
		routing.Reputation:  d.accept(t, reputationPost),
		routing.Promotional: d.accept(t, promotionalPost),
	}
	waitFor(t, emu, "three messages", func() bool { return total(emu) >= 3 })

	for class, id := range ids {
		got := postIDs(emu, channelIDs[class])
		if len(got) != 1 || got[0] != id {
			t.Errorf("%s channel holds posts %v, want exactly [%s]", class, got, id)
		}
		rec, err := d.app.Store().Get(id)
		if err != nil {
			t.Fatal(err)
		}
		// The delivery record is written right after Slack answers.
		testutil.Eventually(t, "delivery record of "+id, func() bool {
			rec, err = d.app.Store().Get(id)
			return err == nil && rec.Delivery != nil
		})
		if rec.Delivery.Channel != channelIDs[class] || rec.Decision.Class != class {
			t.Errorf("post %s recorded as %+v / %+v", id, rec.Decision, rec.Delivery)
		}
		if m, ok := emu.Message(rec.Delivery.Channel, rec.Delivery.TS); !ok || !strings.Contains(m.Text, "["+string(class)+"]") {
			t.Errorf("recorded ts %s does not name the message posted: %+v", rec.Delivery.TS, m)
		}
	}

	// The same post id again: 200 duplicate, same internal id, no message.
	code, m := d.send(t, supportPost, time.Now(), secret)
	if code != http.StatusOK || m["status"] != "duplicate" || m["id"] != ids[routing.Support] {
		t.Fatalf("resend answered %d %v, want 200 duplicate of %s", code, m, ids[routing.Support])
	}
	// A later post is delivered after anything the duplicate could have
	// caused (the outbox is drained in order), so it is the barrier.
	barrier := d.accept(t, post("104", "The app crashes when I try to pay, please help", 10, false))
	waitFor(t, emu, "the barrier post", func() bool { return len(postIDs(emu, "C0SUPPORT")) >= 2 })
	if got := postIDs(emu, "C0SUPPORT"); len(got) != 2 || got[1] != barrier {
		t.Fatalf("support channel after resend: %v, want [%s %s]", got, ids[routing.Support], barrier)
	}
	if n := emu.Calls("chat.postMessage"); n != 4 {
		t.Fatalf("chat.postMessage called %d times, want 4", n)
	}
}

func TestBadSignatureStoresNothing(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))

	for name, send := range map[string]func() (int, map[string]any){
		"wrong secret":    func() (int, map[string]any) { return d.send(t, supportPost, time.Now(), "wrong-secret-0000000000") },
		"stale timestamp": func() (int, map[string]any) { return d.send(t, supportPost, time.Now().Add(-6*time.Minute), secret) },
	} {
		if code, m := send(); code != http.StatusUnauthorized {
			t.Fatalf("%s: %d %v, want 401", name, code, m)
		}
	}
	st, err := d.app.Store().OutboxStats()
	if err != nil || st.Pending != 0 {
		t.Fatalf("outbox after refusals = %+v, %v", st, err)
	}
	// Had a refused post been stored, this would be a duplicate.
	d.accept(t, supportPost)
	waitFor(t, emu, "the accepted post", func() bool { return total(emu) == 1 })
}

func TestOutboxSurvivesRestart(t *testing.T) {
	emu := newEmulator(t)
	dbPath := filepath.Join(t.TempDir(), "e2e.db")
	cfg := loadConfig(t, emu, dbPath, emu.BotToken())

	// Slack is down: every delivery attempt fails and is rescheduled.
	emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusServiceUnavailable})
	first := start(t, cfg)
	var ids []string
	for _, p := range []string{supportPost, reputationPost, promotionalPost} {
		ids = append(ids, first.accept(t, p))
	}
	waitFor(t, emu, "a failed delivery attempt", func() bool { return emu.Calls("chat.postMessage") >= 1 })
	if err := first.stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if total(emu) != 0 {
		t.Fatal("a message got through while Slack was failing")
	}

	emu.ClearFaults()
	second := start(t, loadConfig(t, emu, dbPath, emu.BotToken()))
	waitFor(t, emu, "delivery after restart", func() bool { return total(emu) >= 3 })
	// Let the worker drain completely before counting.
	testutil.Eventually(t, "empty outbox", func() bool {
		st, err := second.app.Store().OutboxStats()
		return err == nil && st.Pending == 0
	})
	seen := map[string]int{}
	for _, ch := range channelIDs {
		for _, id := range postIDs(emu, ch) {
			seen[id]++
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("post %s delivered %d times, want once (all: %v)", id, seen[id], seen)
		}
	}
	if total(emu) != 3 {
		t.Errorf("%d messages in Slack, want 3", total(emu))
	}
}

func TestInFlightPostIsNotPostedTwice(t *testing.T) {
	emu := newEmulator(t)
	dbPath := filepath.Join(t.TempDir(), "e2e.db")

	// A previous process got as far as Slack accepting the message, and
	// died before recording its ts.
	st, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Ingest(context.Background(), []routing.Post{{Source: "generic", ExternalID: "9", Platform: "x", Text: "refund please, order broken"}})
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].ID
	if _, err := st.BeginAttempt(id, routing.Decision{Class: routing.Support, Department: "support", Channel: "C0SUPPORT", Confidence: 0.9}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()))
	_, ts, err := api.PostMessage("C0SUPPORT", slack.MsgOptionText("[support] earlier attempt", false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "socialroute_post", EventPayload: map[string]any{"post_id": id}}))
	if err != nil {
		t.Fatal(err)
	}

	d := start(t, loadConfig(t, emu, dbPath, emu.BotToken()))
	testutil.Eventually(t, "the in-flight entry to be settled", func() bool {
		rec, err := d.app.Store().Get(id)
		return err == nil && rec.Delivery != nil
	})
	rec, _ := d.app.Store().Get(id)
	if rec.Delivery.TS != ts {
		t.Fatalf("recorded ts %s, want the earlier message's %s", rec.Delivery.TS, ts)
	}
	if n := len(emu.Messages("C0SUPPORT")); n != 1 {
		t.Fatalf("%d messages in the channel, want 1", n)
	}
}

func TestRejectedBotTokenStopsTheDaemon(t *testing.T) {
	emu := newEmulator(t)
	cfg := loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), "xoxb-not-the-right-token")
	a, err := app.New(cfg, app.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("Run = %v, want an invalid_auth error", err)
	}
	if strings.Contains(err.Error(), "xoxb-not-the-right-token") {
		t.Fatal("error leaks the token")
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)
