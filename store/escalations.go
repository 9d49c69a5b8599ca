package store

import (
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// bucketEscalating lists the escalations being posted to PR: post id →
// when the escalation began. An escalation stays here until its message is
// known to be in Slack (Escalated) or known not to be (CancelEscalation),
// so one whose poster died or timed out is found and finished later.
var bucketEscalating = []byte("escalating")

// StartEscalation marks post id as escalated to PR by user, if nobody did
// yet, and reports whether this call did: of two clicks at once, on one
// replica or two, one wins and posts to PR. Call Escalated once the PR
// message is in Slack, or CancelEscalation if it surely is not.
func (s *Store) StartEscalation(id, user string) (Record, bool, error) {
	key, err := parseID(id)
	if err != nil {
		return Record{}, false, err
	}
	now := s.now().UTC()
	var (
		rec Record
		won bool
	)
	err = s.eng.update(func(tx txn) error {
		won = false // a rerun after a conflict starts afresh
		var err error
		rec, err = updateShown(tx, key, now, func(rec *Record) error {
			switch {
			case rec.Delivery == nil:
				return ErrNotDelivered
			case rec.Escalated != nil:
				return nil
			}
			won = true
			rec.Escalated = &Mark{User: user, At: now}
			rec.EscalatedTo = ""
			return nil
		})
		if err != nil || !won {
			return err
		}
		at, _ := now.MarshalBinary()
		return tx.Bucket(bucketEscalating).Put(key, at)
	})
	if err != nil {
		return rec, false, s.wrap("escalate "+id, err)
	}
	return rec, won, nil
}

// Escalated records where the escalation of post id by user was posted
// (detail: channel/ts). Recording it again changes nothing.
func (s *Store) Escalated(id, user, detail string) (Record, error) {
	return s.changeEscalation(id, func(rec *Record, now time.Time) error {
		if rec.Escalated == nil || rec.Escalated.User != user {
			return fmt.Errorf("escalation by %s: %w", user, ErrNotFound)
		}
		if rec.EscalatedTo == "" {
			rec.EscalatedTo = detail
			rec.History = append(rec.History, Event{At: now, User: user, Action: "escalated", Detail: detail})
		}
		return nil
	})
}

// CancelEscalation takes back the mark StartEscalation set for user, so
// that the escalation can be tried again.
func (s *Store) CancelEscalation(id, user string) error {
	_, err := s.changeEscalation(id, func(rec *Record, now time.Time) error {
		if rec.Escalated != nil && rec.Escalated.User == user && rec.EscalatedTo == "" {
			rec.Escalated = nil
		}
		return nil
	})
	return err
}

// PendingEscalations returns the posts whose escalation began before t and
// is neither posted nor cancelled, oldest first.
func (s *Store) PendingEscalations(before time.Time) ([]string, error) {
	var ids []string
	err := s.eng.view(func(tx txn) error {
		return tx.Bucket(bucketEscalating).ForEach(func(k, v []byte) error {
			var at time.Time
			if at.UnmarshalBinary(v) == nil && !at.Before(before) {
				return nil
			}
			if len(k) == len(ulid.ULID{}) {
				ids = append(ids, ulid.ULID(k).String())
			}
			return nil
		})
	})
	return ids, s.wrap("read pending escalations", err)
}

// changeEscalation runs fn on post id's record and drops the post from the
// pending escalations unless it is still being posted afterwards.
func (s *Store) changeEscalation(id string, fn func(*Record, time.Time) error) (Record, error) {
	key, err := parseID(id)
	if err != nil {
		return Record{}, err
	}
	now := s.now().UTC()
	var out Record
	err = s.eng.update(func(tx txn) error {
		var err error
		out, err = updateShown(tx, key, now, func(rec *Record) error { return fn(rec, now) })
		if err != nil {
			return err
		}
		if out.Escalated != nil && out.EscalatedTo == "" {
			return nil
		}
		return tx.Bucket(bucketEscalating).Delete(key)
	})
	if err != nil {
		return out, s.wrap("update escalation of "+id, err)
	}
	return out, nil
}
