package slackemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/internal/slackemu"
)

var tsPattern = regexp.MustCompile(`^\d{10}\.\d{6}$`)

func alertBlocks() []slack.Block {
	return []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Disk full", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*db-1* is at 97%", false, false), nil, nil),
		slack.NewActionBlock("acts",
			slack.NewButtonBlockElement("ack", "alert-1", slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false)),
		),
	}
}

func TestPostMessageWithBlocksAndMetadataThenHistory(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	ctx := testCtx(t)

	md := slack.SlackMetadata{EventType: "alert_posted", EventPayload: map[string]any{"post_id": "p-1"}}
	ch, ts, err := api.PostMessageContext(ctx, "C1",
		slack.MsgOptionText("Disk full on db-1", false),
		slack.MsgOptionBlocks(alertBlocks()...),
		slack.MsgOptionMetadata(md))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	if ch != "C1" || !tsPattern.MatchString(ts) {
		t.Fatalf("post answered channel %q ts %q", ch, ts)
	}
	_, ts2, err := api.PostMessageContext(ctx, "#ops", slack.MsgOptionText("second", false))
	if err != nil {
		t.Fatalf("post by name: %v", err)
	}
	if ts2 <= ts {
		t.Fatalf("ts not increasing: %s then %s", ts, ts2)
	}

	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", IncludeAllMetadata: true})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(hist.Messages) != 2 || hist.Messages[0].Timestamp != ts2 || hist.Messages[1].Timestamp != ts {
		t.Fatalf("history not newest first: %+v", hist.Messages)
	}
	got := hist.Messages[1]
	if got.Metadata.EventType != "alert_posted" || got.Metadata.EventPayload["post_id"] != "p-1" {
		t.Errorf("metadata = %+v", got.Metadata)
	}
	if len(got.Blocks.BlockSet) != 3 || got.BotID != slackemu.DefaultBotID || got.User != slackemu.DefaultBotUserID {
		t.Errorf("message = %+v", got)
	}

	plain, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1"})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if plain.Messages[1].Metadata.EventType != "" {
		t.Errorf("metadata returned without include_all_metadata")
	}

	stored, ok := emu.Message("C1", ts)
	if !ok || stored.Metadata == nil || stored.Metadata.EventType != "alert_posted" || !json.Valid(stored.Blocks) {
		t.Fatalf("stored = %+v", stored)
	}
	if n := len(emu.Messages("C1")); n != 2 {
		t.Errorf("Messages = %d, want 2", n)
	}
}

func TestHistoryPaging(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	ctx := testCtx(t)
	var tss []string
	for i := range 5 {
		_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText(strings.Repeat("x", i+1), false))
		if err != nil {
			t.Fatal(err)
		}
		tss = append(tss, ts)
	}
	var got []string
	cursor := ""
	for range 5 {
		page, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Messages {
			got = append(got, m.Timestamp)
		}
		cursor = page.ResponseMetaData.NextCursor
		if !page.HasMore {
			break
		}
	}
	want := []string{tss[4], tss[3], tss[2], tss[1], tss[0]}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged history = %v, want %v", got, want)
	}

	page, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: tss[1], Latest: tss[3]})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 1 || page.Messages[0].Timestamp != tss[2] {
		t.Errorf("exclusive window = %+v", page.Messages)
	}
	page, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", Oldest: tss[1], Latest: tss[3], Inclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 3 {
		t.Errorf("inclusive window = %d messages, want 3", len(page.Messages))
	}
}

func TestThreadReplies(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	ctx := testCtx(t)

	_, parent, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	_, r1, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("broadcast", false), slack.MsgOptionTS(parent), slack.MsgOptionBroadcast())
	if err != nil {
		t.Fatal(err)
	}

	msgs, hasMore, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent})
	if err != nil {
		t.Fatal(err)
	}
	if hasMore || len(msgs) != 3 || msgs[0].Timestamp != parent || msgs[1].Timestamp != r1 || msgs[2].Timestamp != r2 {
		t.Fatalf("replies = %+v", msgs)
	}
	if msgs[0].ReplyCount != 2 || msgs[1].ThreadTimestamp != parent {
		t.Errorf("thread fields: parent reply_count %d, reply thread_ts %q", msgs[0].ReplyCount, msgs[1].ThreadTimestamp)
	}

	top := emu.Messages("C1")
	if len(top) != 2 || top[0].TS != parent || top[1].TS != r2 || !top[1].ReplyBroadcast {
		t.Errorf("top level = %+v", top)
	}
	if replies := emu.Replies("C1", parent); len(replies) != 2 || replies[0].ThreadTS != parent {
		t.Errorf("Replies = %+v", replies)
	}

	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("orphan", false), slack.MsgOptionTS("1.000001"))
	if slackErr(err) != "thread_not_found" {
		t.Errorf("reply to missing parent: err = %v", err)
	}
}

