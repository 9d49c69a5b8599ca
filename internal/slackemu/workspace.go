package slackemu

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// This file is the Server's window on its workspace for tests and the demo:
// setting channels up and reading back what the bot did. Every value
// returned is a copy.

// Calls is how many Web API calls of method were received, including
// failed and faulted ones.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// AddChannel makes a channel known, with the bot as a member. Adding a known
// ID renames it.
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.addChannel(id, name)
	s.notifyLocked()
}

// Channels lists the known channels (DMs included), sorted by ID.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, 0, len(s.store.channels))
	for _, ch := range s.store.channels {
		out = append(out, ch.Channel)
	}
	slices.SortFunc(out, func(a, b Channel) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// SetMember sets whether the bot is a member of a known channel; posting to
// or reading a channel the bot is not in fails with not_in_channel.
func (s *Server) SetMember(channel string, member bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[channel]
	if !ok {
		return fmt.Errorf("channel %q: %w", channel, ErrNotFound)
	}
	ch.member = member
	s.notifyLocked()
	return nil
}

// Messages returns what the channel shows, oldest first: top-level messages
// and thread replies sent with reply_broadcast.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[channel]
	if !ok {
		return nil
	}
	return cloneAll(ch.topLevel())
}

// Replies returns the replies in the thread of threadTS, oldest first,
// without the parent.
func (s *Server) Replies(channel, threadTS string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[channel]
	if !ok {
		return nil
	}
	var out []Message
	for _, m := range ch.thread(threadTS) {
		if m.TS != threadTS {
			out = append(out, m.clone())
		}
	}
	return out
}

// Message returns one message, top-level or reply, by channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[channel]
	if !ok {
		return Message{}, false
	}
	m, ok := ch.byTS[ts]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// Ephemerals returns the ephemeral messages shown in channel, oldest first;
// Recipient says to whom.
func (s *Server) Ephemerals(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[channel]
	if !ok {
		return nil
	}
	out := make([]Message, len(ch.ephemerals))
	for i, m := range ch.ephemerals {
		out[i] = m.clone()
	}
	return out
}

// HomeView returns the view last published to the user's App Home tab, as
// the bot sent it.
func (s *Server) HomeView(userID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[s.homeViews[userID]]
	if !ok {
		return nil, false
	}
	return cloneRaw(v.JSON), true
}

// Views returns every view published or opened, in no particular order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.views))
	for _, v := range s.views {
		c := *v
		c.JSON = cloneRaw(v.JSON)
		out = append(out, c)
	}
	return out
}

// ResponseURLPosts returns every POST to a response_url, in arrival order.
func (s *Server) ResponseURLPosts() []ResponseURLPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ResponseURLPost, len(s.posts))
	for i, p := range s.posts {
		p.Body = cloneRaw(p.Body)
		out[i] = p
	}
	return out
}
