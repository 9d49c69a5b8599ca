// Command socialroute routes a brand's social-media posts to the Slack
// channel of the department that owns them. See README.md.
package main

import (
	"context"
	"flag"
	"io"

	"github.com/socialroute/socialroute/internal/cli"
)

// errUsage marks errors that are the caller's to fix: exit code 2.
var errUsage = cli.ErrUsage

func commands() []cli.Command {
	return []cli.Command{
		{Name: "serve", Summary: "run the daemon: webhook server, Slack bot and delivery", Run: runServe},
		{Name: "demo", Summary: "run the whole pipeline against a built-in Slack emulator and print what each channel received", Run: runDemo},
		{Name: "rules", Summary: "export or import the routing rules stored in the database (while the daemon is stopped)", Run: runRules},
		{Name: "migrate", Summary: "copy a bbolt database into the etcd store of the config (see docs/ha.md)", Run: runMigrate},
		{Name: "backup", Summary: "write a consistent copy of the database (works while the daemon runs, with http.admin_token)", Run: runBackup},
		{Name: "version", Summary: "print version, commit and Go version", Run: runVersion},
		{Name: "classify", Summary: "classify a post (TEXT or each line of standard input) and explain why", Run: runClassify},
		{Name: "eval", Summary: "measure the classifier on labelled posts (JSONL): precision, recall, F1, confusion", Run: runEval},
		{Name: "train", Summary: "build the model file from the labelled data sets (see MODEL.md)", Run: runTrain},
	}
}

func main() { program().Main() }

func program() cli.Program {
	return cli.Program{
		Name:     "socialroute",
		Commands: commands(),
		Footer:   "Run 'socialroute <command> -h' for a command's flags.",
		IsUsage:  isConfigError,
	}
}

// run executes one command and decides the exit code: 0 success, 1 runtime
// failure, 2 bad usage or invalid configuration.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program().Run(ctx, args, stdout, stderr)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	return cli.Flags("socialroute", name, synopsis, stderr)
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }
