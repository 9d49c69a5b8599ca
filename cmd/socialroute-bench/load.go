package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/socialroute/socialroute/internal/bench"
)

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", "[flags]", stderr)
	conns := intList{64, 256}
	rates := intList{1000}
	fs.Var(&conns, "conns", "connection counts of the as-fast-as-possible phases, comma-separated (empty: none)")
	fs.Var(&rates, "rates", "posts/s of the fixed-rate phases, comma-separated (empty: none)")
	rateConns := fs.Int("rate-conns", 64, "connections of the fixed-rate phases")
	duration := fs.Duration("duration", 10*time.Second, "length of each phase (at most "+bench.MaxDuration.String()+")")
	rounds := fs.Int("rounds", 3, "times each connection count runs the baseline and socialroute in turn (the ratio is between medians)")
	requests := fs.Int("requests", 1_000_000, "most requests in each phase")
	dir := fs.String("dir", os.TempDir(), "directory for the phases' databases (a fresh one per phase, removed afterwards); its file system decides the fsync cost")
	noBaseline := fs.Bool("no-baseline", false, "skip the baseline phases")
	target := fs.String("target", "", "webhook URL of a socialroute already running on this machine (loopback only), e.g. http://127.0.0.1:8080/webhooks/generic; default: start one against the Slack emulator for every phase")
	secretEnv := fs.String("secret-env", "WEBHOOK_SECRET", "environment variable holding the target source's secret")
	drain := fs.Duration("drain", time.Minute, "longest wait for delivery to Slack after a fixed-rate phase")
	slackDelay := fs.Duration("slack-delay", 100*time.Millisecond, "delay the Slack emulator adds to every chat.postMessage in the throughput phases, standing for a remote, paced Slack (0: delivery runs flat out against an instant Slack and competes with ingest for the CPU)")
	keep := fs.Bool("keep", false, "keep the phases' directories and databases")
	logFile := fs.String("log", "", "write the started daemons' logs to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (load generator and daemon) to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(conns) == 0 && len(rates) == 0 {
		return fmt.Errorf("%w: nothing to run: -conns and -rates are both empty", errUsage)
	}
	o := bench.Options{
		Dir: *dir, Conns: conns, RateConns: *rateConns,
		Duration: *duration, Requests: *requests, Rounds: *rounds, NoBaseline: *noBaseline,
		Target: *target, Drain: *drain, Keep: *keep, SlackDelay: *slackDelay,
	}
	for _, r := range rates {
		o.Rates = append(o.Rates, float64(r))
	}
	if *target != "" {
		if err := bench.CheckLoopback(*target); err != nil {
			return fmt.Errorf("%w: -target: %v", errUsage, err)
		}
		secret := os.Getenv(*secretEnv)
		if secret == "" {
			return fmt.Errorf("%w: -target needs the source's secret in $%s", errUsage, *secretEnv)
		}
		o.Secret = []byte(secret)
	}
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.Log = f
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	_, err := bench.Run(ctx, stdout, o)
	return err
}
