package store

import (
	"errors"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// clock is a settable time source for Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openClocked(t *testing.T, db testDB) (*Store, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	return db.openT(t, Options{Now: c.now}), c
}

func ids(rs RuleSet) []string {
	var out []string
	for _, r := range rs.Rules {
		out = append(out, r.ID+":"+r.Value)
	}
	return out
}

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSeedRulesOnlyOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s, _ := openClocked(t, db)
		seed := []routing.Rule{
			{Department: "pr", Match: routing.MatchKeyword, Value: "recall"},
			{Department: "support", Match: routing.MatchAuthor, Value: "@big"},
		}
		if has, err := s.HasRules(); err != nil || has {
			t.Fatalf("HasRules before seeding = %v, %v", has, err)
		}
		rs, seeded, err := s.SeedRules(seed)
		if has, _ := s.HasRules(); !has {
			t.Fatal("HasRules after seeding = false")
		}
		if err != nil || !seeded {
			t.Fatalf("first seed: %v, seeded %v", err, seeded)
		}
		if got := ids(rs); !eq(got, []string{"r1:recall", "r2:@big"}) || rs.NextID != 3 || rs.Rules[0].CreatedBy != "config" || rs.Rules[0].CreatedAt.IsZero() {
			t.Fatalf("seeded %+v", rs)
		}
		// Someone removes every rule in Slack; a restart must not bring the seed back.
		if _, err := s.ChangeRules("U1", "/route remove r1", func(rs *RuleSet) (string, error) { rs.Rules = nil; return "removed", nil }); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s2 := db.openT(t, Options{})
		rs, seeded, err = s2.SeedRules(seed)
		if err != nil || seeded || len(rs.Rules) != 0 || rs.NextID != 3 {
			t.Fatalf("second seed: %+v, seeded %v, %v", rs, seeded, err)
		}
	})
}

func TestChangeUndoAndAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s, c := openClocked(t, db)
		if _, err := s.Rules(); err != nil {
			t.Fatal(err)
		}
		add := func(value string) func(*RuleSet) (string, error) {
			return func(rs *RuleSet) (string, error) {
				rs.Rules = append(rs.Rules, routing.Rule{Department: "pr", Match: routing.MatchKeyword, Value: value})
				return "added " + value, nil
			}
		}
		steps := []struct {
			user, summary string
			fn            func(*RuleSet) (string, error)
			want          []string
		}{
			{"U1", "added recall", add("recall"), []string{"r1:recall"}},
			{"U2", "added lawsuit", add("lawsuit"), []string{"r1:recall", "r2:lawsuit"}},
			{"U1", "threshold 0.7", func(rs *RuleSet) (string, error) { m := 0.7; rs.MinConfidence = &m; return "threshold 0.7", nil }, []string{"r1:recall", "r2:lawsuit"}},
			{"U1", "channel", func(rs *RuleSet) (string, error) {
				rs.Channels = map[string]string{"pr": "C0CRISIS"}
				return "channel", nil
			}, []string{"r1:recall", "r2:lawsuit"}},
		}
		for _, st := range steps {
			c.t = c.t.Add(time.Minute)
			rs, err := s.ChangeRules(st.user, "/route "+st.summary, st.fn)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(rs); !eq(got, st.want) {
				t.Fatalf("after %s: %v, want %v", st.summary, got, st.want)
			}
		}
		rs, _ := s.Rules()
		if rs.MinConfidence == nil || *rs.MinConfidence != 0.7 || rs.Channels["pr"] != "C0CRISIS" || rs.Rules[1].CreatedBy != "U2" {
			t.Fatalf("stored %+v", rs)
		}

		// An error from the change stores nothing and comes back as it is.
		boom := errors.New("no such department")
		if _, err := s.ChangeRules("U1", "/route x", func(*RuleSet) (string, error) { return "", boom }); err != boom {
			t.Fatalf("err = %v, want the caller's", err)
		}

		// Undo walks back one change at a time.
		for _, want := range []struct {
			summary string
			rules   []string
			check   func(RuleSet) bool
		}{
			{"channel", []string{"r1:recall", "r2:lawsuit"}, func(rs RuleSet) bool { return rs.Channels == nil && rs.MinConfidence != nil }},
			{"threshold 0.7", []string{"r1:recall", "r2:lawsuit"}, func(rs RuleSet) bool { return rs.MinConfidence == nil }},
			{"added lawsuit", []string{"r1:recall"}, func(rs RuleSet) bool { return true }},
		} {
			ch, rs, err := s.UndoRules("U3", "/route undo")
			if err != nil || ch.Summary != want.summary || !eq(ids(rs), want.rules) || !want.check(rs) {
				t.Fatalf("undo: %+v %+v %v; want %s %v", ch, rs, err, want.summary, want.rules)
			}
		}
		// Ids are never reused, even after an undo.
		rs, err := s.ChangeRules("U1", "/route add", add("boycott"))
		if err != nil || !eq(ids(rs), []string{"r1:recall", "r3:boycott"}) {
			t.Fatalf("after undo and add: %v %v", ids(rs), err)
		}
		for range 2 {
			if _, _, err := s.UndoRules("U3", "/route undo"); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.UndoRules("U3", "/route undo"); !errors.Is(err, ErrNothingToUndo) {
			t.Fatalf("undo with nothing left: %v", err)
		}
		if rs, _ := s.Rules(); len(rs.Rules) != 0 || rs.NextID != 4 {
			t.Fatalf("after undoing everything: %+v", rs)
		}

		if err := s.Audit(AuditEntry{User: "U9", Command: "/route add pr keyword x", Outcome: OutcomeRefused, Detail: "not an admin"}); err != nil {
			t.Fatal(err)
		}
		log, err := s.AuditLog(3)
		if err != nil || len(log) != 3 {
			t.Fatalf("audit log: %+v, %v", log, err)
		}
		if log[0].Outcome != OutcomeRefused || log[0].User != "U9" || log[1].Outcome != OutcomeUndone || log[1].Detail != "added recall" {
			t.Fatalf("newest audit entries: %+v", log)
		}
		all, _ := s.AuditLog(100)
		if len(all) != 4+1+5+1 { // changes, the change after undo, undos, refusal
			t.Fatalf("%d audit entries, want 11: %+v", len(all), all)
		}
	})
}

func TestAppendSeqBound(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s, _ := openClocked(t, db)
		for i := range 30 {
			if err := s.eng.update(func(tx txn) error {
				return appendSeq(tx, bucketAudit, AuditEntry{Detail: string(rune('a' + i%26))}, 10)
			}); err != nil {
				t.Fatal(err)
			}
		}
		log, err := s.AuditLog(100)
		if err != nil || len(log) != 10 || log[0].Detail != string(rune('a'+29%26)) || log[9].Detail != string(rune('a'+20)) {
			t.Fatalf("bounded log: %+v, %v", log, err)
		}
	})
}

func TestPendingChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s, c := openClocked(t, db)
		id, err := s.PutPending(PendingChange{User: "U1", Command: "add pr keyword recall"})
		if err != nil || id == "" {
			t.Fatal(id, err)
		}
		old, err := s.PutPending(PendingChange{User: "U1", Command: "add pr keyword old", At: c.t.Add(-25 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.TakePending(id)
		if err != nil || p.Command != "add pr keyword recall" || p.User != "U1" || p.ID != id {
			t.Fatalf("take: %+v, %v", p, err)
		}
		for _, tc := range []struct{ name, id string }{{"taken twice", id}, {"expired", old}, {"unknown", "nope"}} {
			if _, err := s.TakePending(tc.id); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: err = %v, want ErrNotFound", tc.name, err)
			}
		}
	})
}
