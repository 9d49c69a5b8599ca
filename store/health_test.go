package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialroute/socialroute/internal/testutil"
	"github.com/socialroute/socialroute/routing"
)

// A full disk fails every commit while reads still work; Check must say
// so until a commit succeeds again.
func TestCheckReportsFailingWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "socialroute.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.Ingest(ctx, []routing.Post{post("g", "1", "first")}); err != nil {
		t.Fatal(err)
	}

	restore := testutil.FillDisk(t, path)
	if _, err := s.Ingest(ctx, []routing.Post{post("g", "2", "second")}); err == nil {
		t.Fatal("ingest on a full disk succeeded")
	}
	// A write the store refuses on its own is no sign of a full disk,
	// and must not hide one either.
	if _, err := s.Resolve("01ARZ3NDEKTSV4RRFFQ69G5FAV", "U1", false); err == nil {
		t.Fatal("resolve of a missing post succeeded")
	}
	err = s.Check()
	if !errors.Is(err, ErrWriteFailing) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Check on a full disk = %v, want ErrWriteFailing naming the cause", err)
	}
	if _, err := s.OutboxStats(); err != nil {
		t.Fatalf("reads fail too: %v", err)
	}

	restore()
	// Nothing else writes: Check finds out by itself that writes work.
	testutil.Eventually(t, "Check to see writes work again", func() bool { return s.Check() == nil })
	if _, err := s.Ingest(ctx, []routing.Post{post("g", "3", "third")}); err != nil {
		t.Fatalf("ingest after the disk has room again: %v", err)
	}
	if st, _ := s.OutboxStats(); st.Pending != 2 {
		t.Fatalf("%d pending, want the 2 posts written", st.Pending)
	}
}
