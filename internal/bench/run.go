package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/socialroute/socialroute/internal/slackemu"
)

// Options describe a load run: throughput phases at fixed connection
// counts, each measured against the baseline in the same run, then
// fixed-rate phases with webhook-to-Slack latency.
type Options struct {
	// Dir holds the database files, one fresh directory per phase,
	// removed afterwards. Default os.TempDir().
	Dir string
	// Conns lists the connection counts of the as-fast-as-possible phases.
	Conns []int
	// Rates lists the fixed rates (posts/s) of the latency phases, sent
	// over RateConns connections.
	Rates     []float64
	RateConns int
	// Duration and Requests bound every phase.
	Duration time.Duration
	Requests int
	// Rounds is how often each connection count runs the baseline and
	// socialroute in turn; the ratio is taken between medians. Default 1.
	Rounds int
	// NoBaseline skips the baseline phases.
	NoBaseline bool
	// Target is the webhook URL of a daemon already running on this
	// machine, signed with Secret; empty starts a daemon (and a Slack
	// emulator) for every phase. Webhook-to-Slack latency needs the daemon
	// started here.
	Target string
	Secret []byte
	// Drain bounds the wait for delivery after a fixed-rate phase.
	Drain time.Duration
	// Keep leaves the phases' directories in place, to look at the
	// databases afterwards.
	Keep bool
	// SlackDelay holds back every chat.postMessage answer of the emulator
	// during the throughput phases. Real Slack is a network round trip away
	// and paces each channel to about a message a second, so during a
	// burst the daemon's delivery worker mostly waits; an emulator that
	// answers at once instead lets it deliver flat out, competing with
	// ingest for this machine's CPU (the emulator's work included), which
	// no production daemon does. Zero measures that worst case.
	SlackDelay time.Duration
	// Log receives the started daemons' logs; nil discards them.
	Log io.Writer
}

