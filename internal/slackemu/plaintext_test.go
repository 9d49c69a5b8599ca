package slackemu_test

import (
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/internal/slackemu"
)

func TestPlainText(t *testing.T) {
	txt := func(typ, s string) *slack.TextBlockObject { return slack.NewTextBlockObject(typ, s, false, false) }
	blocks := []slack.Block{
		slack.NewHeaderBlock(txt(slack.PlainTextType, "Disk full")),
		slack.NewSectionBlock(txt(slack.MarkdownType, "*db-1* is at 97%"),
			[]*slack.TextBlockObject{txt(slack.MarkdownType, "*Team:* storage"), txt(slack.MarkdownType, "*Severity:* high")}, nil),
		slack.NewDividerBlock(),
		slack.NewContextBlock("", txt(slack.MarkdownType, "from alertmanager"), txt(slack.PlainTextType, "post p-1")),
		slack.NewActionBlock("acts",
			slack.NewButtonBlockElement("ack", "p-1", txt(slack.PlainTextType, "Acknowledge")),
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, txt(slack.PlainTextType, "Reroute"), "reroute",
				slack.NewOptionBlockObject("db", txt(slack.PlainTextType, "DB"), nil)),
		),
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	want := "DISK FULL\n" +
		"*db-1* is at 97%\n*Team:* storage\n*Severity:* high\n" +
		"────────\n" +
		"from alertmanager · post p-1\n" +
		"[Acknowledge] [Select: Reroute]"

	tests := []struct {
		name string
		msg  slackemu.Message
		want string
	}{
		{"blocks", slackemu.Message{Text: "fallback", Blocks: raw}, want},
		{"text only", slackemu.Message{Text: "just text"}, "just text"},
		{"empty blocks", slackemu.Message{Text: "fallback", Blocks: json.RawMessage("[]")}, "fallback"},
		{"rich text", slackemu.Message{Blocks: json.RawMessage(`[{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"hi "},{"type":"user","user_id":"U1"}]}]}]`)}, "hi @U1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.msg.PlainText(); got != tt.want {
				t.Errorf("PlainText() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPlainTextShowsDateFallbacks(t *testing.T) {
	m := slackemu.Message{Blocks: json.RawMessage(`[{"type":"context","elements":[{"type":"mrkdwn","text":"Claimed by <@U1> <!date^1795501953^{date_short_pretty} at {time}|2026-11-24 06:32 UTC>"}]}]`)}
	if got, want := m.PlainText(), "Claimed by <@U1> 2026-11-24 06:32 UTC"; got != want {
		t.Fatalf("PlainText = %q, want %q", got, want)
	}
}
