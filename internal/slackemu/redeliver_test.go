package slackemu_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/socialroute/socialroute/internal/slackemu"
)

func TestRedeliveryGoesToAnotherConnection(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	a := startBot(t, emu, emu.AppToken(), ackWith(nil))
	b := startBot(t, emu, emu.AppToken(), ackWith(nil))
	if err := emu.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	emu.SetRedeliveries(1)
	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if ack.Attempts != 2 || len(ack.Sockets) != 2 || ack.Sockets[0] == ack.Sockets[1] {
		t.Fatalf("ack %+v: want two deliveries on two connections", ack)
	}
	emu.SetRedeliveries(0)

	// An explicit redelivery: same envelope, next attempt, the other socket.
	again, err := emu.Redeliver(ctx, ack.EnvelopeID)
	if err != nil {
		t.Fatal(err)
	}
	if again.EnvelopeID != ack.EnvelopeID || again.Attempts != 3 || again.Socket == ack.Socket {
		t.Fatalf("redelivery %+v after %+v", again, ack)
	}
	attempts := map[int]bool{}
	for len(attempts) < 3 {
		var evt socketmode.Event
		select {
		case evt = <-a.events:
		case evt = <-b.events:
		case <-ctx.Done():
			t.Fatal("waiting for the three deliveries")
		}
		if evt.Type != socketmode.EventTypeSlashCommand {
			continue
		}
		if evt.Request.EnvelopeID != ack.EnvelopeID {
			t.Fatalf("delivery of envelope %s", evt.Request.EnvelopeID)
		}
		if attempts[evt.Request.RetryAttempt] {
			t.Fatalf("attempt %d delivered twice", evt.Request.RetryAttempt)
		}
		attempts[evt.Request.RetryAttempt] = true
	}
	if !attempts[0] || !attempts[1] || !attempts[2] {
		t.Fatalf("retry attempts seen: %v", attempts)
	}

	if _, err := emu.Redeliver(ctx, "no-such-envelope"); !errors.Is(err, slackemu.ErrNotFound) {
		t.Fatalf("redeliver of an unknown envelope: %v", err)
	}
	if _, err := emu.Redeliver(ctx, ack.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.Redeliver(ctx, ack.EnvelopeID); err == nil {
		t.Fatal("a fifth delivery was made; Slack gives up after three retries")
	}
}

func TestLateSlashAckShowsNothing(t *testing.T) {
	emu := startEmu(t, slackemu.Options{AckTimeout: 200 * time.Millisecond})
	ctx := testCtx(t)
	startBot(t, emu, emu.AppToken(), func(sm *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand && evt.Request.RetryAttempt > 0 {
			_ = sm.Ack(*evt.Request, map[string]any{"text": "too late"})
		}
	})
	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1"})
	if err != nil || ack.Attempts != 2 {
		t.Fatalf("ack %+v, %v", ack, err)
	}
	if eph := emu.Ephemerals("C1"); len(eph) != 0 {
		t.Fatalf("a late ack was shown: %+v", eph)
	}
}

func TestResponseURLTakesFivePosts(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	bot := startBot(t, emu, emu.AppToken(), ackWith(nil))
	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1", UserID: "U7"})
	if err != nil {
		t.Fatal(err)
	}
	if ack.ResponseURL == "" {
		t.Fatal("no response_url in the ack")
	}
	for i := range 6 {
		_, _, err := bot.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(ack.ResponseURL, slack.ResponseTypeEphemeral),
			slack.MsgOptionText(fmt.Sprint("answer ", i), false))
		if i < 5 && err != nil {
			t.Fatalf("POST %d: %v", i+1, err)
		}
		if i == 5 && err == nil {
			t.Fatal("a sixth POST to the response_url was accepted")
		}
	}
	posts := emu.ResponseURLPosts()
	if len(posts) != 5 || len(emu.Ephemerals("C1")) != 5 {
		t.Fatalf("%d posts recorded, %d shown; want 5", len(posts), len(emu.Ephemerals("C1")))
	}
	for i, p := range posts {
		if p.URL != ack.ResponseURL || p.Seq <= ack.Seq || (i > 0 && p.Seq <= posts[i-1].Seq) {
			t.Fatalf("post %d: %+v (ack seq %d)", i, p, ack.Seq)
		}
	}
}
