package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
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
