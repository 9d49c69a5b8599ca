package ingest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// TestBackupOutlivesWriteTimeout downloads a backup far larger than the
// socket buffers with a reader that stalls for longer than the server's
// write timeout: the whole copy arrives, of the length announced, and
// opens as a database. Before, the server's write timeout cut it.
func TestBackupOutlivesWriteTimeout(t *testing.T) {
	const (
		token        = "admin-token-0123456789abcdef"
		writeTimeout = 200 * time.Millisecond
		posts        = 2000
	)
	st, err := store.Open(filepath.Join(t.TempDir(), "big.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rnd := rand.New(rand.NewPCG(1, 2))
	letters := make([]byte, 8000)
	for call := range posts / 100 {
		batch := make([]routing.Post, 100)
		for i := range batch {
			for j := range letters {
				letters[j] = byte('a' + rnd.IntN(26))
			}
			batch[i] = routing.Post{Source: "generic", ExternalID: fmt.Sprintf("%d-%d", call, i), Platform: "x", Text: string(letters)}
		}
		if _, err := st.Ingest(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}

	s, err := New(Options{
		Sources:      []Source{{Name: "generic", Format: FormatGeneric, Secret: testSecret}},
		AdminToken:   []byte(token),
		Backup:       st.Backup,
		TempDir:      t.TempDir(),
		WriteTimeout: writeTimeout,
		Logger:       zerolog.Nop(),
	}, st)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })

	// A small receive buffer keeps the kernel from taking the whole copy
	// off the server's hands while the reader stalls.
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(32 << 10)
		}
		return c, err
	}}}
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/admin/backup", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	if resp.ContentLength < 8<<20 {
		t.Fatalf("Content-Length %d (header %q), want the size of the copy, over 8 MiB", resp.ContentLength, resp.Header.Get("Content-Length"))
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	out, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.CopyN(out, resp.Body, 64<<10); err != nil {
		t.Fatal(err)
	}
	// The slow reader: it stalls for five times the server's write
	// timeout while the server still has most of the copy to send.
	<-time.After(5 * writeTimeout)
	n, err := io.Copy(out, resp.Body)
	if err != nil || 64<<10+n != resp.ContentLength {
		t.Fatalf("read %d of %d bytes: %v", 64<<10+n, resp.ContentLength, err)
	}
	out.Close()
	cp, err := store.Open(copyPath, store.Options{})
	if err != nil {
		t.Fatalf("the copy does not open: %v", err)
	}
	defer cp.Close()
	stats, err := cp.OutboxStats()
	if err != nil || stats.Pending != posts {
		t.Fatalf("the copy holds %d pending posts (%v), want %d", stats.Pending, err, posts)
	}
}
