package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/socialroute/socialroute/routing"
)

// Incidents group related reputation posts into one Slack thread.
var (
	bucketIncidents = []byte("incidents")       // incident id (its root post's id) → Incident
	bucketTopics    = []byte("incident_topics") // topic word → recent times it was seen ([]time.Time)
)

// Caps on what an incident remembers of its posts, to keep it small.
const (
	maxIncidentConversations = 50
	maxIncidentFingerprints  = 20
	maxTopicTimes            = 64
	topicsPerPost            = 8
)

// IncidentRules say when reputation posts belong together.
type IncidentRules struct {
	Window      time.Duration // an incident takes posts until this long after its last one
	Similarity  float64       // fingerprint overlap that makes two texts the same post
	TopicPosts  int           // posts sharing a topic within Window that make a burst
	SpikePosts  int           // posts within SpikeWindow that raise an alert
	SpikeWindow time.Duration
}

// Incident is a group of related reputation posts, shown in Slack as the
// first post's message (the incident message) and a thread under it.
type Incident struct {
	ID            string                `json:"id"`
	Channel       string                `json:"channel,omitempty"`
	RootTS        string                `json:"root_ts,omitempty"` // empty until the first post is in Slack
	Count         int                   `json:"count"`
	Reach         int64                 `json:"reach"` // sum of the authors' followers
	First         time.Time             `json:"first"`
	Last          time.Time             `json:"last"`
	Conversations []string              `json:"conversations,omitempty"`
	Fingerprints  []routing.Fingerprint `json:"fingerprints,omitempty"`
	Topics        []string              `json:"topics,omitempty"`
	Recent        []time.Time           `json:"recent,omitempty"`  // arrival of the latest posts, for spikes
	Alerted       bool                  `json:"alerted,omitempty"` // the incident spiked (its alert is due or sent)
	// AlertDue is set when the incident spikes and cleared once the alert
	// is in Slack (AlertTS); AlertSending once an attempt has begun and
	// may have reached Slack. Incidents stored before these existed have
	// Alerted alone, and their alert counts as sent.
	AlertDue     bool      `json:"alert_due,omitempty"`
	AlertSending bool      `json:"alert_sending,omitempty"`
	AlertTS      string    `json:"alert_ts,omitempty"`
	Dirty        bool      `json:"dirty,omitempty"` // the incident message shows an older count
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// Assignment is where AssignIncident put a post.
type Assignment struct {
	Incident Incident
	Root     bool   // the post opened the incident: its message is the incident message
	Reason   string // why it joined: conversation, similar text, topic
	Spike    bool   // this post made the incident spike: send the alert
	// Closed: the incident was forgotten since the post joined it; its
	// message is not updated any more.
	Closed bool
	// Orphan: the incident's first post will never be in Slack (parked
	// after a permanent failure, or gone), so there is no thread to wait
	// for and this post goes out on its own.
	Orphan bool
}

// AssignIncident puts reputation post id, on its way to channel, into the
// open incident of that channel it belongs to, or opens a new one with it
// as the first post. A post keeps the incident it was given, so a retried
// delivery lands in the same thread.
func (s *Store) AssignIncident(id, channel string, rules IncidentRules) (Assignment, error) {
	key, err := parseID(id)
	if err != nil {
		return Assignment{}, err
	}
	now := s.now().UTC()
	var asg Assignment
	err = s.eng.update(func(tx txn) error {
		asg = Assignment{}
		rec, err := getRecord(tx, key)
		if err != nil {
			return err
		}
		incidents := tx.Bucket(bucketIncidents)
		if rec.Incident != "" {
			asg, err = keptIncident(tx, rec, channel)
			return err
		}

		p := rec.Post
		fp := routing.NewFingerprint(p.Text)
		topics := routing.Topics(p.Text, topicsPerPost)
		burst, err := noteTopics(tx.Bucket(bucketTopics), topics, now, rules)
		if err != nil {
			return err
		}

		var inc Incident
		found := false
		// Closed incidents are deleted as they are met, a few per call, so
		// that a long list of them never outgrows one etcd transaction.
		var closed [][]byte
		c := incidents.Cursor()
		for k, v := c.First(); k != nil && !found; k, v = c.Next() {
			var cand Incident
			if err := json.Unmarshal(v, &cand); err != nil {
				return fmt.Errorf("decode incident %s: %w", k, err)
			}
			if now.Sub(cand.Last) > rules.Window {
				if len(closed) < s.perTx(4, 1<<30) { // nothing joins it any more
					closed = append(closed, bytes.Clone(k))
				}
				continue
			}
			if cand.Channel != channel {
				continue
			}
			if reason := belongs(cand, p, fp, topics, burst, rules); reason != "" {
				inc, asg.Reason, found = cand, reason, true
			}
		}
		for _, k := range closed {
			if err := incidents.Delete(k); err != nil {
				return err
			}
		}
		if !found {
			inc = Incident{ID: id, Channel: channel, First: now, Topics: burst}
			asg.Root = true
		}
		inc.Count++
		inc.Reach += p.Author.Followers
		inc.Last = now
		if cid := conversationOf(p); cid != "" && !slices.Contains(inc.Conversations, cid) && len(inc.Conversations) < maxIncidentConversations {
			inc.Conversations = append(inc.Conversations, cid)
		}
		if len(inc.Fingerprints) < maxIncidentFingerprints && len(fp) > 0 {
			inc.Fingerprints = append(inc.Fingerprints, fp)
		}
		for _, t := range burst {
			if !slices.Contains(inc.Topics, t) {
				inc.Topics = append(inc.Topics, t)
			}
		}
		inc.Recent = append(inc.Recent, now)
		if n := max(rules.SpikePosts, 1); len(inc.Recent) > n {
			inc.Recent = inc.Recent[len(inc.Recent)-n:]
		}
		if !inc.Alerted && rules.SpikePosts > 1 && len(inc.Recent) >= rules.SpikePosts && now.Sub(inc.Recent[0]) <= rules.SpikeWindow {
			inc.Alerted, inc.AlertDue, asg.Spike = true, true, true
		}
		inc.Dirty = !asg.Root
		if err := putIncident(incidents, inc); err != nil {
			return err
		}
		if _, err := updateRecord(tx, key, func(r *Record) error {
			r.Incident = inc.ID
			detail := "opened"
			if !asg.Root {
				detail = fmt.Sprintf("joined %s (%s)", inc.ID, asg.Reason)
			}
			r.History = append(r.History, Event{At: now, Action: "incident", Detail: detail})
			return nil
		}); err != nil {
			return err
		}
		asg.Incident = inc
		return findThread(tx, &asg)
	})
	return asg, s.wrap("assign incident to "+id, err)
}

// keptIncident is the assignment of a post that was given incident
// rec.Incident at an earlier attempt. The incident may have closed and been
// forgotten since (an attempt can wait out the window behind a long Slack
// outage): the post keeps its place all the same, so that it lands where
// an earlier attempt may have put it.
func keptIncident(tx txn, rec Record, channel string) (Assignment, error) {
	asg := Assignment{Root: rec.Incident == rec.Post.ID}
	inc, err := getIncident(tx.Bucket(bucketIncidents), rec.Incident)
	switch {
	case errors.Is(err, ErrNotFound):
		inc, asg.Closed = Incident{ID: rec.Incident, Channel: channel}, true
	case err != nil:
		return asg, err
	}
	asg.Incident = inc
	return asg, findThread(tx, &asg)
}

// findThread makes sure a post joining an incident has a thread to go to,
// or knows it must wait for one. The first post's own record says where
// its message is, also when the incident did not learn of it (a version
// that recorded the two in separate commits could stop in between) or was
// forgotten. When the first post will never be in Slack (parked after a
// permanent failure, or gone), asg is marked Orphan: nothing is worth
// waiting for.
func findThread(tx txn, asg *Assignment) error {
	if asg.Root || asg.Incident.RootTS != "" {
		return nil
	}
	rootKey, err := parseID(asg.Incident.ID)
	if err != nil {
		return err
	}
	root, err := getRecord(tx, rootKey)
	switch {
	case errors.Is(err, ErrNotFound):
		asg.Orphan = true
		return nil
	case err != nil:
		return err
	}
	if root.Delivery != nil {
		asg.Incident.Channel, asg.Incident.RootTS = root.Delivery.Channel, root.Delivery.TS
		if asg.Closed {
			return nil
		}
		return putIncident(tx.Bucket(bucketIncidents), asg.Incident)
	}
	v := tx.Bucket(bucketOutbox).Get(rootKey)
	if v == nil {
		asg.Orphan = true
		return nil
	}
	var e OutboxEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return fmt.Errorf("decode outbox entry %s: %w", asg.Incident.ID, err)
	}
	asg.Orphan = e.Parked
	return nil
}