func (o *Options) defaults() error {
	if o.Dir == "" {
		o.Dir = os.TempDir()
	}
	if o.RateConns == 0 {
		o.RateConns = 64
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Requests == 0 {
		o.Requests = 1_000_000
	}
	if o.Drain == 0 {
		o.Drain = time.Minute
	}
	if o.Rounds == 0 {
		o.Rounds = 1
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if len(o.Conns) == 0 && len(o.Rates) == 0 {
		return errors.New("nothing to run: give connection counts, rates or both")
	}
	if o.Target != "" {
		if err := CheckLoopback(o.Target); err != nil {
			return err
		}
		if len(o.Secret) == 0 {
			return errors.New("a target daemon needs the source's webhook secret")
		}
	}
	if o.Drain < 0 || o.Drain > MaxDuration {
		return fmt.Errorf("drain: %s; want at most %s", o.Drain, MaxDuration)
	}
	if o.Rounds < 1 || o.Rounds > 20 {
		return fmt.Errorf("rounds: %d; want 1..20", o.Rounds)
	}
	return nil
}

// Report is everything one run measured.
type Report struct {
	Machine string
	Dir     string
	Fsync   Latencies
	Ingest  []IngestFigures
	Rates   []RateFigures
}

// IngestFigures compare socialroute with the baseline at one connection
// count, over rounds that alternate the two.
type IngestFigures struct {
	Conns       int
	Baseline    []Result // one per round; empty when skipped
	BatchConfig string
	Socialroute []Result
}

// Ratio is the median socialroute throughput over the median baseline
// throughput (0 without baseline).
func (f IngestFigures) Ratio() float64 {
	b := MedianThroughput(f.Baseline)
	if b == 0 {
		return 0
	}
	return MedianThroughput(f.Socialroute) / b
}

// MedianThroughput is the median of the results' throughputs.
func MedianThroughput(rs []Result) float64 {
	if len(rs) == 0 {
		return 0
	}
	t := make([]float64, len(rs))
	for i, r := range rs {
		t[i] = r.Throughput()
	}
	slices.Sort(t)
	if len(t)%2 == 1 {
		return t[len(t)/2]
	}
	return (t[len(t)/2-1] + t[len(t)/2]) / 2
}

// RateFigures are one fixed-rate phase: webhook answers and, when the daemon
// was started here, the time from webhook to Slack message.
type RateFigures struct {
	Result
	EndToEnd  Latencies
	Delivered int
	DrainErr  string
	// Size is the daemon's database after the phase and its delivery.
	Size *DBSize
}

// Run performs the load run, printing each phase as it completes to w.
func Run(ctx context.Context, w io.Writer, o Options) (Report, error) {
	if err := o.defaults(); err != nil {
		return Report{}, err
	}
	rep := Report{Machine: Machine(), Dir: DescribeDir(o.Dir)}
	fs, err := FsyncCost(o.Dir, 200)
	if err != nil {
		return rep, fmt.Errorf("measure fsync in %s: %w", o.Dir, err)
	}
	rep.Fsync = fs
	fmt.Fprintf(w, "machine:  %s\n", rep.Machine)
	fmt.Fprintf(w, "database: %s; 4 KiB write + fdatasync: %s\n", rep.Dir, fs)
	if o.Target != "" {
		fmt.Fprintf(w, "target:   %s (running daemon)\n", o.Target)
	}
	fmt.Fprintf(w, "phases:   at most %s or %d requests each\n", o.Duration, o.Requests)
	if o.Target == "" && len(o.Conns) > 0 {
		fmt.Fprintf(w, "slack:    emulator answers chat.postMessage after %s in throughput phases, at once in fixed-rate phases\n", o.SlackDelay)
	}

	for _, c := range o.Conns {
		fmt.Fprintf(w, "\ningest as fast as possible, %d connections, %d round(s)\n", c, o.Rounds)
		f := IngestFigures{Conns: c}
		// Rounds alternate the two servers, so that a drift in this
		// machine's speed (shared disks and CPUs drift) hits both alike.
		for range o.Rounds {
			if !o.NoBaseline {
				res, batch, err := o.baseline(ctx, c)
				if err != nil {
					return rep, err
				}
				f.Baseline, f.BatchConfig = append(f.Baseline, res), batch
				fmt.Fprintf(w, "  baseline     %s\n", line(res))
			}
			res, _, err := o.socialroute(ctx, Load{Conns: c}, o.SlackDelay)
			if err != nil {
				return rep, err
			}
			f.Socialroute = append(f.Socialroute, res.Result)
			fmt.Fprintf(w, "  socialroute  %s\n", line(res.Result))
		}
		if len(f.Baseline) > 0 {
			fmt.Fprintf(w, "  median       baseline %.0f posts/s (%s), socialroute %.0f posts/s: %.2f× the baseline\n",
				MedianThroughput(f.Baseline), f.BatchConfig, MedianThroughput(f.Socialroute), f.Ratio())
		}
		rep.Ingest = append(rep.Ingest, f)
	}
	for _, r := range o.Rates {
		fmt.Fprintf(w, "\nfixed rate %g posts/s, %d connections\n", r, o.RateConns)
		res, e2e, err := o.socialroute(ctx, Load{Conns: o.RateConns, Rate: r, Record: o.Target == ""}, 0)
		if err != nil {
			return rep, err
		}
		fmt.Fprintf(w, "  webhook      %s\n", line(res.Result))
		if o.Target == "" {
			fmt.Fprintf(w, "  to Slack     %s   (%d of %d delivered)\n", e2e, res.Delivered, res.Stored())
			if res.DrainErr != "" {
				fmt.Fprintf(w, "  drain        %s\n", res.DrainErr)
			}
			if sz := res.Size; sz != nil && sz.Posts > 0 {
				fmt.Fprintf(w, "  on disk      %.0f bytes per post in pages allocated to data (file %.1f MiB for %d posts: %.0f bytes per post, the rest is bbolt's growth margin)\n",
					float64(sz.Allocated())/float64(sz.Posts), float64(sz.FileBytes)/(1<<20), sz.Posts, sz.PerPost())
			}
		}
		res.EndToEnd = e2e
		rep.Rates = append(rep.Rates, res)
	}
	return rep, nil
}

// line is one phase's figures on one line.
func line(r Result) string {
	s := fmt.Sprintf("%7.0f posts/s  %s  (%d stored", r.Throughput(), r.Latency, r.Stored())
	if e := r.Errors(); e > 0 {
		var codes []string
		for _, c := range slices.Sorted(maps.Keys(r.Codes)) {
			if c != http.StatusAccepted && c != http.StatusOK {
				codes = append(codes, fmt.Sprintf("%d×%d", r.Codes[c], c))
			}
		}
		if r.Transport > 0 {
			codes = append(codes, fmt.Sprintf("%d×no answer", r.Transport))
		}
		s += fmt.Sprintf(", %d errors: %s; first: %s", e, strings.Join(codes, " "), r.FirstError)
	} else {
		s += ", 0 errors"
	}
	s += ")"
	if r.Fsync.N > 0 {
		s += fmt.Sprintf("  [fsync p50 %s]", ms(r.Fsync.P50))
	}
	return s
}

// phaseDir makes a fresh directory for one phase and measures the fsync
// cost in it just before the phase, since a shared disk's speed drifts.
func (o *Options) phaseDir() (string, Latencies, func(), error) {
	dir, err := os.MkdirTemp(o.Dir, "socialroute-bench-")
	if err != nil {
		return "", Latencies{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if o.Keep {
		cleanup = func() {}
	}
	fs, err := FsyncCost(dir, 50)
	if err != nil {
		cleanup()
		return "", Latencies{}, nil, err
	}
	runtime.GC() // leave the previous phase's garbage behind
	return dir, fs, cleanup, nil
}

func (o *Options) baseline(ctx context.Context, conns int) (Result, string, error) {
	dir, fs, cleanup, err := o.phaseDir()
	if err != nil {
		return Result{}, "", err
	}
	defer cleanup()
	b, err := StartBaseline(dir + "/baseline.db")
	if err != nil {
		return Result{}, "", err
	}
	res, err := Load{URL: b.URL(), Conns: conns, Duration: o.Duration, Requests: o.Requests}.Run(ctx)
	res.Fsync = fs
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	return res, b.BatchSettings(), err
}

// socialroute runs one phase against the target or a fresh daemon; with
// l.Record it then waits for delivery and measures webhook-to-Slack time.
func (o *Options) socialroute(ctx context.Context, l Load, slackDelay time.Duration) (RateFigures, Latencies, error) {
	l.Duration, l.Requests = o.Duration, o.Requests
	if o.Target != "" {
		l.URL, l.Secret = o.Target, o.Secret
		res, err := l.Run(ctx)
		return RateFigures{Result: res}, Latencies{}, err
	}
	dir, fs, cleanup, err := o.phaseDir()
	if err != nil {
		return RateFigures{}, Latencies{}, err
	}
	defer cleanup()
	d, err := StartDaemon(ctx, dir, o.Log)
	if err != nil {
		return RateFigures{}, Latencies{}, err
	}
	if slackDelay > 0 {
		d.Emu.InjectFault("chat.postMessage", slackemu.Fault{Delay: slackDelay})
	}
	l.URL, l.Secret = d.URL(), d.Secret
	res, err := l.Run(ctx)
	if err != nil {
		d.Stop()
		return RateFigures{}, Latencies{}, err
	}
	res.Fsync = fs
	out := RateFigures{Result: res}
	var e2e Latencies
	if l.Record {
		dctx, cancel := context.WithTimeout(ctx, o.Drain)
		times, err := Delivered(dctx, d.Emu, res.Accepted)
		cancel()
		if err != nil {
			out.DrainErr = err.Error()
		}
		out.Delivered = len(times)
		e2e = Summarize(times)
	}
	if err := d.Stop(); err != nil {
		return out, e2e, fmt.Errorf("daemon: %w", err)
	}
	if l.Record {
		size, err := MeasureDB(filepath.Join(dir, "socialroute.db"))
		if err != nil {
			return out, e2e, err
		}
		out.Size = &size
	}
	return out, e2e, nil
}
