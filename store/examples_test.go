package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

func TestExamplesKeptInOrderAcrossReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		at := time.Date(2026, 11, 20, 14, 3, 0, 0, time.UTC)
		s := db.openT(t, Options{Now: func() time.Time { return at }})
		want := []routing.Example{
			{Post: routing.Post{ID: "01A", Text: "the zorgblatt again", Author: routing.Author{Followers: 12000}}, Class: routing.Reputation, User: "U1"},
			{Post: routing.Post{ID: "01B", Text: "love it"}, Class: routing.Promotional, User: "U2", At: at.Add(-time.Hour)},
			{Post: routing.Post{ID: "01A", Text: "the zorgblatt again"}, Class: routing.Support, User: "U2"},
		}
		for _, ex := range want {
			if err := s.AddExample(ex); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2 := db.openT(t, Options{})
		got, err := s2.Examples(10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d examples, want %d", len(got), len(want))
		}
		for i := range want {
			w := want[i]
			if w.At.IsZero() {
				w.At = at // stamped when stored
			}
			g := got[i]
			if g.Post.ID != w.Post.ID || g.Post.Text != w.Post.Text || g.Post.Author != w.Post.Author ||
				g.Class != w.Class || g.User != w.User || !g.At.Equal(w.At) {
				t.Errorf("example %d: %+v, want %+v", i, g, w)
			}
		}
	})
}

func TestAddExampleRejects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		tests := []struct {
			name string
			ex   routing.Example
			want string
		}{
			{"no class", routing.Example{Post: routing.Post{Text: "x"}, User: "U1"}, `class ""`},
			{"none is not a department", routing.Example{Post: routing.Post{Text: "x"}, Class: routing.None, User: "U1"}, `class "none"`},
			{"blank text", routing.Example{Post: routing.Post{Text: "  "}, Class: routing.Support, User: "U1"}, "post text is empty"},
			{"no user", routing.Example{Post: routing.Post{Text: "x"}, Class: routing.Support}, "no user"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := s.AddExample(tc.ex); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
			})
		}
		if got, err := s.Examples(10); err != nil || len(got) != 0 {
			t.Fatalf("rejected examples were stored: %v, %v", got, err)
		}
	})
}

func TestExamplesAfterClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		s.Close()
		err := s.AddExample(routing.Example{Post: routing.Post{Text: "x"}, Class: routing.Support, User: "U1"})
		if !errors.Is(err, ErrClosed) {
			t.Errorf("AddExample after Close: %v, want ErrClosed", err)
		}
		if _, err := s.Examples(10); !errors.Is(err, ErrClosed) {
			t.Errorf("Examples after Close: %v, want ErrClosed", err)
		}
	})
}

func TestExamplesArePrunedWithPostsAndReadNewestFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		clock := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		s := db.openT(t, Options{Now: func() time.Time { return clock }})
		// More than one pruning transaction on etcd.
		const n = 300
		for i := range n {
			ex := routing.Example{Post: routing.Post{ID: fmt.Sprint(i), Text: fmt.Sprintf("post %d", i)}, Class: routing.Support, User: "U1"}
			if err := s.AddExample(ex); err != nil {
				t.Fatal(err)
			}
			clock = clock.Add(time.Minute)
		}
		got, err := s.Examples(5)
		if err != nil || len(got) != 5 || got[0].Post.ID != fmt.Sprint(n-5) || got[4].Post.ID != fmt.Sprint(n-1) {
			t.Fatalf("Examples(5) = %d examples, %v; want the newest 5, oldest first", len(got), err)
		}
		if _, err := s.Examples(0); err == nil {
			t.Error("Examples(0) loaded without a bound")
		}

		// Keep the last 10 minutes' examples: ids 290..299.
		cut := clock.Add(-10 * time.Minute)
		if _, err := s.Prune(cut); err != nil {
			t.Fatal(err)
		}
		got, err = s.Examples(n)
		if err != nil || len(got) != 10 || got[0].Post.ID != fmt.Sprint(n-10) {
			t.Fatalf("after pruning %d examples left, %v; want the 10 from the retention period", len(got), err)
		}
		for _, ex := range got {
			if ex.At.Before(cut) {
				t.Errorf("example from %s kept, retention starts at %s", ex.At, cut)
			}
		}
	})
}
