package slackemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Envelope types of Socket Mode.
const (
	TypeEventsAPI     = "events_api"
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
)

// envelope is one Socket Mode request frame.
type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
	RetryReason            string          `json:"retry_reason"`
}

// PushEnvelope sends a Socket Mode envelope of type typ to one connected
// client (round-robin across several; waiting for one if none is
// connected), waits for its ack and returns it. An envelope not acked
// within AckTimeout is redelivered with retry_attempt+1 and retry_reason
// "timeout", up to 3 times; after that PushEnvelope returns ErrNotAcked.
// Any ack for the envelope ID counts, from any connection. ctx bounds the
// whole exchange.
func (s *Server) PushEnvelope(ctx context.Context, typ string, payload json.RawMessage) (Ack, error) {
	id := newEnvelopeID()
	acks := make(chan ackFrame, 1)
	s.mu.Lock()
	s.pending[id] = acks
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()

	env := envelope{
		EnvelopeID:             id,
		Type:                   typ,
		Payload:                payload,
		AcceptsResponsePayload: acceptsResponsePayload(typ, payload),
	}
	for attempt := 0; attempt <= maxRetries; attempt++ {
		env.RetryAttempt = attempt
		if attempt > 0 {
			env.RetryReason = "timeout"
		}
		socket, err := s.deliver(ctx, env)
		if err != nil {
			return Ack{}, err
		}
		timer := time.NewTimer(s.opts.AckTimeout)
		select {
		case f := <-acks:
			timer.Stop()
			s.mu.Lock()
			extra := s.redeliveries
			s.mu.Unlock()
			if attempt < extra && attempt < maxRetries {
				continue // pretend the ack came too late
			}
			return Ack{EnvelopeID: id, Payload: f.Payload, Attempts: attempt + 1, Socket: socket}, nil
		case <-timer.C:
			s.logf("slackemu: envelope %s not acked within %s", id, s.opts.AckTimeout)
		case <-ctx.Done():
			timer.Stop()
			return Ack{}, ctx.Err()
		case <-s.quit:
			timer.Stop()
			return Ack{}, ErrClosed
		}
	}
	return Ack{EnvelopeID: id, Attempts: maxRetries + 1}, fmt.Errorf("envelope %s (%s): %w", id, typ, ErrNotAcked)
}

// SetRedeliveries makes every envelope pushed from now on arrive n more
// times (at most 3) with retry_attempt counting up and retry_reason
// "timeout", even though the bot acks it: what Slack does when acks reach it
// late. Bots must handle each envelope once.
func (s *Server) SetRedeliveries(n int) {
	s.mu.Lock()
	s.redeliveries = n
	s.mu.Unlock()
}

// deliver writes env to the next connection in turn, waiting for one when
// none is connected and moving on to another when a write fails, and
// returns the id of the connection that took it.
func (s *Server) deliver(ctx context.Context, env envelope) (string, error) {
	for {
		s.mu.Lock()
		var c *wsConn
		var live []*wsConn
		for _, x := range s.conns {
			if !x.draining {
				live = append(live, x)
			}
		}
		if len(live) > 0 {
			c = live[s.rr%len(live)]
			s.rr++
		}
		s.mu.Unlock()
		if c == nil {
			if err := s.WaitConnected(ctx, 1); err != nil {
				return "", err
			}
			continue
		}
		if err := c.writeJSON(env); err != nil {
			s.logf("slackemu: socket %s: envelope %s: %v", c.id, env.EnvelopeID, err)
			// The socket is broken; closing it makes its reader unregister it.
			_ = c.ws.Close()
			s.mu.Lock()
			c.draining = true
			s.mu.Unlock()
			continue
		}
		s.logf("slackemu: envelope %s (%s, attempt %d) sent on socket %s", env.EnvelopeID, env.Type, env.RetryAttempt, c.id)
		s.mu.Lock()
		s.notifyLocked()
		s.mu.Unlock()
		return c.id, nil
	}
}

// acceptsResponsePayload mirrors Slack: slash commands and interactions
// other than block actions may be answered in the ack; events may not.
func acceptsResponsePayload(typ string, payload json.RawMessage) bool {
	switch typ {
	case TypeSlashCommands:
		return true
	case TypeInteractive:
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(payload, &p)
		return p.Type != "block_actions"
	}
	return false
}

