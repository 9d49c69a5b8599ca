package slackemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// maxTextLen is Slack's limit for a message's text.
const maxTextLen = 40000

// workspaceDomain is the subdomain used in permalinks and auth.test.
const workspaceDomain = "slackemu"

// content holds a message's text and blocks as given to a chat method.
type content struct {
	text      string
	hasText   bool
	blocks    json.RawMessage // nil when absent or empty
	hasBlocks bool
	hasAttach bool
}

// readContent reads and validates text, blocks and attachments.
func readContent(p params) (content, string) {
	c := content{text: p.str("text"), hasText: p.has("text")}
	if raw, ok := p.raw("blocks"); ok {
		c.hasBlocks = true
		if !emptyBlocks(raw) {
			if !validBlocks(raw, maxMessageBlocks) {
				return c, "invalid_blocks"
			}
			c.blocks = cloneRaw(raw)
		}
	}
	if raw, ok := p.raw("attachments"); ok && !emptyBlocks(raw) {
		c.hasAttach = true
	}
	if len(c.text) > maxTextLen {
		return c, "msg_too_long"
	}
	return c, ""
}

// writableLocked resolves a channel the bot writes to. Callers hold s.mu.
func (s *Server) writableLocked(ref string) (*channelState, string) {
	if ref == "" {
		return nil, "channel_not_found"
	}
	ch, ok := s.store.lookup(ref)
	if !ok {
		return nil, "channel_not_found"
	}
	if !ch.member {
		return nil, "not_in_channel"
	}
	return ch, ""
}

func (s *Server) chatPostMessage(_ *http.Request, p params) (obj, string) {
	c, code := readContent(p)
	if code != "" {
		return nil, code
	}
	if c.text == "" && c.blocks == nil && !c.hasAttach {
		return nil, "no_text"
	}
	var (
		md      *Metadata
		warning string
	)
	if raw, ok := p.raw("metadata"); ok && !emptyBlocks(raw) {
		md, warning = parseMetadata(raw)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.writableLocked(p.str("channel"))
	if code != "" {
		return nil, code
	}
	thread := p.str("thread_ts")
	if thread != "" {
		// A reply to a reply lands in the same thread, under its parent.
		root, ok := ch.threadRoot(thread)
		if !ok {
			return nil, "thread_not_found"
		}
		thread = root
	}
	m := s.store.post(ch, Message{
		ThreadTS:       thread,
		User:           s.opts.BotUserID,
		BotID:          s.opts.BotID,
		Text:           c.text,
		Blocks:         c.blocks,
		Metadata:       md,
		ReplyBroadcast: thread != "" && p.flag("reply_broadcast"),
	})
	s.notifyLocked()
	return withWarning(obj{"channel": ch.ID, "ts": m.TS, "message": s.wireLocked(ch, m, true)}, warning), ""
}

// withWarning adds Slack's warning field to an answer, when there is one.
func withWarning(o obj, warning string) obj {
	if warning != "" {
		o["warning"] = warning
	}
	return o
}

func (s *Server) chatUpdate(_ *http.Request, p params) (obj, string) {
	c, code := readContent(p)
	if code != "" {
		return nil, code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.writableLocked(p.str("channel"))
	if code != "" {
		return nil, code
	}
	m, ok := ch.byTS[p.str("ts")]
	if !ok {
		return nil, "message_not_found"
	}
	if m.BotID == "" {
		return nil, "cant_update_message"
	}
	var text *string
	if c.hasText {
		text = &c.text
	}
	var blocks *json.RawMessage
	if c.hasBlocks {
		blocks = &c.blocks
	}
	newText, newBlocks := m.Text, m.Blocks
	if text != nil {
		newText = *text
	}
	if blocks != nil {
		newBlocks = *blocks
	}
	if newText == "" && newBlocks == nil && !c.hasAttach {
		return nil, "no_text"
	}
	warning := ""
	if raw, ok := p.raw("metadata"); ok && !emptyBlocks(raw) {
		var md *Metadata
		if md, warning = parseMetadata(raw); md != nil {
			m.Metadata = md
		}
	}
	s.store.update(m, text, blocks)
	s.notifyLocked()
	return withWarning(obj{"channel": ch.ID, "ts": m.TS, "text": m.Text, "message": s.wireLocked(ch, m, true)}, warning), ""
}

func (s *Server) chatDelete(_ *http.Request, p params) (obj, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.writableLocked(p.str("channel"))
	if code != "" {
		return nil, code
	}
	ts := p.str("ts")
	m, ok := ch.byTS[ts]
	if !ok {
		return nil, "message_not_found"
	}
	if m.BotID == "" {
		return nil, "cant_delete_message"
	}
	s.store.remove(ch, ts)
	s.notifyLocked()
	return obj{"channel": ch.ID, "ts": ts}, ""
}

func (s *Server) chatPostEphemeral(_ *http.Request, p params) (obj, string) {
	c, code := readContent(p)
	if code != "" {
		return nil, code
	}
	if c.text == "" && c.blocks == nil && !c.hasAttach {
		return nil, "no_text"
	}
	user := p.str("user")
	if !isUserID(user) {
		return nil, "user_not_found"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.writableLocked(p.str("channel"))
	if code != "" {
		return nil, code
	}
	ts := s.postEphemeralLocked(ch, user, p.str("thread_ts"), c.text, c.blocks)
	return obj{"message_ts": ts}, ""
}

// postEphemeralLocked records an ephemeral message for user. Callers hold s.mu.
func (s *Server) postEphemeralLocked(ch *channelState, user, threadTS, text string, blocks json.RawMessage) string {
	ts := s.store.nextTS()
	ch.ephemerals = append(ch.ephemerals, Message{
		Channel:   ch.ID,
		TS:        ts,
		ThreadTS:  threadTS,
		User:      s.opts.BotUserID,
		BotID:     s.opts.BotID,
		Text:      text,
		Blocks:    blocks,
		Recipient: user,
	})
	s.notifyLocked()
	return ts
}

func (s *Server) chatGetPermalink(_ *http.Request, p params) (obj, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[p.str("channel")]
	if !ok {
		return nil, "channel_not_found"
	}
	m, ok := ch.byTS[p.str("message_ts")]
	if !ok {
		return nil, "message_not_found"
	}
	link := fmt.Sprintf("https://%s.slack.com/archives/%s/p%s", workspaceDomain, ch.ID, strings.Replace(m.TS, ".", "", 1))
	if m.ThreadTS != "" {
		link += fmt.Sprintf("?thread_ts=%s&cid=%s", m.ThreadTS, ch.ID)
	}
	return obj{"channel": ch.ID, "permalink": link}, ""
}

// PostAsUser stores a message written by a person (not the bot), as if
// posted in Slack's UI, and returns it. threadTS makes it a thread reply.
// No event is pushed; use PushEvent for that.
func (s *Server) PostAsUser(channel, userID, text, threadTS string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.lookup(channel)
	if !ok {
		return Message{}, fmt.Errorf("channel %q: %w", channel, ErrNotFound)
	}
	if threadTS != "" {
		root, ok := ch.threadRoot(threadTS)
		if !ok {
			return Message{}, fmt.Errorf("thread %s in %s: %w", threadTS, channel, ErrNotFound)
		}
		threadTS = root
	}
	m := s.store.post(ch, Message{ThreadTS: threadTS, User: userID, Text: text})
	s.notifyLocked()
	return m.clone(), nil
}

func isUserID(id string) bool {
	return len(id) > 1 && (id[0] == 'U' || id[0] == 'W')
}