func TestUpdateKeepsVersions(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	ctx := testCtx(t)
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("v1", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("v2", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("v3", false), slack.MsgOptionBlocks(alertBlocks()...)); err != nil {
		t.Fatal(err)
	}
	m, _ := emu.Message("C1", ts)
	if m.Text != "v3" || !m.Edited || len(m.Versions) != 2 || m.Versions[0].Text != "v1" || m.Versions[1].Text != "v2" || m.Blocks == nil {
		t.Errorf("updated message = %+v", m)
	}
	_, _, _, err = api.UpdateMessageContext(ctx, "C1", "1700000000.000001", slack.MsgOptionText("x", false))
	if slackErr(err) != "message_not_found" {
		t.Errorf("update unknown ts: err = %v", err)
	}
}

func TestEphemeralAndHomeView(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	ctx := testCtx(t)

	ts, err := api.PostEphemeralContext(ctx, "C1", "U123", slack.MsgOptionText("only you", false))
	if err != nil || !tsPattern.MatchString(ts) {
		t.Fatalf("ephemeral: ts %q err %v", ts, err)
	}
	eph := emu.Ephemerals("C1")
	if len(eph) != 1 || eph[0].Recipient != "U123" || eph[0].Text != "only you" || len(emu.Messages("C1")) != 0 {
		t.Errorf("ephemerals = %+v", eph)
	}

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: alertBlocks()}, CallbackID: "home"}
	resp, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U123", View: home})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if !strings.HasPrefix(resp.View.ID, "V") || resp.View.Type != slack.VTHomeTab || len(resp.View.Blocks.BlockSet) != 3 || resp.View.Hash == "" {
		t.Errorf("publish answer = %+v", resp.View)
	}
	raw, ok := emu.HomeView("U123")
	if !ok || !strings.Contains(string(raw), `"callback_id":"home"`) {
		t.Errorf("HomeView = %s, %v", raw, ok)
	}
	// A stale hash is refused, as Slack does to avoid races between publishers.
	_, err = api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U123", View: home, Hash: new("stale")})
	if slackErr(err) != "hash_conflict" {
		t.Errorf("stale hash: err = %v", err)
	}
}

func TestMiscMethods(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	ctx := testCtx(t)

	auth, err := api.AuthTestContext(ctx)
	if err != nil || auth.UserID != slackemu.DefaultBotUserID || auth.TeamID != slackemu.DefaultTeamID || auth.BotID != slackemu.DefaultBotID {
		t.Errorf("auth.test = %+v, %v", auth, err)
	}
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
	if err != nil {
		t.Fatal(err)
	}
	link, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "C1", Ts: ts})
	if err != nil || !strings.Contains(link, "/archives/C1/p"+strings.Replace(ts, ".", "", 1)) {
		t.Errorf("permalink = %q, %v", link, err)
	}
	if err := api.AddReactionContext(ctx, "eyes", slack.ItemRef{Channel: "C1", Timestamp: ts}); err != nil {
		t.Errorf("reactions.add: %v", err)
	}
	if err := api.AddReactionContext(ctx, "eyes", slack.ItemRef{Channel: "C1", Timestamp: ts}); slackErr(err) != "already_reacted" {
		t.Errorf("second reaction: %v", err)
	}
	if m, _ := emu.Message("C1", ts); len(m.Reactions) != 1 || m.Reactions[0].Name != "eyes" {
		t.Errorf("reactions = %+v", m.Reactions)
	}
	u, err := api.GetUserInfoContext(ctx, "U42")
	if err != nil || u.ID != "U42" || u.Name == "" || u.Profile.DisplayName == "" {
		t.Errorf("users.info = %+v, %v", u, err)
	}
	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"})
	if err != nil || info.Name != "ops" || !info.IsMember || !info.IsChannel {
		t.Errorf("conversations.info = %+v, %v", info, err)
	}
}

