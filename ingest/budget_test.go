package ingest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/metrics"
	"github.com/socialroute/socialroute/internal/testutil"
)

// TestStalledBodiesAreBounded opens many connections that each announce a
// large body, send a little of it and stall. Only as many as
// MaxBodyMemory holds are read at once; the others are answered 503 with
// Retry-After instead of each holding a body's worth of memory, and once
// the stalled ones go away the server takes posts again.
func TestStalledBodiesAreBounded(t *testing.T) {
	const (
		bodyBytes = 16 << 10
		memory    = 4 * bodyBytes
		conns     = 40
	)
	f := newFixture(t, func(o *Options) {
		o.MaxBodyBytes = bodyBytes
		o.MaxBodyMemory = memory
		o.Metrics = metrics.New()
	})
	u, _ := url.Parse(f.srv.URL)

	type answer struct {
		code       int
		retryAfter string
		err        error
	}
	answers := make(chan answer, conns)
	var open []net.Conn
	t.Cleanup(func() {
		for _, c := range open {
			c.Close()
		}
	})
	for range conns {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
		head := fmt.Sprintf("POST /webhooks/generic HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", u.Host, bodyBytes)
		if _, err := c.Write([]byte(head + `{"id":"1","platform":"x","text":"` + strings.Repeat("a", 1000))); err != nil {
			t.Fatal(err)
		}
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			resp.Body.Close()
			answers <- answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
		}()
	}

	// Four fit; the other 36 are turned away.
	deadline := time.After(30 * time.Second)
	for i := range conns - memory/bodyBytes {
		select {
		case a := <-answers:
			if a.err != nil || a.code != http.StatusServiceUnavailable || a.retryAfter != "1" {
				t.Fatalf("answer %d: %d Retry-After %q %v, want 503 with Retry-After 1", i, a.code, a.retryAfter, a.err)
			}
		case <-deadline:
			t.Fatalf("%d of %d stalled uploads answered; the rest are all being read at once", i, conns-memory/bodyBytes)
		}
	}
	text := f.scrape(t)
	for _, line := range []string{
		fmt.Sprintf("socialroute_webhook_body_bytes %d", memory),
		fmt.Sprintf(`socialroute_webhook_rejected_total{reason="busy",source="generic"} %d`, conns-memory/bodyBytes),
	} {
		if !strings.Contains(text, line+"\n") {
			t.Fatalf("metrics lack %s:\n%s", line, grepLines(text, "webhook"))
		}
	}

	// The stalled uploads give up: their room is free again.
	for _, c := range open {
		c.Close()
	}
	testutil.EventuallyWithin(t, 30*time.Second, "body memory released", func() bool {
		return strings.Contains(f.scrape(t), "socialroute_webhook_body_bytes 0\n")
	})
	if r := f.post(t, goodPost); r.code != http.StatusAccepted {
		t.Fatalf("after the stalled uploads: %d %v, want 202", r.code, r.body)
	}
}

// TestBudgetOrder: waiters are served in arrival order, a large one is not
// passed over by small ones, and one that gives up lets those behind it in.
func TestBudgetOrder(t *testing.T) {
	var used []int64
	b := newBudget(10, func(n int64) { used = append(used, n) })
	ctx := t.Context()
	if !b.acquire(ctx, 6) {
		t.Fatal("6 of 10 refused")
	}
	big := make(chan bool, 1)
	go func() { big <- b.acquire(ctx, 8) }()
	testutil.EventuallyWithin(t, 10*time.Second, "the large request waits", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.waiters.Len() == 1
	})
	// 4 bytes are free, but the large request came first.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if b.acquire(short, 2) {
		t.Fatal("a small request overtook a waiting large one")
	}
	cancel()
	b.release(6)
	if !<-big {
		t.Fatal("the large request was not served")
	}
	b.release(8)

	// One that gives up at the head of the queue lets the next one in.
	b.acquire(ctx, 6)
	giveUp, cancel := context.WithCancel(ctx)
	first := make(chan bool, 1)
	go func() { first <- b.acquire(giveUp, 8) }()
	testutil.EventuallyWithin(t, 10*time.Second, "the first waiter queues", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.waiters.Len() == 1
	})
	second := make(chan bool, 1)
	go func() { second <- b.acquire(ctx, 3) }()
	testutil.EventuallyWithin(t, 10*time.Second, "the second waiter queues", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.waiters.Len() == 2
	})
	cancel()
	if <-first {
		t.Fatal("a cancelled acquire succeeded")
	}
	if !<-second {
		t.Fatal("the waiter behind a cancelled one was not let in")
	}
	b.release(3)
	b.release(6)
	if b.used != 0 || used[len(used)-1] != 0 {
		t.Fatalf("used %d (reported %v), want 0", b.used, used)
	}
}