// PushEvent wraps an Events API event (e.g. {"type":"app_mention",…}) in an
// event_callback and pushes it as an events_api envelope. The inner type
// must be one slack-go knows, or the bot gets EventTypeErrorBadMessage and
// never acks.
func (s *Server) PushEvent(ctx context.Context, event json.RawMessage) (Ack, error) {
	s.mu.Lock()
	n := s.nextIDLocked()
	s.mu.Unlock()
	now := time.Now().Unix()
	payload, err := json.Marshal(obj{
		"token":      "emu-verification-token",
		"team_id":    s.opts.TeamID,
		"api_app_id": s.opts.AppID,
		"event":      event,
		"type":       "event_callback",
		"event_id":   fmt.Sprintf("Ev%010d", n),
		"event_time": now,
		"authorizations": []obj{{
			"enterprise_id":         nil,
			"team_id":               s.opts.TeamID,
			"user_id":               s.opts.BotUserID,
			"is_bot":                true,
			"is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         fmt.Sprintf("4-emu-%d", n),
	})
	if err != nil {
		return Ack{}, fmt.Errorf("encode event: %w", err)
	}
	return s.PushEnvelope(ctx, TypeEventsAPI, payload)
}

// PushSlashCommand pushes a slash command invocation and returns the bot's
// ack; its payload (text, blocks, response_type) is shown like Slack does:
// to the user as an ephemeral, or in the channel for "in_channel". The
// command carries a response_url whose POSTs ResponseURLPosts records.
func (s *Server) PushSlashCommand(ctx context.Context, cmd SlashCommand) (Ack, error) {
	if cmd.UserID == "" {
		cmd.UserID = DefaultUserID
	}
	if cmd.UserName == "" {
		cmd.UserName = userName(cmd.UserID)
	}
	s.mu.Lock()
	if cmd.ChannelName == "" {
		if ch, ok := s.store.channels[cmd.ChannelID]; ok {
			cmd.ChannelName = ch.Name
		}
	}
	if cmd.TriggerID == "" {
		cmd.TriggerID = s.newTriggerLocked(cmd.UserID)
	} else {
		s.triggers[cmd.TriggerID] = cmd.UserID
	}
	target := responseTarget{kind: TypeSlashCommands, channel: cmd.ChannelID, user: cmd.UserID}
	responseURL := s.newResponseURLLocked(target)
	s.mu.Unlock()

	payload, err := json.Marshal(obj{
		"token":                 "emu-verification-token",
		"team_id":               s.opts.TeamID,
		"team_domain":           workspaceDomain,
		"channel_id":            cmd.ChannelID,
		"channel_name":          cmd.ChannelName,
		"user_id":               cmd.UserID,
		"user_name":             cmd.UserName,
		"command":               cmd.Command,
		"text":                  cmd.Text,
		"api_app_id":            s.opts.AppID,
		"is_enterprise_install": "false",
		"response_url":          responseURL,
		"trigger_id":            cmd.TriggerID,
	})
	if err != nil {
		return Ack{}, fmt.Errorf("encode slash command: %w", err)
	}
	ack, err := s.PushEnvelope(ctx, TypeSlashCommands, payload)
	if err != nil {
		return ack, err
	}
	s.showAckPayload(target, ack.Payload)
	return ack, nil
}

// PushBlockActions pushes an interactive envelope with a block_actions (or
// any other interaction) payload, e.g. one built by BlockActionsPayload.
func (s *Server) PushBlockActions(ctx context.Context, payload json.RawMessage) (Ack, error) {
	return s.PushEnvelope(ctx, TypeInteractive, payload)
}

// PushClick builds the block_actions payload for c and pushes it.
func (s *Server) PushClick(ctx context.Context, c Click) (Ack, error) {
	payload, err := s.BlockActionsPayload(c)
	if err != nil {
		return Ack{}, err
	}
	return s.PushBlockActions(ctx, payload)
}

// newTriggerLocked issues a trigger_id that views.open accepts. Callers
// hold s.mu.
func (s *Server) newTriggerLocked(user string) string {
	id := fmt.Sprintf("%d.%d.%s", time.Now().Unix(), s.nextIDLocked(), randomHex(16))
	s.triggers[id] = user
	return id
}

func newEnvelopeID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// userName is the handle synthesized for a user ID (users.info agrees).
func userName(id string) string {
	return "user-" + strings.ToLower(id)
}
