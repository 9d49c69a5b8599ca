package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/store"
)

// Every Slack write other than delivery goes through one path that waits
// out a 429's Retry-After and records its effect only once Slack has it.
// Each test here makes Slack refuse one kind of write with a 429 (a fault
// limited to that write's text, where other writes share the method) and
// sees the effect in Slack exactly once.

// clientTimeout is the daemon's Slack request timeout in tests of slow
// answers: short, yet long enough for the emulator to carry out the call
// before the client gives up, even on a loaded machine.
const clientTimeout = 3 * time.Second

// writesDaemon starts a daemon on a settable clock that sweeps for
// reminders every few milliseconds; extra is appended to the config.
func writesDaemon(t *testing.T, emu *slackemu.Server, opts app.Options, extra ...string) (*daemon, *clock) {
	t.Helper()
	clk := &clock{now: time.Now()}
	opts.Now, opts.ReminderEvery = clk.Now, 5*time.Millisecond
	return startWith(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken(), extra...), opts), clk
}

func record(t *testing.T, d *daemon, id string) store.Record {
	t.Helper()
	rec, err := d.app.Store().Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// escalatedTo is where post rec's escalation is recorded as posted ("" if
// nowhere yet).
func escalatedTo(rec store.Record) string {
	for _, e := range slices.Backward(rec.History) {
		if e.Action == "escalated" {
			return e.Detail
		}
	}
	return ""
}

// containing returns the texts of msgs that contain word.
func containing(msgs []string, word string) []string {
	return slices.DeleteFunc(slices.Clone(msgs), func(m string) bool { return !strings.Contains(m, word) })
}

func TestClaimReminderOutlivesRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, clk := writesDaemon(t, emu, app.Options{})
	id, rec := deliveredPost(t, d, supportPost)

	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 2, RateLimit: 1, Match: "Nobody has claimed"})
	clk.advance(31 * time.Minute)
	testutil.Eventually(t, "the claim reminder in the thread and recorded", func() bool {
		return len(replies(emu, rec.Delivery.Channel, rec.Delivery.TS)) == 1 && record(t, d, id).Reminded.Claim
	})
	settle(t, d)
	if got := replies(emu, rec.Delivery.Channel, rec.Delivery.TS); len(got) != 1 || !strings.Contains(got[0], "Nobody has claimed this post") {
		t.Fatalf("thread after two 429s: %q, want one claim reminder", got)
	}
	if n := emu.Calls("chat.postMessage"); n != 4 {
		t.Errorf("chat.postMessage called %d times, want 4 (the post, two 429s, the reminder)", n)
	}
}

func TestResolveReminderOutlivesRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, clk := writesDaemon(t, emu, app.Options{})
	id, rec := deliveredPost(t, d, supportPost)
	click(t, emu, rec, "U7", "claim", "")
	testutil.Eventually(t, "the claim", func() bool { return record(t, d, id).Claimed != nil })

	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 2, RateLimit: 1, Match: "you claimed this post"})
	clk.advance(241 * time.Minute)
	testutil.Eventually(t, "the resolve reminder in the thread and recorded", func() bool {
		return len(replies(emu, rec.Delivery.Channel, rec.Delivery.TS)) == 1 && record(t, d, id).Reminded.Resolve
	})
	settle(t, d)
	if got := replies(emu, rec.Delivery.Channel, rec.Delivery.TS); len(got) != 1 || !strings.Contains(got[0], "<@U7>, you claimed this post") {
		t.Fatalf("thread after two 429s: %q, want one resolve reminder", got)
	}
}

