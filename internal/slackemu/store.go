package slackemu

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// store is the workspace's content: channels and their messages. It does no
// locking of its own; every method runs under Server.mu.
type store struct {
	channels map[string]*channelState
	// lastTS is the last message timestamp handed out, in microseconds, so
	// that every ts is unique and increasing even within one microsecond.
	lastTS int64
}

type channelState struct {
	Channel
	member  bool
	created int64
	// msgs holds every message, top-level and replies, in post order; since
	// ts values increase, that is also ts order.
	msgs       []*Message
	byTS       map[string]*Message
	ephemerals []Message
}

func newStore() *store {
	return &store{channels: make(map[string]*channelState)}
}

func (st *store) addChannel(id, name string) *channelState {
	if ch, ok := st.channels[id]; ok {
		if name != "" {
			ch.Name = name
		}
		return ch
	}
	ch := &channelState{
		Channel: Channel{ID: id, Name: name},
		member:  true,
		created: time.Now().Unix(),
		byTS:    make(map[string]*Message),
	}
	st.channels[id] = ch
	return ch
}

// lookup resolves a channel the way Slack's chat methods do: by ID, by name
// with or without '#', or a user ID, which opens (creates) the DM with them.
func (st *store) lookup(ref string) (*channelState, bool) {
	if ch, ok := st.channels[ref]; ok {
		return ch, true
	}
	name := strings.TrimPrefix(ref, "#")
	for _, ch := range st.channels {
		if ch.Name != "" && ch.Name == name {
			return ch, true
		}
	}
	if len(ref) > 1 && (ref[0] == 'U' || ref[0] == 'W') {
		return st.addChannel("D"+ref[1:], ""), true
	}
	return nil, false
}

// nextTS returns a fresh timestamp formatted like Slack's,
// "<unix seconds>.<6 digits>".
func (st *store) nextTS() string {
	us := time.Now().UnixMicro()
	if us <= st.lastTS {
		us = st.lastTS + 1
	}
	st.lastTS = us
	return formatTS(us)
}

func formatTS(us int64) string {
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// parseTS turns "1700000000.000100" (or "1700000000", or "") into
// microseconds. ok is false for text that is not a timestamp.
func parseTS(s string) (us int64, ok bool) {
	if s == "" {
		return 0, true
	}
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	us = n * 1e6
	if frac != "" {
		if len(frac) > 6 {
			frac = frac[:6]
		}
		frac += strings.Repeat("0", 6-len(frac))
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		us += f
	}
	return us, true
}

// post stores m in ch with a fresh ts and returns the stored message.
// A reply bumps its parent's reply count.
func (st *store) post(ch *channelState, m Message) *Message {
	m.Channel = ch.ID
	m.TS = st.nextTS()
	stored := &m
	ch.msgs = append(ch.msgs, stored)
	ch.byTS[m.TS] = stored
	if m.ThreadTS != "" {
		if parent, ok := ch.byTS[m.ThreadTS]; ok {
			parent.ReplyCount++
		}
	}
	return stored
}

// threadRoot returns the ts of the thread that ts belongs to: ts itself for
// a top-level message, its parent's for a reply (even when the parent was
// deleted: the thread lives on, as in Slack).
func (ch *channelState) threadRoot(ts string) (string, bool) {
	m, ok := ch.byTS[ts]
	if !ok {
		return "", false
	}
	if m.ThreadTS != "" {
		return m.ThreadTS, true
	}
	return m.TS, true
}

// update replaces text and blocks, keeping the previous state as a version.
// A nil text or blocks keeps the current value, as chat.update does for
// omitted fields; a pointer to nil blocks removes them.
func (st *store) update(m *Message, text *string, blocks *json.RawMessage) {
	m.Versions = append(m.Versions, MessageVersion{Text: m.Text, Blocks: m.Blocks})
	m.Edited = true
	if text != nil {
		m.Text = *text
	}
	if blocks != nil {
		m.Blocks = *blocks
	}
}

// remove deletes a message; deleting a parent leaves its replies, as Slack
// does ("This message was deleted" stays as the thread's root).
func (st *store) remove(ch *channelState, ts string) {
	m, ok := ch.byTS[ts]
	if !ok {
		return
	}
	delete(ch.byTS, ts)
	ch.msgs = slices.DeleteFunc(ch.msgs, func(x *Message) bool { return x == m })
	if m.ThreadTS != "" {
		if parent, ok := ch.byTS[m.ThreadTS]; ok && parent.ReplyCount > 0 {
			parent.ReplyCount--
		}
	}
}

// topLevel lists what the channel shows: top-level messages and broadcast
// replies, oldest first.
func (ch *channelState) topLevel() []*Message {
	var out []*Message
	for _, m := range ch.msgs {
		if m.ThreadTS == "" || m.ReplyBroadcast {
			out = append(out, m)
		}
	}
	return out
}

// thread lists a thread's parent and its replies, oldest first.
func (ch *channelState) thread(parentTS string) []*Message {
	var out []*Message
	for _, m := range ch.msgs {
		if m.TS == parentTS || m.ThreadTS == parentTS {
			out = append(out, m)
		}
	}
	return out
}

// clone returns a deep copy, so callers can keep it after the lock is released.
func (m Message) clone() Message {
	m.Blocks = cloneRaw(m.Blocks)
	if m.Metadata != nil {
		md := *m.Metadata
		md.EventPayload = cloneRaw(md.EventPayload)
		m.Metadata = &md
	}
	if m.Versions != nil {
		vs := make([]MessageVersion, len(m.Versions))
		for i, v := range m.Versions {
			vs[i] = MessageVersion{Text: v.Text, Blocks: cloneRaw(v.Blocks)}
		}
		m.Versions = vs
	}
	if m.Reactions != nil {
		rs := make([]Reaction, len(m.Reactions))
		for i, r := range m.Reactions {
			rs[i] = Reaction{Name: r.Name, Users: slices.Clone(r.Users)}
		}
		m.Reactions = rs
	}
	return m
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return append(json.RawMessage(nil), r...)
}

func cloneAll(ms []*Message) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = m.clone()
	}
	return out
}
