package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/socialroute/socialroute/routing"
)

// Buckets of the routing rules changed from Slack. Keys of changes and
// audit are big-endian sequence numbers, so iteration order is time order.
var (
	bucketRules   = []byte("rules")   // "state" → RuleSet (JSON)
	bucketChanges = []byte("changes") // seq → Change (JSON): what undo restores
	bucketAudit   = []byte("audit")   // seq → AuditEntry (JSON): changes and undos
	bucketPending = []byte("pending") // id → PendingChange (JSON): previews awaiting Apply
	// bucketRefusals holds the refused attempts apart from the changes,
	// under a bound of its own, so that anyone can be refused as often
	// as they like without pushing a real change out of the audit log.
	// Files from before it have refusals in bucketAudit too; they stay
	// there, read as before, until changes push them out.
	bucketRefusals = []byte("audit_refused") // seq → AuditEntry (JSON)
)

var ruleBuckets = [][]byte{bucketRules, bucketChanges, bucketAudit, bucketPending, bucketRefusals}

var keyRuleState = []byte("state")

// Bounds on the logs kept for rules; the oldest entries go first.
const (
	maxChanges = 500   // undo reaches this far back
	maxAudit   = 20000 // changes and undos kept in the audit log
	maxRefused = 5000  // refusals kept in the audit log
	pendingTTL = 24 * time.Hour
)

// RuleSet is the routing state that people change from Slack: the rules in
// the order they apply, channels that replace a department's configured
// one, and the confidence threshold when it differs from the config.
type RuleSet struct {
	Rules []routing.Rule `json:"rules"`
	// Channels maps a department name to the channel that replaces the
	// one in the config.
	Channels map[string]string `json:"channels,omitempty"`
	// MinConfidence replaces routing.min_confidence when set.
	MinConfidence *float64 `json:"min_confidence,omitempty"`
	// NextID numbers the next rule ("r<NextID>"); ids are never reused,
	// not even after an undo.
	NextID int `json:"next_id"`
}

// Clone returns a deep copy of rs.
func (rs RuleSet) Clone() RuleSet {
	rs.Rules = slices.Clone(rs.Rules)
	rs.Channels = maps.Clone(rs.Channels)
	if rs.MinConfidence != nil {
		m := *rs.MinConfidence
		rs.MinConfidence = &m
	}
	return rs
}

// Change is one change of the RuleSet and the state it replaced.
type Change struct {
	At      time.Time `json:"at"`
	User    string    `json:"user"`    // Slack user id, or "cli"
	Summary string    `json:"summary"` // e.g. "added r3: pr ← keyword \"recall\""
	Before  RuleSet   `json:"before"`
}

// AuditEntry is one line of the audit log: a change, an undo or a refusal.
type AuditEntry struct {
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Command string    `json:"command"` // as typed, e.g. "/route add pr keyword recall"
	Outcome string    `json:"outcome"` // "applied", "undone" or "refused"
	Detail  string    `json:"detail,omitempty"`
}

// Audit outcomes.
const (
	OutcomeApplied = "applied"
	OutcomeUndone  = "undone"
	OutcomeRefused = "refused"
)

// PendingChange is a change someone previewed, kept until they apply it.
type PendingChange struct {
	ID      string    `json:"-"`
	User    string    `json:"user"`
	Command string    `json:"command"` // the change, as a /route command without the command name
	At      time.Time `json:"at"`
}

// ErrNothingToUndo is returned by UndoRules when no change is left.
var ErrNothingToUndo = errors.New("nothing to undo")

// SeedRules stores seed as the rule set if none was ever stored, numbering
// the rules r1, r2, …, and returns the stored set. Once a set is stored
// (even an empty one), the seed is ignored: rules changed in Slack win
// over the config. seeded reports whether seed was stored now.
func (s *Store) SeedRules(seed []routing.Rule) (rs RuleSet, seeded bool, err error) {
	err = s.eng.update(func(tx txn) error {
		seeded = false // a rerun after a conflict starts afresh
		cur, ok, err := getRuleSet(tx)
		if err != nil {
			return err
		}
		if ok {
			rs = cur
			return nil
		}
		rs = RuleSet{Rules: slices.Clone(seed), NextID: 1}
		assignIDs(&rs, "config", s.now().UTC())
		seeded = true
		return putRuleSet(tx, rs)
	})
	return rs, seeded, s.wrap("seed rules", err)
}

// Rules returns the stored rule set; an empty one (NextID 1) if none was
// ever stored.
func (s *Store) Rules() (RuleSet, error) {
	var rs RuleSet
	err := s.eng.view(func(tx txn) error {
		cur, ok, err := getRuleSet(tx)
		if !ok {
			cur = RuleSet{NextID: 1}
		}
		rs = cur
		return err
	})
	return rs, s.wrap("read rules", err)
}

