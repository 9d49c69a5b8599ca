package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FsyncCost writes a 4 KiB page at the start of a scratch file in dir and
// syncs it, n times, the way a bbolt commit ends (bbolt issues two such
// syncs per commit: data pages, then the meta page). It returns the
// latencies of the syncs.
func FsyncCost(dir string, n int) (Latencies, error) {
	f, err := os.CreateTemp(dir, "fsync-*.tmp")
	if err != nil {
		return Latencies{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	d := make([]time.Duration, 0, n)
	for i := range n {
		page[0] = byte(i)
		if _, err := f.WriteAt(page, 0); err != nil {
			return Latencies{}, err
		}
		start := time.Now()
		if err := fdatasync(f); err != nil {
			return Latencies{}, fmt.Errorf("sync %s: %w", f.Name(), err)
		}
		d = append(d, time.Since(start))
	}
	return Summarize(d), nil
}

// DescribeDir names dir's file system, e.g. "/var/tmp (ext4 on /dev/vda)".
func DescribeDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return fmt.Sprintf("%s (%s)", abs, fileSystem(abs))
}
