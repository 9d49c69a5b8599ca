package app_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
)

// clock is a settable time source shared by the daemon and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// settle waits for two complete reminder sweeps, so whatever the clock now
// makes due has been sent.
func settle(t *testing.T, d *daemon) {
	t.Helper()
	start := d.app.Bot().Sweeps()
	testutil.Eventually(t, "two reminder sweeps", func() bool { return d.app.Bot().Sweeps() >= start+2 })
}

func replies(emu *slackemu.Server, channel, ts string) []string {
	var out []string
	for _, m := range emu.Replies(channel, ts) {
		if m.TS != ts {
			out = append(out, m.Text)
		}
	}
	return out
}

func TestRemindersFireOnceAtTheirTime(t *testing.T) {
	emu := newEmulator(t)
	dbPath := filepath.Join(t.TempDir(), "e2e.db")
	clk := &clock{now: time.Now()}
	opts := app.Options{Now: clk.Now, ReminderEvery: 5 * time.Millisecond}
	d := startWith(t, loadConfig(t, emu, dbPath, emu.BotToken()), opts)

	_, normal := deliveredPost(t, d, supportPost)                                                           // 30 min to claim
	_, vip := deliveredPost(t, d, post("201", "My order is broken and I want a refund now", 250000, false)) // VIP: 15 min

	clk.advance(14 * time.Minute)
	settle(t, d)
	if n := len(replies(emu, vip.Delivery.Channel, vip.Delivery.TS)); n != 0 {
		t.Fatalf("VIP reminder after 14 min: %d", n)
	}
	clk.advance(2 * time.Minute) // 16 min
	settle(t, d)
	if got := replies(emu, vip.Delivery.Channel, vip.Delivery.TS); len(got) != 1 || !strings.Contains(got[0], "Nobody has claimed this post for 16 min") {
		t.Fatalf("VIP thread after 16 min: %q", got)
	}
	if n := len(replies(emu, normal.Delivery.Channel, normal.Delivery.TS)); n != 0 {
		t.Fatalf("normal post reminded after 16 min: %d", n)
	}
	clk.advance(15 * time.Minute) // 31 min
	settle(t, d)
	if got := replies(emu, normal.Delivery.Channel, normal.Delivery.TS); len(got) != 1 {
		t.Fatalf("normal thread after 31 min: %q", got)
	}

	// A restart with the clock far ahead sends nothing again.
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Hour)
	d = startWith(t, loadConfig(t, emu, dbPath, emu.BotToken()), opts)
	settle(t, d)
	for _, rec := range []struct{ ch, ts string }{{vip.Delivery.Channel, vip.Delivery.TS}, {normal.Delivery.Channel, normal.Delivery.TS}} {
		if n := len(replies(emu, rec.ch, rec.ts)); n != 1 {
			t.Fatalf("thread %s has %d reminders after a restart, want 1", rec.ts, n)
		}
	}

	// Claimed: the owner is reminded after resolve_minutes (240), once.
	click(t, emu, normal, "U7", "claim", "")
	testutil.Eventually(t, "the claim", func() bool { return strings.Contains(latest(t, emu, normal), "Claimed by <@U7>") })
	clk.advance(239 * time.Minute)
	settle(t, d)
	if n := len(replies(emu, normal.Delivery.Channel, normal.Delivery.TS)); n != 1 {
		t.Fatalf("resolve reminder too early: %d replies", n)
	}
	clk.advance(2 * time.Minute)
	settle(t, d)
	settle(t, d)
	got := replies(emu, normal.Delivery.Channel, normal.Delivery.TS)
	if len(got) != 2 || !strings.Contains(got[1], "<@U7>, you claimed this post 4 h 1 min ago") {
		t.Fatalf("thread after the resolve deadline: %q", got)
	}
}
