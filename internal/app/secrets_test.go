package app_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
	"github.com/socialroute/socialroute/internal/testutil"
)

// TestLogsNeverCarrySecrets runs a full session — posts accepted and
// refused, deliveries with a 429 and a 5xx, a click, a Socket Mode
// reconnect — with debug logging, and scans everything logged for the
// tokens and the webhook secret.
func TestLogsNeverCarrySecrets(t *testing.T) {
	emu := newEmulator(t)
	d := start(t, loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken()))

	emu.InjectFault("chat.postMessage", slackemu.Fault{RateLimit: 1, Times: 1})
	_, rec := deliveredPost(t, d, supportPost)
	emu.InjectFault("chat.postMessage", slackemu.Fault{Status: http.StatusInternalServerError, Times: 1})
	deliveredPost(t, d, promotionalPost)
	d.send(t, reputationPost, time.Now(), "a-wrong-secret-0000000000")
	d.send(t, reputationPost, time.Now().Add(-time.Hour), secret)
	click(t, emu, rec, "U1", "claim", "")
	testutil.Eventually(t, "the claim", func() bool { return strings.Contains(latest(t, emu, rec), "Claimed by") })
	emu.DropConnections()
	testutil.Eventually(t, "a reconnect", func() bool { return emu.Calls("apps.connections.open") >= 2 && emu.Connected() == 1 })
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	logs := d.logs.String()
	if !strings.Contains(logs, `"level":"debug"`) || !strings.Contains(logs, "delivery failed; will retry") {
		t.Fatalf("the run did not log what it should have:\n%s", logs)
	}
	for name, s := range map[string]string{"bot token": emu.BotToken(), "app token": emu.AppToken(), "webhook secret": secret} {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain the %s", name)
		}
	}
}
