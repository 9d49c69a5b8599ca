package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// Errors of the Slack workflow: what a person tried is not allowed now.
var (
	ErrNotOwner     = errors.New("claimed by someone else")
	ErrNotClaimed   = errors.New("not claimed")
	ErrResolved     = errors.New("already resolved")
	ErrNotDelivered = errors.New("not in Slack yet")
)

// bucketEnvelopes remembers Socket Mode envelope ids already handled, so
// that Slack's redeliveries have no second effect: envelope id → time.
var bucketEnvelopes = []byte("envelopes")

// FirstSeen records envelope id as handled and reports whether this is the
// first time it was seen.
func (s *Store) FirstSeen(envelopeID string) (bool, error) {
	first := false
	now := s.now().UTC()
	err := s.eng.update(func(tx txn) error {
		first = false // a rerun after a conflict starts afresh
		b := tx.Bucket(bucketEnvelopes)
		if b.Get([]byte(envelopeID)) != nil {
			return nil
		}
		first = true
		v, _ := now.MarshalBinary()
		return b.Put([]byte(envelopeID), v)
	})
	return first, s.wrap("record envelope", err)
}

// PruneEnvelopes forgets envelope ids handled before t; Slack redelivers
// for minutes, not days.
func (s *Store) PruneEnvelopes(before time.Time) (int, error) {
	total, limit := 0, s.perTx(1, 1<<30)
	for {
		n := 0
		err := s.eng.update(func(tx txn) error {
			b := tx.Bucket(bucketEnvelopes)
			var old [][]byte
			c := b.Cursor()
			for k, v := c.First(); k != nil && len(old) < limit; k, v = c.Next() {
				var at time.Time
				if at.UnmarshalBinary(v) != nil || at.Before(before) {
					old = append(old, bytes.Clone(k))
				}
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n = len(old)
			return nil
		})
		total += n
		if err != nil || n < limit {
			return total, s.wrap("prune envelopes", err)
		}
	}
}

// Claim makes user the owner of post id unless somebody already is; the
// check and the write are one transaction, so of two simultaneous clicks
// exactly one wins. It returns the record as it stands afterwards and
// whether this call won.
func (s *Store) Claim(id, user string) (Record, bool, error) {
	won := false
	rec, err := s.updatePost(id, func(rec *Record, now time.Time) error {
		won = false // a rerun after a conflict starts afresh
		switch {
		case rec.Delivery == nil:
			return ErrNotDelivered
		case rec.Resolved != nil:
			return ErrResolved
		case rec.Claimed != nil:
			return nil
		}
		won = true
		rec.Claimed = &Mark{User: user, At: now}
		rec.History = append(rec.History, Event{At: now, User: user, Action: "claimed"})
		return nil
	})
	return rec, won, err
}

// Unclaim gives post id back to the queue. Only its owner, or an admin,
// may.
func (s *Store) Unclaim(id, user string, admin bool) (Record, error) {
	return s.updatePost(id, func(rec *Record, now time.Time) error {
		if err := mayChange(rec, user, admin); err != nil {
			return err
		}
		detail := ""
		if rec.Claimed.User != user {
			detail = "was " + rec.Claimed.User
		}
		rec.Claimed = nil
		rec.Reminded.Resolve = false
		rec.History = append(rec.History, Event{At: now, User: user, Action: "unclaimed", Detail: detail})
		return nil
	})
}

// Resolve closes post id. Only its owner, or an admin, may.
func (s *Store) Resolve(id, user string, admin bool) (Record, error) {
	return s.updatePost(id, func(rec *Record, now time.Time) error {
		if err := mayChange(rec, user, admin); err != nil {
			return err
		}
		rec.Resolved = &Mark{User: user, At: now}
		rec.History = append(rec.History, Event{At: now, User: user, Action: "resolved"})
		return nil
	})
}

func mayChange(rec *Record, user string, admin bool) error {
	switch {
	case rec.Resolved != nil:
		return ErrResolved
	case rec.Claimed == nil:
		return ErrNotClaimed
	case rec.Claimed.User != user && !admin:
		return ErrNotOwner
	}
	return nil
}

// Reclassify re-routes post id under decision d on user's behalf: the
// post leaves its current message (the caller marks that message as
// moved), gets a new outbox entry, and is delivered to d.Channel by the
// delivery worker — durably, like any new post. It returns the record as
// it was before, so the caller knows where the old message is.
//
// Reclassifying drops the claim, so on a claimed, unresolved post only its
// owner or an admin may, as for Unclaim and Resolve (ErrNotOwner).
func (s *Store) Reclassify(id, user string, admin bool, d routing.Decision) (Record, error) {
	var before Record
	key, err := parseID(id)
	if err != nil {
		return before, err
	}
	now := s.now().UTC()
	err = s.eng.update(func(tx txn) error {
		_, err := updateRecord(tx, key, func(rec *Record) error {
			before = *rec
			if rec.Delivery == nil {
				return ErrNotDelivered
			}
			if rec.Claimed != nil && rec.Resolved == nil && rec.Claimed.User != user && !admin {
				return ErrNotOwner
			}
			from := rec.Decision.Class
			rec.Decision = &d
			rec.Delivery = nil
			rec.Claimed = nil
			rec.Resolved = nil
			rec.Reminded = Reminded{}
			rec.Incident = ""
			rec.History = append(rec.History, Event{At: now, User: user, Action: "reclassified",
				Detail: fmt.Sprintf("%s → %s (%s %s)", from, d.Class, d.Department, d.Channel)})
			return nil
		})
		if err != nil {
			return err
		}
		// The message the post leaves shows that it moved.
		if err := markRedraw(tx, before.Post.ID, before.Delivery.Channel, before.Delivery.TS, now); err != nil {
			return err
		}
		entry, _ := json.Marshal(OutboxEntry{})
		return tx.Bucket(bucketOutbox).Put(key, entry)
	})
	if err != nil {
		return before, s.wrap("reclassify "+id, err)
	}
	s.signal()
	return before, nil
}

// BeginReminder is called before a reminder of kind "claim" or "resolve"
// is posted for post id. It reports whether the reminder is still to be
// sent (not sent yet, and the post still needs it) and, if so, whether an
// earlier attempt began and may have reached Slack: then the caller looks
// for it before posting. Call RemindedSent once Slack has it.
func (s *Store) BeginReminder(id, kind string) (rec Record, send, inFlight bool, err error) {
	rec, err = s.updatePost(id, func(rec *Record, now time.Time) error {
		send, inFlight = false, false // a rerun after a conflict starts afresh
		switch {
		case !rec.Open():
		case kind == "claim" && rec.Claimed == nil && !rec.Reminded.Claim:
			send = true
		case kind == "resolve" && rec.Claimed != nil && !rec.Reminded.Resolve:
			send = true
		}
		if send {
			inFlight = rec.Reminded.Sending == kind
			rec.Reminded.Sending = kind
		}
		return nil
	})
	return rec, send, inFlight, err
}

// RemindedSent records that the reminder of kind for post id is in Slack,
// so it is never sent again.
func (s *Store) RemindedSent(id, kind string) error {
	_, err := s.updatePost(id, func(rec *Record, now time.Time) error {
		switch {
		case kind == "claim" && !rec.Reminded.Claim:
			rec.Reminded.Claim = true
		case kind == "resolve" && !rec.Reminded.Resolve:
			rec.Reminded.Resolve = true
		default:
			return nil
		}
		if rec.Reminded.Sending == kind {
			rec.Reminded.Sending = ""
		}
		rec.History = append(rec.History, Event{At: now, Action: "reminded", Detail: kind})
		return nil
	})
	return err
}

// updatePost runs fn on post id's record in a write transaction and returns
// the record as written (or as found, when fn fails).
func (s *Store) updatePost(id string, fn func(*Record, time.Time) error) (Record, error) {
	return s.updatePostThen(id, fn, nil)
}

// updatePostThen is updatePost with then, when given, run in the same
// transaction on the record as written: for indexes kept beside it.
func (s *Store) updatePostThen(id string, fn func(*Record, time.Time) error, then func(tx txn, key []byte, rec Record) error) (Record, error) {
	key, err := parseID(id)
	if err != nil {
		return Record{}, err
	}
	now := s.now().UTC()
	var out Record
	err = s.eng.update(func(tx txn) error {
		var err error
		out, err = updateShown(tx, key, now, func(rec *Record) error { return fn(rec, now) })
		if err != nil || then == nil {
			return err
		}
		return then(tx, key, out)
	})
	if err != nil {
		return out, s.wrap("update post "+id, err)
	}
	return out, nil
}
