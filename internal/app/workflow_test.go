package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/store"
)

// deliveredPost sends body through the webhook and waits until it is in
// Slack, returning its id and record.
func deliveredPost(t *testing.T, d *daemon, body string) (string, store.Record) {
	t.Helper()
	id := d.accept(t, body)
	var rec store.Record
	testutil.Eventually(t, "delivery of "+id, func() bool {
		var err error
		rec, err = d.app.Store().Get(id)
		return err == nil && rec.Delivery != nil
	})
	return id, rec
}

func click(t *testing.T, emu *slackemu.Server, rec store.Record, user, action, selected string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := emu.PushClick(ctx, slackemu.Click{UserID: user, Channel: rec.Delivery.Channel, MessageTS: rec.Delivery.TS, ActionID: action, SelectedValue: selected})
	if err != nil {
		t.Fatalf("click %s: %v", action, err)
	}
}

func latest(t *testing.T, emu *slackemu.Server, rec store.Record) string {
	t.Helper()
	m, ok := emu.Message(rec.Delivery.Channel, rec.Delivery.TS)
	if !ok {
		t.Fatalf("message %s/%s gone", rec.Delivery.Channel, rec.Delivery.TS)
	}
	return m.PlainText()
}

func ephemeralsFor(emu *slackemu.Server, channel, user string) []string {
	var out []string
	for _, m := range emu.Ephemerals(channel) {
		if m.Recipient == user {
			out = append(out, m.Text)
		}
	}
	return out
}

func TestConcurrentClaimsHaveOneOwner(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	id, rec := deliveredPost(t, d, supportPost)

	var wg sync.WaitGroup
	for _, u := range []string{"U1", "U2"} {
		wg.Go(func() { click(t, emu, rec, u, "claim", "") })
	}
	wg.Wait()
	var owner, loser string
	testutil.Eventually(t, "a claim and an ephemeral refusal", func() bool {
		r, _ := d.app.Store().Get(id)
		if r.Claimed == nil {
			return false
		}
		owner, loser = r.Claimed.User, map[string]string{"U1": "U2", "U2": "U1"}[r.Claimed.User]
		return len(ephemeralsFor(emu, rec.Delivery.Channel, loser)) == 1 && strings.Contains(latest(t, emu, rec), "Claimed by")
	})
	if got := ephemeralsFor(emu, rec.Delivery.Channel, loser); got[0] != fmt.Sprintf("Already claimed by <@%s>.", owner) {
		t.Errorf("loser was told %q", got[0])
	}
	if len(ephemeralsFor(emu, rec.Delivery.Channel, owner)) != 0 {
		t.Error("the owner got an ephemeral too")
	}
	text := latest(t, emu, rec)
	if !strings.Contains(text, "Claimed by <@"+owner+">") || !strings.Contains(text, "[Resolve]") || !strings.Contains(text, "[Unclaim]") || strings.Contains(text, "[Claim]") {
		t.Errorf("message after claim:\n%s", text)
	}

	// Only the owner or an admin may resolve.
	click(t, emu, rec, loser, "resolve", "")
	testutil.Eventually(t, "refusal to resolve", func() bool { return len(ephemeralsFor(emu, rec.Delivery.Channel, loser)) == 2 })
	if r, _ := d.app.Store().Get(id); r.Resolved != nil {
		t.Fatal("a non-owner resolved the post")
	}
	click(t, emu, rec, "UADMIN", "resolve", "")
	testutil.Eventually(t, "resolution by the admin", func() bool { return strings.Contains(latest(t, emu, rec), "Resolved by <@UADMIN>") })
	if strings.Contains(latest(t, emu, rec), "[Resolve]") {
		t.Error("a resolved post still offers buttons")
	}
	items := 0
	d.app.Store().OpenItems(func(store.OpenItem) bool { items++; return true })
	if items != 0 {
		t.Errorf("%d open items after resolution, want 0", items)
	}
}

func TestRedeliveredEnvelopeHasOneEffect(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	id, rec := deliveredPost(t, d, supportPost)

	emu.SetRedeliveries(2)
	click(t, emu, rec, "U1", "escalate", "")
	testutil.Eventually(t, "two redeliveries recognised", func() bool { return d.app.Bot().Redelivered() == 2 })
	testutil.Eventually(t, "the escalation", func() bool { return strings.Contains(latest(t, emu, rec), "Escalated to PR") })
	if n := len(emu.Messages("C0PR")); n != 1 {
		t.Fatalf("%d messages in #pr, want the one escalation", n)
	}

	r, _ := d.app.Store().Get(id)
	n := 0
	for _, e := range r.History {
		if e.Action == "escalated" {
			n++
		}
	}
	if n != 1 || r.Escalated == nil || r.Escalated.User != "U1" {
		t.Fatalf("escalated %d times (%+v), want once by U1", n, r.Escalated)
	}
	pr := emu.Messages("C0PR")[0].Text
	if !strings.Contains(pr, "<@U1> escalated a support post") || !strings.Contains(pr, "refund") {
		t.Errorf("PR channel got %q", pr)
	}
	if text := latest(t, emu, rec); !strings.Contains(text, "Escalated to PR by <@U1>") || strings.Contains(text, "[Escalate to PR]") {
		t.Errorf("original after escalation:\n%s", text)
	}
}

