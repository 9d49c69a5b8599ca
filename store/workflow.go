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
		entry, _ := json.Marshal(OutboxEntry{})
		return tx.Bucket(bucketOutbox).Put(key, entry)
	})
	if err != nil {
		return before, s.wrap("reclassify "+id, err)
	}
	s.signal()
	return before, nil
}

// StartEscalation marks post id as escalated to PR by user, if nobody did
// yet, and reports whether this call did: of two clicks at once, on one
// replica or two, one wins and posts to PR. Call Escalated once the PR
// message is posted, or CancelEscalation if posting failed.
func (s *Store) StartEscalation(id, user string) (Record, bool, error) {
	won := false
	rec, err := s.updatePost(id, func(rec *Record, now time.Time) error {
		won = false // a rerun after a conflict starts afresh
		switch {
		case rec.Delivery == nil:
			return ErrNotDelivered
		case rec.Escalated != nil:
			return nil
		}
		won = true
		rec.Escalated = &Mark{User: user, At: now}
		return nil
	})
	return rec, won, err
}

// Escalated records where the escalation of post id by user was posted
// (detail: channel/ts) in the post's history.
func (s *Store) Escalated(id, user, detail string) (Record, error) {
	return s.updatePost(id, func(rec *Record, now time.Time) error {
		if rec.Escalated == nil || rec.Escalated.User != user {
			return fmt.Errorf("escalation by %s: %w", user, ErrNotFound)
		}
		rec.History = append(rec.History, Event{At: now, User: user, Action: "escalated", Detail: detail})
		return nil
	})
}

// CancelEscalation takes back the mark StartEscalation set for user, so
// that the escalation can be tried again.
func (s *Store) CancelEscalation(id, user string) error {
	_, err := s.updatePost(id, func(rec *Record, now time.Time) error {
		if rec.Escalated != nil && rec.Escalated.User == user {
			rec.Escalated = nil
		}
		return nil
	})
	return err
}

// MarkReminded records that a reminder of kind "claim" or "resolve" is
// about to be sent for post id. It returns false if one was already sent
// or the post no longer needs it, so a reminder goes out at most once.
func (s *Store) MarkReminded(id, kind string) (Record, bool, error) {
	send := false
	rec, err := s.updatePost(id, func(rec *Record, now time.Time) error {
		send = false // a rerun after a conflict starts afresh
		switch {
		case !rec.Open():
		case kind == "claim" && rec.Claimed == nil && !rec.Reminded.Claim:
			rec.Reminded.Claim, send = true, true
		case kind == "resolve" && rec.Claimed != nil && !rec.Reminded.Resolve:
			rec.Reminded.Resolve, send = true, true
		}
		if send {
			rec.History = append(rec.History, Event{At: now, Action: "reminded", Detail: kind})
		}
		return nil
	})
	return rec, send, err
}

// updatePost runs fn on post id's record in a write transaction and returns
// the record as written (or as found, when fn fails).
func (s *Store) updatePost(id string, fn func(*Record, time.Time) error) (Record, error) {
	key, err := parseID(id)
	if err != nil {
		return Record{}, err
	}
	now := s.now().UTC()
	var out Record
	err = s.eng.update(func(tx txn) error {
		var ferr error
		out, ferr = updateRecord(tx, key, func(rec *Record) error { return fn(rec, now) })
		return ferr
	})
	if err != nil {
		return out, s.wrap("update post "+id, err)
	}
	return out, nil
}