// A reminder whose answer never comes in time is in Slack all the same:
// the retry finds it there instead of posting it again, and the sweep does
// not wait for the slow answer.
func TestSlowlyAnsweredReminderIsNotDoubled(t *testing.T) {
	emu := newEmulator(t)
	d, clk := writesDaemon(t, emu, app.Options{SlackTimeout: clientTimeout})
	id, rec := deliveredPost(t, d, supportPost)

	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Delay: 2 * time.Minute, Match: "Nobody has claimed"})
	clk.advance(31 * time.Minute)
	testutil.Eventually(t, "the reminder recorded after the slow answer", func() bool { return record(t, d, id).Reminded.Claim })
	settle(t, d)
	if got := replies(emu, rec.Delivery.Channel, rec.Delivery.TS); len(got) != 1 {
		t.Fatalf("thread: %q, want the reminder once", got)
	}
	if n := emu.Calls("chat.postMessage"); n != 2 {
		t.Errorf("chat.postMessage called %d times, want 2 (the post, the reminder once)", n)
	}
}

func TestSpikeAlertOutlivesRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, _ := writesDaemon(t, emu, app.Options{}, "incidents: {update_every: 1m, spike_posts: 3, spike_minutes: 15}")
	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 2, RateLimit: 1, Match: "Spike"})

	text := "Acme leaked my personal data and now I'm getting scam calls. #BoycottAcme"
	var ids []string
	for i := range 4 {
		ids = append(ids, d.accept(t, post(fmt.Sprint(4000+i), fmt.Sprintf("RT @user%d: %s", i, text), 1000, false)))
	}
	testutil.Eventually(t, "all posts delivered and the alert sent", func() bool {
		for _, id := range ids {
			if r, err := d.app.Store().Get(id); err != nil || r.Delivery == nil {
				return false
			}
		}
		root := record(t, d, ids[0])
		return len(containing(replies(emu, "C0PR", root.Delivery.TS), "Spike")) > 0
	})
	settle(t, d)
	root := record(t, d, ids[0])
	thread := replies(emu, "C0PR", root.Delivery.TS)
	if alerts := containing(thread, "Spike"); len(alerts) != 1 {
		t.Fatalf("spike alerts %q, want one", alerts)
	}
	if len(thread) != len(ids) { // three replies and the alert
		t.Fatalf("thread %q, want %d messages", thread, len(ids))
	}
}

func TestEscalationOutlivesRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, _ := writesDaemon(t, emu, app.Options{})
	id, rec := deliveredPost(t, d, supportPost)

	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 2, RateLimit: 1, Match: "escalated a"})
	click(t, emu, rec, "U1", "escalate", "")
	testutil.Eventually(t, "the escalation recorded and shown", func() bool {
		return escalatedTo(record(t, d, id)) != "" && strings.Contains(latest(t, emu, rec), "Escalated to PR")
	})
	if msgs := emu.Messages("C0PR"); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "escalated a support post") {
		t.Fatalf("#pr holds %d messages, want the escalation once", len(msgs))
	}
	if got := ephemeralsFor(emu, rec.Delivery.Channel, "U1"); len(got) != 0 {
		t.Errorf("the escalating user was told %q", got)
	}
}

// An escalation whose PR message went in but whose answer never came, and
// which could not be checked in time, is finished later by the sweep: it
// finds the message and records it instead of posting it twice.
func TestUnconfirmedEscalationIsFinishedOnce(t *testing.T) {
	emu := newEmulator(t)
	d, clk := writesDaemon(t, emu, app.Options{SlackTimeout: clientTimeout, SlackWriteDeadline: 6 * time.Second})
	id, rec := deliveredPost(t, d, supportPost)

	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Delay: 2 * time.Minute, Match: "escalated a"})
	emu.InjectFault("conversations.history", slackemu.Fault{Status: 503})
	click(t, emu, rec, "U1", "escalate", "")
	testutil.Eventually(t, "the user told the escalation is not confirmed", func() bool {
		return slices.ContainsFunc(ephemeralsFor(emu, rec.Delivery.Channel, "U1"), func(m string) bool { return strings.Contains(m, "not confirmed") })
	})
	if r := record(t, d, id); r.Escalated == nil || escalatedTo(r) != "" {
		t.Fatalf("escalation %+v to %q, want it marked and unconfirmed", r.Escalated, escalatedTo(r))
	}

	emu.ClearFaults()
	clk.advance(3 * time.Minute) // past the lease of the click's attempt
	testutil.Eventually(t, "the escalation finished", func() bool {
		return escalatedTo(record(t, d, id)) != "" && strings.Contains(latest(t, emu, rec), "Escalated to PR")
	})
	settle(t, d)
	if msgs := emu.Messages("C0PR"); len(msgs) != 1 {
		t.Fatalf("#pr holds %d messages, want the escalation once", len(msgs))
	}
	if at := escalatedTo(record(t, d, id)); at != "C0PR/"+emu.Messages("C0PR")[0].TS {
		t.Fatalf("escalation recorded at %q", at)
	}
}