func TestErrorsSurfaceAsSlackErrors(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	emu.AddChannel("C3", "private")
	if err := emu.SetMember("C3", false); err != nil {
		t.Fatal(err)
	}
	post := func(api *slack.Client, channel string, opts ...slack.MsgOption) error {
		if len(opts) == 0 {
			opts = []slack.MsgOption{slack.MsgOptionText("x", false)}
		}
		_, _, err := api.PostMessageContext(testCtx(t), channel, opts...)
		return err
	}
	withToken := func(tok string) *slack.Client { return slack.New(tok, slack.OptionAPIURL(emu.APIURL())) }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unknown channel", post(apiFor(emu), "C404"), "channel_not_found"},
		{"not a member", post(apiFor(emu), "C3"), "not_in_channel"},
		{"neither text nor blocks", post(apiFor(emu), "C1", slack.MsgOptionText("", false)), "no_text"},
		{"wrong token", post(withToken("xoxb-wrong"), "C1"), "invalid_auth"},
		{"no token", post(withToken(""), "C1"), "not_authed"},
		{"app token on bot method", post(withToken(emu.AppToken()), "C1"), "not_allowed_token_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slackErr(tt.err); got != tt.want {
				t.Errorf("err = %v (%q), want %q", tt.err, got, tt.want)
			}
		})
	}

	emu.RevokeTokens()
	if err := post(apiFor(emu), "C1"); slackErr(err) != "token_revoked" {
		t.Errorf("after revoke: %v", err)
	}
	emu.SetTokens("xoxb-new", "")
	if err := post(withToken("xoxb-new"), "C1"); err != nil {
		t.Errorf("new token: %v", err)
	}
	if got := emu.Calls("chat.postMessage"); got != len(tests)+2 {
		t.Errorf("Calls = %d, want %d (failed calls count too)", got, len(tests)+2)
	}
}

// TestRawErrorBodies checks what slack-go cannot show: every failure has a
// JSON content type and a non-empty "error".
func TestRawErrorBodies(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	for _, tt := range []struct{ method, form, want string }{
		{"no.such.method", "token=" + emu.BotToken(), "unknown_method"},
		{"chat.postMessage", "channel=C1&text=x", "not_authed"},
		{"chat.postMessage", "token=" + emu.BotToken() + "&channel=C1&blocks=nope", "invalid_blocks"},
		{"apps.connections.open", "token=xapp-wrong", "invalid_auth"},
	} {
		resp, err := http.Post(emu.APIURL()+tt.method, "application/x-www-form-urlencoded", strings.NewReader(tt.form))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var ans struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(body, &ans); err != nil || resp.StatusCode != 200 || ans.OK || ans.Error != tt.want ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: HTTP %d %s %s, want error %q", tt.method, resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.want)
		}
	}
	if got := emu.Calls("no.such.method"); got != 1 {
		t.Errorf("unknown method calls = %d", got)
	}
}

