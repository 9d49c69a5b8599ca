package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// A change people see on a post's message (a claim, a resolution, an
// escalation, a move) is committed with a redraw mark for that message,
// and the mark goes only once Slack shows the change. The click that made
// the change redraws at once; should it fail for good, or the process
// stop before Slack has the update, the leader's sweep finds the mark and
// redraws the message from the stored state.
var bucketRedraws = []byte("redraws") // messageKey(channel, ts) → redrawMark

type redrawMark struct {
	PostID string    `json:"post_id"`
	At     time.Time `json:"at"` // the latest change; a redraw clears only the change it drew
}

// Redraw is a message whose post changed since Slack last drew it.
type Redraw struct {
	PostID, Channel, TS string
	At                  time.Time
}

// markRedraw notes, in tx, that the message channel/ts of post id must be
// redrawn for a change made at now. A later change always moves At on,
// even within one clock tick, so a redraw of the earlier state never
// clears it.
func markRedraw(tx txn, id, channel, ts string, now time.Time) error {
	b := tx.Bucket(bucketRedraws)
	key := messageKey(channel, ts)
	if v := b.Get(key); v != nil {
		var old redrawMark
		if err := json.Unmarshal(v, &old); err == nil && !now.After(old.At) {
			now = old.At.Add(time.Nanosecond)
		}
	}
	v, err := json.Marshal(redrawMark{PostID: id, At: now})
	if err != nil {
		return err
	}
	return b.Put(key, v)
}

// updateShown is updateRecord for changes made at now, marking the
// post's message for a redraw when the change alters what it shows.
func updateShown(tx txn, key []byte, now time.Time, fn func(*Record) error) (Record, error) {
	var before Record
	after, err := updateRecord(tx, key, func(rec *Record) error {
		before = *rec
		return fn(rec)
	})
	if err != nil {
		return after, err
	}
	return after, markShown(tx, before, after, now)
}

// markShown marks after's message for a redraw when the change from
// before alters what it shows.
func markShown(tx txn, before, after Record, now time.Time) error {
	if after.Delivery == nil || !shownChange(before, after) {
		return nil
	}
	return markRedraw(tx, after.Post.ID, after.Delivery.Channel, after.Delivery.TS, now)
}

// shownChange reports whether a change from before to after alters what
// the post's message shows.
func shownChange(before, after Record) bool {
	return !sameMark(before.Claimed, after.Claimed) || !sameMark(before.Resolved, after.Resolved) ||
		!sameMark(before.Escalated, after.Escalated)
}

func sameMark(a, b *Mark) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.User == b.User && a.At.Equal(b.At)
}

// PendingRedraw returns the redraw mark of message channel/ts, if any.
func (s *Store) PendingRedraw(channel, ts string) (Redraw, bool, error) {
	var (
		r  Redraw
		ok bool
	)
	err := s.eng.view(func(tx txn) error {
		v := tx.Bucket(bucketRedraws).Get(messageKey(channel, ts))
		if v == nil {
			return nil
		}
		var m redrawMark
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode redraw mark: %w", err)
		}
		r, ok = Redraw{PostID: m.PostID, Channel: channel, TS: ts, At: m.At}, true
		return nil
	})
	return r, ok, s.wrap("read redraw mark", err)
}

// PendingRedraws returns up to limit messages whose latest change was made
// before t and is not in Slack yet.
func (s *Store) PendingRedraws(before time.Time, limit int) ([]Redraw, error) {
	var out []Redraw
	err := s.eng.view(func(tx txn) error {
		return tx.Bucket(bucketRedraws).ForEach(func(k, v []byte) error {
			if len(out) >= limit {
				return nil
			}
			var m redrawMark
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode redraw mark: %w", err)
			}
			channel, ts, ok := bytes.Cut(k, []byte{0})
			if ok && m.At.Before(before) {
				out = append(out, Redraw{PostID: m.PostID, Channel: string(channel), TS: string(ts), At: m.At})
			}
			return nil
		})
	})
	return out, s.wrap("read redraw marks", err)
}

// Redrawn clears r's mark unless the post changed again since: Slack shows
// the state of r.At.
func (s *Store) Redrawn(r Redraw) error {
	err := s.eng.update(func(tx txn) error {
		b := tx.Bucket(bucketRedraws)
		key := messageKey(r.Channel, r.TS)
		v := b.Get(key)
		if v == nil {
			return nil
		}
		var m redrawMark
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode redraw mark: %w", err)
		}
		if !m.At.Equal(r.At) {
			return nil
		}
		return b.Delete(key)
	})
	return s.wrap("clear redraw mark", err)
}
