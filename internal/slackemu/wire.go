package slackemu

import (
	"encoding/json"
	"strings"
)

// wireMessage is a message object as the Web API returns it.
type wireMessage struct {
	Type         string          `json:"type"`
	Subtype      string          `json:"subtype,omitempty"`
	User         string          `json:"user,omitempty"`
	BotID        string          `json:"bot_id,omitempty"`
	AppID        string          `json:"app_id,omitempty"`
	Text         string          `json:"text"`
	TS           string          `json:"ts"`
	Team         string          `json:"team,omitempty"`
	ThreadTS     string          `json:"thread_ts,omitempty"`
	ParentUserID string          `json:"parent_user_id,omitempty"`
	ReplyCount   int             `json:"reply_count,omitempty"`
	LatestReply  string          `json:"latest_reply,omitempty"`
	Blocks       json.RawMessage `json:"blocks,omitempty"`
	Metadata     *wireMetadata   `json:"metadata,omitempty"`
	Edited       *wireEdited     `json:"edited,omitempty"`
	Reactions    []wireReaction  `json:"reactions,omitempty"`
	BotProfile   *wireBot        `json:"bot_profile,omitempty"`
}

type wireMetadata struct {
	EventType    string          `json:"event_type"`
	EventPayload json.RawMessage `json:"event_payload"`
}

type wireEdited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

type wireReaction struct {
	Name  string   `json:"name"`
	Users []string `json:"users"`
	Count int      `json:"count"`
}

type wireBot struct {
	ID      string `json:"id"`
	AppID   string `json:"app_id"`
	Name    string `json:"name"`
	TeamID  string `json:"team_id"`
	Deleted bool   `json:"deleted"`
}

// wireLocked renders m as Slack would. Metadata is only included when
// asked for (conversations.* hide it unless include_all_metadata is set).
// Callers hold s.mu.
func (s *Server) wireLocked(ch *channelState, m *Message, withMetadata bool) wireMessage {
	w := wireMessage{
		Type:   "message",
		User:   m.User,
		BotID:  m.BotID,
		Text:   m.Text,
		TS:     m.TS,
		Team:   s.opts.TeamID,
		Blocks: m.Blocks,
	}
	if m.BotID != "" {
		w.AppID = s.opts.AppID
		w.BotProfile = &wireBot{ID: m.BotID, AppID: s.opts.AppID, Name: "socialroute", TeamID: s.opts.TeamID}
	}
	if m.ThreadTS != "" {
		w.ThreadTS = m.ThreadTS
		if parent, ok := ch.byTS[m.ThreadTS]; ok {
			w.ParentUserID = parent.User
		}
		if m.ReplyBroadcast {
			w.Subtype = "thread_broadcast"
		}
	}
	if m.ReplyCount > 0 {
		// A parent carries its own ts as thread_ts once it has replies.
		w.ThreadTS = m.TS
		w.ReplyCount = m.ReplyCount
		replies := ch.thread(m.TS)
		w.LatestReply = replies[len(replies)-1].TS
	}
	if withMetadata && m.Metadata != nil {
		w.Metadata = &wireMetadata{EventType: m.Metadata.EventType, EventPayload: m.Metadata.EventPayload}
		if w.Metadata.EventPayload == nil {
			w.Metadata.EventPayload = json.RawMessage("{}")
		}
	}
	if m.Edited {
		w.Edited = &wireEdited{User: m.User, TS: m.TS}
	}
	for _, r := range m.Reactions {
		w.Reactions = append(w.Reactions, wireReaction{Name: r.Name, Users: r.Users, Count: len(r.Users)})
	}
	return w
}

// maxMessageBlocks is Slack's block limit for messages.
const maxMessageBlocks = 50

// validBlocks reports whether raw is a JSON array of at most limit objects,
// each with a "type".
func validBlocks(raw json.RawMessage, limit int) bool {
	var blocks []struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil || len(blocks) > limit {
		return false
	}
	for _, b := range blocks {
		if b.Type == "" {
			return false
		}
	}
	return true
}

// emptyBlocks reports whether raw is absent or an empty array.
func emptyBlocks(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "[]" || t == "null"
}

// parseMetadata reads a message's metadata. An invalid one is not an
// error: Slack posts the message without it and answers with a warning
// (invalid_metadata_format or invalid_metadata_schema), returned here as
// the second result with a nil metadata. event_type holds letters, digits,
// "_" and "-"; event_payload is an object.
func parseMetadata(raw json.RawMessage) (*Metadata, string) {
	var md struct {
		EventType    string          `json:"event_type"`
		EventPayload json.RawMessage `json:"event_payload"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, "invalid_metadata_format"
	}
	if md.EventType == "" || strings.IndexFunc(md.EventType, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) >= 0 {
		return nil, "invalid_metadata_schema"
	}
	if p := strings.TrimSpace(string(md.EventPayload)); p == "null" || p == "" {
		md.EventPayload = nil
	} else if !strings.HasPrefix(p, "{") {
		return nil, "invalid_metadata_schema"
	}
	return &Metadata{EventType: md.EventType, EventPayload: cloneRaw(md.EventPayload)}, ""
}
