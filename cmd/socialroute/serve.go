package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[-config FILE]", stderr)
	path := fs.String("config", "", "config file (default $SOCIALROUTE_CONFIG, else ./config.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, fs.Args())
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	log.Info().Str("version", version).Str("config", *path).Msg("starting")
	a, err := app.New(cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// loadConfig loads the config file named by the -config flag at path,
// else $SOCIALROUTE_CONFIG, else ./config.yaml, and sets *path to the file
// it read.
func loadConfig(path *string) (*config.Config, error) {
	if *path == "" {
		*path = os.Getenv("SOCIALROUTE_CONFIG")
	}
	if *path == "" {
		*path = "config.yaml"
	}
	return config.Load(*path, os.LookupEnv)
}

func isConfigError(err error) bool { return errors.Is(err, config.ErrInvalid) }

// newLogger builds the process logger from the log section.
func newLogger(c config.Log, w io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("%w: log.level: %v", errUsage, err)
	}
	if c.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}
