package slackemu_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/socialroute/socialroute/internal/slackemu"
)

// testTimeout bounds every wait; generous because -race is slow.
const testTimeout = 10 * time.Second

// startEmu starts an emulator with channels C1 (#ops) and C2 (#dev) unless
// opts says otherwise, and closes it when the test ends.
func startEmu(t *testing.T, opts slackemu.Options) *slackemu.Server {
	t.Helper()
	if opts.Channels == nil {
		opts.Channels = []slackemu.Channel{{ID: "C1", Name: "ops"}, {ID: "C2", Name: "dev"}}
	}
	opts.Logf = t.Logf
	emu := slackemu.New(opts)
	if err := emu.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return emu
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func apiFor(emu *slackemu.Server) *slack.Client {
	return slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()), slack.OptionAppLevelToken(emu.AppToken()))
}

// slackErr returns the Slack error code carried by err, or "".
func slackErr(err error) string {
	var e slack.SlackErrorResponse
	if errors.As(err, &e) {
		return e.Err
	}
	return ""
}

// testBot runs slack-go's real socketmode client against the emulator.
type testBot struct {
	api    *slack.Client
	sm     *socketmode.Client
	events chan socketmode.Event
	runErr chan error
}

// startBot runs a socketmode client whose event loop calls handle (may be
// nil) for every event and then records the event for waitEvent.
func startBot(t *testing.T, emu *slackemu.Server, appToken string, handle func(*socketmode.Client, socketmode.Event), opts ...socketmode.Option) *testBot {
	t.Helper()
	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()), slack.OptionAppLevelToken(appToken))
	b := &testBot{
		api:    api,
		sm:     socketmode.New(api, opts...),
		events: make(chan socketmode.Event, 1000),
		runErr: make(chan error, 1),
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { b.runErr <- b.sm.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case evt := <-b.sm.Events:
				if handle != nil {
					handle(b.sm, evt)
				}
				select {
				case b.events <- evt:
				default:
					t.Errorf("event buffer full, dropped %s", evt.Type)
				}
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return b
}

// waitEvent returns the next recorded event of type typ, skipping others.
func (b *testBot) waitEvent(ctx context.Context, t *testing.T, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	for {
		select {
		case evt := <-b.events:
			if evt.Type == typ {
				return evt
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", typ, ctx.Err())
			return socketmode.Event{}
		}
	}
}

// ackWith acks every envelope, with payload for slash commands.
func ackWith(payload any) func(*socketmode.Client, socketmode.Event) {
	return func(sm *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			_ = sm.Ack(*evt.Request, payload)
		case socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
			_ = sm.Ack(*evt.Request)
		}
	}
}