// HasRules reports whether a rule set was ever stored (SeedRules would
// ignore its seed).
func (s *Store) HasRules() (bool, error) {
	var ok bool
	err := s.eng.view(func(tx txn) error {
		ok = tx.Bucket(bucketRules).Get(keyRuleState) != nil
		return nil
	})
	return ok, s.wrap("read rules", err)
}

// ChangeRules applies fn to a copy of the stored rule set and stores the
// result, the change (for undo, described by the summary fn returns) and an
// audit entry, in one commit. Rules fn adds without an ID get the next
// ones, and CreatedBy/CreatedAt if unset. An error from fn stores nothing
// and is returned as it is.
func (s *Store) ChangeRules(user, command string, fn func(*RuleSet) (summary string, err error)) (RuleSet, error) {
	var after RuleSet
	err := s.eng.update(func(tx txn) error {
		before, ok, err := getRuleSet(tx)
		if err != nil {
			return err
		}
		if !ok {
			before = RuleSet{NextID: 1}
		}
		after = before.Clone()
		summary, err := fn(&after)
		if err != nil {
			return callerError{err}
		}
		now := s.now().UTC()
		assignIDs(&after, user, now)
		if err := putRuleSet(tx, after); err != nil {
			return err
		}
		if err := appendSeq(tx, bucketChanges, Change{At: now, User: user, Summary: summary, Before: before}, maxChanges); err != nil {
			return err
		}
		return appendSeq(tx, bucketAudit, AuditEntry{At: now, User: user, Command: command, Outcome: OutcomeApplied, Detail: summary}, maxAudit)
	})
	var ce callerError
	if errors.As(err, &ce) {
		return RuleSet{}, ce.err
	}
	if err != nil {
		return RuleSet{}, s.wrap("change rules", err)
	}
	return after, nil
}

// UndoRules restores the rule set from before the last change, forgets
// that change and audits the undo, in one commit. It returns the change
// undone and the restored set, or ErrNothingToUndo.
func (s *Store) UndoRules(user, command string) (Change, RuleSet, error) {
	var (
		ch       Change
		restored RuleSet
	)
	err := s.eng.update(func(tx txn) error {
		c := tx.Bucket(bucketChanges).Cursor()
		k, v := c.Last()
		if k == nil {
			return ErrNothingToUndo
		}
		if err := json.Unmarshal(v, &ch); err != nil {
			return fmt.Errorf("decode change: %w", err)
		}
		cur, _, err := getRuleSet(tx)
		if err != nil {
			return err
		}
		restored = ch.Before.Clone()
		restored.NextID = max(restored.NextID, cur.NextID, 1)
		if err := putRuleSet(tx, restored); err != nil {
			return err
		}
		if err := tx.Bucket(bucketChanges).Delete(k); err != nil {
			return err
		}
		return appendSeq(tx, bucketAudit, AuditEntry{At: s.now().UTC(), User: user, Command: command, Outcome: OutcomeUndone, Detail: ch.Summary}, maxAudit)
	})
	if errors.Is(err, ErrNothingToUndo) {
		return Change{}, RuleSet{}, err
	}
	if err != nil {
		return Change{}, RuleSet{}, s.wrap("undo", err)
	}
	return ch, restored, nil
}