// A slow answer to the escalation itself: the click finds its own message
// and records it, once.
func TestSlowlyAnsweredEscalationIsNotDoubled(t *testing.T) {
	emu := newEmulator(t)
	d, _ := writesDaemon(t, emu, app.Options{SlackTimeout: clientTimeout})
	id, rec := deliveredPost(t, d, supportPost)

	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Delay: 2 * time.Minute, Match: "escalated a"})
	click(t, emu, rec, "U1", "escalate", "")
	testutil.Eventually(t, "the escalation recorded", func() bool { return escalatedTo(record(t, d, id)) != "" })
	if msgs := emu.Messages("C0PR"); len(msgs) != 1 {
		t.Fatalf("#pr holds %d messages, want the escalation once", len(msgs))
	}
}

func TestClaimRedrawOutlivesRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, _ := writesDaemon(t, emu, app.Options{})
	_, rec := deliveredPost(t, d, supportPost)

	emu.InjectFault("chat.update", slackemu.Fault{Times: 2, RateLimit: 1})
	click(t, emu, rec, "U7", "claim", "")
	testutil.Eventually(t, "the claim shown", func() bool { return strings.Contains(latest(t, emu, rec), "Claimed by <@U7>") })
	if m, _ := emu.Message(rec.Delivery.Channel, rec.Delivery.TS); len(m.Versions) != 1 {
		t.Fatalf("message updated %d times, want once", len(m.Versions))
	}
	if got := ephemeralsFor(emu, rec.Delivery.Channel, "U7"); len(got) != 0 {
		t.Errorf("the claiming user was told %q", got)
	}
}

// The incident message's counter is redrawn once Slack's Retry-After has
// passed, not hammered by every sweep until a redraw gets through.
func TestIncidentRedrawWaitsOutRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, clk := writesDaemon(t, emu, app.Options{}, "incidents: {update_every: 1m}")
	text := "Acme leaked my personal data and now I'm getting scam calls. #BoycottAcme"
	var ids []string
	for i := range 3 {
		ids = append(ids, d.accept(t, post(fmt.Sprint(5000+i), fmt.Sprintf("RT @user%d: %s", i, text), 1000, false)))
	}
	// Delivery is over once it logged every post: the incident message
	// is then redrawn by the sweep alone.
	testutil.Eventually(t, "all posts delivered", func() bool {
		return strings.Count(d.logs.String(), `"message":"post delivered"`) == len(ids)
	})
	root := record(t, d, ids[0])
	before := emu.Calls("chat.update")

	emu.InjectFault("chat.update", slackemu.Fault{Times: 2, RateLimit: 1})
	start := time.Now()
	clk.advance(2 * time.Minute)
	testutil.Eventually(t, "the counter redrawn", func() bool {
		m, _ := emu.Message("C0PR", root.Delivery.TS)
		return strings.Contains(m.PlainText(), "Incident: 3 posts")
	})
	if waited := time.Since(start); waited < 1500*time.Millisecond {
		t.Errorf("redrawn %s after two 429s asking for 1 s each", waited)
	}
	settle(t, d)
	if n := emu.Calls("chat.update") - before; n != 3 {
		t.Errorf("chat.update called %d times, want 3 (two 429s, one redraw)", n)
	}
}

func TestEphemeralOutlivesRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, _ := writesDaemon(t, emu, app.Options{})
	_, rec := deliveredPost(t, d, supportPost)
	click(t, emu, rec, "U1", "claim", "")
	testutil.Eventually(t, "the claim shown", func() bool { return strings.Contains(latest(t, emu, rec), "Claimed by <@U1>") })

	emu.InjectFault("chat.postEphemeral", slackemu.Fault{Times: 2, RateLimit: 1})
	click(t, emu, rec, "U2", "resolve", "")
	testutil.Eventually(t, "the answer to the resolve by someone else", func() bool {
		return len(ephemeralsFor(emu, rec.Delivery.Channel, "U2")) > 0
	})
	settle(t, d)
	if got := ephemeralsFor(emu, rec.Delivery.Channel, "U2"); len(got) != 1 || got[0] != "Only <@U1>, who claimed this, or an admin can do that." {
		t.Fatalf("U2 was told %q, want it once", got)
	}
}

// An ephemeral answer cannot be looked up: one whose answer never came is
// not sent again, so it is never shown twice.
func TestSlowlyAnsweredEphemeralIsNotDoubled(t *testing.T) {
	emu := newEmulator(t)
	d, _ := writesDaemon(t, emu, app.Options{SlackTimeout: clientTimeout})
	_, rec := deliveredPost(t, d, supportPost)
	click(t, emu, rec, "U1", "claim", "")
	testutil.Eventually(t, "the claim shown", func() bool { return strings.Contains(latest(t, emu, rec), "Claimed by <@U1>") })

	emu.InjectFault("chat.postEphemeral", slackemu.Fault{Times: 1, Apply: true, Delay: 2 * time.Minute})
	click(t, emu, rec, "U2", "resolve", "")
	testutil.Eventually(t, "the ephemeral call given up", func() bool {
		return strings.Contains(d.logs.String(), "ephemeral reply failed")
	})
	if got := ephemeralsFor(emu, rec.Delivery.Channel, "U2"); len(got) != 1 {
		t.Fatalf("U2 was told %q, want it once", got)
	}
}

// A daemon stopped while a reminder is on its way to Slack leaves it in
// flight: after a restart, one that reached Slack is found in its thread
// and recorded, one that did not is posted. Neither is lost or doubled.
func TestRemindersInFlightAtStopAreNeitherLostNorDoubled(t *testing.T) {
	emu := newEmulator(t)
	dbPath := filepath.Join(t.TempDir(), "e2e.db")
	clk := &clock{now: time.Now()}
	opts := app.Options{Now: clk.Now, ReminderEvery: 5 * time.Millisecond}
	d := startWith(t, loadConfig(t, emu, dbPath, emu.BotToken()), opts)
	vipID, vip := deliveredPost(t, d, post("201", "My order is broken and I want a refund now", 250000, false)) // 15 min
	normalID, normal := deliveredPost(t, d, supportPost)                                                        // 30 min
	restart := func() {
		t.Helper()
		if err := d.stop(); err != nil {
			t.Fatal(err)
		}
		d = startWith(t, loadConfig(t, emu, dbPath, emu.BotToken()), opts)
	}

	// The VIP's reminder reaches Slack, but the answer never comes.
	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Delay: 10 * time.Minute, Match: "Nobody has claimed"})
	clk.advance(16 * time.Minute)
	waitFor(t, emu, "the VIP's reminder in Slack", func() bool { return len(replies(emu, vip.Delivery.Channel, vip.Delivery.TS)) == 1 })
	restart()
	testutil.Eventually(t, "the VIP's reminder recorded", func() bool { return record(t, d, vipID).Reminded.Claim })

	// The other reminder hangs without reaching Slack.
	calls := emu.Calls("chat.postMessage")
	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Delay: 10 * time.Minute, Match: "Nobody has claimed"})
	clk.advance(15 * time.Minute)
	waitFor(t, emu, "the reminder on its way", func() bool { return emu.Calls("chat.postMessage") > calls })
	restart()
	testutil.Eventually(t, "the other reminder recorded", func() bool { return record(t, d, normalID).Reminded.Claim })
	settle(t, d)

	for _, rec := range []store.Record{vip, normal} {
		if got := replies(emu, rec.Delivery.Channel, rec.Delivery.TS); len(got) != 1 {
			t.Errorf("thread of %s: %q, want one reminder", rec.Post.ID, got)
		}
	}
}

