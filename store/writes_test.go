package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// A spike alert stays due until it is recorded as sent; an attempt that
// began is reported in flight to the next one, which looks for it first.
func TestSpikeAlertIsDueUntilSent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		text := "Boycott Acme now, they poisoned the river #BoycottAcme"
		var root string
		for i := range testRules.SpikePosts {
			id := ingestOne(t, s, routing.Post{Source: "g", ExternalID: string(rune('a' + i)), Platform: "x", Text: text})
			if _, err := s.AssignIncident(id, "CPR", testRules); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				root = id
			}
		}
		if _, due, _, _ := s.BeginAlert(root); due {
			t.Fatal("alert due before the incident message is in Slack")
		}
		if err := s.Delivered(root, "CPR", "1.1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.DueAlerts(); len(got) != 1 || got[0].ID != root {
			t.Fatalf("DueAlerts = %+v, want the incident", got)
		}
		if _, due, inFlight, err := s.BeginAlert(root); err != nil || !due || inFlight {
			t.Fatalf("first attempt: due %v, in flight %v, %v", due, inFlight, err)
		}
		if _, due, inFlight, _ := s.BeginAlert(root); !due || !inFlight {
			t.Fatalf("attempt after an unconfirmed one: due %v, in flight %v", due, inFlight)
		}
		if err := s.AlertSent(root, "1.2"); err != nil {
			t.Fatal(err)
		}
		if _, due, _, _ := s.BeginAlert(root); due {
			t.Fatal("alert due again after it was sent")
		}
		if got, _ := s.DueAlerts(); len(got) != 0 {
			t.Fatalf("DueAlerts after the alert = %+v", got)
		}
		if inc, _ := s.Incident(root); inc.AlertTS != "1.2" || !inc.Alerted {
			t.Fatalf("incident after the alert: %+v", inc)
		}
	})
}

// Incidents and records written before the in-flight marks existed still
// decode, and what they say was done is not done again.
func TestOldIncidentsAndEscalationsAreNotRedone(t *testing.T) {
	var inc Incident
	if err := json.Unmarshal([]byte(`{"id":"01KBM3Q7ZP6Y2VQ1W7CV3Q5D0T","channel":"CPR","root_ts":"1.1","count":9,"alerted":true}`), &inc); err != nil {
		t.Fatal(err)
	}
	if inc.AlertDue || inc.AlertSending {
		t.Fatalf("an old alerted incident decodes as %+v: its alert would go out again", inc)
	}
	var rec Record
	if err := json.Unmarshal([]byte(`{"post":{"id":"x"},"escalated":{"user":"U1","at":"2026-11-24T09:00:00Z"},"reminded":{"claim":true}}`), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Escalated == nil || rec.EscalatedTo != "" || rec.Reminded.Sending != "" || !rec.Reminded.Claim {
		t.Fatalf("old record decodes as %+v", rec)
	}
}

// An escalation is pending from its start until it is recorded as posted
// or cancelled; only pending ones that began before the given time are
// listed, so an attempt under way is left to its poster.
func TestPendingEscalations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		s := db.openT(t, Options{Now: func() time.Time { return clock }})
		posted := delivered(t, s, "1", routing.Support)
		cancelled := delivered(t, s, "2", routing.Support)
		stuck := delivered(t, s, "3", routing.Support)
		for _, id := range []string{posted, cancelled, stuck} {
			if _, won, err := s.StartEscalation(id, "U1"); err != nil || !won {
				t.Fatalf("StartEscalation(%s) = %v, %v", id, won, err)
			}
		}
		if ids, err := s.PendingEscalations(clock); err != nil || len(ids) != 0 {
			t.Fatalf("PendingEscalations right after the start = %v, %v", ids, err)
		}
		if _, err := s.Escalated(posted, "U1", "CPR/1.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Escalated(posted, "U1", "CPR/1.1"); err != nil {
			t.Fatal(err)
		}
		if err := s.CancelEscalation(cancelled, "U1"); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Hour)
		if ids, err := s.PendingEscalations(clock); err != nil || len(ids) != 1 || ids[0] != stuck {
			t.Fatalf("PendingEscalations = %v, %v; want [%s]", ids, err, stuck)
		}
		rec, _ := s.Get(posted)
		if rec.EscalatedTo != "CPR/1.1" {
			t.Fatalf("escalated to %q", rec.EscalatedTo)
		}
		n := 0
		for _, e := range rec.History {
			if e.Action == "escalated" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d escalated events after recording it twice", n)
		}
		if rec, _ := s.Get(cancelled); rec.Escalated != nil {
			t.Fatalf("cancelled escalation still marked: %+v", rec.Escalated)
		}
	})
}
