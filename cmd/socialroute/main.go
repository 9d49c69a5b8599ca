// Command socialroute routes a brand's social-media posts to the Slack
// channel of the department that owns them. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks errors that are the caller's to fix: exit code 2.
var errUsage = errors.New("usage")

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the daemon: webhook server, Slack bot and delivery", runServe},
		{"demo", "run the whole pipeline against a built-in Slack emulator and print what each channel received", runDemo},
		{"rules", "export or import the routing rules stored in the database (while the daemon is stopped)", runRules},
		{"backup", "write a consistent copy of the database (works while the daemon runs, with http.admin_token)", runBackup},
		{"version", "print version, commit and Go version", runVersion},
		{"classify", "classify a post (TEXT or each line of standard input) and explain why", runClassify},
		{"eval", "measure the classifier on labelled posts (JSONL): precision, recall, F1, confusion", runEval},
		{"train", "build the model file from the labelled data sets (see MODEL.md)", runTrain},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and decides the exit code: 0 success, 1 runtime
// failure, 2 bad usage or invalid configuration.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage) || isConfigError(err):
			fmt.Fprintln(stderr, "socialroute:", err)
			return 2
		default:
			fmt.Fprintln(stderr, "socialroute:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "socialroute: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: socialroute <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'socialroute <command> -h' for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: socialroute %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	return nil
}
