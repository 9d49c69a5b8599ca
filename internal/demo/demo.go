// Package demo runs socialroute's real pipeline — config, webhook server,
// bbolt store, routing, Socket Mode bot — against the built-in Slack
// emulator, sends sample posts through the signed webhook, and prints what
// each Slack channel received. It needs no Slack account and no network
// beyond loopback.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/ingest"
	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/routing"
)

// Options tune a demo run.
type Options struct {
	// Log receives the daemon's own logs; nil discards them.
	Log io.Writer
	// Timeout bounds the whole run. Default 60 s.
	Timeout time.Duration
}

type channel struct {
	id, name string
	class    routing.Class // "" for triage
}

var channels = []channel{
	{"C0SUPPORT", "support", routing.Support},
	{"C0PR", "pr", routing.Reputation},
	{"C0MARKETING", "marketing", routing.Promotional},
	{"C0TRIAGE", "triage", ""},
}

const configTemplate = `
slack:
  app_token: ${SLACK_APP_TOKEN}
  bot_token: ${SLACK_BOT_TOKEN}
  api_url: %s
  admins: [U0ADMINZOE]
http:
  listen: 127.0.0.1:0
store:
  path: %s
sources:
  - name: demo
    format: generic
    secret: ${WEBHOOK_SECRET}
routing:
  min_confidence: 0.55
  triage_channel: C0TRIAGE
  departments:
    - {name: support,   channel: C0SUPPORT,   classes: [support]}
    - {name: pr,        channel: C0PR,        classes: [reputation]}
    - {name: marketing, channel: C0MARKETING, classes: [promotional]}
incidents:
  update_every: 0s   # show every change to the incident counter at once
log:
  level: info
`

