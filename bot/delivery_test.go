package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// routerFunc routes every post with a function, so a test can aim posts
// at a channel of its choice.
type routerFunc func(routing.Post) routing.Decision

func (f routerFunc) Route(p routing.Post) routing.Decision { return f(p) }

func (f routerFunc) DepartmentFor(routing.Class) (routing.Department, bool) {
	return routing.Department{}, false
}

func toChannel(ch string) Router {
	return routerFunc(func(routing.Post) routing.Decision {
		return routing.Decision{Class: routing.Support, Department: "support", Channel: ch, Confidence: 0.9}
	})
}

type harness struct {
	emu   *slackemu.Server
	store *store.Store
}

func startBot(t *testing.T, router Router) *harness {
	t.Helper()
	s := newScene(t, "C0SUPPORT")
	s.run(t, Options{}, router)
	return &harness{emu: s.emu, store: s.store}
}

func (h *harness) ingest(t *testing.T, id string) string {
	t.Helper()
	res, err := h.store.Ingest(context.Background(), []routing.Post{{Source: "generic", ExternalID: id, Platform: "x", Text: "help " + id}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].ID
}

func TestUnknownChannelIsParked(t *testing.T) {
	h := startBot(t, toChannel("C0GONE"))
	h.ingest(t, "1")
	testutil.Eventually(t, "the entry to be parked", func() bool {
		st, err := h.store.OutboxStats()
		return err == nil && st.Parked == 1
	})
	due, _, err := h.store.Due(time.Now().Add(time.Hour), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("parked entry still due: %+v, %v", due, err)
	}
	if n := h.emu.Calls("chat.postMessage"); n != 1 {
		t.Fatalf("chat.postMessage called %d times for a channel that does not exist, want 1", n)
	}
}

func TestRateLimitIsWaitedOut(t *testing.T) {
	h := startBot(t, toChannel("C0SUPPORT"))
	h.emu.InjectFault("chat.postMessage", slackemu.Fault{RateLimit: 1, Times: 1})
	id := h.ingest(t, "1")
	testutil.Eventually(t, "delivery after the 429", func() bool {
		rec, err := h.store.Get(id)
		return err == nil && rec.Delivery != nil
	})
	if n := h.emu.Calls("chat.postMessage"); n != 2 {
		t.Fatalf("chat.postMessage called %d times, want 2 (one 429, one success)", n)
	}
	msgs := h.emu.Messages("C0SUPPORT")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "help 1") {
		t.Fatalf("channel holds %+v, want the post once", msgs)
	}
}
