package slackemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/socialroute/socialroute/internal/slackemu"
)

func TestSlashCommandRoundTrip(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	bot := startBot(t, emu, emu.AppToken(), ackWith(map[string]any{"text": "hi"}))

	bot.waitEvent(ctx, t, socketmode.EventTypeConnected)
	hello := bot.waitEvent(ctx, t, socketmode.EventTypeHello)
	if hello.Request.ConnectionInfo.AppID != slackemu.DefaultAppID || hello.Request.NumConnections != 1 {
		t.Errorf("hello = %+v", hello.Request)
	}

	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", Text: "status", ChannelID: "C1", UserID: "U7"})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if ack.Attempts != 1 || string(ack.Payload) != `{"text":"hi"}` {
		t.Errorf("ack = %+v (%s)", ack, ack.Payload)
	}
	evt := bot.waitEvent(ctx, t, socketmode.EventTypeSlashCommand)
	cmd := evt.Data.(slack.SlashCommand)
	if cmd.Command != "/route" || cmd.Text != "status" || cmd.ChannelID != "C1" || cmd.ChannelName != "ops" ||
		cmd.UserID != "U7" || cmd.ResponseURL == "" || cmd.TriggerID == "" || cmd.TeamID != slackemu.DefaultTeamID {
		t.Errorf("slash command = %+v", cmd)
	}
	if !evt.Request.AcceptsResponsePayload {
		t.Errorf("slash command envelope should accept a response payload")
	}
	// The ack's text is shown to the user who ran the command.
	if eph := emu.Ephemerals("C1"); len(eph) != 1 || eph[0].Text != "hi" || eph[0].Recipient != "U7" {
		t.Errorf("ephemerals = %+v", eph)
	}

	// A later reply through response_url, in the channel.
	_, _, err = bot.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeInChannel),
		slack.MsgOptionText("routed", false))
	if err != nil {
		t.Fatalf("response_url: %v", err)
	}
	posts := emu.ResponseURLPosts()
	if len(posts) != 1 || posts[0].Text != "routed" || posts[0].ResponseType != "in_channel" || posts[0].Kind != "slash_commands" || posts[0].UserID != "U7" {
		t.Errorf("response posts = %+v", posts)
	}
	if msgs := emu.Messages("C1"); len(msgs) != 1 || msgs[0].Text != "routed" {
		t.Errorf("channel = %+v", msgs)
	}
}

func TestBlockActions(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	bot := startBot(t, emu, emu.AppToken(), ackWith(nil))

	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic,
		slack.NewTextBlockObject(slack.PlainTextType, "Reroute to…", false, false), "reroute",
		slack.NewOptionBlockObject("team-db", slack.NewTextBlockObject(slack.PlainTextType, "DB team", false, false), nil),
		slack.NewOptionBlockObject("team-net", slack.NewTextBlockObject(slack.PlainTextType, "Network team", false, false), nil))
	blocks := append(alertBlocks(), slack.NewActionBlock("", sel))
	_, ts, err := bot.api.PostMessageContext(ctx, "C1", slack.MsgOptionText("alert", false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}

	ack, err := emu.PushClick(ctx, slackemu.Click{UserID: "U9", Channel: "C1", MessageTS: ts, ActionID: "ack"})
	if err != nil || ack.Attempts != 1 {
		t.Fatalf("click: %+v, %v", ack, err)
	}
	evt := bot.waitEvent(ctx, t, socketmode.EventTypeInteractive)
	cb := evt.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("callback = %+v", cb)
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != "ack" || act.BlockID != "acts" || act.Value != "alert-1" || act.Text.Text != "Acknowledge" {
		t.Errorf("action = %+v", act)
	}
	if cb.User.ID != "U9" || cb.Channel.ID != "C1" || cb.Container.MessageTs != ts || cb.Message.Timestamp != ts ||
		len(cb.Message.Blocks.BlockSet) != 4 || cb.ResponseURL == "" || cb.TriggerID == "" {
		t.Errorf("callback = %+v", cb)
	}

	if _, err := emu.PushClick(ctx, slackemu.Click{Channel: "C1", MessageTS: ts, ActionID: "reroute", SelectedValue: "team-net"}); err != nil {
		t.Fatal(err)
	}
	cb = bot.waitEvent(ctx, t, socketmode.EventTypeInteractive).Data.(slack.InteractionCallback)
	act = cb.ActionCallback.BlockActions[0]
	if act.Type != "static_select" || act.SelectedOption.Value != "team-net" || act.BlockID == "" {
		t.Errorf("select action = %+v", act)
	}
	if cb.BlockActionState == nil || cb.BlockActionState.Values[act.BlockID]["reroute"].SelectedOption.Value != "team-net" {
		t.Errorf("state = %+v", cb.BlockActionState)
	}

	// Replacing the original message through the action's response_url.
	_, _, err = bot.api.PostMessageContext(ctx, "", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("rerouted", false))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := emu.Message("C1", ts); m.Text != "rerouted" || !m.Edited || m.Blocks != nil {
		t.Errorf("replaced message = %+v", m)
	}

	if _, err := emu.BlockActionsPayload(slackemu.Click{Channel: "C1", MessageTS: ts, ActionID: "nope"}); !errors.Is(err, slackemu.ErrNotFound) {
		t.Errorf("unknown action: %v", err)
	}
}

