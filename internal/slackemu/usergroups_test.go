package slackemu_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/socialroute/socialroute/internal/slackemu"
)

func TestUserGroupMembers(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	api := apiFor(emu)
	if err := emu.SetUserGroup("S0ADMINS", []string{"U1", "U2"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		group string
		want  []string
		err   string
	}{
		{"members", "S0ADMINS", []string{"U1", "U2"}, ""},
		{"unknown group", "S0NOPE", nil, "no_such_subteam"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := api.GetUserGroupMembersContext(ctx, tc.group)
			if slackErr(err) != tc.err || (tc.err == "" && !slices.Equal(got, tc.want)) {
				t.Fatalf("members %v, err %v; want %v, %q", got, err, tc.want, tc.err)
			}
		})
	}
	// Replacing the members, and emptying the group.
	emu.SetUserGroup("S0ADMINS", nil)
	if got, err := api.GetUserGroupMembersContext(ctx, "S0ADMINS"); err != nil || len(got) != 0 {
		t.Fatalf("emptied group: %v, %v", got, err)
	}
	if err := emu.SetUserGroup("G0NOTAGROUP", nil); err == nil {
		t.Fatal("SetUserGroup accepted an id not starting with S")
	}
	if n := emu.Calls("usergroups.users.list"); n != 3 {
		t.Fatalf("calls = %d", n)
	}
}

func TestClickOnEphemeral(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx := testCtx(t)
	blocks := []slack.Block{slack.NewActionBlock("apply", slack.NewButtonBlockElement("route_apply", "p1",
		slack.NewTextBlockObject(slack.PlainTextType, "Apply", false, false)))}
	bot := startBot(t, emu, emu.AppToken(), ackWith(map[string]any{"text": "preview", "blocks": blocks}))
	if _, err := emu.PushSlashCommand(ctx, slackemu.SlashCommand{Command: "/route", Text: "preview", ChannelID: "C1", UserID: "U7"}); err != nil {
		t.Fatal(err)
	}
	eph := emu.Ephemerals("C1")
	if len(eph) != 1 {
		t.Fatalf("ephemerals = %+v", eph)
	}
	// Only the user who sees an ephemeral can click on it.
	if _, err := emu.BlockActionsPayload(slackemu.Click{UserID: "U8", Channel: "C1", MessageTS: eph[0].TS, ActionID: "route_apply"}); !errors.Is(err, slackemu.ErrNotFound) {
		t.Fatalf("another user's click: %v", err)
	}
	if _, err := emu.PushClick(ctx, slackemu.Click{UserID: "U7", Channel: "C1", MessageTS: eph[0].TS, ActionID: "route_apply"}); err != nil {
		t.Fatal(err)
	}
	cb := bot.waitEvent(ctx, t, socketmode.EventTypeInteractive).Data.(slack.InteractionCallback)
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != "route_apply" || act.Value != "p1" || !cb.Container.IsEphemeral || cb.Container.MessageTs != eph[0].TS || cb.ResponseURL == "" || cb.User.ID != "U7" {
		t.Fatalf("callback = %+v / %+v", cb, act)
	}
	// A reply through the response_url is a new ephemeral for the user.
	if _, _, err := bot.api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("applied", false)); err != nil {
		t.Fatal(err)
	}
	if eph := emu.Ephemerals("C1"); len(eph) != 2 || eph[1].Text != "applied" || eph[1].Recipient != "U7" {
		t.Fatalf("ephemerals after reply = %+v", eph)
	}
}
