// Package crashtest proves socialroute's delivery guarantee against the
// real binary: posts are sent while the daemon is killed with SIGKILL at
// random moments and restarted, and afterwards every post that got a 2xx
// answer is in Slack exactly once.
//
// By default a short run (a few hundred posts, a few kills) is part of the
// ordinary test suite. The full run:
//
//	CRASH_POSTS=10000 CRASH_ROUNDS=20 go test -run Crash -timeout 30m ./internal/crashtest/
//
// TestCampaign goes further: seeded rounds of every delivery path (threads,
// digests, clicks, rule changes) under every kind of fault, checked by an
// oracle; see campaign_test.go.
package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socialroute/socialroute/ingest"
	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
)

const secret = "crash-test-webhook-secret-0123456789"

var channels = []string{"C0SUPPORT", "C0PR", "C0MARKETING", "C0TRIAGE"}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var texts = []string{
	"my order %d never arrived and I want a refund",
	"the app crashes on login since the update, order %d, please help",
	"Journalist here, writing a story about Acme's data breach (ref %d). Can you comment?",
	"where can I buy the X2 headphones? want to order %d of them",
	"hmm %d",
}

func TestCrashNeverLosesOrDoubles(t *testing.T) {
	posts, rounds := envInt("CRASH_POSTS", 300), envInt("CRASH_ROUNDS", 3)
	dir := t.TempDir()

	emu := startEmulator(t)
	d := newDaemon(t, dir, "daemon", emu, fmt.Sprintf("{path: %q}", filepath.Join(dir, "crash.db")))
	url := d.url

	// Senders retry each post until it gets a 2xx; accepted maps each
	// external id to the internal id the daemon gave it.
	var (
		mu       sync.Mutex
		accepted = map[string]string{}
		statuses sync.Map // status code → count
	)
	ctx, stopSending := context.WithCancel(context.Background())
	// Posts are fed at a pace that spreads them over the crash rounds, so
	// kills land in the middle of the stream.
	feed := make(chan int64)
	go func() {
		defer close(feed)
		every := time.Duration(rounds) * 450 * time.Millisecond / time.Duration(posts)
		tick := time.NewTicker(max(every, 50*time.Microsecond))
		defer tick.Stop()
		for n := int64(1); n <= int64(posts); n++ {
			select {
			case feed <- n:
			case <-ctx.Done():
				return
			}
			<-tick.C
		}
	}()
	var senders sync.WaitGroup
	for range 16 {
		senders.Go(func() {
			for n := range feed {
				ext := strconv.FormatInt(n, 10)
				body, _ := json.Marshal(map[string]any{"id": ext, "platform": "x", "text": fmt.Sprintf(texts[n%int64(len(texts))], n)})
				for {
					code, id := send(ctx, url, body)
					if v, ok := statuses.LoadOrStore(code, new(atomic.Int64)); ok || !ok {
						v.(*atomic.Int64).Add(1)
					}
					if code/100 == 2 {
						mu.Lock()
						accepted[ext] = id
						mu.Unlock()
						break
					}
					if ctx.Err() != nil {
						return
					}
					time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond) // a connector's retry pause
				}
			}
		})
	}

	for round := range rounds {
		d.start(t)
		time.Sleep(time.Duration(150+rand.IntN(600)) * time.Millisecond) // run for a random while, then crash
		d.kill()
		t.Logf("round %d: killed after %d posts accepted", round+1, lenOf(&mu, accepted))
	}
	// A final run that stays up until everything is sent and delivered.
	d.start(t)
	senders.Wait()
	stopSending()
	if got := lenOf(&mu, accepted); got != posts {
		t.Fatalf("%d of %d posts accepted", got, posts)
	}

	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var seen map[string]int
	err := emu.WaitFor(wctx, func() bool {
		seen = delivered(emu)
		return len(seen) >= posts
	})
	seen = delivered(emu)
	lost, doubled := 0, 0
	for ext, id := range accepted {
		switch n := seen[id]; {
		case n == 0:
			lost++
			t.Errorf("post %s (%s) never reached Slack", ext, id)
		case n > 1:
			doubled++
			t.Errorf("post %s (%s) is in Slack %d times", ext, id, n)
		}
		if lost+doubled > 10 {
			break
		}
	}
	if err != nil && lost == 0 {
		t.Errorf("waiting for delivery: %v", err)
	}
	// SIGTERM: a clean stop, exit status 0. The earlier rounds may have
	// delivered everything already, so first make sure the final daemon
	// is up (and handling signals) rather than still starting.
	testutil.EventuallyWithin(t, 30*time.Second, "the final daemon ready", func() bool { return d.role() != "" })
	if err := d.terminate(); err != nil {
		t.Errorf("after SIGTERM the daemon exited with %v, want status 0", err)
	}

	codes := map[int]int64{}
	statuses.Range(func(k, v any) bool { codes[k.(int)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("posts %d, rounds %d: accepted %d, delivered %d, lost %d, doubled %d; answers %v",
		posts, rounds, len(accepted), len(seen), lost, doubled, codes)
}

// send posts one signed body and returns the status (0 when the daemon was
// unreachable) and the internal id from a 2xx answer.
func send(ctx context.Context, url string, body []byte) (int, string) {
	code, answer := sendBody(ctx, url, body)
	var a struct{ ID string }
	json.Unmarshal(answer, &a)
	return code, a.ID
}

// sendBody posts one signed body to the generic source and returns the
// status (0 when the daemon was unreachable) and the answer's body.
func sendBody(ctx context.Context, url string, body []byte) (int, []byte) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/webhooks/generic", bytes.NewReader(body))
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ingest.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(ingest.HeaderSignature, ingest.Sign([]byte(secret), ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, answer
}

// delivered counts the messages in Slack for each post id, threads included.
func delivered(emu *slackemu.Server) map[string]int {
	seen := map[string]int{}
	count := func(m slackemu.Message) {
		if m.Metadata == nil {
			return
		}
		var p struct {
			PostID  string   `json:"post_id"`
			PostIDs []string `json:"post_ids"` // a digest
		}
		if json.Unmarshal(m.Metadata.EventPayload, &p) != nil {
			return
		}
		for _, id := range append(p.PostIDs, p.PostID) {
			if id != "" {
				seen[id]++
			}
		}
	}
	for _, ch := range channels {
		for _, m := range emu.Messages(ch) {
			if m.ThreadTS != "" && m.ThreadTS != m.TS {
				continue // a broadcast reply: counted in its thread
			}
			count(m)
			for _, r := range emu.Replies(ch, m.TS) {
				if r.TS != m.TS {
					count(r)
				}
			}
		}
	}
	return seen
}

func lenOf(mu *sync.Mutex, m map[string]string) int {
	mu.Lock()
	defer mu.Unlock()
	return len(m)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