func TestFaults(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	post := func(ctx context.Context) error {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
		return err
	}

	t.Run("rate limit", func(t *testing.T) {
		emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, RateLimit: 7})
		var rl *slack.RateLimitedError
		if err := post(testCtx(t)); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
			t.Fatalf("err = %v, want RateLimitedError after 7s", err)
		}
		if err := post(testCtx(t)); err != nil {
			t.Fatalf("fault with Times 1 still active: %v", err)
		}
	})
	t.Run("status", func(t *testing.T) {
		emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 2, Status: http.StatusServiceUnavailable})
		for range 2 {
			var sc slack.StatusCodeError
			if err := post(testCtx(t)); !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
				t.Fatalf("err = %v, want StatusCodeError 503", err)
			}
		}
		if err := post(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("slack error until cleared", func(t *testing.T) {
		emu.InjectFault(slackemu.AllMethods, slackemu.Fault{Error: "fatal_error"})
		for range 3 {
			if err := post(testCtx(t)); slackErr(err) != "fatal_error" {
				t.Fatalf("err = %v", err)
			}
		}
		emu.ClearFaults()
		if err := post(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("delay honours the caller's deadline", func(t *testing.T) {
		emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := post(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("slow call took %s", d)
		}
	})
	t.Run("applied, then the answer comes too late", func(t *testing.T) {
		before := len(emu.Messages("C1"))
		emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := post(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
		if n := len(emu.Messages("C1")); n != before+1 {
			t.Fatalf("%d messages, want the timed-out post applied (%d)", n, before+1)
		}
	})
	t.Run("applied, then answered with an error", func(t *testing.T) {
		before := len(emu.Messages("C1"))
		emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Status: http.StatusInternalServerError})
		var sc slack.StatusCodeError
		if err := post(testCtx(t)); !errors.As(err, &sc) || sc.Code != http.StatusInternalServerError {
			t.Fatalf("err = %v, want StatusCodeError 500", err)
		}
		if n := len(emu.Messages("C1")); n != before+1 {
			t.Fatalf("%d messages, want the failed post applied (%d)", n, before+1)
		}
	})
	t.Run("applied, answered late but in time", func(t *testing.T) {
		emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Delay: 20 * time.Millisecond})
		_, ts, err := api.PostMessageContext(testCtx(t), "C1", slack.MsgOptionText("late", false))
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := emu.Message("C1", ts); !ok || m.Text != "late" {
			t.Fatalf("message %s: %+v, %v", ts, m, ok)
		}
	})
	t.Run("match on text", func(t *testing.T) {
		emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, RateLimit: 3, Match: "Spike"})
		if err := post(testCtx(t)); err != nil {
			t.Fatalf("a call without the text was hit: %v", err)
		}
		var rl *slack.RateLimitedError
		_, _, err := api.PostMessageContext(testCtx(t), "C1", slack.MsgOptionText("a *Spike* here", false))
		if !errors.As(err, &rl) {
			t.Fatalf("err = %v, want the matching call rate limited", err)
		}
		if err := post(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("delay alone still answers", func(t *testing.T) {
		emu.InjectFault("auth.test", slackemu.Fault{Times: 1, Delay: 20 * time.Millisecond})
		if _, err := api.AuthTestContext(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestResponseURLNeedsNoToken(t *testing.T) {
	// Unknown response URLs answer 404, like expired ones.
	emu := startEmu(t, slackemu.Options{})
	u, _ := url.Parse(emu.APIURL())
	resp, err := http.Post("http://"+u.Host+"/response/nope", "application/json", strings.NewReader(`{"text":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestWaitForHonoursDeadline(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := emu.WaitFor(ctx, func() bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	// And wakes on a change rather than a timer.
	done := make(chan error, 1)
	go func() {
		done <- emu.WaitFor(testCtx(t), func() bool { return len(emu.Messages("C1")) == 1 })
	}()
	if _, _, err := apiFor(emu).PostMessage("C1", slack.MsgOptionText("x", false)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("WaitFor: %v", err)
	}
}

func TestModalViews(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	api := apiFor(emu)
	ctx := testCtx(t)
	_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("alert", false), slack.MsgOptionBlocks(alertBlocks()...))
	if err != nil {
		t.Fatal(err)
	}
	// A click hands out a trigger_id, which views.open needs.
	raw, err := emu.BlockActionsPayload(slackemu.Click{UserID: "U3", Channel: "C1", MessageTS: ts, ActionID: "ack"})
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatalf("slack-go cannot parse the payload: %v", err)
	}
	modal := slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      slack.NewTextBlockObject(slack.PlainTextType, "Reroute", false, false),
		Blocks:     slack.Blocks{BlockSet: alertBlocks()[:2]},
		ExternalID: "reroute-p-1",
	}
	if _, err := api.OpenViewContext(ctx, "1.2.bogus", modal); slackErr(err) != "invalid_trigger_id" {
		t.Errorf("bogus trigger: %v", err)
	}
	opened, err := api.OpenViewContext(ctx, cb.TriggerID, modal)
	if err != nil {
		t.Fatalf("views.open: %v", err)
	}
	if opened.View.Type != slack.VTModal || opened.View.ExternalID != "reroute-p-1" {
		t.Errorf("opened = %+v", opened.View)
	}
	modal.Title = slack.NewTextBlockObject(slack.PlainTextType, "Rerouted", false, false)
	updated, err := api.UpdateViewContext(ctx, modal, "", opened.View.Hash, opened.View.ID)
	if err != nil {
		t.Fatalf("views.update: %v", err)
	}
	if updated.View.ID != opened.View.ID || updated.View.Title.Text != "Rerouted" || updated.View.Hash == opened.View.Hash {
		t.Errorf("updated = %+v", updated.View)
	}
	if _, err := api.UpdateViewContext(ctx, modal, "", opened.View.Hash, opened.View.ID); slackErr(err) != "hash_conflict" {
		t.Errorf("update with old hash: %v", err)
	}
	if views := emu.Views(); len(views) != 1 || views[0].UserID != "U3" {
		t.Errorf("views = %+v", views)
	}
}

// Invalid metadata is a warning, as Slack documents: the message is posted
// without it.
func TestInvalidMetadataIsDroppedWithAWarning(t *testing.T) {
	emu := startEmu(t, slackemu.Options{})
	for _, tc := range []struct {
		name    string
		md      string
		warning string
	}{
		{"event type with a space", `{"event_type":"bad type","event_payload":{}}`, "invalid_metadata_schema"},
		{"payload not an object", `{"event_type":"ok_type","event_payload":[1]}`, "invalid_metadata_schema"},
		{"not JSON", `{"event_type":`, "invalid_metadata_format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"token": {emu.BotToken()}, "channel": {"C1"}, "text": {"hi"}, "metadata": {tc.md}}
			resp, err := http.PostForm(emu.APIURL()+"chat.postMessage", form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer struct {
				OK      bool   `json:"ok"`
				TS      string `json:"ts"`
				Warning string `json:"warning"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				t.Fatal(err)
			}
			if !answer.OK || answer.Warning != tc.warning {
				t.Fatalf("answer %+v, want ok with warning %s", answer, tc.warning)
			}
			if m, ok := emu.Message("C1", answer.TS); !ok || m.Metadata != nil {
				t.Fatalf("message %+v (found %v), want it posted without metadata", m, ok)
			}
		})
	}
}
