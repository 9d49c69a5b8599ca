package main

import (
	"context"
	"fmt"
	"io"

	"github.com/socialroute/socialroute/internal/bench"
)

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", "-db FILE [-posts N]", stderr)
	path := fs.String("db", "", "database file to create (must not exist)")
	posts := fs.Int("posts", 1_000_000, fmt.Sprintf("posts to store, at most %d", bench.MaxGenerate))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: -db is required", errUsage)
	}
	fmt.Fprintf(stdout, "generating %d delivered posts in %s\n", *posts, bench.DescribeDir(*path))
	if err := bench.Generate(ctx, stdout, *path, *posts); err != nil {
		return err
	}
	size, err := bench.MeasureDB(*path)
	if err != nil {
		return err
	}
	printSize(stdout, size)
	return nil
}

func runSize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("size", "-db FILE", stderr)
	path := fs.String("db", "", "database file (not open in a running socialroute)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: -db is required", errUsage)
	}
	size, err := bench.MeasureDB(*path)
	if err != nil {
		return err
	}
	printSize(stdout, size)
	return nil
}

func printSize(w io.Writer, s bench.DBSize) {
	fmt.Fprintf(w, "file: %d bytes (%.1f MiB) for %d posts: %.0f bytes per post\n",
		s.FileBytes, float64(s.FileBytes)/(1<<20), s.Posts, s.PerPost())
	for _, b := range s.Buckets {
		per := 0.0
		if s.Posts > 0 {
			per = float64(b.Alloc) / float64(s.Posts)
		}
		fmt.Fprintf(w, "  bucket %-9s %9d keys  %6.1f MiB in use of %6.1f MiB allocated  (%4.0f bytes per post)\n",
			b.Name, b.Keys, float64(b.InUse)/(1<<20), float64(b.Alloc)/(1<<20), per)
	}
}