// belongs says why post p joins incident inc, or "" if it does not.
func belongs(inc Incident, p routing.Post, fp routing.Fingerprint, topics, burst []string, rules IncidentRules) string {
	for _, cid := range []string{p.ConversationID, p.InReplyTo} {
		if cid != "" && slices.Contains(inc.Conversations, cid) {
			return "same conversation"
		}
	}
	for _, f := range inc.Fingerprints {
		if routing.Similarity(fp, f) >= rules.Similarity {
			return "near-identical text"
		}
	}
	for _, t := range burst {
		if slices.Contains(inc.Topics, t) {
			return "burst on " + t
		}
	}
	for _, t := range topics {
		if len(t) > 1 && t[0] == '#' && slices.Contains(inc.Topics, t) {
			return "same hashtag " + t
		}
	}
	return ""
}

func conversationOf(p routing.Post) string {
	if p.ConversationID != "" {
		return p.ConversationID
	}
	return p.ExternalID
}

// noteTopics records that topics were just seen and returns those that
// reached a burst: TopicPosts sightings within the window.
func noteTopics(b bucket, topics []string, now time.Time, rules IncidentRules) ([]string, error) {
	var burst []string
	for _, t := range topics {
		var times []time.Time
		if v := b.Get([]byte(t)); v != nil {
			if err := json.Unmarshal(v, &times); err != nil {
				return nil, fmt.Errorf("decode topic %q: %w", t, err)
			}
		}
		times = slices.DeleteFunc(times, func(at time.Time) bool { return now.Sub(at) > rules.Window })
		times = append(times, now)
		if len(times) > maxTopicTimes {
			times = times[len(times)-maxTopicTimes:]
		}
		if rules.TopicPosts > 1 && len(times) >= rules.TopicPosts {
			burst = append(burst, t)
		}
		v, err := json.Marshal(times)
		if err != nil {
			return nil, err
		}
		if err := b.Put([]byte(t), v); err != nil {
			return nil, err
		}
	}
	return burst, nil
}

