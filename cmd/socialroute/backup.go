package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/store"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", "[-config FILE] OUT", stderr)
	cfgPath := fs.String("config", "", "config file (default $SOCIALROUTE_CONFIG, else ./config.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: backup takes one argument, the file to write", errUsage)
	}
	out := fs.Arg(0)
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}

	// Write next to the target and rename, so OUT is never half a file.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".socialroute-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, how, err := backupTo(ctx, cfg, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup: wrote %d bytes to %s (%s)\n", n, out, how)
	return nil
}

// backupTo copies the database into w: straight from etcd, or from the
// file when no daemon holds it, else from the running daemon's admin
// endpoint.
func backupTo(ctx context.Context, cfg *config.Config, w io.Writer) (int64, string, error) {
	// etcd is shared by design, so it is read directly (as of one
	// revision); only a bbolt file can be locked by a running daemon.
	st, err := app.OpenStore(cfg.Store, store.Options{Timeout: 300 * time.Millisecond})
	switch {
	case err == nil:
		defer st.Close()
		n, err := st.Backup(w)
		return n, "from " + app.StoreName(cfg.Store), err
	case !errors.Is(err, store.ErrLocked):
		return 0, "", fmt.Errorf("backup: %w", err)
	}
	token := cfg.HTTP.AdminToken.Value()
	if token == "" {
		return 0, "", errors.New("backup: the database is in use by a running socialroute; set http.admin_token to back it up while it runs, or stop it first")
	}
	host, port, _ := net.SplitHostPort(cfg.HTTP.Listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/admin/backup"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("backup: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("backup: the database is in use, and the running daemon did not answer at %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("backup: the running daemon answered %s at %s", resp.Status, url)
	}
	n, err := io.Copy(w, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("backup: got %d of %d bytes", n, resp.ContentLength)
	}
	return n, "from the running daemon at " + url, err
}
