package app_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/socialroute/socialroute/store"
)

func TestOnlineBackup(t *testing.T) {
	emu := newEmulator(t)
	const token = "admin-token-0123456789abcdef"
	cfg := loadConfig(t, emu, filepath.Join(t.TempDir(), "e2e.db"), emu.BotToken())
	cfg.HTTP.AdminToken = token
	d := start(t, cfg)
	id, _ := deliveredPost(t, d, supportPost)

	get := func(auth string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, "http://"+d.app.Addr()+"/admin/backup", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, auth := range []string{"", "Bearer wrong-token-0000000000000", token} {
		resp := get(auth)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("Authorization %q: %d, want 401", auth, resp.StatusCode)
		}
	}
	resp := get("Bearer " + token)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	f, _ := os.Create(copyPath)
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, err := store.Open(copyPath, store.Options{})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer st.Close()
	if rec, err := st.Get(id); err != nil || rec.Delivery == nil {
		t.Fatalf("the backup lacks the delivered post: %+v, %v", rec, err)
	}
}