// incidentRootPosted records where an incident's first post landed, so
// the posts after it can go into its thread. An incident already closed
// and forgotten has no thread to offer any more; nothing is recorded.
func incidentRootPosted(tx txn, incidentID, channel, ts string, now time.Time) error {
	b := tx.Bucket(bucketIncidents)
	inc, err := getIncident(b, incidentID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	inc.Channel, inc.RootTS = channel, ts
	inc.UpdatedAt = now
	return putIncident(b, inc)
}

// IncidentShown records that the incident message now shows the current
// counts.
func (s *Store) IncidentShown(incidentID string, at time.Time) error {
	return s.changeIncident(incidentID, func(inc *Incident) {
		inc.Dirty = false
		inc.UpdatedAt = at.UTC()
	})
}

// BeginAlert is called before the spike alert of incident id is posted.
// It reports whether the alert is due (the incident spiked, its message
// is in Slack, and no alert is recorded) and, if so, whether an earlier
// attempt began and may have reached Slack: then the caller looks for it
// before posting. Call AlertSent once Slack has it.
func (s *Store) BeginAlert(id string) (inc Incident, due, inFlight bool, err error) {
	err = s.eng.update(func(tx txn) error {
		b := tx.Bucket(bucketIncidents)
		var err error
		if inc, err = getIncident(b, id); err != nil {
			return err
		}
		due = inc.AlertDue && inc.RootTS != ""
		inFlight = due && inc.AlertSending
		if !due || inFlight {
			return nil
		}
		inc.AlertSending = true
		return putIncident(b, inc)
	})
	return inc, due, inFlight, s.wrap("begin alert of incident "+id, err)
}

// AlertSent records that incident id's spike alert is in Slack at ts.
func (s *Store) AlertSent(id, ts string) error {
	return s.changeIncident(id, func(inc *Incident) {
		inc.AlertDue, inc.AlertSending, inc.AlertTS = false, false, ts
	})
}

// DueAlerts returns the incidents whose spike alert is due and not yet
// recorded as sent.
func (s *Store) DueAlerts() ([]Incident, error) {
	return s.incidentsWhere(func(inc Incident) bool { return inc.AlertDue && inc.RootTS != "" })
}

// Incident returns incident id.
func (s *Store) Incident(id string) (Incident, error) {
	var inc Incident
	err := s.eng.view(func(tx txn) error {
		var err error
		inc, err = getIncident(tx.Bucket(bucketIncidents), id)
		return err
	})
	return inc, s.wrap("get incident "+id, err)
}

// DirtyIncidents returns the incidents whose message shows an old count.
func (s *Store) DirtyIncidents() ([]Incident, error) {
	return s.incidentsWhere(func(inc Incident) bool { return inc.Dirty && inc.RootTS != "" })
}

func (s *Store) incidentsWhere(keep func(Incident) bool) ([]Incident, error) {
	var out []Incident
	err := s.eng.view(func(tx txn) error {
		return tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			var inc Incident
			if err := json.Unmarshal(v, &inc); err != nil {
				return err
			}
			if keep(inc) {
				out = append(out, inc)
			}
			return nil
		})
	})
	return out, s.wrap("read incidents", err)
}

func (s *Store) changeIncident(id string, fn func(*Incident)) error {
	err := s.eng.update(func(tx txn) error {
		b := tx.Bucket(bucketIncidents)
		inc, err := getIncident(b, id)
		if err != nil {
			return err
		}
		fn(&inc)
		return putIncident(b, inc)
	})
	return s.wrap("update incident "+id, err)
}

func getIncident(b bucket, id string) (Incident, error) {
	var inc Incident
	k, err := ulid.ParseStrict(id)
	if err != nil {
		return inc, ErrNotFound
	}
	v := b.Get(k[:])
	if v == nil {
		return inc, ErrNotFound
	}
	if err := json.Unmarshal(v, &inc); err != nil {
		return inc, fmt.Errorf("decode incident %s: %w", id, err)
	}
	return inc, nil
}

func putIncident(b bucket, inc Incident) error {
	k, err := ulid.ParseStrict(inc.ID)
	if err != nil {
		return fmt.Errorf("incident id %q: %w", inc.ID, err)
	}
	v, err := json.Marshal(inc)
	if err != nil {
		return err
	}
	return b.Put(k[:], v)
}