// Run performs the demo and writes its report to w.
func Run(ctx context.Context, w io.Writer, opts Options) error {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	var chans []slackemu.Channel
	for _, c := range channels {
		chans = append(chans, slackemu.Channel{ID: c.id, Name: c.name})
	}
	emu := slackemu.New(slackemu.Options{Channels: chans})
	if err := emu.Start(); err != nil {
		return fmt.Errorf("start slack emulator: %w", err)
	}
	defer emu.Close()

	dir, err := os.MkdirTemp("", "socialroute-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	secret := randomSecret()
	env := map[string]string{
		"SLACK_APP_TOKEN": emu.AppToken(),
		"SLACK_BOT_TOKEN": emu.BotToken(),
		"WEBHOOK_SECRET":  secret,
	}
	cfg, err := config.Parse(fmt.Appendf(nil, configTemplate, emu.APIURL(), filepath.Join(dir, "socialroute.db")),
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		return err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	logger := zerolog.New(zerolog.ConsoleWriter{Out: zerolog.SyncWriter(logw), TimeFormat: "15:04:05.000", NoColor: true}).With().Timestamp().Logger()
	daemon, err := app.New(cfg, app.Options{Logger: logger})
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { runErr <- daemon.Run(runCtx) }()
	stopDaemon := func() error { stop(); return <-runErr }

	fmt.Fprintf(w, "socialroute demo: webhook server on %s, Slack emulator on %s, bbolt store in %s\n\n", daemon.Addr(), emu.APIURL(), dir)
	if err := emu.WaitConnected(ctx, 1); err != nil {
		stopDaemon()
		return fmt.Errorf("bot did not connect over Socket Mode: %w", err)
	}
	fmt.Fprintln(w, "Bot connected over Socket Mode. Sending posts to POST /webhooks/demo:")

	c := &client{url: "http://" + daemon.Addr() + "/webhooks/demo", secret: []byte(secret)}
	ids := make([]string, len(samples)) // internal id of each sample, from the webhook's answer
	for i, s := range samples {
		code, answer, id, err := c.send(ctx, s.body, true)
		if err != nil {
			stopDaemon()
			return err
		}
		ids[i] = id
		fmt.Fprintf(w, "  %d %-9s %-10s %s\n", code, answer, s.body["platform"], clip(s.body["text"].(string), 60))
		if code != http.StatusAccepted {
			stopDaemon()
			return fmt.Errorf("post %v: want 202, got %d %s", s.body["id"], code, answer)
		}
	}
	code, answer, _, _ := c.send(ctx, samples[0].body, true)
	fmt.Fprintf(w, "  %d %-9s (the first post again: stored once, posted once)\n", code, answer)
	code, answer, _, _ = c.send(ctx, map[string]any{"id": "forged", "platform": "x", "text": "forged"}, false)
	fmt.Fprintf(w, "  %d %-9s (a post with a wrong signature: refused, nothing stored)\n\n", code, answer)

	err = emu.WaitFor(ctx, func() bool { return len(locate(emu)) >= len(samples) })
	if err != nil {
		stopDaemon()
		return fmt.Errorf("waiting for Slack messages: %w", err)
	}
	if err := claimDemo(ctx, w, emu, locate(emu)[ids[0]]); err != nil {
		stopDaemon()
		return err
	}
	if err := waitForIncidents(ctx, emu, ids); err != nil {
		stopDaemon()
		return err
	}
	if err := routeDemo(ctx, w, emu); err != nil {
		stopDaemon()
		return err
	}
	if err := stopDaemon(); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	return report(w, emu, ids)
}

// The demo's support agents.
const (
	agentA = "U0AGENTAMY"
	agentB = "U0AGENTBEN"
)

// claimDemo has two agents click Claim on the same post at the same
// moment: one owns it, the other is told so.
func claimDemo(ctx context.Context, w io.Writer, emu *slackemu.Server, at place) error {
	fmt.Fprintf(w, "Amy (%s) and Ben (%s) click Claim on the first support post at the same moment:\n", agentA, agentB)
	// Both see the message before either click takes effect.
	var clicks []json.RawMessage
	for _, u := range []string{agentA, agentB} {
		payload, err := emu.BlockActionsPayload(slackemu.Click{UserID: u, Channel: at.channel, MessageTS: at.ts, ActionID: "claim"})
		if err != nil {
			return fmt.Errorf("claim click: %w", err)
		}
		clicks = append(clicks, payload)
	}
	for _, payload := range clicks {
		if _, err := emu.PushBlockActions(ctx, payload); err != nil {
			return fmt.Errorf("claim click: %w", err)
		}
	}
	var owner, other, told string
	err := emu.WaitFor(ctx, func() bool {
		m, _ := emu.Message(at.channel, at.ts)
		text := m.PlainText()
		switch {
		case strings.Contains(text, "Claimed by <@"+agentA+">"):
			owner, other = agentA, agentB
		case strings.Contains(text, "Claimed by <@"+agentB+">"):
			owner, other = agentB, agentA
		default:
			return false
		}
		for _, e := range emu.Ephemerals(at.channel) {
			if e.Recipient == other {
				told = e.Text
			}
		}
		return told != ""
	})
	if err != nil {
		return fmt.Errorf("waiting for the claim: %w", err)
	}
	fmt.Fprintf(w, "  one click won: the message now says \"Claimed by <@%s>\"; <@%s> was told privately: %q\n\n", owner, other, told)
	return nil
}

// routeDemo has an admin change routing from Slack and try the change.
func routeDemo(ctx context.Context, w io.Writer, emu *slackemu.Server) error {
	const admin = "U0ADMINZOE"
	fmt.Fprintf(w, "Zoe (%s, an admin) changes routing from Slack; the answers are visible to her only:\n", admin)
	for _, text := range []string{"add pr keyword recall priority high", "test Acme announces a recall of the X2 blender"} {
		before := len(emu.Ephemerals("C0PR"))
		if _, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", Text: text, UserID: admin, ChannelID: "C0PR"}); err != nil {
			return fmt.Errorf("/route %s: %w", text, err)
		}
		var answer string
		err := emu.WaitFor(ctx, func() bool {
			eph := emu.Ephemerals("C0PR")
			if len(eph) <= before {
				return false
			}
			answer = eph[len(eph)-1].PlainText()
			return true
		})
		if err != nil {
			return fmt.Errorf("waiting for the answer to /route %s: %w", text, err)
		}
		fmt.Fprintf(w, "  /route %s\n%s\n", text, indent(answer, "    "))
	}
	fmt.Fprintln(w)
	return nil
}

// waitForIncidents waits until each incident message counts the posts in
// its thread.
func waitForIncidents(ctx context.Context, emu *slackemu.Server, ids []string) error {
	posts := map[int]int{} // root sample → posts in its incident
	for _, s := range samples {
		if s.inThreadOf >= 0 {
			posts[s.inThreadOf] = max(posts[s.inThreadOf], 1) + 1
		}
	}
	for root, n := range posts {
		want := fmt.Sprintf("Incident: %d posts", n)
		err := emu.WaitFor(ctx, func() bool {
			at := locate(emu)[ids[root]]
			m, _ := emu.Message(at.channel, at.ts)
			return strings.Contains(m.PlainText(), want)
		})
		if err != nil {
			return fmt.Errorf("waiting for the incident message to show %q: %w", want, err)
		}
	}
	return nil
}

// place is where a post's message is: a channel, its ts, and the thread
// it is in (empty for a top-level message).
type place struct{ channel, ts, thread string }

// locate finds every message socialroute posted for a post, top level and
// in threads, by the post id in its metadata.
func locate(emu *slackemu.Server) map[string]place {
	out := map[string]place{}
	for _, ch := range channels {
		for _, m := range emu.Messages(ch.id) {
			if id := postID(m); id != "" {
				out[id] = place{channel: ch.id, ts: m.TS}
			}
			for _, r := range emu.Replies(ch.id, m.TS) {
				if id := postID(r); id != "" && r.TS != m.TS {
					out[id] = place{channel: ch.id, ts: r.TS, thread: m.TS}
				}
			}
		}
	}
	return out
}

// report prints each channel's messages, with their threads, and checks
// that every sample landed where it belongs, exactly once, by the post id
// each message carries in its metadata.
func report(w io.Writer, emu *slackemu.Server, ids []string) error {
	count := map[string]int{}
	for _, ch := range channels {
		msgs := emu.Messages(ch.id)
		fmt.Fprintf(w, "#%s (%s) — %d message(s)\n", ch.name, ch.id, len(msgs))
		for _, m := range msgs {
			fmt.Fprintln(w, indent(m.PlainText(), "  │ "))
			count[postID(m)]++
			for _, r := range emu.Replies(ch.id, m.TS) {
				if r.TS == m.TS {
					continue
				}
				fmt.Fprintln(w, indent(r.PlainText(), "  │     ↳ "))
				count[postID(r)]++
			}
			fmt.Fprintln(w, "  └─")
		}
		fmt.Fprintln(w)
	}

	var problems []string
	at := locate(emu)
	for i, s := range samples {
		text := clip(s.body["text"].(string), 40)
		want := "C0TRIAGE"
		for _, ch := range channels {
			if ch.class == s.want && s.want != "" {
				want = ch.id
			}
		}
		got := at[ids[i]]
		switch {
		case count[ids[i]] != 1:
			problems = append(problems, fmt.Sprintf("%q posted %d time(s), want once", text, count[ids[i]]))
		case got.channel != want:
			problems = append(problems, fmt.Sprintf("%q is in %s, want %s", text, got.channel, want))
		case s.inThreadOf >= 0 && got.thread != at[ids[s.inThreadOf]].ts:
			problems = append(problems, fmt.Sprintf("%q is not in the incident thread", text))
		case s.inThreadOf < 0 && got.thread != "":
			problems = append(problems, fmt.Sprintf("%q is in a thread, want its own message", text))
		}
	}
	if len(problems) > 0 {
		return errors.New("demo: posts not routed as expected:\n  " + strings.Join(problems, "\n  "))
	}
	fmt.Fprintf(w, "All %d posts landed where they belong, each exactly once.\n", len(samples))
	return nil
}

func postID(m slackemu.Message) string {
	if m.Metadata == nil {
		return ""
	}
	var p struct {
		PostID string `json:"post_id"`
	}
	json.Unmarshal(m.Metadata.EventPayload, &p)
	return p.PostID
}

// client signs and sends generic webhook posts, as a connector would.
type client struct {
	url    string
	secret []byte
}

// send posts one sample and returns the status code, the answer's status
// and the internal id it was given.
func (c *client) send(ctx context.Context, post map[string]any, sign bool) (int, string, string, error) {
	body, err := json.Marshal(post)
	if err != nil {
		return 0, "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	ts := time.Now().Unix()
	secret := c.secret
	if !sign {
		secret = []byte("not-the-secret")
	}
	req.Header.Set(ingest.HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(ingest.HeaderSignature, ingest.Sign(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	var answer struct{ Status, ID, Error string }
	json.NewDecoder(resp.Body).Decode(&answer)
	if answer.Status == "" {
		answer.Status = "refused"
	}
	return resp.StatusCode, answer.Status, answer.ID, nil
}

func randomSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
