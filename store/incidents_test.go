package store

import (
	"context"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

var testRules = IncidentRules{Window: time.Hour, Similarity: 0.8, TopicPosts: 3, SpikePosts: 4, SpikeWindow: 10 * time.Minute}

func ingestOne(t *testing.T, s *Store, p routing.Post) string {
	t.Helper()
	res, err := s.Ingest(context.Background(), []routing.Post{p})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].ID
}

func TestAssignIncident(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		s := db.openT(t, Options{Now: func() time.Time { return clock }})
		rep := func(ext, text, conv string, followers int64) string {
			return ingestOne(t, s, routing.Post{Source: "g", ExternalID: ext, Platform: "x", Text: text, ConversationID: conv,
				Author: routing.Author{Followers: followers}})
		}
		assign := func(id string) Assignment {
			t.Helper()
			a, err := s.AssignIncident(id, "CPR", testRules)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}

		root := rep("1", "Your CEO's comments on the strike are disgraceful and everyone should know", "c1", 100)
		if a := assign(root); !a.Root || a.Incident.ID != root || a.Incident.Count != 1 {
			t.Fatalf("first post: %+v", a)
		}
		tests := []struct {
			name, ext, text, conv string
			join                  bool
			reason                string
		}{
			{"same conversation", "2", "totally agree with this thread", "c1", true, "same conversation"},
			{"copy of the text", "3", "RT @x: Your CEO's comments on the strike are disgraceful and everyone should know", "", true, "near-identical text"},
			{"unrelated", "4", "Love the new store layout downtown", "", false, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := assign(rep(tt.ext, tt.text, tt.conv, 10))
				if joined := !a.Root && a.Incident.ID == root; joined != tt.join || a.Reason != tt.reason {
					t.Fatalf("assignment %+v; want join=%v reason %q", a, tt.join, tt.reason)
				}
			})
		}
		inc, _ := s.Incident(root)
		if inc.Count != 3 || inc.Reach != 120 || !inc.Dirty {
			t.Fatalf("incident %+v, want 3 posts, reach 120, dirty", inc)
		}
		// Assignment is sticky: a retried delivery gets the same answer.
		if a := assign(root); !a.Root || a.Incident.Count != 3 {
			t.Fatalf("re-assigning the root: %+v", a)
		}

		// A topic burst: the third post on "data breach" within the window
		// opens an incident that the fourth joins.
		var ids []string
		for i, text := range []string{"Heard about the data breach at Acme?", "This data breach is huge", "Data breach confirmed by the regulator", "another data breach story"} {
			clock = clock.Add(time.Minute)
			ids = append(ids, rep(string(rune('a'+i)), text, "", 1))
		}
		for _, id := range ids[:3] {
			assign(id)
		}
		third, _ := s.Get(ids[2])
		if a := assign(ids[3]); a.Root || a.Incident.ID != third.Incident || a.Reason != "burst on data breach" {
			t.Fatalf("fourth post on the topic: %+v (third is in %s)", a, third.Incident)
		}

		// Past the window nothing joins.
		clock = clock.Add(2 * time.Hour)
		if a := assign(rep("late", "Your CEO's comments on the strike are disgraceful and everyone should know", "c1", 1)); !a.Root {
			t.Fatalf("post after the window joined %s", a.Incident.ID)
		}
	})
}

func TestIncidentSpikeAlertsOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		text := "Boycott Acme now, they poisoned the river #BoycottAcme"
		spikes := 0
		for i := range 8 {
			id := ingestOne(t, s, routing.Post{Source: "g", ExternalID: string(rune('a' + i)), Platform: "x", Text: text})
			a, err := s.AssignIncident(id, "CPR", testRules)
			if err != nil {
				t.Fatal(err)
			}
			if a.Spike {
				spikes++
				if a.Incident.Count != 4 {
					t.Fatalf("spike at post %d, want at the 4th", a.Incident.Count)
				}
			}
		}
		if spikes != 1 {
			t.Fatalf("%d spike alerts, want 1", spikes)
		}
	})
}

// The first post's delivery and its incident's message are one commit: a
// post joining the incident finds the thread as soon as the first post is
// delivered. On both engines.
func TestDeliveringTheFirstPostGivesTheIncidentItsThread(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		root := ingestOne(t, s, routing.Post{Source: "g", ExternalID: "1", Platform: "x", Text: "the strike comments are disgraceful", ConversationID: "c1"})
		next := ingestOne(t, s, routing.Post{Source: "g", ExternalID: "2", Platform: "x", Text: "agree", ConversationID: "c1"})
		for _, id := range []string{root, next} {
			if _, err := s.BeginAttempt(id, routing.Decision{Class: routing.Reputation, Channel: "CPR"}); err != nil {
				t.Fatal(err)
			}
		}
		if a, err := s.AssignIncident(root, "CPR", testRules); err != nil || !a.Root {
			t.Fatalf("first post: %+v, %v", a, err)
		}
		if err := s.Delivered(root, "CPR", "100.000001"); err != nil {
			t.Fatal(err)
		}
		inc, err := s.Incident(root)
		if err != nil || inc.RootTS != "100.000001" || inc.Channel != "CPR" {
			t.Fatalf("incident after its first post's delivery: %+v, %v", inc, err)
		}
		a, err := s.AssignIncident(next, "CPR", testRules)
		if err != nil || a.Root || a.Orphan || a.Incident.RootTS != "100.000001" {
			t.Fatalf("joining post: %+v, %v", a, err)
		}
	})
}
