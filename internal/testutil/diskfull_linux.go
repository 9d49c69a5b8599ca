package testutil

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// FillDisk makes every write to the open file at path fail as on a full
// disk, by putting /dev/full behind the descriptor this process holds for
// it, until the returned function puts the file back. Reads through a
// memory map, as bbolt's, keep working. The test is skipped where this
// cannot be done.
func FillDisk(t testing.TB, path string) (restore func()) {
	t.Helper()
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatalf("fill disk: %v", err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("fill disk: %v", err)
	}
	fd := -1
	for _, e := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == want {
			fd, _ = strconv.Atoi(e.Name())
		}
	}
	if fd < 0 {
		t.Fatalf("fill disk: %s is not open", path)
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("fill disk: %v", err)
	}
	defer full.Close()
	saved, err := syscall.Dup(fd)
	if err != nil {
		t.Fatalf("fill disk: %v", err)
	}
	if err := syscall.Dup3(int(full.Fd()), fd, syscall.O_CLOEXEC); err != nil {
		syscall.Close(saved)
		t.Fatalf("fill disk: %v", err)
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		if err := syscall.Dup3(saved, fd, syscall.O_CLOEXEC); err != nil {
			t.Errorf("fill disk: put %s back: %v", path, err)
		}
		syscall.Close(saved)
	}
	t.Cleanup(restore)
	return restore
}
