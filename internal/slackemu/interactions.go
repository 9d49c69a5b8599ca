package slackemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// responseTarget is what a response_url was handed out with, so a POST to
// it lands where Slack would put it.
type responseTarget struct {
	kind      string // TypeSlashCommands or "block_actions"
	channel   string
	user      string
	messageTS string
	issued    time.Time
	uses      int // POSTs accepted so far
}

// Slack accepts at most five POSTs to a response_url, within 30 minutes of
// the invocation it came with.
const (
	responseURLUses     = 5
	responseURLLifetime = 30 * time.Minute
)

// responseBody is a response_url POST or a slash command's ack payload, as
// slack-go sends them (a slack.Msg).
type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ThreadTS        string          `json:"thread_ts"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
}

// newResponseURLLocked issues a response_url. Callers hold s.mu.
func (s *Server) newResponseURLLocked(t responseTarget) string {
	id := fmt.Sprintf("%d-%s", s.nextIDLocked(), randomHex(8))
	t.issued = time.Now()
	s.responses[id] = t
	return s.baseURL + "/response/" + id
}

// handleResponseURL records a POST to a response_url and shows it: replacing
// or deleting the original message of a block action, posting in the
// channel for response_type "in_channel", else as an ephemeral to the user.
// A URL takes five POSTs within 30 minutes; later ones are refused and
// show nothing.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	t, ok := s.responses[id]
	s.mu.Unlock()
	if !ok || time.Since(t.issued) > responseURLLifetime {
		writeJSON(w, http.StatusNotFound, obj{"ok": false, "error": "expired_url"})
		return
	}
	if f, faulted := s.takeFault(ResponseURLMethod, ""); faulted && s.applyFault(w, r, ResponseURLMethod, f) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var rb responseBody
	if err == nil {
		err = json.Unmarshal(body, &rb)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, obj{"ok": false, "error": "invalid_payload"})
		return
	}
	s.mu.Lock()
	t = s.responses[id]
	if t.uses >= responseURLUses {
		s.mu.Unlock()
		s.logf("slackemu: response_url for %s in %s used %d times already", t.kind, t.channel, t.uses)
		writeJSON(w, http.StatusNotFound, obj{"ok": false, "error": "used_url"})
		return
	}
	t.uses++
	s.responses[id] = t
	s.posts = append(s.posts, ResponseURLPost{
		URL:             s.baseURL + r.URL.Path,
		Kind:            t.kind,
		ChannelID:       t.channel,
		UserID:          t.user,
		MessageTS:       t.messageTS,
		Text:            rb.Text,
		ResponseType:    rb.ResponseType,
		ReplaceOriginal: rb.ReplaceOriginal,
		DeleteOriginal:  rb.DeleteOriginal,
		Body:            body,
		Seq:             s.nextIDLocked(),
	})
	s.showLocked(t, rb)
	s.notifyLocked()
	s.mu.Unlock()
	s.logf("slackemu: response_url POST for %s in %s", t.kind, t.channel)
	writeJSON(w, http.StatusOK, obj{"ok": true})
}

// showAckPayload shows a slash command's ack payload like a response_url
// reply.
func (s *Server) showAckPayload(t responseTarget, payload json.RawMessage) {
	if emptyBlocks(payload) {
		return
	}
	var rb responseBody
	if json.Unmarshal(payload, &rb) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.showLocked(t, rb)
	s.notifyLocked()
}

// showLocked applies a reply to the store. Callers hold s.mu.
func (s *Server) showLocked(t responseTarget, rb responseBody) {
	ch, ok := s.store.channels[t.channel]
	if !ok {
		return // e.g. a DM the emulator never saw: recorded, not shown
	}
	var blocks json.RawMessage
	if !emptyBlocks(rb.Blocks) {
		blocks = cloneRaw(rb.Blocks)
	}
	if orig, ok := ch.byTS[t.messageTS]; ok && t.messageTS != "" {
		switch {
		case rb.DeleteOriginal:
			s.store.remove(ch, t.messageTS)
			return
		case rb.ReplaceOriginal:
			s.store.update(orig, &rb.Text, &blocks)
			return
		}
	}
	if rb.Text == "" && blocks == nil {
		return
	}
	if rb.ResponseType == "in_channel" {
		thread := ""
		if root, ok := ch.threadRoot(rb.ThreadTS); ok {
			thread = root
		}
		s.store.post(ch, Message{ThreadTS: thread, User: s.opts.BotUserID, BotID: s.opts.BotID, Text: rb.Text, Blocks: blocks})
		return
	}
	s.postEphemeralLocked(ch, t.user, rb.ThreadTS, rb.Text, blocks)
}

// element is an interactive Block Kit element, as much as a click needs.
type element struct {
	Type         string            `json:"type"`
	ActionID     string            `json:"action_id"`
	Text         json.RawMessage   `json:"text"`
	Value        string            `json:"value"`
	Style        string            `json:"style"`
	URL          string            `json:"url"`
	Placeholder  json.RawMessage   `json:"placeholder"`
	Options      []json.RawMessage `json:"options"`
	OptionGroups []struct {
		Options []json.RawMessage `json:"options"`
	} `json:"option_groups"`
}

// findElement finds the element with actionID in blocks and the block_id of
// its block. Slack gives blocks posted without a block_id a generated one;
// so does this.
func findElement(blocks json.RawMessage, actionID string) (element, string, bool) {
	var bs []struct {
		BlockID   string            `json:"block_id"`
		Elements  []json.RawMessage `json:"elements"`
		Accessory json.RawMessage   `json:"accessory"`
		Element   json.RawMessage   `json:"element"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return element{}, "", false
	}
	for i, b := range bs {
		cands := append([]json.RawMessage{b.Accessory, b.Element}, b.Elements...)
		for _, raw := range cands {
			var el element
			if len(raw) == 0 || json.Unmarshal(raw, &el) != nil || el.ActionID != actionID {
				continue
			}
			id := b.BlockID
			if id == "" {
				id = fmt.Sprintf("emu-block-%d", i)
			}
			return el, id, true
		}
	}
	return element{}, "", false
}

