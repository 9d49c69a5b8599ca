package store

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/socialroute/socialroute/routing"
)

func TestDecisionEncodingRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    routing.Decision
	}{
		{"empty", routing.Decision{}},
		{"routed", routing.Decision{
			Class: routing.Reputation, Confidence: 0.9999528680377279, Department: "pr", Channel: "C0PR", Runner: routing.Support,
			Reasons: []routing.Reason{
				{Class: routing.Reputation, Kind: "keyword", Detail: "reporter", Weight: 3},
				{Class: routing.Reputation, Kind: "phrase", Detail: "preparing a story", Weight: 3},
				{Class: routing.Support, Kind: "context", Detail: "question to an account", Weight: 0.4},
			},
		}},
		{"unsure, high priority, non-ASCII", routing.Decision{
			Class: routing.Support, Confidence: 0.41, Channel: "C0TRIAGE", Unsure: true, Runner: routing.Promotional, Priority: "high",
			Reasons: []routing.Reason{{Class: routing.Promotional, Kind: "emoji", Detail: "😍", Weight: 1}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := encodeDecision(tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if v[0] != decisionFlate {
				t.Fatalf("first byte %q, want %q", v[0], decisionFlate)
			}
			var got routing.Decision
			if err := decodeDecision(v, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.d) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tc.d)
			}
			js, _ := json.Marshal(tc.d)
			if len(tc.d.Reasons) > 1 && len(v) >= len(js)/2 {
				t.Errorf("stored %d bytes for %d bytes of JSON; the dictionary is not doing its job", len(v), len(js))
			}
			// Plain JSON, as schema 1 and hand-made files hold it, reads too.
			var plain routing.Decision
			if err := decodeDecision(js, &plain); err != nil || !reflect.DeepEqual(plain, tc.d) {
				t.Fatalf("plain JSON: %+v, %v", plain, err)
			}
		})
	}
	for _, bad := range []string{"z\xff\xff", "", "[1]"} {
		var d routing.Decision
		if err := decodeDecision([]byte(bad), &d); err == nil {
			t.Errorf("decision %q decoded without error", bad)
		}
	}
}

// Each part of a record lives in its own bucket and no value grows once
// written: the post's own value is the same after routing and delivery.
func TestRecordPartsAreWrittenOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		res, err := s.Ingest(context.Background(), []routing.Post{post("g", "1", "my order never arrived")})
		if err != nil {
			t.Fatal(err)
		}
		id := res[0].ID
		key, _ := parseID(id)
		postValue := func() []byte {
			var v []byte
			s.eng.view(func(tx txn) error {
				v = append([]byte(nil), tx.Bucket(bucketPosts).Get(key)...)
				return nil
			})
			return v
		}
		before := postValue()
		if bytes.Contains(before, []byte(id)) {
			t.Errorf("post value repeats its key: %s", before)
		}
		if _, err := s.BeginAttempt(id, routing.Decision{Class: routing.Support, Channel: "C1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delivered(id, "C1", "1700000000.000100"); err != nil {
			t.Fatal(err)
		}
		if after := postValue(); !bytes.Equal(before, after) {
			t.Fatalf("post value changed by routing and delivery:\nbefore %s\nafter  %s", before, after)
		}
		rec, err := s.Get(id)
		if err != nil || rec.Post.ID != id || rec.Decision == nil || rec.Decision.Channel != "C1" || rec.Delivery == nil || rec.Delivery.TS != "1700000000.000100" {
			t.Fatalf("record = %+v, %v", rec, err)
		}
	})
}

// A file written by schema 1, with decisions and deliveries inside the post
// records, opens and reads as before.
func TestSchema1FileReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	id := ulid.MustNew(ulid.Timestamp(time.Now()), ulid.DefaultEntropy())
	pending := ulid.MustNew(ulid.Timestamp(time.Now()), ulid.DefaultEntropy())
	decision := routing.Decision{Class: routing.Reputation, Channel: "C0PR", Confidence: 0.8}
	delivered := Record{
		Post:     routing.Post{ID: id.String(), Source: "g", ExternalID: "1", Platform: "x", Text: "a"},
		Decision: &decision,
		Delivery: &Delivery{Channel: "C0PR", TS: "1700000000.000100", At: time.Unix(1700000000, 0).UTC()},
	}
	routed := Record{Post: routing.Post{ID: pending.String(), Source: "g", ExternalID: "2", Platform: "x", Text: "b"}, Decision: &decision}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPosts, bucketDedupe, bucketOutbox, bucketMessages, bucketMeta} {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		for _, r := range []Record{delivered, routed} {
			v, _ := json.Marshal(r)
			k, _ := parseID(r.Post.ID)
			if err := tx.Bucket(bucketPosts).Put(k, v); err != nil {
				return err
			}
		}
		entry, _ := json.Marshal(OutboxEntry{InFlight: true})
		if err := tx.Bucket(bucketOutbox).Put(pending[:], entry); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put([]byte("schema"), []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Get(id.String())
	if err != nil || !reflect.DeepEqual(rec, delivered) {
		t.Fatalf("delivered record:\n got %+v, %v\nwant %+v", rec, err, delivered)
	}
	// The decision inside the old record is kept, whatever routing says now.
	kept, err := s.BeginAttempt(pending.String(), routing.Decision{Class: routing.Support, Channel: "C0SUPPORT"})
	if err != nil || kept.Channel != "C0PR" {
		t.Fatalf("BeginAttempt on a schema 1 record = %+v, %v; want the stored decision", kept, err)
	}
	due, _, err := s.Due(time.Now(), 10)
	if err != nil || len(due) != 1 || due[0].Record.Decision == nil || due[0].Record.Decision.Channel != "C0PR" {
		t.Fatalf("due = %+v, %v", due, err)
	}
	var schema string
	s.eng.view(func(tx txn) error {
		schema = string(tx.Bucket(bucketMeta).Get([]byte("schema")))
		return nil
	})
	if schema != schemaVersion {
		t.Fatalf("schema after open = %q, want %q", schema, schemaVersion)
	}
}

// putRecord splits a whole Record over the buckets and getRecord puts it
// back together, for code that changes a record as a whole.
func TestPutRecordRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		s := db.openT(t, Options{})
		res, err := s.Ingest(context.Background(), []routing.Post{post("g", "1", "my order never arrived")})
		if err != nil {
			t.Fatal(err)
		}
		key, _ := parseID(res[0].ID)
		at := time.Unix(1700000000, 0).UTC()
		tests := []struct {
			name   string
			change func(*Record)
		}{
			{"post only", func(r *Record) { r.Post.Lang = "en" }},
			{"routed", func(r *Record) {
				r.Decision = &routing.Decision{Class: routing.Support, Channel: "C1", Confidence: 0.7}
			}},
			{"delivered and claimed", func(r *Record) {
				r.Delivery = &Delivery{Channel: "C1", TS: "1700000000.000100", At: at}
				r.Claimed = &Mark{User: "U1", At: at}
				r.History = append(r.History, Event{At: at, User: "U1", Action: "claimed"})
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var want Record
				err := s.update(func(tx txn) error {
					rec, err := getRecord(tx, key)
					if err != nil {
						return err
					}
					tc.change(&rec)
					want = rec
					return putRecord(tx, key, rec)
				})
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.Get(res[0].ID)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("got  %+v, %v\nwant %+v", got, err, want)
				}
			})
		}
	})
}
