package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
)

// serveEnv makes the test binary act as `socialroute serve -config FILE`,
// so MeasureStartup can be tested without building the real binary.
const serveEnv = "SOCIALROUTE_BENCH_TEST_SERVE"

func TestMain(m *testing.M) {
	if path := os.Getenv(serveEnv); path != "" {
		os.Exit(serve(path))
	}
	os.Exit(m.Run())
}

// serve is a minimal `socialroute serve`: the same app, JSON logs on stderr.
func serve(path string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := app.New(cfg, app.Options{Logger: zerolog.New(os.Stderr).With().Timestamp().Logger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// A short run of every phase kind against the real daemon and the
// baseline: everything sent is stored, everything stored reaches Slack.
func TestRunSmoke(t *testing.T) {
	var out bytes.Buffer
	rep, err := Run(context.Background(), &out, Options{
		Dir:        t.TempDir(),
		Conns:      []int{4},
		Rates:      []float64{40},
		RateConns:  4,
		Duration:   300 * time.Millisecond,
		Requests:   100,
		Rounds:     2,
		SlackDelay: 10 * time.Millisecond,
		Drain:      30 * time.Second,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if len(rep.Ingest) != 1 || len(rep.Rates) != 1 {
		t.Fatalf("report has %d ingest and %d rate phases\n%s", len(rep.Ingest), len(rep.Rates), out.String())
	}
	in := rep.Ingest[0]
	if len(in.Baseline) != 2 || len(in.Socialroute) != 2 {
		t.Fatalf("%d baseline and %d socialroute rounds, want 2 each", len(in.Baseline), len(in.Socialroute))
	}
	for name, rs := range map[string][]Result{"baseline": in.Baseline, "socialroute": in.Socialroute} {
		for _, r := range rs {
			if r.Stored() == 0 || r.Errors() != 0 || r.Latency.N != r.Requests || r.Throughput() <= 0 {
				t.Errorf("%s: stored %d, errors %d, latencies %d of %d requests, %.0f posts/s", name, r.Stored(), r.Errors(), r.Latency.N, r.Requests, r.Throughput())
			}
		}
	}
	if in.Ratio() <= 0 {
		t.Errorf("ratio %v", in.Ratio())
	}
	rf := rep.Rates[0]
	if rf.Stored() == 0 || rf.Errors() != 0 || rf.Delivered != rf.Stored() || rf.EndToEnd.N != rf.Stored() || rf.DrainErr != "" {
		t.Errorf("fixed rate: stored %d, errors %d, delivered %d, end-to-end samples %d, drain %q", rf.Stored(), rf.Errors(), rf.Delivered, rf.EndToEnd.N, rf.DrainErr)
	}
	if rf.Size == nil || rf.Size.Posts != rf.Stored() {
		t.Errorf("size after the phase: %+v", rf.Size)
	}
	for _, want := range []string{"× the baseline", "to Slack", "on disk", "fdatasync"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestOptionsRefused(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"nothing to do", Options{}, "nothing to run"},
		{"remote target", Options{Conns: []int{1}, Target: "http://example.com/webhooks/x", Secret: []byte("s")}, "not a loopback address"},
		{"target without secret", Options{Conns: []int{1}, Target: "http://127.0.0.1:1/webhooks/x"}, "secret"},
		{"drain too long", Options{Conns: []int{1}, Drain: time.Hour}, "drain"},
		{"too many rounds", Options{Conns: []int{1}, Rounds: 21}, "rounds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), &bytes.Buffer{}, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one about %q", err, tc.want)
			}
		})
	}
}

func TestLoadRefused(t *testing.T) {
	ok := Load{URL: "http://127.0.0.1:1/webhooks/x", Conns: 1, Duration: time.Second, Requests: 1}
	tests := []struct {
		name   string
		change func(*Load)
		want   string
	}{
		{"remote host", func(l *Load) { l.URL = "http://10.0.0.1/webhooks/x" }, "not a loopback address"},
		{"https", func(l *Load) { l.URL = "https://127.0.0.1/webhooks/x" }, "only http://"},
		{"no connections", func(l *Load) { l.Conns = 0 }, "connections"},
		{"too many connections", func(l *Load) { l.Conns = MaxConns + 1 }, "connections"},
		{"negative rate", func(l *Load) { l.Rate = -1 }, "rate"},
		{"unbounded duration", func(l *Load) { l.Duration = 0 }, "duration"},
		{"too long", func(l *Load) { l.Duration = MaxDuration + time.Second }, "duration"},
		{"no request bound", func(l *Load) { l.Requests = 0 }, "requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := ok
			tc.change(&l)
			_, err := l.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one about %q", err, tc.want)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/webhooks/generic", true},
		{"http://127.1.2.3:8080/webhooks/generic", true},
		{"http://[::1]:8080/webhooks/generic", true},
		{"http://localhost:8080/webhooks/generic", true},
		{"http://192.168.1.10:8080/webhooks/generic", false},
		{"http://example.com/webhooks/generic", false},
		{"http://localhost.example.com/webhooks/generic", false},
		{"ftp://127.0.0.1/x", false},
		{"://", false},
	}
	for _, tc := range tests {
		if err := CheckLoopback(tc.url); (err == nil) != tc.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestSummarize(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // unsorted on purpose
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Latencies
	}{
		{"empty", nil, Latencies{}},
		{"one", ms(7), Latencies{N: 1, P50: 7 * time.Millisecond, P90: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		{"hundred", ms(hundred...), Latencies{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.in); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMedianThroughput(t *testing.T) {
	r := func(stored int) Result {
		return Result{Elapsed: time.Second, Codes: map[int]int{202: stored}}
	}
	tests := []struct {
		name string
		in   []Result
		want float64
	}{
		{"none", nil, 0},
		{"odd", []Result{r(30), r(10), r(20)}, 20},
		{"even", []Result{r(40), r(10), r(20), r(30)}, 25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MedianThroughput(tc.in); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// The generator writes delivered posts through the store; the size report
// counts them per bucket.
func TestGenerateAndMeasure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gen.db")
	var out bytes.Buffer
	const n = 1500
	if err := Generate(context.Background(), &out, path, n); err != nil {
		t.Fatal(err)
	}
	size, err := MeasureDB(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, b := range size.Buckets {
		keys[b.Name] = b.Keys
	}
	want := map[string]int{"posts": n, "decisions": n, "deliveries": n, "messages": n, "dedupe": n, "outbox": 0}
	for name, k := range want {
		if keys[name] != k {
			t.Errorf("bucket %s: %d keys, want %d", name, keys[name], k)
		}
	}
	if size.Posts != n || size.PerPost() <= 0 || size.Allocated() <= 0 || size.Allocated() > size.FileBytes {
		t.Errorf("size = %+v", size)
	}
	if err := Generate(context.Background(), &out, path, 1); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("generating over an existing file: err = %v", err)
	}
	if err := Generate(context.Background(), &out, filepath.Join(t.TempDir(), "x.db"), 0); err == nil {
		t.Error("generating 0 posts: no error")
	}
}

// MeasureStartup starts a daemon process, finds it listening and ready,
// reads its memory idle and after a few posts, and stops it.
func TestMeasureStartup(t *testing.T) {
	if _, err := ReadMem(os.Getpid()); err != nil {
		t.Skipf("no /proc memory figures here: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary serves when serveEnv names its config; MeasureStartup
	// passes "serve -config FILE", so a wrapper script maps one to the other.
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "socialroute")
	script := fmt.Sprintf("#!/bin/sh\nexec env %s=\"$3\" %q\n", serveEnv, self)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := MeasureStartup(context.Background(), &out, StartupOptions{
		Bin: wrapper, DB: filepath.Join(dir, "s.db"), Runs: 2, Posts: 20, Rate: 200,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(res.Ready) != 2 || res.Ready[0] < res.Listening[0] || res.Listening[0] <= 0 {
		t.Errorf("listening %v, ready %v", res.Listening, res.Ready)
	}
	if res.Idle.RSS <= 0 || res.Loaded == nil || res.Loaded.RSS <= 0 || res.Load.Stored() != 20 {
		t.Errorf("idle %+v, loaded %+v, load %+v", res.Idle, res.Loaded, res.Load)
	}
}
