package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/store"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "[-config FILE] [-from FILE]", stderr)
	cfgPath := fs.String("config", "", "config file naming the etcd store to fill (default $SOCIALROUTE_CONFIG, else ./config.yaml)")
	from := fs.String("from", "", "bbolt database to copy (default: store.path of the config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: migrate takes no arguments, got %q", errUsage, fs.Args())
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	if cfg.Store.Backend != "etcd" {
		return fmt.Errorf("migrate: store.backend is %q in %s; set it to etcd, with store.etcd, to name the store to copy into", cfg.Store.Backend, *cfgPath)
	}
	if *from == "" {
		*from = cfg.Store.Path
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate: no database at %s: %w", *from, err)
	}
	src, err := store.Open(*from, store.Options{Timeout: 500 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("migrate: the database %s is in use by a running socialroute; stop it first", *from)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Close()
	dst, err := app.OpenStore(cfg.Store, store.Options{})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	where := app.StoreName(cfg.Store)
	last := time.Now()
	n, err := store.Migrate(dst, src, func(keys int) {
		if time.Since(last) > 2*time.Second {
			fmt.Fprintf(stderr, "migrate: %d keys copied\n", keys)
			last = time.Now()
		}
	})
	if errors.Is(err, store.ErrNotEmpty) {
		return fmt.Errorf("migrate: %s already holds socialroute data; migrate only fills an empty prefix (choose another store.etcd.prefix, or delete the keys under it)", where)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrate: copied %d keys from %s to %s\n", n, *from, where)
	return nil
}
