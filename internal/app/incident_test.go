package app_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/testutil"
)

func TestBurstBecomesOneIncidentThread(t *testing.T) {
	emu := newEmulator(t)
	clk := &clock{now: time.Now()}
	cfg := loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken(),
		"incidents: {update_every: 1m, spike_posts: 10, spike_minutes: 15}")
	d := startWith(t, cfg, app.Options{Now: clk.Now, ReminderEvery: 5 * time.Millisecond})

	const n = 30
	text := "Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer about a class action. #BoycottAcme"
	var ids []string
	for i := range n {
		body := post(fmt.Sprint(3000+i), text, 1000, false)
		if i > 0 {
			body = post(fmt.Sprint(3000+i), fmt.Sprintf("RT @user%d: %s", i, text), 1000, false)
		}
		ids = append(ids, d.accept(t, body))
	}
	testutil.Eventually(t, "all posts delivered", func() bool {
		for _, id := range ids {
			if r, err := d.app.Store().Get(id); err != nil || r.Delivery == nil {
				return false
			}
		}
		return true
	})

	root, _ := d.app.Store().Get(ids[0])
	if got := postIDs(emu, "C0PR"); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("top-level posts in #pr: %v, want only the first [%s]", got, ids[0])
	}
	var thread, alerts []string
	for _, m := range emu.Replies("C0PR", root.Delivery.TS) {
		switch {
		case m.TS == root.Delivery.TS:
		case m.Metadata != nil && m.Metadata.EventType == "socialroute_post":
			thread = append(thread, m.Text)
		case strings.Contains(m.Text, "Spike"):
			alerts = append(alerts, m.Text)
			if !m.ReplyBroadcast {
				t.Error("spike alert not broadcast to the channel")
			}
		}
	}
	if len(thread) != n-1 {
		t.Fatalf("thread holds %d posts, want %d", len(thread), n-1)
	}
	if len(alerts) != 1 || !strings.Contains(alerts[0], "10 posts in under 15 min") {
		t.Fatalf("spike alerts %q, want one", alerts)
	}
	for _, id := range ids[1:] {
		if r, _ := d.app.Store().Get(id); r.Incident != ids[0] || r.Delivery.Channel != "C0PR" {
			t.Fatalf("post %s: incident %q, delivery %+v", id, r.Incident, r.Delivery)
		}
	}

	// The counter is throttled: once the minute is over, it shows all 30.
	clk.advance(2 * time.Minute)
	testutil.Eventually(t, "the incident counter", func() bool {
		m, _ := emu.Message("C0PR", root.Delivery.TS)
		return strings.Contains(m.PlainText(), "Incident: 30 posts")
	})
	m, _ := emu.Message("C0PR", root.Delivery.TS)
	if !strings.Contains(m.PlainText(), "reach 30,000") {
		t.Errorf("incident message:\n%s", m.PlainText())
	}
	if len(m.Versions) > 3 {
		t.Errorf("incident message updated %d times for 29 posts under a 1 min throttle", len(m.Versions))
	}
}

func TestUnrelatedReputationPostsStayApart(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	a := d.accept(t, post("401", "Journalist here: we are writing a story about Acme's recall of the X2 blender. Comment?", 50000, true))
	b := d.accept(t, post("402", "Acme fired workers for unionising. Unethical. Boycott them.", 30000, false))
	testutil.Eventually(t, "both delivered", func() bool { return len(postIDs(emu, "C0PR")) == 2 })
	got := postIDs(emu, "C0PR")
	if got[0] != a || got[1] != b {
		t.Fatalf("#pr top level %v, want [%s %s]", got, a, b)
	}
}