func TestEventsAPIEnvelope(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	bot := startBot(t, emu, emu.AppToken(), ackWith(nil))
	msg, err := emu.PostAsUser("C1", "U5", "<@"+slackemu.DefaultBotUserID+"> help", "")
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(map[string]any{"type": "app_mention", "user": "U5", "text": msg.Text, "ts": msg.TS, "channel": "C1", "event_ts": msg.TS})
	if _, err := emu.PushEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := bot.waitEvent(ctx, t, socketmode.EventTypeEventsAPI).Data.(slackevents.EventsAPIEvent)
	mention, ok := got.InnerEvent.Data.(*slackevents.AppMentionEvent)
	if got.Type != slackevents.CallbackEvent || !ok || mention.Channel != "C1" || mention.TimeStamp != msg.TS {
		t.Errorf("event = %+v / %+v", got, got.InnerEvent.Data)
	}
}

func TestUnackedEnvelopeIsRedelivered(t *testing.T) {
	emu := startEmu(t, slackemu.Options{AckTimeout: 200 * time.Millisecond})
	ctx := testCtx(t)
	// Ack only redeliveries: the first delivery "times out".
	bot := startBot(t, emu, emu.AppToken(), func(sm *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand && evt.Request.RetryAttempt > 0 {
			_ = sm.Ack(*evt.Request)
		}
	})
	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if ack.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", ack.Attempts)
	}
	first := bot.waitEvent(ctx, t, socketmode.EventTypeSlashCommand).Request
	retry := bot.waitEvent(ctx, t, socketmode.EventTypeSlashCommand).Request
	if first.RetryAttempt != 0 || first.RetryReason != "" || retry.RetryAttempt != 1 || retry.RetryReason != "timeout" ||
		retry.EnvelopeID != first.EnvelopeID || retry.EnvelopeID != ack.EnvelopeID {
		t.Errorf("deliveries: %+v then %+v", first, retry)
	}
}

func TestNeverAckedGivesUpAfterThreeRetries(t *testing.T) {
	emu := startEmu(t, slackemu.Options{AckTimeout: 50 * time.Millisecond})
	ctx := testCtx(t)
	bot := startBot(t, emu, emu.AppToken(), nil)
	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1"})
	if !errors.Is(err, slackemu.ErrNotAcked) || ack.Attempts != 4 {
		t.Fatalf("ack %+v, err %v", ack, err)
	}
	for want := range 4 {
		if got := bot.waitEvent(ctx, t, socketmode.EventTypeSlashCommand).Request.RetryAttempt; got != want {
			t.Errorf("retry_attempt = %d, want %d", got, want)
		}
	}
}

