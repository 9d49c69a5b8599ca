//go:build !linux

package testutil

import "testing"

// FillDisk makes writes to the file at path fail as on a full disk; only
// on Linux, elsewhere the test is skipped.
func FillDisk(t testing.TB, path string) (restore func()) {
	t.Helper()
	t.Skip("fill disk: needs Linux's /proc and /dev/full")
	return func() {}
}