func TestReclassifyMovesThePost(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	id, rec := deliveredPost(t, d, supportPost)

	click(t, emu, rec, "U5", "reclassify", "reputation")
	testutil.Eventually(t, "delivery to PR and the old message marked", func() bool {
		r, _ := d.app.Store().Get(id)
		return r.Delivery != nil && r.Delivery.Channel == "C0PR" && strings.Contains(latest(t, emu, rec), "Moved to")
	})
	if got := postIDs(emu, "C0PR"); len(got) != 1 || got[0] != id {
		t.Fatalf("PR channel holds %v, want [%s]", got, id)
	}
	old := latest(t, emu, rec)
	if !strings.Contains(old, "Moved to <#C0PR> as Reputation by <@U5>") || strings.Contains(old, "[Claim]") {
		t.Errorf("old message:\n%s", old)
	}
	r, _ := d.app.Store().Get(id)
	if r.Decision.Class != "reputation" || r.Decision.Department != "pr" {
		t.Errorf("decision after reclassify %+v", r.Decision)
	}
	found := false
	for _, e := range r.History {
		found = found || (e.Action == "reclassified" && e.User == "U5")
	}
	if !found {
		t.Errorf("history lacks the reclassification: %+v", r.History)
	}
	exs, err := d.app.Store().Examples(100)
	if err != nil || len(exs) != 1 || exs[0].Class != "reputation" || exs[0].User != "U5" || exs[0].Post.Text != r.Post.Text {
		t.Errorf("stored examples %+v, %v; want the correction", exs, err)
	}
}

func TestAppHomeCounts(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	_, rec := deliveredPost(t, d, supportPost)
	deliveredPost(t, d, reputationPost)
	deliveredPost(t, d, post("105", "The app keeps crashing on login, please help", 10, false))
	click(t, emu, rec, "U1", "claim", "")
	testutil.Eventually(t, "the claim", func() bool { return strings.Contains(latest(t, emu, rec), "Claimed by") })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, _ := json.Marshal(map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1.0"})
	if _, err := emu.PushEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	var view json.RawMessage
	testutil.Eventually(t, "the home view", func() bool {
		var ok bool
		view, ok = emu.HomeView("U1")
		return ok
	})
	home := string(view)
	for _, want := range []string{
		"*support*: 2 open, 1 unclaimed",
		"*pr*: 1 open, 1 unclaimed",
		"*Your claims*: 1 open",
		"Support 2 · Reputation 1 · Promotional 0",
		"Oldest unclaimed",
	} {
		if !strings.Contains(home, want) {
			t.Errorf("home view lacks %q:\n%s", want, home)
		}
	}
}

func TestConcurrentEscalationsPostOnce(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	_, rec := deliveredPost(t, d, supportPost)
	var wg sync.WaitGroup
	for _, u := range []string{"U1", "U2", "U3"} {
		wg.Go(func() { click(t, emu, rec, u, "escalate", "") })
	}
	wg.Wait()
	// Every click is carried out: one escalates, the others are told who did.
	var owner string
	testutil.Eventually(t, "one escalation and two refusals", func() bool {
		r, _ := d.app.Store().Get(rec.Post.ID)
		if r.Escalated == nil {
			return false
		}
		owner = r.Escalated.User
		told := 0
		for _, u := range []string{"U1", "U2", "U3"} {
			if u != owner && slices.Contains(ephemeralsFor(emu, rec.Delivery.Channel, u), fmt.Sprintf("Already escalated to PR by <@%s>.", owner)) {
				told++
			}
		}
		return told == 2 && strings.Contains(latest(t, emu, rec), "Escalated to PR")
	})
	if n := len(emu.Messages("C0PR")); n != 1 {
		t.Fatalf("%d messages in #pr, want one escalation", n)
	}
}

func TestReclassifyKeepsSomeoneElsesClaim(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	id, rec := deliveredPost(t, d, supportPost)
	click(t, emu, rec, "U1", "claim", "")
	testutil.Eventually(t, "the claim", func() bool { return strings.Contains(latest(t, emu, rec), "Claimed by <@U1>") })

	click(t, emu, rec, "U2", "reclassify", "reputation")
	testutil.Eventually(t, "the refusal", func() bool { return len(ephemeralsFor(emu, rec.Delivery.Channel, "U2")) == 1 })
	if got := ephemeralsFor(emu, rec.Delivery.Channel, "U2")[0]; got != "Only <@U1>, who claimed this, or an admin can do that." {
		t.Errorf("non-owner was told %q", got)
	}
	r, _ := d.app.Store().Get(id)
	if r.Claimed == nil || r.Claimed.User != "U1" || r.Delivery == nil || r.Delivery.Channel != rec.Delivery.Channel || r.Decision.Class != "support" {
		t.Fatalf("after a non-owner's reclassify: claimed %+v, delivery %+v, decision %+v", r.Claimed, r.Delivery, r.Decision)
	}
	if exs, _ := d.app.Store().Examples(100); len(exs) != 0 {
		t.Errorf("a refused reclassify was learned: %+v", exs)
	}

	click(t, emu, rec, "UADMIN", "reclassify", "reputation")
	testutil.Eventually(t, "the admin's move to PR", func() bool {
		r, _ := d.app.Store().Get(id)
		return r.Delivery != nil && r.Delivery.Channel == "C0PR"
	})
}
