package store

import (
	"errors"
	"time"

	"github.com/socialroute/socialroute/routing"
)

var (
	// ErrNotFound is returned when a post or outbox entry does not exist.
	ErrNotFound = errors.New("not found")
	// ErrBusy is returned when the write queue is full; callers should
	// retry later. Nothing was stored.
	ErrBusy = errors.New("store busy")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable is returned when the database cannot be reached
	// (etcd without a quorum, say); callers should retry later. Nothing
	// was stored.
	ErrUnavailable = errors.New("database unavailable")
	// ErrNotLeader is returned for work only the leader may do (see Lead)
	// when this process is not, or no longer, the leader.
	ErrNotLeader = errors.New("not the leader")
	// ErrLocked is returned by Open when another process holds the file.
	ErrLocked = errors.New("file is locked by another process (is socialroute already running?)")
)

// Record is everything the store knows about one post.
type Record struct {
	Post     routing.Post      `json:"post"`
	Decision *routing.Decision `json:"decision,omitempty"`
	Delivery *Delivery         `json:"delivery,omitempty"`
	// Claimed and Resolved are set by people in Slack; nil while open.
	Claimed   *Mark `json:"claimed,omitempty"`
	Resolved  *Mark `json:"resolved,omitempty"`
	Escalated *Mark `json:"escalated,omitempty"`
	// EscalatedTo is where the PR message of the escalation is
	// (channel/ts); empty while it is being posted.
	EscalatedTo string `json:"escalated_to,omitempty"`
	// Reminded records the reminders already sent, so none is sent twice.
	Reminded Reminded `json:"reminded,omitzero"`
	// Incident is the id of the reputation incident the post belongs to.
	Incident string `json:"incident,omitempty"`
	// History lists what happened to the post after it was routed and
	// delivered (Decision and Delivery say those), oldest first.
	History []Event `json:"history,omitempty"`
}

// Mark records who did something to a post, and when.
type Mark struct {
	User string    `json:"user"` // Slack user id
	At   time.Time `json:"at"`
}

// Open reports whether the post is delivered and not yet resolved.
func (r Record) Open() bool { return r.Delivery != nil && r.Resolved == nil }

// Reminded says which reminders went out for a post.
type Reminded struct {
	Claim   bool `json:"claim,omitempty"`   // nobody claimed it in time
	Resolve bool `json:"resolve,omitempty"` // its owner did not resolve it in time
	// Sending names the reminder ("claim" or "resolve") whose posting
	// began and is not confirmed yet: it may be in Slack already.
	Sending string `json:"sending,omitempty"`
}

// Event is one entry in a post's history.
type Event struct {
	At     time.Time `json:"at"`
	User   string    `json:"user,omitempty"` // Slack user id; empty for socialroute itself
	Action string    `json:"action"`         // routed, delivered, claimed, unclaimed, resolved, reclassified, escalated, ...
	Detail string    `json:"detail,omitempty"`
}

// Delivery is where a post landed in Slack.
type Delivery struct {
	Channel string    `json:"channel"`
	TS      string    `json:"ts"`
	At      time.Time `json:"at"`
}

// IngestResult is the outcome for one post handed to Ingest, in order.
type IngestResult struct {
	ID        string // internal id: the new one, or the first post's when Duplicate
	Duplicate bool   // same source and external id stored before; nothing written
}

// OutboxEntry is a post waiting to be delivered to Slack.
type OutboxEntry struct {
	PostID   string    `json:"-"`
	Attempts int       `json:"attempts,omitempty"`
	NextAt   time.Time `json:"next_at,omitzero"`
	// InFlight is set just before a delivery attempt: if the process dies
	// during the attempt, the next one first checks whether Slack already
	// has the message.
	InFlight bool `json:"in_flight,omitempty"`
	// Tried is when the entry was first marked in flight: no message of
	// its attempts can be older, which bounds the look-up in Slack.
	Tried     time.Time `json:"tried,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// Parked entries failed permanently and wait for an operator.
	Parked bool `json:"parked,omitempty"`
	// Channel is where the last attempt went, so that the channel's later
	// posts wait behind this one while it waits for its retry.
	Channel string `json:"channel,omitempty"`
}

// Pending is an outbox entry together with its post record.
type Pending struct {
	Entry  OutboxEntry
	Record Record
	// Waiting marks an entry that is not due yet but holds its channel:
	// an attempt failed and waits for its retry, and the channel's later
	// posts must wait behind it. Its Record is not read.
	Waiting bool
}
