package crashtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/socialroute/socialroute/internal/slackemu"
)

// startEmulator starts the Slack emulator with the four channels the
// tests route to, closed when t ends.
func startEmulator(t *testing.T) *slackemu.Server {
	t.Helper()
	var chans []slackemu.Channel
	for _, c := range channels {
		chans = append(chans, slackemu.Channel{ID: c, Name: c})
	}
	emu := slackemu.New(slackemu.Options{Channels: chans})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}

// daemon is one `socialroute serve` process of the real binary, which a
// test starts, kills and starts again.
type daemon struct {
	name string
	url  string
	cfg  string
	log  *os.File
	cmd  *exec.Cmd
}

// newDaemon writes the config of a daemon named name in dir, talking to
// emu, with storeYAML as its store section; it is killed when t ends.
func newDaemon(t *testing.T, dir, name string, emu *slackemu.Server, storeYAML string) *daemon {
	t.Helper()
	return newDaemonWith(t, dir, name, emu, daemonConfig{Store: storeYAML})
}

// daemonConfig is what differs between the tests' daemons; the rest of
// the config is the same for all.
type daemonConfig struct {
	// Store is the store section.
	Store string
	// Slack holds further keys of the slack section (default
	// "channel_rate: 0"), Incidents those of the incidents section
	// (default "update_every: 0s"), Routing further lines of the routing
	// section, and Extra further top-level sections.
	Slack, Incidents, Routing, Extra string
}

// newDaemonWith writes the config of a daemon named name in dir, talking
// to emu, as cfg says; it is killed when t ends.
func newDaemonWith(t *testing.T, dir, name string, emu *slackemu.Server, cfg daemonConfig) *daemon {
	t.Helper()
	if cfg.Slack == "" {
		cfg.Slack = "channel_rate: 0"
	}
	if cfg.Incidents == "" {
		cfg.Incidents = "update_every: 0s"
	}
	port := freePort(t)
	d := &daemon{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port), cfg: filepath.Join(dir, name+".yaml")}
	err := os.WriteFile(d.cfg, fmt.Appendf(nil, `
slack: {app_token: %s, bot_token: %s, api_url: %q, %s}
http: {listen: "127.0.0.1:%d", shutdown_timeout: 1s}
store: %s
sources: [{name: generic, format: generic, secret: %s}]
routing:
  triage_channel: C0TRIAGE
  departments:
    - {name: support,   channel: C0SUPPORT,   classes: [support]}
    - {name: pr,        channel: C0PR,        classes: [reputation]}
    - {name: marketing, channel: C0MARKETING, classes: [promotional]}
%s
incidents: {%s}
log: {level: info}
%s
`, emu.AppToken(), emu.BotToken(), emu.APIURL(), cfg.Slack, port, cfg.Store, secret, cfg.Routing, cfg.Incidents, cfg.Extra), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if d.log, err = os.Create(filepath.Join(dir, name+".log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.kill()
		d.log.Close()
	})
	return d
}

func (d *daemon) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command(buildBinary(t), "serve", "-config", d.cfg)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// kill stops the process with SIGKILL, as a crash would.
func (d *daemon) kill() {
	if d.cmd != nil {
		d.cmd.Process.Signal(syscall.SIGKILL)
		d.cmd.Wait()
		d.cmd = nil
	}
}

// terminate stops the process with SIGTERM and returns how it exited.
func (d *daemon) terminate() error {
	d.cmd.Process.Signal(syscall.SIGTERM)
	err := d.cmd.Wait()
	d.cmd = nil
	return err
}

// role asks the daemon's /readyz for its role; "" when it does not answer
// or is not ready.
func (d *daemon) role() string {
	resp, err := http.Get(d.url + "/readyz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct{ Role string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return ""
	}
	return body.Role
}

// readiness is the daemon's /readyz answer.
type readiness struct {
	Status  string
	Error   string
	Role    string
	Pending int `json:"outbox_pending"`
	Parked  int `json:"outbox_parked"`
	// Code is the HTTP status; 0 when the daemon did not answer.
	Code int `json:"-"`
}

// readiness asks the daemon's /readyz.
func (d *daemon) readiness() readiness {
	var r readiness
	resp, err := http.Get(d.url + "/readyz")
	if err != nil {
		return r
	}
	defer resp.Body.Close()
	r.Code = resp.StatusCode
	if json.NewDecoder(resp.Body).Decode(&r) != nil {
		r.Code = 0
	}
	return r
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildBinary builds socialroute once for the package's tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crashtest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "socialroute")
		if out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/socialroute").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