func TestAppHomeOutlivesRateLimit(t *testing.T) {
	emu := newEmulator(t)
	d, _ := writesDaemon(t, emu, app.Options{})
	deliveredPost(t, d, supportPost)

	emu.InjectFault("views.publish", slackemu.Fault{Times: 1, RateLimit: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, _ := json.Marshal(map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1.0"})
	if _, err := emu.PushEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the home view", func() bool {
		view, ok := emu.HomeView("U1")
		return ok && strings.Contains(string(view), "*support*: 1 open, 1 unclaimed")
	})
	if n := emu.Calls("views.publish"); n != 2 {
		t.Errorf("views.publish called %d times, want 2 (a 429, the view)", n)
	}
}

// A daemon stopped while a spike alert is on its way to Slack leaves it
// due: after a restart, an alert that reached Slack is found in the thread
// and recorded, one that did not is posted. One alert per spike.
func TestSpikeAlertsInFlightAtStopAreNeitherLostNorDoubled(t *testing.T) {
	emu := newEmulator(t)
	dbPath := filepath.Join(t.TempDir(), "e2e.db")
	clk := &clock{now: time.Now()}
	opts := app.Options{Now: clk.Now, ReminderEvery: 5 * time.Millisecond}
	cfg := func() *config.Config {
		return loadConfig(t, emu, dbPath, emu.BotToken(), "incidents: {update_every: 1m, spike_posts: 3, spike_minutes: 15}")
	}
	d := startWith(t, cfg(), opts)
	restart := func() {
		t.Helper()
		if err := d.stop(); err != nil {
			t.Fatal(err)
		}
		d = startWith(t, cfg(), opts)
	}
	burst := func(base int, text string) string {
		t.Helper()
		var first string
		for i := range 3 {
			id := d.accept(t, post(fmt.Sprint(base+i), text, 1000, false))
			if i == 0 {
				first = id
			}
		}
		return first
	}
	alerts := func(root string) []string {
		rec, err := d.app.Store().Get(root)
		if err != nil || rec.Delivery == nil {
			return nil
		}
		return containing(replies(emu, "C0PR", rec.Delivery.TS), "Spike")
	}
	alertSent := func(root string) bool {
		inc, err := d.app.Store().Incident(root)
		return err == nil && inc.AlertTS != ""
	}

	// The first spike's alert reaches Slack, but the answer never comes.
	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Apply: true, Delay: 10 * time.Minute, Match: "Spike"})
	first := burst(6000, "Acme leaked my personal data and now I'm getting scam calls. #BoycottAcme")
	waitFor(t, emu, "the first alert in Slack", func() bool { return len(alerts(first)) == 1 })
	restart()
	testutil.Eventually(t, "the first alert recorded", func() bool { return alertSent(first) })

	// The second spike's alert hangs without reaching Slack.
	calls := emu.Calls("chat.postMessage")
	emu.InjectFault("chat.postMessage", slackemu.Fault{Times: 1, Delay: 10 * time.Minute, Match: "Spike"})
	second := burst(7000, "Boycott this brand: their CEO insulted veterans on live TV, a PR disaster. Share everywhere! #BoycottNow")
	waitFor(t, emu, "the second alert on its way", func() bool { return emu.Calls("chat.postMessage") >= calls+4 })
	if r := record(t, d, second); r.Incident != second {
		t.Fatalf("the second burst went to %+v, incident %q", r.Decision, r.Incident)
	}
	restart()
	testutil.Eventually(t, "the second alert recorded", func() bool { return alertSent(second) })
	settle(t, d)

	for _, root := range []string{first, second} {
		if got := alerts(root); len(got) != 1 {
			t.Errorf("incident %s has alerts %q, want one", root, got)
		}
	}
}
