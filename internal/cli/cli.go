// Package cli runs a program made of sub-commands: it picks the command,
// prints usage, and turns what the command returns into the exit code
// (0 success, 1 runtime failure, 2 bad usage). socialroute and
// socialroute-bench share it.
package cli

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

// ErrUsage marks errors that are the caller's to fix: exit code 2.
var ErrUsage = errors.New("usage")

// Command is one sub-command.
type Command struct {
	Name, Summary string
	Run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Program is a command-line program made of sub-commands.
type Program struct {
	Name     string
	Commands []Command
	// Footer is printed after the list of commands.
	Footer string
	// IsUsage reports errors, besides ErrUsage, that mean exit code 2
	// (an invalid configuration, say); may be nil.
	IsUsage func(error) bool
}

// Main runs the program on the process's arguments, with SIGINT and
// SIGTERM cancelling the command's context, and exits with its code.
func (p Program) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := p.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run executes the command args names and returns the exit code.
func (p Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		p.usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range p.Commands {
		if c.Name != args[0] {
			continue
		}
		err := c.Run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, ErrUsage) || (p.IsUsage != nil && p.IsUsage(err)):
			fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, args[0])
	p.usage(stderr)
	return 2
}

func (p Program) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", p.Name)
	for _, c := range p.Commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.Name, c.Summary)
	}
	if p.Footer != "" {
		fmt.Fprintln(w, "\n"+p.Footer)
	}
}

// Flags returns a flag set for command name of program prog that reports
// errors instead of exiting.
func Flags(prog, name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s %s %s\n", prog, name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args, turning flag errors into usage errors.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s", ErrUsage, err)
	}
	return nil
}
