// Command socialroute-bench measures socialroute on this machine: webhook
// ingest against a baseline durable writer, webhook-to-Slack latency against
// the built-in Slack emulator, start-up time and memory of the socialroute
// binary, and the size of a database with many posts. See BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/socialroute/socialroute/internal/cli"
)

// errUsage marks errors that are the caller's to fix: exit code 2.
var errUsage = cli.ErrUsage

func commands() []cli.Command {
	return []cli.Command{
		{Name: "load", Summary: "webhook ingest throughput and latency against the baseline, and webhook-to-Slack latency", Run: runLoad},
		{Name: "generate", Summary: "build a database holding many delivered posts and report its size", Run: runGenerate},
		{Name: "size", Summary: "report how much room a database takes, per post and per bucket", Run: runSize},
		{Name: "startup", Summary: "start the socialroute binary on a database and report start-up time and memory", Run: runStartup},
	}
}

func main() { program().Main() }

func program() cli.Program {
	return cli.Program{
		Name:     "socialroute-bench",
		Commands: commands(),
		Footer:   "Every run is bounded in time and requests and only talks to loopback.\nRun 'socialroute-bench <command> -h' for a command's flags.",
	}
}

// run executes one command: exit code 0 success, 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program().Run(ctx, args, stdout, stderr)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return cli.Flags("socialroute-bench", name, synopsis, stderr)
}

// parseFlags parses args, turning flag errors and stray arguments into
// usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s takes no arguments, got %q", errUsage, fs.Name(), fs.Args())
	}
	return nil
}

// intList is a flag holding comma-separated positive integers.
type intList []int

func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, v := range *l {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	if v == "" {
		return nil
	}
	for _, part := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive whole number", part)
		}
		*l = append(*l, n)
	}
	return nil
}
