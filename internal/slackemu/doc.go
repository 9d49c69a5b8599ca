// Package slackemu is a Slack-compatible server for tests and for the
// product's demo command.
//
// It owns an in-memory Slack workspace: channels, the messages, thread
// replies, ephemerals and views the bot posts through the Web API, and a
// Socket Mode endpoint through which tests push slash commands, block
// actions and Events API events to the bot. slack-go's real clients
// (slack.New with slack.OptionAPIURL, and socketmode.New on top of it) work
// against it unmodified: it speaks Slack's wire formats, including the parts
// that slack-go depends on silently (WebSocket PING frames, a non-empty
// "error" in every failure body, Retry-After on 429).
//
// A typical test:
//
//	emu := slackemu.New(slackemu.Options{Channels: []slackemu.Channel{{ID: "C1", Name: "ops"}}})
//	if err := emu.Start(); err != nil { … }
//	defer emu.Close()
//	api := slack.New(emu.BotToken(), slack.OptionAPIURL(emu.APIURL()),
//		slack.OptionAppLevelToken(emu.AppToken()))
//	… run the bot with socketmode.New(api) …
//	ack, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", ChannelID: "C1"})
//	err = emu.WaitFor(ctx, func() bool { return len(emu.Messages("C1")) == 1 })
//
// Waiting is event driven: every change of state wakes WaitFor, so tests
// never sleep. Faults (rate limits, 5xx, slow answers, Slack errors, dropped
// sockets, disconnect requests, revoked tokens) are injected per method;
// with Fault.Apply they hit only the answer of a call that took
// effect, so the caller cannot tell whether it did.
//
// The package does not depend on testing, so the demo binary can run it.
package slackemu
