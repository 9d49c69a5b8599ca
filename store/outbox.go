package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/socialroute/socialroute/routing"
)

// Due returns up to limit outbox entries, oldest first, that are ready for
// a delivery attempt at now. Parked entries are skipped. When fewer than
// limit are due, the second result is the earliest NextAt among entries not
// yet due (zero if none), so the caller knows when to look again; when limit
// entries are returned it is zero, since the caller comes back for more at
// once.
//
// The scan stops at the limit-th due entry: with a backlog of a burst's
// posts, each call reads what it returns, not the whole outbox.
//
// Besides the due entries, the first entry of each channel that failed and
// waits for its retry comes back marked Waiting, in its place in the
// order: the channel's posts after it must wait too, also when the process
// that paused the channel is gone (a restart, another leader).
func (s *Store) Due(now time.Time, limit int) ([]Pending, time.Time, error) {
	var (
		out  []Pending
		next time.Time
		due  int
		held = map[string]bool{}
	)
	err := s.eng.view(func(tx txn) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var e OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode outbox entry %s: %w", ulid.ULID(k), err)
			}
			if e.Parked {
				continue
			}
			if e.NextAt.After(now) {
				if next.IsZero() || e.NextAt.Before(next) {
					next = e.NextAt
				}
				if e.Channel != "" && !held[e.Channel] {
					held[e.Channel] = true
					e.PostID = ulid.ULID(k).String()
					out = append(out, Pending{Entry: e, Waiting: true})
				}
				continue
			}
			if due >= limit {
				break
			}
			e.PostID = ulid.ULID(k).String()
			rec, err := getRecord(tx, k)
			if err != nil {
				return fmt.Errorf("post %s: %w", e.PostID, err)
			}
			out = append(out, Pending{Entry: e, Record: rec})
			due++
		}
		if due >= limit {
			next = time.Time{}
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, s.wrap("read outbox", err)
	}
	return out, next, nil
}

// BeginAttempt records the routing decision for post id and marks its
// outbox entry in flight, in one commit, before the caller talks to Slack.
// A decision already stored is kept: a post is routed once, so a retry after
// a crash goes to the same channel.
func (s *Store) BeginAttempt(id string, d routing.Decision) (routing.Decision, error) {
	key, err := parseID(id)
	if err != nil {
		return routing.Decision{}, err
	}
	var kept routing.Decision
	now := s.now().UTC()
	err = s.update(func(tx txn) error {
		// A deposed leader must not start a delivery its successor may
		// be making too.
		requireLeader(tx)
		stored, err := getDecision(tx, key)
		if err != nil {
			return err
		}
		if stored == nil {
			if err := putDecision(tx, key, d); err != nil {
				return err
			}
			stored = &d
		}
		kept = *stored
		return updateEntry(tx, key, func(e *OutboxEntry) {
			if !e.InFlight {
				e.Tried = now
			}
			e.InFlight, e.Channel = true, kept.Channel
		})
	})
	return kept, s.wrap("begin delivery of "+id, err)
}

// Delivered records that post id is message ts in channel and removes its
// outbox entry, in one commit. When the post opened an incident, the same
// commit makes its message the incident's: the posts waiting to join the
// thread must never find the post delivered and the incident without it.
func (s *Store) Delivered(id, channel, ts string) error {
	key, err := parseID(id)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	err = s.update(func(tx txn) error {
		// The decision and the delivery are the post's routing history;
		// History holds what happened after.
		rec, err := updateRecord(tx, key, func(rec *Record) error {
			rec.Delivery = &Delivery{Channel: channel, TS: ts, At: now}
			return nil
		})
		if err != nil {
			return err
		}
		if rec.Incident != "" && rec.Incident == rec.Post.ID {
			if err := incidentRootPosted(tx, id, channel, ts, now); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMessages).Put(messageKey(channel, ts), key); err != nil {
			return err
		}
		return tx.Bucket(bucketOutbox).Delete(key)
	})
	return s.wrap("record delivery of "+id, err)
}

// Retry schedules another attempt for post id at next, counting the failed
// one and remembering why it failed.
func (s *Store) Retry(id string, next time.Time, reason string) error {
	return s.updateEntry(id, func(e *OutboxEntry) {
		e.Attempts++
		e.NextAt = next.UTC()
		e.LastError = reason
	})
}

// Park takes post id out of delivery after a permanent failure; it stays in
// the outbox, visible in OutboxStats, until an operator acts.
func (s *Store) Park(id, reason string) error {
	return s.updateEntry(id, func(e *OutboxEntry) {
		e.Attempts++
		e.Parked = true
		e.LastError = reason
	})
}

func (s *Store) updateEntry(id string, fn func(*OutboxEntry)) error {
	key, err := parseID(id)
	if err != nil {
		return err
	}
	err = s.update(func(tx txn) error { return updateEntry(tx, key, fn) })
	return s.wrap("update outbox entry "+id, err)
}

func updateEntry(tx txn, key []byte, fn func(*OutboxEntry)) error {
	b := tx.Bucket(bucketOutbox)
	v := b.Get(key)
	if v == nil {
		return ErrNotFound
	}
	var e OutboxEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return fmt.Errorf("decode outbox entry: %w", err)
	}
	fn(&e)
	nv, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Put(key, nv)
}

// updateRecord applies fn to the record at key and writes it back, keeping
// the open-item indexes in step with the change.
func updateRecord(tx txn, key []byte, fn func(*Record) error) (Record, error) {
	rec, err := getRecord(tx, key)
	if err != nil {
		return rec, err
	}
	before := openIndex(key, rec)
	if err := fn(&rec); err != nil {
		return rec, err
	}
	if err := putRecord(tx, key, rec); err != nil {
		return rec, err
	}
	return rec, reindex(tx, before, openIndex(key, rec))
}