// Changes returns up to n of the changes undo can revert, newest first.
func (s *Store) Changes(n int) ([]Change, error) {
	var out []Change
	err := s.eng.view(func(tx txn) error {
		c := tx.Bucket(bucketChanges).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var ch Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("decode change: %w", err)
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, s.wrap("read changes", err)
}

// Audit appends e to the audit log (refusals; changes audit themselves).
// Refusals are kept apart from changes, maxRefused of them.
func (s *Store) Audit(e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now().UTC()
	}
	bucket, limit := bucketAudit, maxAudit
	if e.Outcome == OutcomeRefused {
		bucket, limit = bucketRefusals, s.maxRefused
	}
	err := s.eng.update(func(tx txn) error { return appendSeq(tx, bucket, e, limit) })
	return s.wrap("audit", err)
}

// AuditLog returns up to n audit entries, changes and refusals together,
// newest first.
func (s *Store) AuditLog(n int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.eng.view(func(tx txn) error {
		changes := newAuditReader(tx.Bucket(bucketAudit))
		refused := newAuditReader(tx.Bucket(bucketRefusals))
		for len(out) < n {
			next := changes
			switch {
			case changes.err != nil:
				return changes.err
			case refused.err != nil:
				return refused.err
			case changes.cur == nil && refused.cur == nil:
				return nil
			case changes.cur == nil || (refused.cur != nil && !refused.cur.At.Before(changes.cur.At)):
				// At the same time, the refusal comes first: a refusal
				// answers a command at once, a change after its checks.
				next = refused
			}
			out = append(out, *next.cur)
			next.prev()
		}
		return nil
	})
	return out, s.wrap("read audit log", err)
}

// auditReader walks an audit bucket from its newest entry back.
type auditReader struct {
	c   cursor
	cur *AuditEntry // nil past the oldest
	err error
}

func newAuditReader(b bucket) *auditReader {
	r := &auditReader{c: b.Cursor()}
	r.decode(r.c.Last())
	return r
}

func (r *auditReader) prev() { r.decode(r.c.Prev()) }

func (r *auditReader) decode(k, v []byte) {
	r.cur = nil
	if k == nil {
		return
	}
	var e AuditEntry
	if err := json.Unmarshal(v, &e); err != nil {
		r.err = fmt.Errorf("decode audit entry: %w", err)
		return
	}
	r.cur = &e
}

// PutPending stores a previewed change and returns its id. Pending changes
// older than a day are dropped on the way.
func (s *Store) PutPending(p PendingChange) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("pending change id: %w", err)
	}
	id := hex.EncodeToString(b)
	now := s.now().UTC()
	if p.At.IsZero() {
		p.At = now
	}
	err := s.eng.update(func(tx txn) error {
		bk := tx.Bucket(bucketPending)
		var stale [][]byte
		if err := bk.ForEach(func(k, v []byte) error {
			var old PendingChange
			if json.Unmarshal(v, &old) != nil || now.Sub(old.At) > pendingTTL {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		// A few per call: previews are rare, and etcd bounds transactions.
		for _, k := range stale[:min(len(stale), s.perTx(4, len(stale)))] {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		v, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return bk.Put([]byte(id), v)
	})
	if err != nil {
		return "", s.wrap("store pending change", err)
	}
	return id, nil
}

// TakePending removes and returns the pending change id; ErrNotFound when
// it was taken already, never existed or expired.
func (s *Store) TakePending(id string) (PendingChange, error) {
	var p PendingChange
	err := s.eng.update(func(tx txn) error {
		bk := tx.Bucket(bucketPending)
		v := bk.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("decode pending change: %w", err)
		}
		if err := bk.Delete([]byte(id)); err != nil {
			return err
		}
		if s.now().Sub(p.At) > pendingTTL {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return PendingChange{}, s.wrap("take pending change "+id, err)
	}
	p.ID = id
	return p, nil
}

// callerError carries an error from a caller's function out of a
// transaction, so that it is returned as it is.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }

// assignIDs numbers rules without an id and fills in who created them.
func assignIDs(rs *RuleSet, user string, at time.Time) {
	if rs.NextID < 1 {
		rs.NextID = 1
	}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if r.ID == "" {
			r.ID = fmt.Sprintf("r%d", rs.NextID)
			rs.NextID++
		}
		if r.CreatedBy == "" {
			r.CreatedBy = user
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = at
		}
	}
}

func getRuleSet(tx txn) (RuleSet, bool, error) {
	var rs RuleSet
	v := tx.Bucket(bucketRules).Get(keyRuleState)
	if v == nil {
		return RuleSet{NextID: 1}, false, nil
	}
	if err := json.Unmarshal(v, &rs); err != nil {
		return rs, true, fmt.Errorf("decode rules: %w", err)
	}
	return rs, true, nil
}

func putRuleSet(tx txn, rs RuleSet) error {
	v, err := json.Marshal(rs)
	if err != nil {
		return fmt.Errorf("encode rules: %w", err)
	}
	return tx.Bucket(bucketRules).Put(keyRuleState, v)
}

// appendSeq appends v under the bucket's next sequence number and drops
// the oldest entries beyond limit.
func appendSeq(tx txn, name []byte, v any, limit int) error {
	bk := tx.Bucket(name)
	seq, err := bk.NextSequence()
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s entry: %w", name, err)
	}
	if err := bk.Put(binary.BigEndian.AppendUint64(nil, seq), data); err != nil {
		return err
	}
	// Keys are consecutive, so everything at or below seq-limit is beyond
	// the bound; usually that is one entry, or none.
	if seq <= uint64(limit) {
		return nil
	}
	cutoff := seq - uint64(limit)
	for {
		k, _ := bk.Cursor().First()
		if k == nil || len(k) != 8 || binary.BigEndian.Uint64(k) > cutoff {
			return nil
		}
		if err := bk.Delete(append([]byte(nil), k...)); err != nil {
			return err
		}
	}
}
