package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
)

// StartupOptions describe a start-up and memory measurement of the
// socialroute binary.
type StartupOptions struct {
	// Bin is the socialroute binary; DB the database it opens (it is used
	// in place; a missing file is created, i.e. an empty store).
	Bin, DB string
	// Runs is how many times the daemon is started; the first start's
	// memory is reported.
	Runs int
	// Idle is how long the daemon is left alone after start-up before its
	// memory is read.
	Idle time.Duration
	// Posts, if positive, are sent through the webhook at Rate after the
	// idle reading; memory is read again once Slack has them all.
	Posts int
	Rate  float64
}

// Mem is a process's memory from /proc/PID/status, in bytes.
type Mem struct {
	RSS  int64 // resident set: RssAnon + RssFile (+ RssShmem, none here)
	Anon int64 // heap, stacks: the process's own memory
	File int64 // mapped files: the binary and the bbolt file's touched pages
	HWM  int64 // peak RSS
}

func (m Mem) String() string {
	return fmt.Sprintf("RSS %.1f MiB (anonymous %.1f MiB, file-backed %.1f MiB), peak %.1f MiB",
		mib(m.RSS), mib(m.Anon), mib(m.File), mib(m.HWM))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// StartupResult is what a start-up measurement found.
type StartupResult struct {
	// Listening is the time from exec to the daemon's "listening" log line
	// (webhooks are taken from then on); Ready to the first /readyz 200
	// (store open and Socket Mode connected). One per run.
	Listening, Ready []time.Duration
	Idle             Mem
	Loaded           *Mem // after Posts, when asked for
	Load             *Result
}

// MeasureStartup starts the socialroute binary against a Slack emulator
// Runs times, reporting progress to w.
func MeasureStartup(ctx context.Context, w io.Writer, o StartupOptions) (StartupResult, error) {
	var res StartupResult
	if o.Runs < 1 {
		o.Runs = 1
	}
	for i := range o.Runs {
		r, err := startOnce(ctx, o, i == 0)
		if err != nil {
			return res, err
		}
		res.Listening = append(res.Listening, r.Listening[0])
		res.Ready = append(res.Ready, r.Ready[0])
		fmt.Fprintf(w, "  start %d: listening after %s, ready after %s\n", i+1, ms(r.Listening[0]), ms(r.Ready[0]))
		if i == 0 {
			res.Idle, res.Loaded, res.Load = r.Idle, r.Loaded, r.Load
		}
	}
	return res, nil
}

// startOnce starts the daemon, waits until it is ready and, when measure is
// set, reads its memory idle and after a load; then stops it.
func startOnce(ctx context.Context, o StartupOptions, measure bool) (StartupResult, error) {
	var res StartupResult
	emu, err := StartEmulator()
	if err != nil {
		return res, err
	}
	defer emu.Close()
	dir, err := os.MkdirTemp("", "socialroute-startup-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "config.yaml")
	db, err := filepath.Abs(o.DB)
	if err != nil {
		return res, err
	}
	if err := os.WriteFile(cfgPath, ConfigYAML(emu, db), 0o600); err != nil {
		return res, err
	}
	secret := NewSecret()

	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.Command(o.Bin, "serve", "-config", cfgPath)
	cmd.Env = os.Environ()
	for k, v := range Env(emu, secret) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", o.Bin, err)
	}
	exited := make(chan error, 1)
	logs := make(chan logLine, 16)
	go readLogs(stderr, logs)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			return errors.New("daemon did not stop within 15 s of SIGTERM; killed")
		}
	}

	addr, listening, err := waitListening(ctx, logs, exited, start)
	if err != nil {
		stop()
		return res, err
	}
	ready, err := waitReady(ctx, addr, start)
	if err != nil {
		stop()
		return res, err
	}
	res.Listening, res.Ready = []time.Duration{listening}, []time.Duration{ready}
	if measure {
		if err := measureMemory(ctx, &res, o, cmd.Process.Pid, emu, "http://"+addr+"/webhooks/"+Source, secret); err != nil {
			stop()
			return res, err
		}
	}
	if err := stop(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return res, err
		}
		return res, fmt.Errorf("daemon exited with %v after SIGTERM", err)
	}
	return res, nil
}

type logLine struct {
	at        time.Time
	message   string
	addr      string
	level     string
	errorText string
}

// readLogs turns the daemon's JSON log lines into logLines until EOF,
// always draining the pipe so the daemon never blocks on its stderr.
func readLogs(r io.Reader, out chan<- logLine) {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct{ Message, Addr, Level, Error string }
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			l.Message = sc.Text() // not JSON: usage or a fatal error
		}
		line := logLine{at: time.Now(), message: l.Message, addr: l.Addr, level: l.Level, errorText: l.Error}
		select {
		case out <- line:
		default: // nobody is waiting any more
		}
	}
}

func waitListening(ctx context.Context, logs <-chan logLine, exited <-chan error, start time.Time) (string, time.Duration, error) {
	for {
		select {
		case l, ok := <-logs:
			if !ok {
				return "", 0, errors.New("daemon closed its stderr before listening")
			}
			if l.message == "listening" && l.addr != "" {
				return l.addr, l.at.Sub(start), nil
			}
			if l.level == "error" || l.level == "fatal" || l.level == "" {
				return "", 0, fmt.Errorf("daemon: %s %s", l.message, l.errorText)
			}
		case err := <-exited:
			return "", 0, fmt.Errorf("daemon exited before listening: %v", err)
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
}

// waitReady polls /readyz until it answers 200. Polling is the measurement
// here: the interval bounds its resolution.
func waitReady(ctx context.Context, addr string, start time.Time) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second}
	url := "http://" + addr + "/readyz"
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return 0, errors.New("daemon not ready within 30 s")
}

func measureMemory(ctx context.Context, res *StartupResult, o StartupOptions, pid int, emu *slackemu.Server, url, secret string) error {
	select {
	case <-time.After(o.Idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	m, err := ReadMem(pid)
	if err != nil {
		return err
	}
	res.Idle = m
	if o.Posts <= 0 {
		return nil
	}
	before := emu.Calls("chat.postMessage")
	dur := time.Duration(float64(o.Posts)/o.Rate*float64(time.Second)) + time.Second
	load, err := Load{URL: url, Secret: []byte(secret), Conns: 64, Rate: o.Rate, Duration: min(dur, MaxDuration), Requests: o.Posts}.Run(ctx)
	if err != nil {
		return err
	}
	res.Load = &load
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := emu.WaitFor(wctx, func() bool { return emu.Calls("chat.postMessage")-before >= load.Stored() }); err != nil {
		return fmt.Errorf("waiting for delivery of %d posts: %w", load.Stored(), err)
	}
	m, err = ReadMem(pid)
	if err != nil {
		return err
	}
	res.Loaded = &m
	return nil
}

// ReadMem reads process pid's memory from /proc.
func ReadMem(pid int) (Mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Mem{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	var m Mem
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		n *= 1024 // kB
		switch k {
		case "VmRSS":
			m.RSS = n
		case "RssAnon":
			m.Anon = n
		case "RssFile":
			m.File = n
		case "VmHWM":
			m.HWM = n
		}
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}
