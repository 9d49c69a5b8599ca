package main

import (
	"context"
	"fmt"
	"io"

	"github.com/socialroute/socialroute/internal/demo"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[-v]", stderr)
	verbose := fs.Bool("v", false, "also print the daemon's logs (to stderr)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: demo takes no arguments", errUsage)
	}
	var opts demo.Options
	if *verbose {
		opts.Log = stderr
	}
	return demo.Run(ctx, stdout, opts)
}
