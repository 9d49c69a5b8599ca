package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/slackemu"
)

// Source is the webhook source name the benchmark configures.
const Source = "bench"

// Channels are the department and triage channels of the benchmark's
// configuration, all known to the emulator.
var Channels = []slackemu.Channel{
	{ID: "C0SUPPORT", Name: "support"},
	{ID: "C0PR", Name: "pr"},
	{ID: "C0MARKETING", Name: "marketing"},
	{ID: "C0TRIAGE", Name: "triage"},
}

const configTemplate = `
slack:
  app_token: ${SLACK_APP_TOKEN}
  bot_token: ${SLACK_BOT_TOKEN}
  api_url: %s
  # The emulator has no rate limit: measure the pipeline, not Slack's
  # per-channel pacing (which alone allows one message a second).
  channel_rate: 0
  digest_threshold: 0
http:
  listen: 127.0.0.1:0
store:
  path: %s
sources:
  - name: bench
    format: generic
    secret: ${WEBHOOK_SECRET}
routing:
  min_confidence: 0.55
  triage_channel: C0TRIAGE
  departments:
    - {name: support,   channel: C0SUPPORT,   classes: [support]}
    - {name: pr,        channel: C0PR,        classes: [reputation]}
    - {name: marketing, channel: C0MARKETING, classes: [promotional]}
log:
  level: info
  format: json
`

// StartEmulator starts a Slack emulator with the benchmark's channels.
func StartEmulator() (*slackemu.Server, error) {
	emu := slackemu.New(slackemu.Options{Channels: Channels})
	if err := emu.Start(); err != nil {
		return nil, fmt.Errorf("start slack emulator: %w", err)
	}
	return emu, nil
}

// Env is the environment a daemon configured by WriteConfig needs.
func Env(emu *slackemu.Server, secret string) map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN": emu.AppToken(),
		"SLACK_BOT_TOKEN": emu.BotToken(),
		"WEBHOOK_SECRET":  secret,
	}
}

// ConfigYAML is the daemon's configuration: the benchmark's source and
// channels, the emulator's API, the store at dbPath.
func ConfigYAML(emu *slackemu.Server, dbPath string) []byte {
	return fmt.Appendf(nil, configTemplate, emu.APIURL(), dbPath)
}

// NewSecret returns a random webhook secret.
func NewSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Daemon is socialroute's real daemon (internal/app, as `socialroute serve`
// builds it) running in this process against its own Slack emulator.
type Daemon struct {
	Emu    *slackemu.Server
	App    *app.App
	Secret []byte
	stop   context.CancelFunc
	errc   chan error
}

// StartDaemon starts an emulator and a daemon whose store is dir/socialroute.db,
// and returns once the bot is connected over Socket Mode. Daemon logs go to
// logw at info level (io.Discard still pays for formatting them, as a
// daemon writing its logs would).
func StartDaemon(ctx context.Context, dir string, logw io.Writer) (*Daemon, error) {
	emu, err := StartEmulator()
	if err != nil {
		return nil, err
	}
	secret := NewSecret()
	env := Env(emu, secret)
	cfg, err := config.Parse(ConfigYAML(emu, filepath.Join(dir, "socialroute.db")),
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		emu.Close()
		return nil, err
	}
	logger := zerolog.New(logw).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	a, err := app.New(cfg, app.Options{Logger: logger})
	if err != nil {
		emu.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	d := &Daemon{Emu: emu, App: a, Secret: []byte(secret), stop: stop, errc: make(chan error, 1)}
	go func() { d.errc <- a.Run(runCtx) }()

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := emu.WaitConnected(wctx, 1); err != nil {
		d.Stop()
		return nil, fmt.Errorf("daemon did not connect to the emulator: %w", err)
	}
	return d, nil
}

// URL is the daemon's webhook endpoint for the benchmark's source.
func (d *Daemon) URL() string { return "http://" + d.App.Addr() + "/webhooks/" + Source }

// Stop shuts the daemon down, then the emulator.
func (d *Daemon) Stop() error {
	d.stop()
	err := <-d.errc
	return errors.Join(err, d.Emu.Close())
}

// Delivered waits until the emulator holds a message for every id in sent,
// or ctx ends, and returns the webhook-to-Slack time of each post found: from
// when its webhook request was due to the ts Slack gave its message.
func Delivered(ctx context.Context, emu *slackemu.Server, sent []Sent) ([]time.Duration, error) {
	n := len(sent)
	err := emu.WaitFor(ctx, func() bool {
		// Calls is cheap; messages are only counted once enough posts
		// were attempted.
		return emu.Calls("chat.postMessage") >= n && len(messageTimes(emu)) >= n
	})
	times := messageTimes(emu)
	out := make([]time.Duration, 0, n)
	for _, s := range sent {
		if at, ok := times[s.ID]; ok {
			out = append(out, at.Sub(s.At))
		}
	}
	if err != nil {
		return out, fmt.Errorf("%d of %d posts reached Slack before giving up: %w", len(out), n, err)
	}
	return out, nil
}

// messageTimes maps post id to the time of its Slack message, over every
// channel's messages and thread replies.
func messageTimes(emu *slackemu.Server) map[string]time.Time {
	out := make(map[string]time.Time)
	add := func(m slackemu.Message) {
		if id := postID(m); id != "" {
			if t, ok := tsTime(m.TS); ok {
				out[id] = t
			}
		}
	}
	for _, ch := range emu.Channels() {
		for _, m := range emu.Messages(ch.ID) {
			add(m)
			if m.ReplyCount > 0 {
				for _, r := range emu.Replies(ch.ID, m.TS) {
					add(r)
				}
			}
		}
	}
	return out
}

func postID(m slackemu.Message) string {
	if m.Metadata == nil {
		return ""
	}
	// {"post_id":"01J…","class":"…"}: a ULID has no characters that need
	// escaping, so a plain scan is enough and far cheaper than decoding
	// tens of thousands of payloads.
	p := string(m.Metadata.EventPayload)
	_, rest, ok := strings.Cut(p, `"post_id":"`)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return id
}

// tsTime turns a Slack ts ("1700000000.000100") into a time.
func tsTime(ts string) (time.Time, bool) {
	sec, frac, ok := strings.Cut(ts, ".")
	if !ok || len(frac) != 6 {
		return time.Time{}, false
	}
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	return time.Unix(s, us*1000), true
}
