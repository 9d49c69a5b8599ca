package store

import (
	"errors"
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
		got, err := s2.Examples()
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
		if got, err := s.Examples(); err != nil || len(got) != 0 {
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
		if _, err := s.Examples(); !errors.Is(err, ErrClosed) {
			t.Errorf("Examples after Close: %v, want ErrClosed", err)
		}
	})
}
