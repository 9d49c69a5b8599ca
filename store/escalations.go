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
	won := false
	rec, err := s.updatePostThen(id, func(rec *Record, now time.Time) error {
		won = false // a rerun after a conflict starts afresh
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
	}, func(tx txn, key []byte, rec Record) error {
		if !won {
			return nil
		}
		at, _ := rec.Escalated.At.MarshalBinary()
		return tx.Bucket(bucketEscalating).Put(key, at)
	})
	return rec, won, err
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
	return s.updatePostThen(id, fn, func(tx txn, key []byte, rec Record) error {
		if rec.Escalated != nil && rec.EscalatedTo == "" {
			return nil
		}
		return tx.Bucket(bucketEscalating).Delete(key)
	})
}