func TestReconnects(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cause func(*slackemu.Server)
	}{
		{"disconnect request", func(emu *slackemu.Server) { emu.SendDisconnect("refresh_requested") }},
		{"dropped socket", func(emu *slackemu.Server) { emu.DropConnections() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			emu := startEmu(t, slackemu.Options{})
			ctx := testCtx(t)
			bot := startBot(t, emu, emu.AppToken(), ackWith(nil))
			bot.waitEvent(ctx, t, socketmode.EventTypeConnected)
			if err := emu.WaitConnected(ctx, 1); err != nil {
				t.Fatal(err)
			}

			tt.cause(emu)
			bot.waitEvent(ctx, t, socketmode.EventTypeConnecting)
			second := bot.waitEvent(ctx, t, socketmode.EventTypeConnected).Data.(*socketmode.ConnectedEvent)
			if second.ConnectionCount != 1 {
				t.Errorf("connection count = %d, want 1 (second connection)", second.ConnectionCount)
			}
			err := emu.WaitFor(ctx, func() bool { return emu.Calls("apps.connections.open") == 2 && emu.Connected() == 1 })
			if err != nil {
				t.Fatalf("open calls %d, connected %d: %v", emu.Calls("apps.connections.open"), emu.Connected(), err)
			}
			// Envelopes flow over the new connection.
			if _, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStaysConnectedAcrossPingIntervals(t *testing.T) {
	const ping = 25 * time.Millisecond
	emu := startEmu(t, slackemu.Options{PingInterval: ping})
	ctx := testCtx(t)
	// The client gives up after 10 server ping intervals without a PING. (At
	// twice the server's interval it already reconnects now and then: its
	// dead-man check can read a stale PING time.)
	bot := startBot(t, emu, emu.AppToken(), nil, socketmode.OptionPingInterval(10*ping))
	bot.waitEvent(ctx, t, socketmode.EventTypeConnected)

	// 40 PINGs span 4 of the client's intervals.
	if err := emu.WaitFor(ctx, func() bool { return emu.PingsSent() >= 40 }); err != nil {
		t.Fatal(err)
	}
	if n := emu.Calls("apps.connections.open"); n != 1 {
		t.Errorf("apps.connections.open called %d times: the client reconnected", n)
	}
drain:
	for {
		select {
		case evt := <-bot.events:
			if evt.Type == socketmode.EventTypeConnecting && evt.Data.(*slack.ConnectingEvent).ConnectionCount > 0 {
				t.Errorf("client reconnected: %+v", evt.Data)
			}
		default:
			break drain
		}
	}
}

func TestPushWaitsForAConnection(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	type result struct {
		ack slackemu.Ack
		err error
	}
	done := make(chan result, 1)
	go func() {
		ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1"})
		done <- result{ack, err}
	}()
	startBot(t, emu, emu.AppToken(), ackWith(map[string]any{"text": "late"}))
	r := <-done
	if r.err != nil || string(r.ack.Payload) != `{"text":"late"}` {
		t.Fatalf("push before connect: %+v", r)
	}

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	emu2 := startEmu(t, slackemu.Options{})
	if _, err := emu2.PushEvent(short, json.RawMessage(`{"type":"app_mention"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("push with nobody connected: %v", err)
	}
}

func TestInvalidAppTokenIsFatal(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	bot := startBot(t, emu, "xapp-wrong", nil)
	select {
	case err := <-bot.runErr:
		if slackErr(err) != "invalid_auth" {
			t.Errorf("RunContext = %v, want invalid_auth", err)
		}
	case <-testCtx(t).Done():
		t.Fatal("client kept retrying with an invalid app token")
	}
}

func TestCloseWakesPendingPush(t *testing.T) {
	emu := slackemu.New(slackemu.Options{})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := emu.PushEvent(testCtx(t), json.RawMessage(`{"type":"app_mention"}`))
		done <- err
	}()
	if err := emu.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, slackemu.ErrClosed) {
		t.Errorf("pending push after Close: %v", err)
	}
}

func TestRedeliveriesArriveDespiteAcks(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	bot := startBot(t, emu, emu.AppToken(), ackWith(nil))
	bot.waitEvent(ctx, t, socketmode.EventTypeConnected)
	emu.SetRedeliveries(2)

	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", Text: "help", ChannelID: "C1", UserID: "U7"})
	if err != nil || ack.Attempts != 3 {
		t.Fatalf("ack = %+v, %v; want 3 attempts", ack, err)
	}
	for want := range 3 {
		evt := bot.waitEvent(ctx, t, socketmode.EventTypeSlashCommand)
		if evt.Request.EnvelopeID != ack.EnvelopeID || evt.Request.RetryAttempt != want {
			t.Fatalf("delivery %d: envelope %s attempt %d, want %s attempt %d",
				want, evt.Request.EnvelopeID, evt.Request.RetryAttempt, ack.EnvelopeID, want)
		}
		if want > 0 && evt.Request.RetryReason != "timeout" {
			t.Fatalf("retry reason %q", evt.Request.RetryReason)
		}
	}
}
