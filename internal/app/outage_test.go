package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
)

// TestOutageAndRateLimitStorm takes Slack away for a while, then answers
// with a storm of 429s: afterwards every post is in Slack once, and each
// channel shows its posts in the order they arrived. OUTAGE_SECONDS sets
// the outage (60 for the full run; a few seconds by default).
func TestOutageAndRateLimitStorm(t *testing.T) {
	outage := 2 * time.Second
	if s, err := strconv.Atoi(os.Getenv("OUTAGE_SECONDS")); err == nil && s > 0 {
		outage = time.Duration(s) * time.Second
	}
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))

	texts := []string{
		"my order %d never arrived, refund please",
		"where can I buy the X2? want to order %d",
		"the app crashes on login, ticket %d, please help",
	}
	var ids []string
	send := func(from, to int) {
		for i := from; i < to; i++ {
			ids = append(ids, d.accept(t, post(fmt.Sprint(5000+i), fmt.Sprintf(texts[i%len(texts)], i), 10, false)))
		}
	}

	emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusServiceUnavailable})
	send(0, 15)
	deadline := time.Now().Add(outage)
	for time.Now().Before(deadline) {
		send(len(ids), len(ids)+1) // posts keep coming during the outage
		time.Sleep(outage / 10)    // spread them over the outage
	}
	if n := total(emu); n != 0 {
		t.Fatalf("%d messages got through the outage", n)
	}
	emu.ClearFaults()
	emu.InjectFault("chat.postMessage", slackemu.Fault{RateLimit: 1, Times: 8})
	send(len(ids), len(ids)+15)

	ctx, cancel := context.WithTimeout(context.Background(), outage*2+2*time.Minute)
	defer cancel()
	if err := emu.WaitFor(ctx, func() bool { return total(emu) >= len(ids) }); err != nil {
		t.Fatalf("%d of %d posts delivered: %v", total(emu), len(ids), err)
	}
	seen := map[string]int{}
	for _, ch := range []string{"C0SUPPORT", "C0MARKETING", "C0TRIAGE", "C0PR"} {
		got := postIDs(emu, ch)
		for _, id := range got {
			seen[id]++
		}
		// Internal ids sort by arrival.
		if !slices.IsSorted(got) {
			t.Errorf("%s shows posts out of order: %v", ch, got)
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("post %s is in Slack %d times", id, seen[id])
		}
	}
	t.Logf("%d posts, outage %v: %d chat.postMessage calls", len(ids), outage, emu.Calls("chat.postMessage"))
}

func TestPromotionalBacklogGoesOutInDigests(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))

	emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusServiceUnavailable})
	var ids []string
	for i := range 25 {
		ids = append(ids, d.accept(t, post(fmt.Sprint(7000+i), fmt.Sprintf("Where can I buy the X2 headphones? I want to order %d for my team", i), 10, false)))
	}
	sup := d.accept(t, supportPost)
	testutil.Eventually(t, "a failed attempt", func() bool { return emu.Calls("chat.postMessage") >= 1 })
	emu.ClearFaults()

	testutil.Eventually(t, "every post delivered", func() bool {
		for _, id := range append(ids, sup) {
			if r, err := d.app.Store().Get(id); err != nil || r.Delivery == nil {
				return false
			}
		}
		return true
	})
	msgs := emu.Messages("C0MARKETING")
	seen := map[string]int{}
	digests := 0
	for _, m := range msgs {
		var p struct {
			PostID  string   `json:"post_id"`
			PostIDs []string `json:"post_ids"`
		}
		json.Unmarshal(m.Metadata.EventPayload, &p)
		if len(p.PostIDs) > 0 {
			digests++
			if !strings.Contains(m.PlainText(), "Promotional digest") {
				t.Errorf("digest message:\n%s", m.PlainText())
			}
		}
		for _, id := range append(p.PostIDs, p.PostID) {
			if id != "" {
				seen[id]++
			}
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("post %s shown %d times", id, seen[id])
		}
	}
	if digests == 0 || len(msgs) >= len(ids) {
		t.Errorf("%d messages with %d digests for %d posts: the backlog was not merged", len(msgs), digests, len(ids))
	}
	if got := postIDs(emu, "C0SUPPORT"); len(got) != 1 || got[0] != sup {
		t.Errorf("the support post: %v", got)
	}
}

// A post whose attempt failed waits for its retry; the posts behind it in
// its channel wait too, also after a restart, when the new process never
// saw the failure.
func TestOrderKeptAcrossRestartAfterFailure(t *testing.T) {
	emu := newEmulator(t)
	cfg := loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken())
	// Slack asks for 3 s: long enough for the restart and the next post.
	emu.InjectFault("chat.postMessage", slackemu.Fault{RateLimit: 3, Times: 1})
	d := start(t, cfg)
	first := d.accept(t, supportPost)
	testutil.Eventually(t, "the first attempt failed", func() bool {
		due, _, err := d.app.Store().Due(time.Now(), 10)
		return err == nil && len(due) == 1 && due[0].Waiting && due[0].Entry.PostID == first
	})
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	d = start(t, cfg)
	second := d.accept(t, post("201", "My parcel never arrived and nobody answers, I want a refund!", 10, false))
	waitFor(t, emu, "both posts in support", func() bool { return len(postIDs(emu, "C0SUPPORT")) == 2 })
	if got := postIDs(emu, "C0SUPPORT"); !slices.Equal(got, []string{first, second}) {
		t.Errorf("support shows %v, want %v: the later post went first", got, []string{first, second})
	}
}