// option returns the option with value among el's options and groups.
func (el element) option(value string) (json.RawMessage, bool) {
	all := el.Options
	for _, g := range el.OptionGroups {
		all = append(all, g.Options...)
	}
	for _, raw := range all {
		var o struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(raw, &o) == nil && o.Value == value {
			return raw, true
		}
	}
	return nil, false
}

// textObject returns raw as a text object. slack-go rejects the whole
// envelope when an action's text is a plain string, so never pass one on.
func textObject(raw json.RawMessage, fallback string) json.RawMessage {
	var probe map[string]any
	if json.Unmarshal(raw, &probe) == nil && probe != nil {
		return raw
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		fallback = s
	}
	b, _ := json.Marshal(obj{"type": "plain_text", "text": fallback, "emoji": true})
	return b
}

// BlockActionsPayload builds the block_actions payload Slack sends when a
// user clicks a button (or picks an option of a static_select, overflow or
// radio_buttons element, when c.SelectedValue is set) on a stored message.
// The action has a string block_id and text objects (slack-go drops actions
// without the former and rejects payloads without the latter). The payload
// carries a fresh trigger_id and a response_url bound to the message.
func (s *Server) BlockActionsPayload(c Click) (json.RawMessage, error) {
	if c.UserID == "" {
		c.UserID = DefaultUserID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[c.Channel]
	if !ok {
		return nil, fmt.Errorf("channel %q: %w", c.Channel, ErrNotFound)
	}
	m, ok := ch.byTS[c.MessageTS]
	ephemeral := false
	if !ok {
		m, ephemeral = ch.ephemeralFor(c.MessageTS, c.UserID)
		ok = ephemeral
	}
	if !ok {
		return nil, fmt.Errorf("message %s in %s: %w", c.MessageTS, c.Channel, ErrNotFound)
	}
	el, blockID, ok := findElement(m.Blocks, c.ActionID)
	if !ok {
		return nil, fmt.Errorf("action_id %q on message %s: %w", c.ActionID, c.MessageTS, ErrNotFound)
	}

	action := obj{
		"action_id": c.ActionID,
		"block_id":  blockID,
		"type":      el.Type,
		"action_ts": formatTS(time.Now().UnixMicro()),
	}
	state := obj{}
	switch el.Type {
	case "button":
		if c.SelectedValue != "" {
			return nil, fmt.Errorf("action_id %q is a button, not a select", c.ActionID)
		}
		action["text"] = textObject(el.Text, c.ActionID)
		value := el.Value
		if c.Value != "" {
			value = c.Value
		}
		action["value"] = value
		if el.Style != "" {
			action["style"] = el.Style
		}
	case "static_select", "overflow", "radio_buttons":
		opt, ok := el.option(c.SelectedValue)
		if !ok {
			return nil, fmt.Errorf("option %q of %q: %w", c.SelectedValue, c.ActionID, ErrNotFound)
		}
		action["selected_option"] = opt
		if el.Placeholder != nil {
			action["placeholder"] = textObject(el.Placeholder, "")
		}
		state[blockID] = obj{c.ActionID: obj{"type": el.Type, "selected_option": opt}}
	default:
		return nil, fmt.Errorf("action_id %q: element type %q not supported; build the payload yourself", c.ActionID, el.Type)
	}

	container := obj{"type": "message", "message_ts": m.TS, "channel_id": ch.ID, "is_ephemeral": ephemeral}
	if m.ThreadTS != "" {
		container["thread_ts"] = m.ThreadTS
	}
	name := userName(c.UserID)
	payload := obj{
		"type":                  "block_actions",
		"user":                  obj{"id": c.UserID, "username": name, "name": name, "team_id": s.opts.TeamID},
		"api_app_id":            s.opts.AppID,
		"token":                 "emu-verification-token",
		"container":             container,
		"trigger_id":            s.newTriggerLocked(c.UserID),
		"team":                  obj{"id": s.opts.TeamID, "domain": workspaceDomain},
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               obj{"id": ch.ID, "name": ch.Name},
		"message":               s.wireLocked(ch, m, false),
		"state":                 obj{"values": state},
		"response_url": s.newResponseURLLocked(responseTarget{
			kind: "block_actions", channel: ch.ID, user: c.UserID, messageTS: m.TS,
		}),
		"actions": []obj{action},
	}
	if ephemeral {
		delete(payload, "message") // Slack does not send ephemeral messages back
	}
	return json.Marshal(payload)
}
