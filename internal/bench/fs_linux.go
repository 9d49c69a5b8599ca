package bench

import (
	"bufio"
	"os"
	"strings"
	"syscall"
)

func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// fileSystem returns the type and device of the mount holding path, from
// /proc/self/mounts (longest matching mount point wins).
func fileSystem(path string) string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "unknown file system"
	}
	defer f.Close()
	best, desc := "", "unknown file system"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		dev, mnt, typ := fields[0], fields[1], fields[2]
		if !under(path, mnt) || len(mnt) < len(best) {
			continue
		}
		best, desc = mnt, typ+" on "+dev
	}
	return desc
}

func under(path, mnt string) bool {
	if mnt == "/" {
		return true
	}
	return path == mnt || strings.HasPrefix(path, mnt+"/")
}
