package app_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
)

func scrape(t *testing.T, d *daemon) string {
	t.Helper()
	resp, err := http.Get("http://" + d.app.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

func TestMetricsCountWhatHappened(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))

	emu.InjectFault("chat.postMessage", slackemu.Fault{RateLimit: 1, Times: 1})
	deliveredPost(t, d, supportPost)
	deliveredPost(t, d, reputationPost)
	d.send(t, supportPost, time.Now(), secret)                             // duplicate
	d.send(t, promotionalPost, time.Now(), "wrong-secret-000000000000000") // refused
	emu.DropConnections()
	testutil.Eventually(t, "a reconnect", func() bool { return emu.Calls("apps.connections.open") >= 2 && emu.Connected() == 1 })

	wants := []string{
		"socialroute_socket_mode_reconnects_total 1",
		`socialroute_posts_received_total{result="accepted",source="generic"} 2`,
		`socialroute_posts_received_total{result="duplicate",source="generic"} 1`,
		`socialroute_webhook_rejected_total{reason="signature",source="generic"} 1`,
		`socialroute_posts_classified_total{class="support",unsure="false"} 1`,
		`socialroute_posts_delivered_total{class="reputation"} 1`,
		`socialroute_delivery_failures_total{kind="rate_limited"} 1`,
		`socialroute_delivery_latency_seconds_count 2`,
		`socialroute_outbox_pending 0`,
		`socialroute_outbox_parked 0`,
		`go_goroutines`,
	}
	// Counters move just after what they count is visible (a delivery is
	// counted after Slack and the store have it), so scrape until all are
	// there.
	var text string
	missing := func() []string {
		var out []string
		for _, want := range wants {
			if !strings.Contains(text, want) {
				out = append(out, want)
			}
		}
		return out
	}
	testutil.Poll(testutil.Timeout, func() bool {
		text = scrape(t, d)
		return len(missing()) == 0
	})
	for _, want := range missing() {
		t.Errorf("/metrics lacks %s", want)
	}
	for _, secretish := range []string{emu.BotToken(), emu.AppToken(), secret, "refund"} {
		if strings.Contains(text, secretish) {
			t.Errorf("/metrics shows %q", secretish)
		}
	}
}

func TestReadyzTellsParkedPosts(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))
	testutil.Eventually(t, "readiness", func() bool {
		resp, err := http.Get("http://" + d.app.Addr() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	emu.InjectFault("chat.postMessage", slackemu.Fault{Error: "not_in_channel", Times: 1})
	d.accept(t, supportPost)
	testutil.Eventually(t, "the parked post on /readyz", func() bool {
		resp, err := http.Get("http://" + d.app.Addr() + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		// A bbolt deployment is one process: always the leader.
		return resp.StatusCode == 200 && strings.Contains(string(b), `"outbox_parked":1`) && strings.Contains(string(b), `"role":"leader"`)
	})
	// Slack gone: not ready.
	emu.RevokeTokens()
	emu.DropConnections()
	testutil.Eventually(t, "not ready without Slack", func() bool {
		resp, err := http.Get("http://" + d.app.Addr() + "/readyz")
		if err != nil {
			return true // the daemon stopped: Slack refused its token
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
}

func TestReadyzTellsFailingWrites(t *testing.T) {
	emu := newEmulator(t)
	path := filepath.Join(t.TempDir(), "e2e.db")
	d := start(t, loadConfig(t, emu, path, emu.BotToken()))
	readyz := func() (int, string) {
		resp, err := http.Get("http://" + d.app.Addr() + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	testutil.Eventually(t, "readiness", func() bool { code, _ := readyz(); return code == 200 })

	restore := testutil.FillDisk(t, path)
	if code, m := d.send(t, supportPost, time.Now(), secret); code != http.StatusServiceUnavailable {
		t.Fatalf("webhook on a full disk answered %d %v, want 503", code, m)
	}
	code, body := readyz()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "writes are failing") || !strings.Contains(body, "no space left on device") {
		t.Fatalf("/readyz on a full disk: %d %s", code, body)
	}

	// Ready again once the disk has room, with no webhook to prove it:
	// a load balancer sends none to a replica that is not ready.
	restore()
	testutil.Eventually(t, "/readyz 200 again", func() bool { code, _ := readyz(); return code == 200 })
	d.accept(t, supportPost)
}
