package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/socialroute/socialroute/internal/bench"
)

func runStartup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("startup", "-db FILE [-bin PATH] [flags]", stderr)
	bin := fs.String("bin", "", "the socialroute binary (default: socialroute next to this program, else in $PATH)")
	db := fs.String("db", "", "database to start on, e.g. one made by 'generate'; a missing file starts an empty store")
	runs := fs.Int("runs", 5, "starts to time")
	idle := fs.Duration("idle", 5*time.Second, "how long the first start stays idle before its memory is read")
	posts := fs.Int("posts", 0, "then send this many posts and read memory again once they are in Slack")
	rate := fs.Int("rate", 1000, "posts/s for -posts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return fmt.Errorf("%w: -db is required", errUsage)
	}
	switch {
	case *runs < 1 || *runs > 100:
		return fmt.Errorf("%w: -runs %d: want 1..100", errUsage, *runs)
	case *idle < 0 || *idle > 10*time.Minute:
		return fmt.Errorf("%w: -idle %s: want at most 10m", errUsage, *idle)
	case *posts < 0 || *posts > bench.MaxRequests:
		return fmt.Errorf("%w: -posts %d: want 0..%d", errUsage, *posts, bench.MaxRequests)
	case *rate < 1 || *rate > bench.MaxRate:
		return fmt.Errorf("%w: -rate %d: want 1..%d", errUsage, *rate, bench.MaxRate)
	}
	path, err := findBinary(*bin)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "machine:  %s\n", bench.Machine())
	fmt.Fprintf(stdout, "binary:   %s\n", path)
	if fi, err := os.Stat(*db); err == nil {
		fmt.Fprintf(stdout, "database: %s, %.1f MiB\n", bench.DescribeDir(*db), float64(fi.Size())/(1<<20))
	} else {
		fmt.Fprintf(stdout, "database: %s (new, empty)\n", bench.DescribeDir(*db))
	}
	res, err := bench.MeasureStartup(ctx, stdout, bench.StartupOptions{
		Bin: path, DB: *db, Runs: *runs, Idle: *idle, Posts: *posts, Rate: float64(*rate),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "start-up: listening median %s, ready median %s (max %s) over %d starts\n",
		median(res.Listening), median(res.Ready), slices.Max(res.Ready).Round(time.Millisecond/10), len(res.Ready))
	fmt.Fprintf(stdout, "idle %s:  %s\n", *idle, res.Idle)
	if res.Loaded != nil {
		fmt.Fprintf(stdout, "after %d posts at %d/s (webhook %s), delivered: %s\n", res.Load.Stored(), *rate, res.Load.Latency, res.Loaded)
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond / 10)
}

// findBinary resolves the socialroute binary to start.
func findBinary(flagValue string) (string, error) {
	if flagValue != "" {
		return exec.LookPath(flagValue)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "socialroute")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("socialroute")
	if err != nil {
		return "", errors.New("no socialroute binary: build one (go build -o /tmp/socialroute ./cmd/socialroute) and pass -bin")
	}
	return p, nil
}
