package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Refusals, which anyone can cause, have a bound of their own: however
// many there are, the changes stay in the audit log.
func TestRefusalsCannotEvictChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s, c := openClocked(t, db)
		s.maxRefused = 20
		if _, err := s.ChangeRules("UADMIN", "/route channel support C2", func(rs *RuleSet) (string, error) {
			rs.Channels = map[string]string{"support": "C2"}
			return "support → C2", nil
		}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 * s.maxRefused {
			c.t = c.t.Add(time.Second)
			if err := s.Audit(AuditEntry{User: "UEVIL", Command: fmt.Sprintf("/route channel support C%d", i), Outcome: OutcomeRefused, Detail: "not an admin"}); err != nil {
				t.Fatal(err)
			}
		}
		log, err := s.AuditLog(1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != s.maxRefused+1 {
			t.Fatalf("%d audit entries, want the change and the last %d refusals", len(log), s.maxRefused)
		}
		if last := log[len(log)-1]; last.Outcome != OutcomeApplied || last.Detail != "support → C2" {
			t.Fatalf("oldest entry %+v, want the change", last)
		}
		if first := log[0]; first.Outcome != OutcomeRefused || first.Command != fmt.Sprintf("/route channel support C%d", 3*s.maxRefused-1) {
			t.Fatalf("newest entry %+v, want the last refusal", first)
		}
	})
}

// A file written before refusals had their own bucket holds them among
// the changes; it opens with every entry, in order, and new refusals go
// apart without pushing any of them out.
func TestAuditLogOfAnOlderFile(t *testing.T) {
	orig, err := os.ReadFile("testdata/audit-mixed.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "socialroute.db")
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// Written as: minutes 1..12, a change at 1, 4, 7 and 10, refusals
	// by U<i> between.
	check := func(log []AuditEntry) {
		t.Helper()
		if len(log) < 12 {
			t.Fatalf("%d entries, want the file's 12 at least", len(log))
		}
		old := log[len(log)-12:]
		for j, e := range old {
			i := 11 - j
			want := OutcomeRefused
			if i%3 == 0 {
				want = OutcomeApplied
			}
			if e.Outcome != want || (want == OutcomeRefused && e.User != fmt.Sprintf("U%d", i)) {
				t.Fatalf("entry %d of the file: %+v, want %s", i, e, want)
			}
		}
	}
	log, err := s.AuditLog(100)
	if err != nil || len(log) != 12 {
		t.Fatalf("the file's audit log: %d entries, %v; want 12", len(log), err)
	}
	check(log)

	s.maxRefused = 5
	for range 2 * s.maxRefused {
		if err := s.Audit(AuditEntry{User: "UEVIL", Command: "/route channel support CEVIL", Outcome: OutcomeRefused}); err != nil {
			t.Fatal(err)
		}
	}
	log, err = s.AuditLog(100)
	if err != nil || len(log) != 12+s.maxRefused {
		t.Fatalf("after new refusals: %d entries, %v; want the file's 12 and %d new", len(log), err, s.maxRefused)
	}
	check(log)
}
